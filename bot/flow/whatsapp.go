package flow

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/parser"

	"github.com/seintje/seintje/bot/lang"
)

// ContentTemplate is an approved Twilio Content template (WhatsApp) for one
// language of a step's message. WhatsApp lets a business start a message
// more than 24 hours after the person's last message only as an approved
// template; inside that window Seintje sends the step's own text.
//
//	whatsapp:
//	  nl:
//	    content_sid: HX0123456789abcdef0123456789abcdef
//	    variables: ["{{.FirstName}}", "{{datetime .Vars.appointment_at}}", "{{.Caseworker}}"]
//
// Variables fill the template's {{1}}, {{2}}, ... in this order; each is a
// small text template with the same data and functions as `say`.
type ContentTemplate struct {
	ContentSID string   `yaml:"content_sid"`
	Variables  []string `yaml:"variables"`
}

// contentSIDRe is the shape of a Twilio Content SID.
var contentSIDRe = regexp.MustCompile(`^HX[0-9a-fA-F]{32}$`)

// WhatsAppTemplate returns the template of a step's message ("say", or
// "reminder:<i>") in lang, falling back to Dutch; ok is false when the
// step declares none.
func (f *Flow) WhatsAppTemplate(stepID, kind, lang string) (ContentTemplate, string, bool) {
	s := f.Step(stepID)
	if s == nil {
		return ContentTemplate{}, "", false
	}
	var set map[string]ContentTemplate
	switch {
	case kind == "say":
		set = s.WhatsApp
	case strings.HasPrefix(kind, "reminder:"):
		i, err := strconv.Atoi(strings.TrimPrefix(kind, "reminder:"))
		if err == nil && i >= 0 && i < len(s.Reminders) {
			set = s.Reminders[i].WhatsApp
		}
	}
	if t, ok := set[lang]; ok && t.ContentSID != "" {
		return t, lang, true
	}
	if t, ok := set[DefaultLang]; ok && t.ContentSID != "" {
		return t, DefaultLang, true
	}
	return ContentTemplate{}, "", false
}

// RenderVariables renders the template's variables for lang with data d:
// "1" → first value, "2" → second, ... (Twilio's ContentVariables).
func (t ContentTemplate) RenderVariables(lang string, d Data) (map[string]string, error) {
	out := make(map[string]string, len(t.Variables))
	for i, v := range t.Variables {
		tt, err := compile(fmt.Sprintf("whatsapp/%d", i+1), lang, v)
		if err != nil {
			return nil, fmt.Errorf("whatsapp variable %d: %w", i+1, err)
		}
		s, err := execute(tt, d)
		if err != nil {
			return nil, fmt.Errorf("whatsapp variable %d: %w", i+1, err)
		}
		// WhatsApp refuses empty variables and line breaks in them.
		s = strings.Join(strings.Fields(s), " ")
		if s == "" {
			s = "-"
		}
		out[strconv.Itoa(i+1)] = s
	}
	return out, nil
}

// ProactiveSteps lists the steps whose message Seintje may send on its
// own (not as an answer): the first step, steps reached when a wait times
// out, and steps those move on to with `next`. Reminders are proactive too
// (see Step.Reminders).
func (f *Flow) ProactiveSteps() []string {
	if len(f.Steps) == 0 {
		return nil
	}
	var out []string
	var add func(id string)
	add = func(id string) {
		s := f.Step(id)
		if s == nil || slices.Contains(out, id) {
			return
		}
		out = append(out, id)
		add(s.Next)
	}
	add(f.Steps[0].ID)
	for _, s := range f.Steps {
		if s.Wait != nil {
			add(s.Wait.Then)
		}
	}
	return out
}

// WhatsAppGaps reports every message of f that Seintje may start on its
// own and that has no WhatsApp template (`seintje flows check --whatsapp`):
// on WhatsApp such a message goes by SMS once 24 hours have passed since
// the person's last message. f must come from Parse.
func WhatsAppGaps(f *Flow) Diagnostics {
	astFile, err := parser.ParseBytes(f.Source, 0)
	if err != nil {
		return nil
	}
	declared := map[string]bool{}
	for _, v := range f.Variables {
		declared[v.Name] = true
	}
	var out Diagnostics
	for _, d := range checkWhatsApp(f, positions{file: astFile, name: f.File}, declared, true) {
		if d.Code == codeNoTemplate {
			out = append(out, d)
		}
	}
	out.Sort()
	return out
}

const codeNoTemplate = "whatsapp-no-template"

// hasWhatsApp reports whether any step or reminder declares a template.
func (f *Flow) hasWhatsApp() bool {
	for _, s := range f.Steps {
		if len(s.WhatsApp) > 0 {
			return true
		}
		for _, r := range s.Reminders {
			if len(r.WhatsApp) > 0 {
				return true
			}
		}
	}
	return false
}

