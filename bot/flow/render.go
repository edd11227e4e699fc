package flow

import (
	"bytes"
	"fmt"
	"strconv"
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

// compile parses one template text for a language. Its error is a
// *TextError: what is wrong in a coordinator's words, and where in the text.
func compile(name, lang, text string) (*template.Template, error) {
	if len(text) > MaxTextBytes {
		return nil, &TextError{Offset: 0, Msg: fmt.Sprintf("the text has %d characters; a text may have at most %d", len([]rune(text)), MaxTextBytes),
			Hint: "shorten it: an SMS of 10 parts holds about 1,500 characters"}
	}
	t, err := template.New(name).Funcs(funcs(lang)).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, parseError(name, text, err)
	}
	if err := bounded(t, text); err != nil {
		return nil, err
	}
	return t, nil
}

// TextError is a mistake in the {{ }} parts of a text. Offset is the byte
// offset in the text where it is (-1 when unknown).
type TextError struct {
	Offset int
	Msg    string
	Hint   string
}

func (e *TextError) Error() string { return e.Msg + "; fix: " + e.Hint }

const textHint = "use {{.FirstName}}, {{.Caseworker}}, {{.CallbackNumber}}, {{.CallbackHours}}, {{.Agency}}, {{.Vars.<name>}} or {{date .Vars.<name>}}"

// allowedFuncs are the functions a text may call: the date helpers and the
// comparisons {{if}} needs. Others (printf, slice, call, ...) could make a
// text huge or slow, and a message needs none of them.
var allowedFuncs = map[string]bool{"date": true, "datetime": true, "time": true,
	"eq": true, "ne": true, "not": true, "and": true, "or": true, "lt": true, "le": true, "gt": true, "ge": true}

