package flow

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/seintje/seintje/bot/calendar"
	"github.com/seintje/seintje/bot/lang"
)

// Data is what a text template can use.
//
//	{{.Agency}}           who sends the message, e.g. gemeente Utrecht
//	{{.FirstName}}        the recipient's first name
//	{{.Caseworker}}       the case worker's name
//	{{.CallbackNumber}}   the number to call, e.g. 088 123 45 67
//	{{.CallbackHours}}    its opening hours, in the message's language
//	{{.Vars.name}}        a flow variable; dates and datetimes are times:
//	{{date .Vars.due_date}}            dinsdag 24 november
//	{{datetime .Vars.appointment_at}}  dinsdag 24 november om 10:00
//	{{time .Vars.appointment_at}}      10:00
type Data struct {
	Agency         string
	FirstName      string
	Caseworker     string
	CallbackNumber string
	CallbackHours  string
	Vars           map[string]any
}

type tmplKey struct{ step, kind, lang string }

func funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"date":     timeFunc(lang, calendar.FormatDate),
		"datetime": timeFunc(lang, calendar.FormatDateTime),
		"time":     timeFunc(lang, calendar.FormatTime),
	}
}

// timeFunc formats a time variable; a missing optional one prints "".
func timeFunc(lang string, format func(time.Time, string) string) func(any) string {
	return func(v any) string {
		t, ok := v.(time.Time)
		if !ok || t.IsZero() {
			return ""
		}
		return format(t, lang)
	}
}

// compile parses one template text for a language.
func compile(name, lang, text string) (*template.Template, error) {
	return template.New(name).Funcs(funcs(lang)).Option("missingkey=error").Parse(text)
}

// Pick returns the text in code's language ("ar" for "ar-MA"), falling back
// to Dutch, and the language used.
func (t Text) Pick(code string) (string, string) {
	l := lang.Base(code)
	if s, ok := t[l]; ok && strings.TrimSpace(s) != "" {
		return s, l
	}
	return t[DefaultLang], DefaultLang
}

// Render renders one text of a step: kind is "say", "simple" or
// "label:<route index>". It returns the text and the language used.
func (f *Flow) Render(stepID, kind, lang string, d Data) (string, string, error) {
	var txt Text
	switch {
	case kind == "say":
		if s := f.Step(stepID); s != nil {
			txt = s.Say
		}
	case kind == "simple":
		if s := f.Step(stepID); s != nil && len(s.Simple) > 0 {
			txt = s.Simple
		} else {
			txt, stepID = f.Simple, ""
		}
	case strings.HasPrefix(kind, "reminder:"):
		var i int
		fmt.Sscan(strings.TrimPrefix(kind, "reminder:"), &i)
		if s := f.Step(stepID); s != nil && i >= 0 && i < len(s.Reminders) {
			txt = s.Reminders[i].Say
		}
	case strings.HasPrefix(kind, "label:"):
		var i int
		fmt.Sscan(strings.TrimPrefix(kind, "label:"), &i)
		if s := f.Step(stepID); s != nil && i >= 0 && i < len(s.Replies) {
			txt = s.Replies[i].Label
		}
	}
	if len(txt) == 0 {
		return "", "", nil
	}
	_, used := txt.Pick(lang)
	t := f.templates[tmplKey{stepID, kind, used}]
	if t == nil {
		return "", "", fmt.Errorf("flow %s: no compiled text for step %q %s %s", f.ID, stepID, kind, used)
	}
	out, err := execute(t, d)
	return out, used, err
}

func execute(t *template.Template, d Data) (string, error) {
	if d.Vars == nil {
		d.Vars = map[string]any{}
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render %s: %w", t.Name(), err)
	}
	return tidy(b.String()), nil
}

// tidy trims each line and removes blank lines at both ends, so YAML block
// scalars render as the coordinator sees them.
func tidy(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Join(lines, "\n")
}

// Compiled is a standalone multi-language text (system texts such as the
// STOP confirmation) compiled once.
type Compiled struct {
	name  string
	texts map[string]*template.Template
}

// CompileText compiles every language of t.
func CompileText(name string, t Text) (*Compiled, error) {
	c := &Compiled{name: name, texts: map[string]*template.Template{}}
	if _, ok := t[DefaultLang]; !ok {
		return nil, fmt.Errorf("text %s has no Dutch (nl) version", name)
	}
	for lang, s := range t {
		tt, err := compile(name+"."+lang, lang, s)
		if err != nil {
			return nil, fmt.Errorf("text %s (%s): %w", name, lang, err)
		}
		c.texts[lang] = tt
	}
	return c, nil
}

// Render renders the text in code's language (falling back to Dutch).
func (c *Compiled) Render(code string, d Data) (string, error) {
	t, ok := c.texts[lang.Base(code)]
	if !ok {
		t = c.texts[DefaultLang]
	}
	return execute(t, d)
}

// varRefs lists the .Vars.<name> references in a template, with the
// field names used at the top level (FirstName, ...).
func varRefs(t *template.Template) (vars []string, fields []string) {
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch v := n.(type) {
		case *parse.ListNode:
			if v == nil {
				return
			}
			for _, c := range v.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(v.Pipe)
		case *parse.PipeNode:
			if v == nil {
				return
			}
			for _, c := range v.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range v.Args {
				walk(a)
			}
		case *parse.FieldNode:
			if len(v.Ident) >= 2 && v.Ident[0] == "Vars" {
				vars = append(vars, v.Ident[1])
			} else if len(v.Ident) >= 1 {
				fields = append(fields, v.Ident[0])
			}
		case *parse.IfNode:
			walk(v.Pipe)
			walk(v.List)
			walk(v.ElseList)
		case *parse.RangeNode:
			walk(v.Pipe)
			walk(v.List)
			walk(v.ElseList)
		case *parse.WithNode:
			walk(v.Pipe)
			walk(v.List)
			walk(v.ElseList)
		}
	}
	if t.Tree != nil {
		walk(t.Tree.Root)
	}
	return vars, fields
}
