package flow

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/goccy/go-yaml/parser"
)

// Targets lists the steps this step can lead to: reply routes, otherwise,
// next and the wait's then, in that order, without duplicates or empties.
func (s *Step) Targets() []string {
	var out []string
	add := func(id string) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, r := range s.Replies {
		add(r.Goto)
	}
	add(s.Otherwise)
	add(s.Next)
	if s.Wait != nil {
		add(s.Wait.Then)
	}
	return out
}

// protectedTerms are words in a variable name that point at a protected
// characteristic. Triggers and routes rest on objective events only (a
// missed appointment, a missing form, a reported signal); nothing may
// select or branch on origin, nationality, ethnicity or religion (DOMAIN.md,
// after the toeslagenaffaire). Whole words match (name split on "_");
// stems match inside a word.
var protectedTerms = []struct {
	term  string
	whole bool // match only as a whole word of the name
	what  string
}{
	{"nationaliteit", false, "nationality"},
	{"nationality", false, "nationality"},
	{"nationaal", false, "nationality"},
	{"paspoort", false, "nationality"},
	{"passport", false, "nationality"},
	{"afkomst", false, "origin"},
	{"herkomst", false, "origin"},
	{"origin", false, "origin"},
	{"geboorteland", false, "origin"},
	{"birth_country", false, "origin"},
	{"country_of_birth", false, "origin"},
	{"birthcountry", false, "origin"},
	{"land_van_herkomst", false, "origin"},
	{"migratie", false, "origin"},
	{"migration", false, "origin"},
	{"migrant", false, "origin"},
	{"allochto", false, "origin"},
	{"autochto", false, "origin"},
	{"immigra", false, "origin"},
	{"etnic", false, "ethnicity"},
	{"etnisch", false, "ethnicity"},
	{"ethnic", false, "ethnicity"},
	{"etniciteit", false, "ethnicity"},
	{"ras", true, "race"},
	{"race", true, "race"},
	{"huidskleur", false, "race"},
	{"skin", true, "race"},
	{"geloof", false, "religion"},
	{"religie", false, "religion"},
	{"religion", false, "religion"},
	{"religious", false, "religion"},
	{"kerk", true, "religion"},
	{"moskee", false, "religion"},
	{"faith", true, "religion"},
	// Abbreviations and other usual forms (CBS: "migratieachtergrond",
	// "westers / niet-westers"; "geb_land", "cob", "nat").
	{"nat", true, "nationality"},
	{"natl", true, "nationality"},
	{"nationalit", false, "nationality"},
	{"staatsburger", false, "nationality"},
	{"citizenship", false, "nationality"},
	{"cob", true, "origin"},
	{"gebland", false, "origin"},
	{"geb_land", false, "origin"},
	{"geboorteplaats", false, "origin"},
	{"birthplace", false, "origin"},
	{"place_of_birth", false, "origin"},
	{"herk", true, "origin"},
	{"herkomstland", false, "origin"},
	{"westers", false, "origin"},
	{"western", false, "origin"},
	{"buitenland", false, "origin"},
	{"foreign", false, "origin"},
	{"native", true, "origin"},
	{"roots", true, "origin"},
	{"achtergrond", false, "origin"},
	{"background", false, "origin"},
	{"etn", true, "ethnicity"},
	{"eth", true, "ethnicity"},
	{"rel", true, "religion"},
	{"relig", false, "religion"},
	{"godsdienst", false, "religion"},
	{"levensbeschouw", false, "religion"},
	{"islam", false, "religion"},
	{"moslim", false, "religion"},
	{"muslim", false, "religion"},
	{"christ", false, "religion"},
	{"joods", false, "religion"},
	{"jewish", false, "religion"},
	{"hindoe", false, "religion"},
	{"hindu", false, "religion"},
	{"belief", false, "religion"},
	{"geaardheid", false, "sexual orientation"},
	{"orientation", false, "sexual orientation"},
}

// ProtectedTerm returns the protected characteristic a variable name points
// at ("nationality", "origin", ...), or "".
func ProtectedTerm(name string) string {
	// Words of the name: split on anything but letters and digits, and
	// between a lower-case and an upper-case letter (countryOfBirth).
	var b strings.Builder
	prevLower := false
	for _, r := range name {
		if unicode.IsUpper(r) && prevLower {
			b.WriteRune('_')
		}
		prevLower = unicode.IsLower(r)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune('_')
		}
	}
	n := b.String()
	words := strings.FieldsFunc(n, func(r rune) bool { return r == '_' })
	for _, p := range protectedTerms {
		if p.whole {
			if slices.Contains(words, p.term) {
				return p.what
			}
			continue
		}
		if strings.Contains(n, p.term) {
			return p.what
		}
	}
	return ""
}

