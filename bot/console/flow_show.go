package console

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/graph"
	"github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/lint"
	"github.com/seintje/seintje/bot/registry"
)

// FlowData is one flow's page for coordinators.
type FlowData struct {
	ID, Description, File string
	Version               int // live version; 0: only a file with errors
	LoadedAt              time.Time
	Versions              []VersionUse
	Pending               []DiagLine
	Warnings              []DiagLine
	Graph                 string
	Langs                 []LangCol
	Steps                 []StepTexts
	Sim                   SimData
}

// DiagLine is a diagnostic split for reading: where, what, how to fix.
type DiagLine struct{ At, Message, Fix string }

// LangCol is a language column of the texts table.
type LangCol struct{ Code, Name, Dir string }

// StepTexts are one step's texts in every language.
type StepTexts struct {
	Step string // "" for the flow-wide simple text
	Rows []TextRow
}

// TextRow is one text (the message, a reminder) side by side.
type TextRow struct {
	Kind  string // text key of the kind
	N     int    // reminder number
	First bool   // part of the first message
	Cells []TextCell
}

// TextCell is one text in one language with its lint results.
type TextCell struct {
	Lang, Dir, Text, SMS, Cost, Ease string
	Missing                          bool
	Warnings                         []string
}

// flowShow shows a flow: versions in use, errors waiting, lint results per
// text, the graph, every text side by side, and the simulator.
func (c *Console) flowShow(w http.ResponseWriter, r *http.Request, s *Session) {
	c.flowShowWith(w, r, s, nil, http.StatusOK)
}

