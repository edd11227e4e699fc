// Package graph draws a flow's steps and routes as a Mermaid flowchart or a
// Graphviz dot graph, so a coordinator can look instead of read. Labels are
// in Dutch, the coordinators' language: reply words on the arrows, "anders"
// for otherwise, "na 48h" for a wait that times out.
package graph

import (
	"fmt"
	"io"
	"strings"

	"github.com/seintje/seintje/bot/flow"
)

// Formats supported by Write.
const (
	Mermaid = "mermaid"
	Dot     = "dot"
)

// node kinds decide the shape.
type kind int

const (
	kindWait kind = iota
	kindCallback
	kindForward
	kindEnd
	kindPass // says something and moves on
)

type edge struct {
	from, to, label string
	timer           bool
}

func kindOf(s *flow.Step) kind {
	switch {
	case s.Action == flow.ActionCallback:
		return kindCallback
	case s.Action == flow.ActionForward:
		return kindForward
	case s.Ends():
		return kindEnd
	case s.Waits():
		return kindWait
	}
	return kindPass
}

func nodeLabel(s *flow.Step) string {
	var extra string
	switch kindOf(s) {
	case kindCallback:
		extra = "terugbelverzoek"
	case kindForward:
		extra = "naar consulent"
	case kindEnd:
		extra = "einde"
	case kindWait:
		extra = "wacht op antwoord"
	}
	if s.Outcome != "" && kindOf(s) != kindWait {
		extra += ": " + s.Outcome
	}
	if extra == "" {
		return s.ID
	}
	return s.ID + "\n" + extra
}

// matchLabel shows the first few match words: "1 / nieuwe afspraak / …".
func matchLabel(m []string) string {
	const show = 3
	if len(m) <= show {
		return strings.Join(m, " / ")
	}
	return strings.Join(m[:show], " / ") + " / …"
}

// durationLabel writes 48h as "48h", 72h as "3d" when whole days > 2.
func durationLabel(d flow.Duration) string {
	h := int(d.Hours())
	if float64(h) == d.Hours() {
		if h%24 == 0 && h > 48 {
			return fmt.Sprintf("%dd", h/24)
		}
		return fmt.Sprintf("%dh", h)
	}
	return d.String()
}

func edges(f *flow.Flow) []edge {
	var out []edge
	for i := range f.Steps {
		s := &f.Steps[i]
		for _, r := range s.Replies {
			out = append(out, edge{from: s.ID, to: r.Goto, label: matchLabel(r.Match)})
		}
		if s.Otherwise != "" {
			out = append(out, edge{from: s.ID, to: s.Otherwise, label: "anders"})
		}
		if s.Next != "" {
			out = append(out, edge{from: s.ID, to: s.Next})
		}
		if s.Wait != nil && s.Wait.Then != "" {
			label := "na " + durationLabel(s.Wait.Timeout)
			if s.Wait.WorkingDays > 0 {
				label = fmt.Sprintf("na %d werkdagen", s.Wait.WorkingDays)
			}
			out = append(out, edge{from: s.ID, to: s.Wait.Then, label: label, timer: true})
		}
	}
	return out
}

// Write draws f in format (mermaid or dot).
func Write(w io.Writer, f *flow.Flow, format string) error {
	var s string
	switch format {
	case Mermaid, "":
		s = MermaidString(f)
	case Dot:
		s = DotString(f)
	default:
		return fmt.Errorf("unknown graph format %q: use mermaid or dot", format)
	}
	if _, err := io.WriteString(w, s); err != nil {
		return fmt.Errorf("write graph: %w", err)
	}
	return nil
}

// mermaidID avoids reserved words such as "end" and keeps ids simple.
func mermaidID(id string) string { return "s_" + strings.ReplaceAll(id, "-", "_") }

func mermaidText(s string) string {
	s = strings.ReplaceAll(s, `"`, "#quot;")
	return strings.ReplaceAll(s, "\n", "<br/>")
}

// MermaidString returns a Mermaid flowchart of f.
func MermaidString(f *flow.Flow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "flowchart TD\n")
	fmt.Fprintf(&b, "  %%%% %s v%d (%s)\n", f.ID, f.Version, f.Digest)
	for i := range f.Steps {
		s := &f.Steps[i]
		l := mermaidText(nodeLabel(s))
		id := mermaidID(s.ID)
		switch kindOf(s) {
		case kindEnd:
			fmt.Fprintf(&b, "  %s([\"%s\"])\n", id, l)
		case kindCallback:
			fmt.Fprintf(&b, "  %s[[\"%s\"]]\n", id, l)
		case kindForward:
			fmt.Fprintf(&b, "  %s[/\"%s\"/]\n", id, l)
		case kindWait:
			fmt.Fprintf(&b, "  %s{{\"%s\"}}\n", id, l)
		default:
			fmt.Fprintf(&b, "  %s[\"%s\"]\n", id, l)
		}
	}
	for _, e := range edges(f) {
		arrow := "-->"
		if e.timer {
			arrow = "-.->"
		}
		if e.label == "" {
			fmt.Fprintf(&b, "  %s %s %s\n", mermaidID(e.from), arrow, mermaidID(e.to))
			continue
		}
		fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", mermaidID(e.from), arrow, mermaidText(e.label), mermaidID(e.to))
	}
	return b.String()
}

func dotQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + strings.ReplaceAll(s, "\n", `\n`) + `"`
}

// DotString returns a Graphviz digraph of f.
func DotString(f *flow.Flow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// %s v%d (%s)\ndigraph %s {\n", f.ID, f.Version, f.Digest, dotQuote(f.ID))
	b.WriteString("  rankdir=TB;\n  node [fontname=\"Helvetica\", shape=box, style=rounded];\n  edge [fontname=\"Helvetica\", fontsize=10];\n")
	for i := range f.Steps {
		s := &f.Steps[i]
		shape := "box"
		switch kindOf(s) {
		case kindEnd:
			shape = "oval"
		case kindCallback:
			shape = "box3d"
		case kindForward:
			shape = "parallelogram"
		case kindWait:
			shape = "hexagon"
		}
		fmt.Fprintf(&b, "  %s [label=%s, shape=%s];\n", dotQuote(s.ID), dotQuote(nodeLabel(s)), shape)
	}
	for _, e := range edges(f) {
		var attrs []string
		if e.label != "" {
			attrs = append(attrs, "label="+dotQuote(e.label))
		}
		if e.timer {
			attrs = append(attrs, "style=dashed")
		}
		a := ""
		if len(attrs) > 0 {
			a = " [" + strings.Join(attrs, ", ") + "]"
		}
		fmt.Fprintf(&b, "  %s -> %s%s;\n", dotQuote(e.from), dotQuote(e.to), a)
	}
	b.WriteString("}\n")
	return b.String()
}
