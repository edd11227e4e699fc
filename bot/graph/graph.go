// Package graph draws a flow's steps and routes as a Mermaid flowchart or a
// Graphviz dot graph, so a coordinator can look instead of read. Labels are
// in Dutch, the coordinators' language: reply words on the arrows, "anders"
// for otherwise, "na 48h" or "na 2 werkdagen" for a wait that times out,
// reminders in the label of the step that sends them, and the flow's
// expiry and escalation as notes beside the steps.
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
	lines := []string{s.ID}
	if extra != "" {
		lines = append(lines, extra)
	}
	for _, r := range s.Reminders {
		lines = append(lines, reminderLabel(r))
	}
	return strings.Join(lines, "\n")
}

// reminderLabel: "herinnering 3 dagen voor due_date 10:00".
func reminderLabel(r flow.Reminder) string {
	at := r.At
	if at == "" {
		at = flow.DefaultReminderAt
	}
	switch r.DaysBefore {
	case 0:
		return fmt.Sprintf("herinnering op %s %s", r.Of, at)
	case 1:
		return fmt.Sprintf("herinnering 1 dag voor %s %s", r.Of, at)
	}
	return fmt.Sprintf("herinnering %d dagen voor %s %s", r.DaysBefore, r.Of, at)
}

// note is a flow-wide timing rule, drawn beside the steps.
type note struct{ id, label string }

// notes returns the flow's expiry and escalation, in that order.
func notes(f *flow.Flow) []note {
	var out []note
	if e := f.Expire; e != nil {
		outcome := e.Outcome
		if outcome == "" {
			outcome = flow.DefaultExpireOutcome
		}
		out = append(out, note{"expire", fmt.Sprintf("verloopt na %s\nnog open? einde: %s", durationLabel(e.After), outcome)})
	}
	if e := f.Escalate; e != nil {
		var when []string
		if e.AfterUnanswered > 0 {
			when = append(when, fmt.Sprintf("na %d berichten zonder antwoord", e.AfterUnanswered))
		}
		if e.OnUndelivered {
			when = append(when, "als het eerste bericht niet aankomt")
		}
		label := "escalatie: terugbeltaak\n" + strings.Join(when, "\nof ")
		if e.Priority > 0 {
			label += fmt.Sprintf("\nprioriteit %d", e.Priority)
		}
		out = append(out, note{"escalate", label})
	}
	return out
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
			switch {
			case s.Wait.WorkingDays == 1:
				label = "na 1 werkdag"
			case s.Wait.WorkingDays > 1:
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
	ns := notes(f)
	for _, n := range ns {
		fmt.Fprintf(&b, "  n_%s>\"%s\"]\n", n.id, mermaidText(n.label))
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
	if len(ns) > 0 {
		ids := make([]string, len(ns))
		for i, n := range ns {
			ids[i] = "n_" + n.id
		}
		b.WriteString("  classDef note fill:#fffbe6,stroke:#999,stroke-dasharray:4 3\n")
		fmt.Fprintf(&b, "  class %s note\n", strings.Join(ids, ","))
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
	// Notes get ids no step can have (step ids have no underscore).
	for _, n := range notes(f) {
		fmt.Fprintf(&b, "  %s [label=%s, shape=note, style=dashed];\n", dotQuote("_"+n.id), dotQuote(n.label))
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
