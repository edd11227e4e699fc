package console

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/console/form"
	"github.com/seintje/seintje/bot/flow"
)

// SimData is the simulator on the flow page.
type SimData struct {
	Available bool
	ID        string // the running simulation; "" before one is started
	Lines     []SimLine
	Langs     []LangCol
	Lang      string
	Start     string // datetime-local value
	Vars      []SimVar
	Errors    form.Errors
	Problem   string // why the simulation could not start or go on
}

// SimVar is an input for one flow variable.
type SimVar struct {
	Name, Input, Value, Description string
	Required                        bool
}

// SimLine is one line of a simulation's transcript, by its marker.
type SimLine struct {
	Kind string // header, meta, start, in, out, time, held, call, state, note
	Time string
	Text string
	Body []string // a message's lines (out)
}

// SimStartForm starts a simulation.
type SimStartForm struct {
	Lang  string    `form:"lang,required,max=10"`
	Start time.Time `form:"start,datetime,required"`
}

// SimReplyForm is a line typed into a running simulation (text), or the
// line of a button that was pressed (STOP, HELP, /time +2h).
type SimReplyForm struct {
	Text string `form:"answer,max=500"`
	Line string `form:"line,max=500"`
}

// Validate needs one of them.
func (f *SimReplyForm) Validate(errs form.Errors) {
	if f.Line == "" {
		f.Line = f.Text
	}
	if f.Line == "" {
		errs.Add("answer", form.CodeRequired, "")
	}
}

// simData prepares the simulator: the start form, and the transcript of
// simulation id (when it is this person's).
func (c *Console) simData(r *http.Request, s *Session, f *flow.Flow, id string) SimData {
	d := SimData{Available: c.d.Simulator != nil, Lang: flow.DefaultLang,
		Start: c.d.Now().In(c.loc).Truncate(time.Minute).Format("2006-01-02T15:04")}
	l := c.texts.locale(r)
	for _, code := range f.Languages() {
		name := code
		if l.Has("lang." + code) {
			name = l.T("lang." + code)
		}
		d.Langs = append(d.Langs, LangCol{Code: code, Name: name, Dir: textDir(code)})
	}
	for _, v := range f.Variables {
		d.Vars = append(d.Vars, simVar(v, c.d.Now().In(c.loc)))
	}
	if d.Available && id != "" {
		text, err := c.d.Simulator.Transcript(s.Actor, id)
		if err == nil {
			d.ID, d.Lines = id, parseSim(text)
		}
	}
	return d
}

// simVar is the input for v, filled with an example a coordinator can
// change.
func simVar(v flow.Variable, now time.Time) SimVar {
	sv := SimVar{Name: v.Name, Input: "text", Required: v.Required, Description: strings.TrimSpace(v.Description)}
	switch v.Type {
	case flow.TypeDate:
		sv.Input, sv.Value = "date", now.AddDate(0, 0, 7).Format(time.DateOnly)
	case flow.TypeDatetime:
		sv.Input = "datetime-local"
		sv.Value = time.Date(now.Year(), now.Month(), now.Day()-3, 10, 0, 0, 0, now.Location()).Format("2006-01-02T15:04")
	default:
		if v.Required {
			sv.Value = "het formulier"
		}
	}
	return sv
}

// simVars reads the variable inputs into the values a nudge takes.
func simVars(r *http.Request, f *flow.Flow, errs form.Errors) map[string]any {
	vars := map[string]any{}
	for _, v := range f.Variables {
		raw := strings.TrimSpace(r.Form.Get("var." + v.Name))
		if raw == "" {
			continue
		}
		switch v.Type {
		case flow.TypeDatetime:
			t, err := form.ParseTime(raw, "datetime")
			if err != nil {
				errs.Add("var."+v.Name, form.CodeDate, "")
				continue
			}
			raw = t.Format(time.RFC3339)
		case flow.TypeDate:
			t, err := form.ParseTime(raw, "date")
			if err != nil {
				errs.Add("var."+v.Name, form.CodeDate, "")
				continue
			}
			raw = t.Format(time.DateOnly)
		}
		vars[v.Name] = raw
	}
	if _, verr := f.CheckVars(vars); verr != nil {
		errs.Add("var."+verr.Name, form.CodeInvalid, verr.Message)
	}
	return vars
}

// parseSim lays a transcript out by its markers (bot/simulate.Labels):
// the words are the session's, the shape is the same in every language.
func parseSim(text string) []SimLine {
	var out []SimLine
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "  │ "):
			if n := len(out); n > 0 && out[n-1].Kind == "out" {
				out[n-1].Body = append(out[n-1].Body, strings.TrimPrefix(line, "  │ "))
				continue
			}
			out = append(out, SimLine{Kind: "note", Text: line})
		case strings.HasPrefix(line, "=== "):
			out = append(out, SimLine{Kind: "header", Text: strings.TrimPrefix(line, "=== ")})
		case strings.HasPrefix(line, "    "):
			out = append(out, SimLine{Kind: "meta", Text: strings.TrimSpace(line)})
		case strings.HasPrefix(line, "  ⏸ "):
			out = append(out, SimLine{Kind: "held", Text: strings.TrimPrefix(line, "  ⏸ ")})
		case strings.HasPrefix(line, "  ☎ "):
			out = append(out, SimLine{Kind: "call", Text: strings.TrimPrefix(line, "  ☎ ")})
		case strings.HasPrefix(line, "  · "):
			out = append(out, SimLine{Kind: "state", Text: strings.TrimPrefix(line, "  · ")})
		default:
			at, rest, ok := strings.Cut(line, "  ")
			if !ok || len(at) != len("ma 2006-01-02 15:04") && len(at) != len("Mon 2006-01-02 15:04") {
				out = append(out, SimLine{Kind: "note", Text: line})
				continue
			}
			l := SimLine{Time: at, Text: rest, Kind: "note"}
			switch {
			case strings.HasPrefix(rest, "▶ "):
				l.Kind, l.Text = "start", strings.TrimPrefix(rest, "▶ ")
			case strings.HasPrefix(rest, "… "):
				l.Kind, l.Text = "time", strings.TrimPrefix(rest, "… ")
			case strings.HasPrefix(rest, "Seintje → "):
				l.Kind, l.Text = "out", strings.TrimSuffix(strings.TrimPrefix(rest, "Seintje → "), ":")
			case strings.Contains(rest, " → Seintje: "):
				_, said, _ := strings.Cut(rest, " → Seintje: ")
				l.Kind, l.Text = "in", said
			}
			out = append(out, l)
		}
	}
	return out
}

// simProblem is the plain reason a simulation failed.
func (c *Console) simProblem(l Locale, err error) string {
	if strings.Contains(err.Error(), "too many simulations") {
		return l.T("sim.toomany")
	}
	if strings.Contains(err.Error(), "no such simulation") {
		return l.T("sim.gone")
	}
	var verr *flow.VarError
	if errors.As(err, &verr) {
		return verr.Error()
	}
	return l.T("sim.failed", err.Error())
}