// flowShowWith renders the flow page, with a simulator form that came
// back with errors (sim) when there is one.
func (c *Console) flowShowWith(w http.ResponseWriter, r *http.Request, s *Session, sim *simErrors, status int) {
	id := r.PathValue("id")
	var info *registry.Info
	for _, in := range c.d.Registry.List() {
		if in.ID == id {
			info = &in
			break
		}
	}
	if info == nil {
		c.notFound(w, r)
		return
	}
	use, err := c.d.Store.FlowUse(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	l := c.texts.locale(r)
	d := FlowData{ID: id, Description: strings.TrimSpace(info.Description), File: info.File, Version: info.Version,
		LoadedAt: info.LoadedAt, Versions: versionsInUse(id, use)}
	for _, p := range info.PendingError {
		d.Pending = append(d.Pending, splitDiag(p))
	}
	for _, p := range info.Warnings {
		d.Warnings = append(d.Warnings, DiagLine{Message: p})
	}
	f, live := c.d.Registry.Current(id)
	if live {
		if !slices.ContainsFunc(d.Versions, func(v VersionUse) bool { return v.Digest == f.Digest }) {
			d.Versions = append([]VersionUse{{Version: f.Version, Digest: f.Digest}}, d.Versions...)
		}
		for i := range d.Versions {
			d.Versions[i].Live = d.Versions[i].Digest == f.Digest
		}
		var g bytes.Buffer
		if err := graph.Write(&g, f, graph.Mermaid); err != nil {
			c.serverError(w, r, err)
			return
		}
		d.Graph = g.String()
		c.flowTexts(l, f, &d)
		d.Sim = c.simData(r, s, f, r.URL.Query().Get("sim"))
		if sim != nil {
			d.Sim.Errors = sim.errs
			if e, ok := sim.errs[""]; ok {
				d.Sim.Problem = e.Message
				delete(sim.errs, "")
			}
			if v := r.PostFormValue("lang"); v != "" {
				d.Sim.Lang = v
			}
			if v := r.PostFormValue("start"); v != "" {
				d.Sim.Start = v
			}
			for i, v := range d.Sim.Vars {
				d.Sim.Vars[i].Value = r.PostFormValue("var." + v.Name)
			}
		}
	}
	p := c.page(r, "flow.title", d)
	p.Title = l.T("flow.title", id)
	p.Active = "/console/flows"
	p.Scripts = []string{"/console/static/vendor/mermaid/mermaid.min.js", "/console/static/js/flow.js"}
	// Mermaid styles the graph it draws with <style> in the SVG and style
	// attributes: this page allows inline styles (never inline scripts).
	w.Header().Set("Content-Security-Policy", FlowPageSecurityPolicy)
	c.html(w, r, status, "flow", p)
}

// FlowPageSecurityPolicy is ContentSecurityPolicy with inline styles
// allowed, for the Mermaid graph on the flow page. Scripts stay 'self'.
const FlowPageSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// splitDiag splits "file:line:col: message; fix: hint".
func splitDiag(s string) DiagLine {
	d := DiagLine{Message: s}
	// The location ends at the first ": " after the last digit run.
	if i := strings.Index(s, ": "); i > 0 && strings.Count(s[:i], ":") >= 2 {
		d.At, d.Message = s[:i], s[i+2:]
	}
	if msg, fix, ok := strings.Cut(d.Message, "; fix: "); ok {
		d.Message, d.Fix = msg, fix
	}
	return d
}

// flowTexts fills the texts side by side with their lint results, rendered
// with the service's callback number and sample values.
func (c *Console) flowTexts(l Locale, f *flow.Flow, d *FlowData) {
	cfg := lint.Default()
	if c.d.Service != nil && c.d.Service.Engine != nil && c.d.Service.Engine.Contact.Number != "" {
		cfg.Sample.Contact = c.d.Service.Engine.Contact
	}
	res := lint.Lint(f, cfg)
	for _, dg := range res.Diagnostics {
		d.Warnings = append(d.Warnings, splitDiag(dg.String()))
	}
	langs := f.Languages()
	slices.SortStableFunc(langs, func(a, b string) int {
		return cmp.Compare(langRank(a), langRank(b))
	})
	for _, code := range langs {
		name := code
		if l.Has("lang." + code) {
			name = l.T("lang." + code)
		}
		d.Langs = append(d.Langs, LangCol{Code: code, Name: name, Dir: textDir(code)})
	}
	// Warnings belong to the text they point into: the last text that
	// starts at or before them.
	texts := slices.Clone(res.Texts)
	slices.SortStableFunc(texts, func(a, b lint.Text) int { return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col)) })
	owner := func(dg flow.Diagnostic) int {
		best := -1
		for i, t := range texts {
			if t.Line < dg.Line || t.Line == dg.Line && t.Col <= dg.Col {
				best = i
			}
		}
		return best
	}
	warn := map[int][]string{}
	for _, dg := range res.Diagnostics {
		if i := owner(dg); i >= 0 {
			warn[i] = append(warn[i], strings.TrimSpace(dg.Message+" "+fixOf(l, dg.Hint)))
		}
	}
	type key struct {
		step, kind string
		n          int
	}
	rows := map[key]*TextRow{}
	var order []key
	for i, t := range texts {
		k := key{t.Step, t.Kind, t.Reminder}
		row, ok := rows[k]
		if !ok {
			row = &TextRow{Kind: "flow.kind." + t.Kind, N: t.Reminder, Cells: make([]TextCell, len(d.Langs))}
			for j, lc := range d.Langs {
				row.Cells[j] = TextCell{Lang: lc.Code, Dir: lc.Dir, Missing: true}
			}
			rows[k] = row
			order = append(order, k)
		}
		row.First = row.First || t.First
		for j, lc := range d.Langs {
			if lc.Code != t.Lang {
				continue
			}
			cell := TextCell{Lang: t.Lang, Dir: lc.Dir, Text: strings.TrimRight(t.Text, "\n"), SMS: smsInfo(l, t),
				Cost: dec(l, fmt.Sprintf("€ %.2f", t.Cost)), Warnings: warn[i]}
			if t.Lang == flow.DefaultLang {
				cell.Ease = dec(l, fmt.Sprintf("%.0f", t.Reading.Ease))
			}
			row.Cells[j] = cell
		}
	}
	// Steps in the order of the file.
	byStep := map[string]*StepTexts{}
	for _, k := range order {
		st, ok := byStep[k.step]
		if !ok {
			st = &StepTexts{Step: k.step}
			byStep[k.step] = st
			d.Steps = append(d.Steps, StepTexts{Step: k.step})
		}
		st.Rows = append(st.Rows, *rows[k])
	}
	for i := range d.Steps {
		d.Steps[i].Rows = byStep[d.Steps[i].Step].Rows
	}
}

func fixOf(l Locale, hint string) string {
	if hint == "" {
		return ""
	}
	return l.T("flow.fix", hint)
}

// smsInfo is "2 sms-delen, GSM-7" in the page's language.
func smsInfo(l Locale, t lint.Text) string {
	return l.T("flow.sms", t.SMS.Segments, t.SMS.Encoding)
}

// langRank puts Dutch first, then the shipped languages, then the rest.
func langRank(code string) int {
	if i := slices.Index(lang.Shipped(), code); i >= 0 {
		return i
	}
	return len(lang.Shipped())
}