// walkTemplate calls visit for every node of t's tree, depth first.
func walkTemplate(t *template.Template, visit func(parse.Node)) {
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch v := n.(type) {
		case nil:
			return
		case *parse.ListNode:
			if v == nil {
				return
			}
			visit(v)
			for _, c := range v.Nodes {
				walk(c)
			}
			return
		case *parse.PipeNode:
			if v == nil {
				return
			}
			visit(v)
			for _, c := range v.Cmds {
				walk(c)
			}
			return
		}
		visit(n)
		switch v := n.(type) {
		case *parse.ActionNode:
			walk(v.Pipe)
		case *parse.CommandNode:
			for _, a := range v.Args {
				walk(a)
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
}

// bounded refuses what could make rendering slow or the text unbounded:
// {{range}}, {{template}}, {{define}}/{{block}}, functions other than the
// allowed ones, and more than MaxTemplateActions {{ }} parts.
func bounded(t *template.Template, text string) error {
	if len(t.Templates()) > 1 {
		return &TextError{Offset: strings.Index(text, "{{"), Msg: "{{define}} and {{block}} cannot be used in a text", Hint: textHint}
	}
	actions := 0
	var bad *TextError
	walkTemplate(t, func(n parse.Node) {
		if bad != nil {
			return
		}
		switch v := n.(type) {
		case *parse.ActionNode, *parse.IfNode, *parse.WithNode:
			actions++
		case *parse.IdentifierNode:
			if !allowedFuncs[v.Ident] {
				bad = &TextError{Offset: int(v.Position()), Msg: fmt.Sprintf("{{%s}} cannot be used in a text", v.Ident), Hint: textHint}
			}
		case *parse.RangeNode:
			bad = &TextError{Offset: actionStart(text, int(v.Position())), Msg: "{{range}} cannot be used in a text", Hint: "write the text out; " + textHint}
		case *parse.TemplateNode:
			bad = &TextError{Offset: actionStart(text, int(v.Position())), Msg: "{{template}} cannot be used in a text", Hint: "write the text out; " + textHint}
		case *parse.BreakNode, *parse.ContinueNode:
			bad = &TextError{Offset: actionStart(text, int(n.Position())), Msg: "{{break}} and {{continue}} cannot be used in a text", Hint: textHint}
		}
		if bad == nil && actions > MaxTemplateActions {
			bad = &TextError{Offset: actionStart(text, int(n.Position())), Msg: fmt.Sprintf("the text has more than %d {{ }} parts", MaxTemplateActions), Hint: "split it into shorter texts"}
		}
	})
	if bad != nil {
		return bad
	}
	return nil
}

// parseError turns text/template's parse error ("template: NAME:LINE: msg")
// into a TextError in a coordinator's words, pointing at the {{ }} part.
func parseError(name, text string, err error) *TextError {
	raw := strings.TrimPrefix(err.Error(), "template: "+name+":")
	line := 1
	if i := strings.Index(raw, ": "); i > 0 {
		if n, convErr := strconv.Atoi(raw[:i]); convErr == nil {
			line = n
			raw = raw[i+2:]
		}
	}
	// Byte offset of the start of that line in the text.
	start := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(text[start:], '\n')
		if i < 0 {
			break
		}
		start += i + 1
	}
	lineText := text[start:]
	if i := strings.IndexByte(lineText, '\n'); i >= 0 {
		lineText = lineText[:i]
	}
	at := func(sub string) int {
		if i := strings.Index(lineText, sub); i >= 0 {
			return start + i
		}
		if i := strings.Index(lineText, "{{"); i >= 0 {
			return start + i
		}
		return start
	}
	if i := brokenAction(lineText); i >= 0 {
		return &TextError{Offset: start + i, Msg: "a {{ is not closed with }}", Hint: "close it, e.g. {{.FirstName}}"}
	}
	switch {
	case strings.Contains(raw, "not defined") && strings.HasPrefix(raw, "function "):
		fn := strings.Trim(strings.TrimSuffix(strings.TrimPrefix(raw, "function "), " not defined"), `"`)
		return &TextError{Offset: at(fn), Msg: fmt.Sprintf("{{%s}} is not something a text can use", fn), Hint: textHint}
	case strings.Contains(raw, "unclosed action"), strings.Contains(raw, "unexpected EOF"), strings.Contains(raw, "unclosed left delim"):
		return &TextError{Offset: lastOpen(text, start), Msg: "a {{ is not closed with }}", Hint: "close it, e.g. {{.FirstName}}"}
	case strings.Contains(raw, "undefined variable"):
		return &TextError{Offset: at("$"), Msg: "a {{$name}} is used that the text does not set", Hint: textHint}
	case strings.Contains(raw, "missing value for"), strings.Contains(raw, "empty command"):
		return &TextError{Offset: at("{{"), Msg: "a {{ }} part is empty", Hint: textHint}
	case strings.Contains(raw, "unexpected {{end}}"), strings.Contains(raw, "unexpected {{else}}"):
		return &TextError{Offset: at("{{"), Msg: "an {{end}} or {{else}} has no {{if}} before it", Hint: "write {{if .Vars.x}}...{{else}}...{{end}}"}
	case strings.Contains(raw, "expected end"):
		return &TextError{Offset: at("{{"), Msg: "an {{if}} is not closed with {{end}}", Hint: "write {{if .Vars.x}}...{{end}}"}
	}
	return &TextError{Offset: at("{{"), Msg: "this {{ }} part is not valid", Hint: textHint}
}

// brokenAction returns the offset of the first "{{" in line that is not
// closed by "}}" before the next "{{" or the end of the line, or -1.
func brokenAction(line string) int {
	for i := 0; ; {
		j := strings.Index(line[i:], "{{")
		if j < 0 {
			return -1
		}
		open := i + j
		rest := line[open+2:]
		next := strings.Index(rest, "{{")
		seg := rest
		if next >= 0 {
			seg = rest[:next]
		}
		if !strings.Contains(seg, "}}") {
			return open
		}
		i = open + 2
	}
}

// actionStart returns the offset of the "{{" that opens the action at off.
func actionStart(text string, off int) int {
	if off > len(text) {
		off = len(text)
	}
	if i := strings.LastIndex(text[:max(off, 0)], "{{"); i >= 0 {
		return i
	}
	return off
}

// lastOpen returns the offset of the last "{{" at or after from without a
// "}}" after it (the unclosed one), or from.
func lastOpen(text string, from int) int {
	for i := len(text) - 2; i >= 0; i-- {
		if text[i] == '{' && text[i+1] == '{' {
			if !strings.Contains(text[i:], "}}") {
				return i
			}
		}
	}
	if i := strings.Index(text[from:], "{{"); i >= 0 {
		return from + i
	}
	return from
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
	case strings.HasPrefix(kind, experimentVariantKind):
		if a := f.Experiment.Arm(strings.TrimPrefix(kind, experimentVariantKind)); a != nil {
			txt = a.Say[stepID]
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

// ref is a field a template uses, with its byte offset in the text.
type ref struct {
	name   string
	offset int
}

// varRefs lists the .Vars.<name> references in a template, with the
// field names used at the top level (FirstName, ...).
func varRefs(t *template.Template) (vars []ref, fields []ref) {
	walkTemplate(t, func(n parse.Node) {
		if v, ok := n.(*parse.FieldNode); ok {
			if len(v.Ident) >= 2 && v.Ident[0] == "Vars" {
				vars = append(vars, ref{v.Ident[1], int(v.Position())})
			} else if len(v.Ident) >= 1 {
				fields = append(fields, ref{v.Ident[0], int(v.Position())})
			}
		}
	})
	return vars, fields
}