// guard adds the checks that need the whole, otherwise valid flow:
// protected characteristics, steps with no way out and waits that never end.
func guard(f *Flow, pos positions, ds Diagnostics) Diagnostics {
	errAt := func(code, msg, hint string, path ...any) {
		l, c := pos.at(path...)
		ds = append(ds, Diagnostic{Severity: Error, File: pos.name, Line: l, Col: c, Code: code, Message: msg, Hint: hint})
	}
	warnAt := func(code, msg, hint string, path ...any) {
		l, c := pos.at(path...)
		ds = append(ds, Diagnostic{Severity: Warning, File: pos.name, Line: l, Col: c, Code: code, Message: msg, Hint: hint})
	}
	for i, v := range f.Variables {
		if what := ProtectedTerm(v.Name); what != "" {
			errAt("protected-variable",
				fmt.Sprintf("variable %q is about %s, a protected characteristic; a flow may not select or branch on it", v.Name, what),
				"remove it: nudges rest on objective events only (a missed appointment, a missing form, a reported signal)",
				"variables", i, "name")
		}
	}
	ds = checkTone(f, pos, ds)
	if len(f.steps) != len(f.Steps) || structuralErrors(ds) {
		return ds
	}
	// A flow-level expiry closes every conversation that is still open, so
	// with `expire` no step can trap anyone and no wait stays open forever.
	expires := f.Expire != nil && f.Expire.After.Duration > 0
	if !expires {
		for _, i := range trapped(f) {
			errAt("no-way-out",
				fmt.Sprintf("step %q has no way out: every route from it leads back without ever reaching an end", f.Steps[i].ID),
				"let one route, `otherwise` or the wait's `then` lead to a step that ends (action: end, or no replies and no next), or give the flow `expire: {after: 14d}`",
				"steps", i, "id")
		}
	}
	for i := range f.Steps {
		s := &f.Steps[i]
		if !expires && s.Waits() && s.Wait == nil && s.Action != ActionEnd {
			warnAt("no-timeout",
				fmt.Sprintf("step %q waits for an answer without a timeout: if nobody answers, the conversation stays open until it is deleted", s.ID),
				"add `wait: {timeout: 48h, then: <step id>}`, or give the flow `expire: {after: 14d}`", "steps", i)
		}
	}
	return ds
}

// structuralErrors reports errors after which the step graph is not what
// the author meant; the no-way-out check would only repeat them. Other
// errors (a template, a protected variable) do not hide a trap.
func structuralErrors(ds Diagnostics) bool {
	for _, d := range ds {
		if d.Severity != Error {
			continue
		}
		switch d.Code {
		case "missing-step-id", "duplicate-step", "next-loop", "self-next", "bad-expire":
			return true
		}
	}
	return false
}

// trapped returns the indexes of the steps from which no end can be reached.
// Every exit counts: reply routes, otherwise, next and the wait's then
// (after a timeout or after working days). A target that does not exist is
// reported as unknown-step and counts as a way out here, so one mistake
// gives one error.
func trapped(f *Flow) []int {
	canEnd := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for i := range f.Steps {
			s := &f.Steps[i]
			if canEnd[s.ID] {
				continue
			}
			ok := s.Ends()
			for _, t := range s.Targets() {
				ok = ok || canEnd[t] || f.steps[t] == nil
			}
			if ok {
				canEnd[s.ID] = true
				changed = true
			}
		}
	}
	var out []int
	for i := range f.Steps {
		if !canEnd[f.Steps[i].ID] {
			out = append(out, i)
		}
	}
	return out
}

// Locator returns a function that finds line:col for a path in src
// (e.g. "steps", 0, "say", "nl"), falling back to the nearest parent and
// finally to 1:1. Tools outside this package (lints, graphs) use it to
// point at the text they talk about.
func Locator(src []byte) func(path ...any) (int, int) {
	astFile, err := parser.ParseBytes(src, 0)
	if err != nil {
		astFile = nil
	}
	ps := positions{file: astFile}
	return ps.at
}