// checkWhatsApp checks the WhatsApp templates of a flow: a well-formed
// ContentSid, variables that compile and use declared variables. It warns
// about a proactive message without a template (on WhatsApp it then goes
// by SMS once 24 hours have passed since the person's last message) when
// all is true, or when the flow declares templates at all (it is meant for
// WhatsApp, so a missing one is a gap).
func checkWhatsApp(f *Flow, pos positions, declared map[string]bool, all bool) Diagnostics {
	var ds Diagnostics
	at := func(sev Severity, code, msg, hint string, path ...any) {
		l, c := pos.at(path...)
		ds = append(ds, Diagnostic{Severity: sev, File: pos.name, Line: l, Col: c, Code: code, Message: msg, Hint: hint})
	}
	checkSet := func(set map[string]ContentTemplate, say Text, path ...any) {
		checkTemplateLanguages(set, say, func(code, msg, hint string) { at(Warning, code, msg, hint, path...) })
		langs := make([]string, 0, len(set))
		for l := range set {
			langs = append(langs, l)
		}
		slices.Sort(langs)
		for _, lang := range langs {
			t := set[lang]
			p := append(append([]any{}, path...), lang)
			if !langRe.MatchString(lang) {
				at(Error, "bad-language", fmt.Sprintf("%q is not a language code", lang), "use a two-letter code such as nl, en, tr, ar, pl", p...)
				continue
			}
			if !contentSIDRe.MatchString(t.ContentSID) {
				at(Error, "bad-content-sid", fmt.Sprintf("content_sid %q is not a Twilio Content SID", t.ContentSID),
					"copy the SID of the approved template from Twilio's Content Template Builder: HX followed by 32 letters and digits", append(p, "content_sid")...)
			}
			for i, v := range t.Variables {
				tt, err := compile("whatsapp", lang, v)
				if err != nil {
					msg, hint := "this {{ }} part is not valid", textHint
					if te, ok := err.(*TextError); ok {
						msg, hint = te.Msg, te.Hint
					}
					at(Error, "template", "WhatsApp variable: "+msg, hint, append(p, "variables", i)...)
					continue
				}
				vars, fields := varRefs(tt)
				for _, v := range vars {
					name := v.name
					if !declared[name] {
						at(Error, "undefined-variable", fmt.Sprintf("the WhatsApp variable uses .Vars.%s, but the flow declares no variable %q", name, name), "declare it under `variables:` or correct the name", append(p, "variables", i)...)
					}
				}
				for _, fl := range fields {
					if !slices.Contains(dataFields, fl.name) {
						at(Error, "unknown-field", fmt.Sprintf("the WhatsApp variable uses .%s, which does not exist", fl.name), "use one of: "+strings.Join(dataFields, ", "), append(p, "variables", i)...)
					}
				}
			}
		}
	}
	for i, s := range f.Steps {
		checkSet(s.WhatsApp, s.Say, "steps", i, "whatsapp")
		for j, r := range s.Reminders {
			checkSet(r.WhatsApp, r.Say, "steps", i, "reminders", j, "whatsapp")
		}
	}
	if !all && !f.hasWhatsApp() {
		return ds
	}
	for _, id := range f.ProactiveSteps() {
		s, i := f.Step(id), slices.IndexFunc(f.Steps, func(s Step) bool { return s.ID == id })
		if s == nil || len(s.Say) == 0 {
			continue
		}
		if _, _, ok := f.WhatsAppTemplate(id, "say", DefaultLang); !ok {
			at(Warning, codeNoTemplate, fmt.Sprintf("step %q starts a message on its own, but has no WhatsApp template", id),
				"add `whatsapp: {nl: {content_sid: HX…, variables: [...]}}` with the approved Twilio Content template; without one, this message goes by SMS to people on WhatsApp who have not written to us in the last 24 hours", "steps", i, "say")
		}
		for j := range s.Reminders {
			if _, _, ok := f.WhatsAppTemplate(id, fmt.Sprintf("reminder:%d", j), DefaultLang); !ok {
				at(Warning, codeNoTemplate, fmt.Sprintf("reminder %d of step %q has no WhatsApp template", j+1, id),
					"add `whatsapp: {nl: {content_sid: HX…, variables: [...]}}` to the reminder; without one, it goes by SMS to people on WhatsApp who have not written to us in the last 24 hours", "steps", i, "reminders", j)
			}
		}
	}
	return ds
}

const codeTemplateLanguage = "whatsapp-template-language"

// checkTemplateLanguages warns about a message that has WhatsApp templates
// but none in a language its text is written in: outside the 24-hour
// window a reader of that language would get the Dutch template
// (WhatsAppTemplate falls back to it), while inside it they read their own
// language.
func checkTemplateLanguages(set map[string]ContentTemplate, say Text, warn func(code, msg, hint string)) {
	if len(set) == 0 {
		return
	}
	langs := make([]string, 0, len(say))
	for l, txt := range say {
		if strings.TrimSpace(txt) != "" {
			langs = append(langs, l)
		}
	}
	slices.Sort(langs)
	for _, l := range langs {
		if _, ok := set[l]; ok || l == DefaultLang {
			continue
		}
		name := lang.Name(l)
		warn(codeTemplateLanguage,
			fmt.Sprintf("this message has WhatsApp templates, but none in %s (%s): outside the 24-hour window, people who read %s get the Dutch template", name, l, name),
			fmt.Sprintf("add `%s: {content_sid: HX…, variables: [...]}` with the approved %s template from Twilio's Content Template Builder", l, name))
	}
}
