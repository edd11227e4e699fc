package flow

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template"
)

var (
	idRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	varRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	langRe = regexp.MustCompile(`^[a-z]{2,3}$`)
)

// dataFields are the top-level fields a template may use.
var dataFields = []string{"Agency", "FirstName", "Caseworker", "CallbackNumber", "CallbackHours", "Vars"}

// check validates a decoded flow, compiles its templates and fills the
// step index. It returns errors and warnings with positions.
func check(f *Flow, pos positions) Diagnostics {
	var ds Diagnostics
	errAt := func(code, msg, hint string, path ...any) {
		l, c := pos.at(path...)
		ds = append(ds, Diagnostic{Severity: Error, File: pos.name, Line: l, Col: c, Code: code, Message: msg, Hint: hint})
	}
	warnAt := func(code, msg, hint string, path ...any) {
		l, c := pos.at(path...)
		ds = append(ds, Diagnostic{Severity: Warning, File: pos.name, Line: l, Col: c, Code: code, Message: msg, Hint: hint})
	}
	// errInText points at byte offset off inside the text at path.
	errInText := func(off int, code, msg, hint string, path ...any) {
		l, c := pos.inText(off, path...)
		ds = append(ds, Diagnostic{Severity: Error, File: pos.name, Line: l, Col: c, Code: code, Message: msg, Hint: hint})
	}

	if f.ID == "" {
		errAt("missing-id", "the flow has no id", "add a line `id: my-flow` (lower case letters, digits and dashes)")
	} else if !idRe.MatchString(f.ID) {
		errAt("bad-id", fmt.Sprintf("flow id %q is not valid", f.ID), "use lower case letters, digits and dashes, e.g. no-show", "id")
	}
	if f.Version < 1 {
		errAt("bad-version", "the flow has no version (or it is below 1)", "add `version: 1` and raise it by one on every change", "version")
	}

	declared := map[string]bool{}
	for i, v := range f.Variables {
		switch {
		case !varRe.MatchString(v.Name):
			errAt("bad-variable-name", fmt.Sprintf("variable name %q is not valid", v.Name), "use lower case letters, digits and underscores, e.g. due_date", "variables", i, "name")
		case declared[v.Name]:
			errAt("duplicate-variable", fmt.Sprintf("variable %q is declared twice", v.Name), "remove one of the two", "variables", i, "name")
		}
		declared[v.Name] = true
		switch v.Type {
		case TypeString, TypeDate, TypeDatetime:
		case "":
			errAt("missing-variable-type", fmt.Sprintf("variable %q has no type", v.Name), "add `type: string`, `type: date` or `type: datetime`", "variables", i)
		default:
			errAt("bad-variable-type", fmt.Sprintf("variable %q has unknown type %q", v.Name, v.Type), "use string, date (2026-11-24) or datetime (2026-11-24T10:00:00+01:00)", "variables", i, "type")
		}
	}

	if len(f.Steps) == 0 {
		errAt("no-steps", "the flow has no steps", "add a `steps:` list; the first step is where the conversation starts")
		return ds
	}
	f.steps = map[string]*Step{}
	for i := range f.Steps {
		s := &f.Steps[i]
		switch {
		case s.ID == "":
			errAt("missing-step-id", fmt.Sprintf("step %d has no id", i+1), "add `id: some-name` to the step", "steps", i)
			continue
		case !idRe.MatchString(s.ID):
			errAt("bad-step-id", fmt.Sprintf("step id %q is not valid", s.ID), "use lower case letters, digits and dashes", "steps", i, "id")
		case f.steps[s.ID] != nil:
			errAt("duplicate-step", fmt.Sprintf("step id %q is used twice", s.ID), "give each step its own id", "steps", i, "id")
			continue
		}
		f.steps[s.ID] = s
	}
	stepNames := func() string {
		names := make([]string, 0, len(f.Steps))
		for _, s := range f.Steps {
			names = append(names, s.ID)
		}
		return strings.Join(names, ", ")
	}
	ref := func(target string, path ...any) {
		if target == "" {
			return
		}
		if f.steps[target] == nil {
			errAt("unknown-step", fmt.Sprintf("there is no step %q", target), "use one of: "+stepNames(), path...)
		}
	}

	f.templates = map[tmplKey]*template.Template{}
	used := map[string]bool{}
	compileText := func(stepID, kind string, t Text, required bool, path ...any) {
		if len(t) == 0 {
			return
		}
		if strings.TrimSpace(t[DefaultLang]) == "" {
			if required {
				errAt("missing-dutch", "this text has no Dutch version (nl)", "add an `nl:` text; other languages fall back to it", path...)
			}
		}
		langs := make([]string, 0, len(t))
		for l := range t {
			langs = append(langs, l)
		}
		slices.Sort(langs)
		for _, lang := range langs {
			p := append(append([]any{}, path...), lang)
			if !langRe.MatchString(lang) {
				l, c := pos.key(p...)
				ds = append(ds, Diagnostic{Severity: Error, File: pos.name, Line: l, Col: c, Code: "bad-language",
					Message: fmt.Sprintf("%q is not a language code", lang), Hint: "use a two-letter code in lower case, such as nl, en, tr, ar, pl, uk"})
				continue
			}
			tt, err := compile(fmt.Sprintf("%s/%s/%s", stepID, kind, lang), lang, t[lang])
			if err != nil {
				te, ok := err.(*TextError)
				if !ok {
					te = &TextError{Offset: -1, Msg: "this {{ }} part is not valid", Hint: textHint}
				}
				errInText(te.Offset, "template", te.Msg, te.Hint, p...)
				continue
			}
			vars, fields := varRefs(tt)
			for _, v := range vars {
				used[v.name] = true
				if !declared[v.name] {
					hint := "declare it under `variables:` or correct the name"
					if s := closest(v.name, declaredNames(f)); s != "" {
						hint = fmt.Sprintf("did you mean .Vars.%s?", s)
					}
					errInText(v.offset, "undefined-variable", fmt.Sprintf("the text uses .Vars.%s, but the flow declares no variable %q", v.name, v.name), hint, p...)
				}
			}
			for _, fl := range fields {
				if !slices.Contains(dataFields, fl.name) {
					hint := "use .Agency, .FirstName, .Caseworker, .CallbackNumber, .CallbackHours or .Vars.<name>"
					if s := closest(fl.name, dataFields); s != "" {
						hint = fmt.Sprintf("did you mean .%s?", s)
					}
					errInText(fl.offset, "unknown-field", fmt.Sprintf("the text uses .%s, which does not exist", fl.name), hint, p...)
				}
			}
			f.templates[tmplKey{stepID, kind, lang}] = tt
		}
	}
	compileText("", "simple", f.Simple, true, "simple")

	for i := range f.Steps {
		s := &f.Steps[i]
		if s.ID == "" {
			continue
		}
		compileText(s.ID, "say", s.Say, true, "steps", i, "say")
		compileText(s.ID, "simple", s.Simple, true, "steps", i, "simple")
		for j, r := range s.Replies {
			if len(r.Match) == 0 {
				errAt("empty-route", "this reply route has nothing to match", "add `match: [\"1\", \"ja\"]`", "steps", i, "replies", j)
			}
			for k, m := range r.Match {
				if Normalize(m) == "" {
					errAt("empty-match", fmt.Sprintf("%q can never match: after removing punctuation nothing is left", m), "use digits, words or short phrases", "steps", i, "replies", j, "match", k)
				}
			}
			if r.Goto == "" {
				errAt("missing-goto", "this reply route has no `goto`", "add `goto: <step id>`", "steps", i, "replies", j)
			}
			ref(r.Goto, "steps", i, "replies", j, "goto")
			compileText(s.ID, fmt.Sprintf("label:%d", j), r.Label, true, "steps", i, "replies", j, "label")
		}
		// Two routes with the same match: the second can never win.
		seen := map[string]int{}
		for j, r := range s.Replies {
			for k, m := range r.Match {
				n := Normalize(m)
				if prev, ok := seen[n]; ok && prev != j {
					errAt("shadowed-match", fmt.Sprintf("%q is already matched by reply route %d, so this route never gets it", m, prev+1), "remove it from one of the two routes", "steps", i, "replies", j, "match", k)
				}
				seen[n] = j
			}
		}
		ref(s.Otherwise, "steps", i, "otherwise")
		ref(s.Next, "steps", i, "next")
		if s.Wait != nil {
			if s.Wait.Timeout.Duration <= 0 && s.Wait.WorkingDays == 0 {
				errAt("bad-timeout", "the wait has no timeout, or it is not positive", "write e.g. `timeout: 48h` or `timeout: 2d`", "steps", i, "wait")
			}
			if s.Wait.Then == "" {
				errAt("missing-then", "the wait does not say where to go when nobody answers", "add `then: <step id>`", "steps", i, "wait")
			}
			ref(s.Wait.Then, "steps", i, "wait", "then")
		}
		switch s.Action {
		case "", ActionCallback, ActionForward, ActionEnd:
		default:
			errAt("bad-action", fmt.Sprintf("unknown action %q", s.Action), "use callback, forward or end", "steps", i, "action")
		}
		if s.Action == ActionEnd && (s.Next != "" || s.Waits()) {
			errAt("end-with-more", "a step with `action: end` cannot also wait or go on", "remove `next`, `replies`, `otherwise` and `wait`, or remove `action: end`", "steps", i, "action")
		}
		if s.Next != "" && s.Waits() {
			errAt("next-and-wait", "a step cannot both go on at once (`next`) and wait for an answer", "remove `next`, or remove `replies`/`otherwise`/`wait`", "steps", i, "next")
		}
		if s.Next == s.ID && s.ID != "" {
			errAt("self-next", "the step goes on to itself", "point `next` at another step", "steps", i, "next")
		}
		if len(s.Say) == 0 && s.Action == "" && !s.Waits() && s.Next == "" {
			errAt("empty-step", fmt.Sprintf("step %q does nothing", s.ID), "add `say`, `replies`, `action` or `next`", "steps", i)
		}
	}

	checkTiming(f, errAt, compileText, used)
	checkExperiment(f, pos, errAt, compileText)
	ds = append(ds, checkWhatsApp(f, pos, declared, false)...)

	for i, v := range f.Variables {
		if !used[v.Name] {
			warnAt("unused-variable", fmt.Sprintf("variable %q is declared but no text uses it", v.Name), "use it in a text, e.g. {{.Vars."+v.Name+"}}, or remove it", "variables", i, "name")
		}
	}

	// Reachability from the first step.
	if !ds.HasErrors() {
		reach := map[string]bool{}
		var visit func(id string)
		visit = func(id string) {
			if id == "" || reach[id] || f.steps[id] == nil {
				return
			}
			reach[id] = true
			s := f.steps[id]
			for _, r := range s.Replies {
				visit(r.Goto)
			}
			visit(s.Otherwise)
			visit(s.Next)
			if s.Wait != nil {
				visit(s.Wait.Then)
			}
		}
		visit(f.Steps[0].ID)
		if f.Experiment != nil { // an arm may start on another path
			for _, a := range f.Experiment.Arms {
				visit(a.Start)
			}
		}
		for i, s := range f.Steps {
			if !reach[s.ID] {
				errAt("unreachable-step", fmt.Sprintf("step %q can never be reached from the first step %q", s.ID, f.Steps[0].ID), "point a `goto`, `next`, `otherwise` or `then` at it, or remove it", "steps", i, "id")
			}
		}
		// A chain of `next` that loops forever.
		for i, s := range f.Steps {
			seenNext := map[string]bool{}
			for cur := s.ID; cur != ""; cur = f.steps[cur].Next {
				if seenNext[cur] {
					errAt("next-loop", fmt.Sprintf("the `next` chain from step %q loops forever", s.ID), "let one of the steps wait for an answer or end", "steps", i, "next")
					break
				}
				seenNext[cur] = true
			}
		}
	}
	return guard(f, pos, ds)
}

func declaredNames(f *Flow) []string {
	out := make([]string, 0, len(f.Variables))
	for _, v := range f.Variables {
		out = append(out, v.Name)
	}
	return out
}
