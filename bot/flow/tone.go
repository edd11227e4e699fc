package flow

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DistrustfulWords sound accusing or distrustful in a message Seintje
// starts on its own (DOMAIN.md, "How the messages must sound": people fear
// being labelled a fraudeur, and that fear stops them from asking). Per
// language; a text is checked against its own language's words and the
// Dutch and English ones. A text word matches when it starts with one of
// them ("boete" finds "boetes", "fraude" finds "fraudeur"; Polish and
// Ukrainian words are stems for their endings); an Arabic word matches
// anywhere in a word, because Arabic writes "the" and "and" onto it
// ("الغرامة"). English "fine" is left out on purpose: "Is everything
// fine?" is a kind question; "fined" and "fines" are in.
var DistrustfulWords = map[string][]string{
	"nl": {"fraude", "fraudeur", "boete", "beboet", "sanctie", "sanctione", "overtreding", "overtreed", "controle", "controleur",
		"handhaving", "handhaven", "straf", "terugvordering", "opsporing", "inspectie", "verdacht", "misbruik"},
	"en": {"fraud", "fined", "fines", "penalty", "penalties", "penalise", "penalize", "sanction", "violation", "breach",
		"enforcement", "inspection", "investigation", "suspicio", "suspect", "punish", "misuse", "abuse"},
	"tr": {"dolandırıcı", "sahtekar", "hile", "ceza", "yaptırım", "denetim", "kontrol", "ihlal", "icra", "soruşturma", "teftiş", "şüphe"},
	"pl": {"oszust", "wyłudz", "kara", "kary", "karę", "ukara", "grzywn", "sankcj", "kontrol", "egzekucj", "egzekw", "windykac",
		"narusz", "nadużyc", "dochodzen", "inspekcj", "podejrz"},
	"uk": {"шахрай", "штраф", "санкці", "контрол", "порушен", "покаранн", "стягнен", "перевірк", "розслідуван", "зловживан", "підозр"},
	"ar": {"احتيال", "غش", "غرامة", "غرامات", "عقوبة", "عقوبات", "مخالفة", "مخالفات", "رقابة", "تفتيش", "انتهاك", "تحقيق", "إنفاذ"},
}

// AllDistrustfulWords is every language's list in one, for lints and
// tools that do not know a text's language.
func AllDistrustfulWords() []string {
	langs := make([]string, 0, len(DistrustfulWords))
	for l := range DistrustfulWords {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	var out []string
	for _, l := range langs {
		for _, w := range DistrustfulWords[l] {
			if !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	return out
}

// wordsFor are the distrustful words a text in lang is checked against.
func wordsFor(lang string) []string {
	out := slices.Clone(DistrustfulWords[lang])
	for _, l := range []string{"nl", "en"} {
		if l != lang {
			out = append(out, DistrustfulWords[l]...)
		}
	}
	return out
}

// DistrustfulWord returns the first word of text that starts with one of
// words (compared as Normalize writes them, so "kara" finds "karą"), and
// its byte offset in text; "" and -1 when there is none. {{ }} parts are
// skipped: they are filled in when the message is sent.
func DistrustfulWord(text string, words []string) (string, int) {
	norm := make([]string, 0, len(words))
	for _, w := range words {
		if n := Normalize(w); n != "" {
			norm = append(norm, n)
		}
	}
	for _, w := range textWords(text) {
		n := Normalize(w.text)
		for _, tw := range norm {
			if strings.HasPrefix(n, tw) || (isArabic(tw) && strings.Contains(n, tw)) {
				return w.text, w.offset
			}
		}
	}
	return "", -1
}

type textWord struct {
	text   string
	offset int
}

// textWords splits text into runs of letters outside {{ }}, with offsets.
func textWords(text string) []textWord {
	var out []textWord
	start := -1
	inAction := false
	for i := 0; i < len(text); {
		if !inAction && strings.HasPrefix(text[i:], "{{") {
			if start >= 0 {
				out = append(out, textWord{text[start:i], start})
				start = -1
			}
			inAction = true
			i += 2
			continue
		}
		if inAction {
			if strings.HasPrefix(text[i:], "}}") {
				inAction = false
				i += 2
			} else {
				i++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		letter := unicode.IsLetter(r) || unicode.Is(unicode.Mn, r)
		switch {
		case letter && start < 0:
			start = i
		case !letter && start >= 0:
			out = append(out, textWord{text[start:i], start})
			start = -1
		}
		i += size
	}
	if start >= 0 {
		out = append(out, textWord{text[start:], start})
	}
	return out
}

func isArabic(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Arabic, r) {
			return true
		}
	}
	return false
}

var (
	// nine digits, optionally grouped 3-3-3 or 4-2-3 with dots or spaces
	bsnRe = regexp.MustCompile(`(?:^|[^\d])(\d{3}[ .]?\d{3}[ .]?\d{3}|\d{4}[ .]\d{2}[ .]\d{3})(?:$|[^\d])`)
	// a country code, two check digits and 11 to 30 letters and digits,
	// optionally in groups of four
	ibanRe = regexp.MustCompile(`(?i)\b([a-z]{2}\d{2}(?: ?[a-z0-9]){11,30})\b`)
	// a currency sign or word next to a number or a {{ }} value
	moneyRe = regexp.MustCompile(`(?i)(?:[€$£₺₴]|(?:^|[^\p{L}])(?:eur|euro|euros|usd|tl|zł|грн|يورو))\s?(?:\d|\{\{)|(?:\d[\d.,]*|\}\})\s?(?:[€$£₺₴]|(?:eur|euro|euros|euro's|tl|lira|zł|złotych|грн|гривень|євро|يورو)(?:[^\p{L}]|$))`)
)

// SensitiveValue finds a BSN (a nine-digit number that passes the
// eleven-test), an IBAN (passing its mod-97 check) or a money amount in
// text. It returns what it found ("BSN", "IBAN", "an amount of money") and
// the byte offset, or "" and -1.
func SensitiveValue(text string) (string, int) {
	for _, m := range ibanRe.FindAllStringSubmatchIndex(text, -1) {
		if validIBAN(text[m[2]:m[3]]) {
			return "an IBAN (bank account number)", m[2]
		}
	}
	for _, m := range bsnRe.FindAllStringSubmatchIndex(text, -1) {
		if elevenProof(text[m[2]:m[3]]) {
			return "a BSN (citizen service number)", m[2]
		}
	}
	if m := moneyRe.FindStringIndex(text); m != nil {
		return "an amount of money", m[0]
	}
	return "", -1
}

// elevenProof is the BSN check: 9×d1 + 8×d2 + … + 2×d8 − 1×d9 is a
// multiple of 11 (and not all zeros).
func elevenProof(s string) bool {
	var d []int
	for _, r := range s {
		if r >= '0' && r <= '9' {
			d = append(d, int(r-'0'))
		}
	}
	if len(d) != 9 {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += (9 - i) * d[i]
	}
	sum -= d[8]
	return sum%11 == 0 && sum != 0
}

// validIBAN checks an IBAN's mod-97 check digits.
func validIBAN(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	s = s[4:] + s[:4]
	rem := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			rem = (rem*10 + int(r-'0')) % 97
		case r >= 'A' && r <= 'Z':
			rem = (rem*100 + int(r-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// sensitiveVarTerms are variable names that would put a BSN, a bank
// account or an amount of money into a text.
var sensitiveVarTerms = []string{"bsn", "burgerservicenummer", "sofinummer", "sofi", "iban", "rekeningnummer", "bankrekening",
	"account_number", "bank_account", "bedrag", "amount", "vordering", "schuld", "debt"}

// sensitiveVar returns what a variable name points at, or "".
func sensitiveVar(name string) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r == '_' || r == '-' })
	for _, t := range sensitiveVarTerms {
		if strings.Contains(t, "_") {
			if strings.Contains(strings.ToLower(name), t) {
				return t
			}
			continue
		}
		if slices.Contains(words, t) || (len(t) > 5 && strings.Contains(strings.ToLower(name), t)) {
			return t
		}
	}
	return ""
}

// CheckSystemText applies the tone and privacy rules to a text Seintje
// sends on its own (the STOP confirmation, HELP, ...): it returns a
// description of the first problem, or "".
func CheckSystemText(t Text) string {
	langs := make([]string, 0, len(t))
	for l := range t {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	for _, lang := range langs {
		if w, _ := DistrustfulWord(t[lang], wordsFor(lang)); w != "" {
			return fmt.Sprintf("[%s] uses %q, which sounds distrustful", lang, w)
		}
		if what, _ := SensitiveValue(t[lang]); what != "" {
			return fmt.Sprintf("[%s] contains %s", lang, what)
		}
	}
	return ""
}

// checkTone applies the tone and privacy rules to a flow whose templates
// compiled: no distrustful word in any message Seintje sends on its own
// (first message, reminders, steps entered on a timeout), in any language;
// no BSN, IBAN or amount of money in any text; the callback number in
// every language of the first message; no variable that would carry a
// BSN, a bank account or an amount.
func checkTone(f *Flow, pos positions, ds Diagnostics) Diagnostics {
	errIn := func(off int, code, msg, hint string, path ...any) {
		l, c := pos.inText(off, path...)
		ds = append(ds, Diagnostic{Severity: Error, File: pos.name, Line: l, Col: c, Code: code, Message: msg, Hint: hint})
	}
	for i, v := range f.Variables {
		if what := sensitiveVar(v.Name); what != "" {
			l, c := pos.at("variables", i, "name")
			ds = append(ds, Diagnostic{Severity: Error, File: pos.name, Line: l, Col: c, Code: "sensitive-variable",
				Message: fmt.Sprintf("variable %q would put a %s into a message that others may read on a phone screen", v.Name, what),
				Hint:    "leave it out; the message can ask the person to call or to look in their own letters or account"})
		}
	}
	proactive := map[string]bool{}
	for _, id := range f.ProactiveSteps() {
		proactive[id] = true
	}
	type textAt struct {
		t         Text
		path      []any
		proactive bool
		what      string
	}
	var all []textAt
	all = append(all, textAt{f.Simple, []any{"simple"}, false, "the flow's simple text"})
	for i, s := range f.Steps {
		all = append(all, textAt{s.Say, []any{"steps", i, "say"}, proactive[s.ID], fmt.Sprintf("step %q", s.ID)})
		all = append(all, textAt{s.Simple, []any{"steps", i, "simple"}, false, fmt.Sprintf("step %q simple text", s.ID)})
		for j, r := range s.Replies {
			all = append(all, textAt{r.Label, []any{"steps", i, "replies", j, "label"}, false, fmt.Sprintf("step %q button", s.ID)})
		}
		for j, r := range s.Reminders {
			all = append(all, textAt{r.Say, []any{"steps", i, "reminders", j, "say"}, true, fmt.Sprintf("step %q reminder %d", s.ID, j+1)})
		}
	}
	if e := f.Experiment; e != nil {
		for i, a := range e.Arms {
			for _, stepID := range sortedKeys(a.Say) {
				all = append(all, textAt{a.Say[stepID], []any{"experiment", "arms", i, "say", stepID}, proactive[stepID],
					fmt.Sprintf("arm %q text of step %q", a.Name, stepID)})
			}
		}
	}
	for _, ta := range all {
		for _, lang := range sortedLangs(ta.t) {
			text := ta.t[lang]
			p := append(slices.Clone(ta.path), lang)
			if ta.proactive {
				if w, off := DistrustfulWord(text, wordsFor(lang)); w != "" {
					errIn(off, "distrustful-word",
						fmt.Sprintf("[%s] %s is a message Seintje sends on its own, and %q sounds accusing or distrustful", lang, ta.what, w),
						"say what you want to help with instead (see the tone rules in docs/flows.md)", p...)
				}
			}
			if what, off := SensitiveValue(text); what != "" {
				errIn(off, "sensitive-value",
					fmt.Sprintf("[%s] %s contains %s; others may read a message on a phone screen", lang, ta.what, what),
					"leave it out; ask the person to call or to look in their own letters", p...)
			}
		}
	}
	// The first message gives the callback number in every language.
	first := map[string]bool{}
	for s := f.Start(); s != nil && !first[s.ID]; s = f.Step(s.Next) {
		first[s.ID] = true
	}
	langs := map[string]bool{}
	for id := range first {
		for l := range f.Step(id).Say {
			langs[l] = true
		}
	}
	for _, lang := range sortedLangs(langsText(langs)) {
		has := false
		firstSay := -1
		for i, s := range f.Steps {
			if !first[s.ID] || len(s.Say) == 0 {
				continue
			}
			if firstSay < 0 {
				firstSay = i
			}
			_, used := s.Say.Pick(lang)
			t := f.templates[tmplKey{s.ID, "say", used}]
			if t == nil {
				has = true // the text did not compile: that error says enough
				continue
			}
			_, fields := varRefs(t)
			for _, fl := range fields {
				has = has || fl.name == "CallbackNumber"
			}
		}
		if !has && firstSay >= 0 {
			l, c := pos.key("steps", firstSay, "say", lang)
			ds = append(ds, Diagnostic{Severity: Error, File: pos.name, Line: l, Col: c, Code: "no-callback-number",
				Message: fmt.Sprintf("[%s] the first message does not give the callback number", lang),
				Hint:    "add {{.CallbackNumber}} ({{.CallbackHours}}): people must always be able to call a person"})
		}
	}
	if e := f.Experiment; e != nil {
		for i, a := range e.Arms {
			for _, stepID := range sortedKeys(a.Say) {
				if !first[stepID] {
					continue
				}
				for _, lang := range sortedLangs(a.Say[stepID]) {
					t := f.templates[tmplKey{stepID, VariantKind(a.Name), lang}]
					if t == nil {
						continue
					}
					_, fields := varRefs(t)
					if !slices.ContainsFunc(fields, func(r ref) bool { return r.name == "CallbackNumber" }) {
						l, c := pos.key("experiment", "arms", i, "say", stepID, lang)
						ds = append(ds, Diagnostic{Severity: Error, File: pos.name, Line: l, Col: c, Code: "no-callback-number",
							Message: fmt.Sprintf("[%s] arm %q changes the first message, and its text does not give the callback number", lang, a.Name),
							Hint:    "add {{.CallbackNumber}} ({{.CallbackHours}}): people must always be able to call a person"})
					}
				}
			}
		}
	}
	return ds
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func langsText(m map[string]bool) Text {
	t := Text{}
	for l := range m {
		t[l] = ""
	}
	return t
}

func sortedLangs(t Text) []string {
	out := make([]string, 0, len(t))
	for l := range t {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}
