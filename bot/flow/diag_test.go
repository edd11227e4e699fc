package flow_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/flow"
)

// diagBase is a valid flow with every kind of field: multi-line and
// quoted texts, durations, whole numbers, true/false, lists.
const diagBase = `id: t
version: 1
variables:
  - name: due_date
    type: date
    required: true
steps:
  - id: ask
    say:
      nl: |
        Hallo {{.FirstName}}.
        Stuur het formulier voor {{date .Vars.due_date}}. Bel {{.CallbackNumber}}.
      en: "Hello {{.FirstName}}, call {{.CallbackNumber}}."
    replies:
      - match: ["1"]
        goto: done
        label: {nl: "1 Ja"}
    wait:
      timeout: 48h
      then: done
    reminders:
      - {days_before: 3, of: due_date, at: "10:00", say: {nl: "Denk aan het formulier."}}
    priority: 2
  - id: done
    action: end
expire:
  after: 14d
escalate:
  after_unanswered: 2
  on_undelivered: true
callbacks:
  priority: 2
  retry_after: 4h
  max_attempts: 3
`

// mark is where a test expects the diagnostic: the character after it.
const mark = "‸"

// libraryWords must never reach a coordinator.
var libraryWords = []string{"unmarshal", "Go struct", "template:", "yaml:", "goccy", "reflect", "ast.", "[1:", "int64", "uint", "<nil>", "%!"}

// TestDiagnosticPositions: each mistake is reported once, at the exact
// line and column (the ‸ in the case), in a coordinator's words, with a fix.
func TestDiagnosticPositions(t *testing.T) {
	if _, ds := flow.Parse("t.yaml", []byte(diagBase)); len(ds) > 0 {
		t.Fatalf("base has diagnostics:\n%v", ds)
	}
	tests := []struct {
		name, old, new string
		code           string
		want           string // in the message or the fix
	}{
		// Inside a multi-line text (nl: |), on its second line.
		{"undefined variable in block text", "{{date .Vars.due_date}}", "{{date .Vars‸.due_dat}}", "undefined-variable", "did you mean .Vars.due_date?"},
		{"unknown field in block text", "Hallo {{.FirstName}}.", "Hallo {{‸.Firstname}}.", "unknown-field", "did you mean .FirstName?"},
		{"unclosed action in block text", "Bel {{.CallbackNumber}}.\n", "Bel ‸{{.CallbackNumber}.\n", "template", "a {{ is not closed with }}"},
		{"unknown function in block text", "{{date .Vars.due_date}}", "{{‸dat .Vars.due_date}}", "template", "{{dat}} is not something a text can use"},
		{"range is refused", "Hallo {{.FirstName}}.", "Hallo ‸{{range 1000000000}}x{{end}}.", "template", "{{range}} cannot be used"},
		{"printf is refused", "Hallo {{.FirstName}}.", `Hallo {{‸printf "%099999999d" 1}}.`, "template", "{{printf}} cannot be used"},
		// Inside a quoted text.
		{"unknown field in quoted text", `"Hello {{.FirstName}}`, `"Hello {{‸.Name}}`, "unknown-field", "does not exist"},
		{"unknown field in flow text", `{nl: "Denk aan het formulier."}`, `{nl: "Denk aan {{‸.Form}}."}`, "unknown-field", ".Form"},
		// Durations.
		{"duration without unit", "timeout: 48h", "timeout: ‸48", "bad-duration", `"48" is not a duration`},
		{"duration in words", "after: 14d", "after: ‸2 days", "bad-duration", "30m, 48h, 2d or 1w"},
		{"bad retry_after", "retry_after: 4h", "retry_after: ‸4u", "bad-duration", `"4u"`},
		{"duration is a list", "timeout: 48h", "timeout: ‸[48h]", "bad-duration", "must be a duration"},
		// Whole numbers.
		{"version is a word", "version: 1", "version: ‸een", "not-a-number", "`version` must be a whole number, not \"een\""},
		{"version is a fraction", "version: 1", "version: ‸1.5", "not-whole", "`version` must be a whole number, not 1.5"},
		{"version far too large", "version: 1", "version: ‸99999999999", "bad-number", "far too large"},
		{"step priority fraction", "    priority: 2\n", "    priority: ‸1.5\n", "not-whole", "`priority`"},
		{"days_before is a word", "days_before: 3", "days_before: ‸drie", "not-a-number", "`days_before`"},
		{"working_days fraction", "timeout: 48h", "working_days: ‸2.5", "not-whole", "`working_days`"},
		{"after_unanswered is a word", "after_unanswered: 2", "after_unanswered: ‸twee", "not-a-number", "`after_unanswered`"},
		{"max_attempts fraction", "max_attempts: 3", "max_attempts: ‸3.5", "not-whole", "`max_attempts`"},
		// True or false.
		{"required is a word", "required: true", "required: ‸misschien", "not-true-false", "`required` must be true or false"},
		{"on_undelivered is a number", "on_undelivered: true", "on_undelivered: ‸1", "not-true-false", "`on_undelivered`"},
		// Unknown keys: did you mean.
		{"misspelled top-level key", "expire:\n", "‸expires:\n", "unknown-key", "did you mean `expire`?"},
		{"misspelled step key", "    replies:\n", "    ‸replys:\n", "unknown-key", "did you mean `replies`?"},
		{"misspelled route key", "goto: done\n        label", "‸got: done\n        label", "unknown-key", "did you mean `goto`?"},
		{"misspelled wait key", "then: done\n    reminders", "‸than: done\n    reminders", "unknown-key", "did you mean `then`?"},
		{"misspelled reminder key", "{days_before: 3,", "{‸day_before: 3,", "unknown-key", "did you mean `days_before`?"},
		{"misspelled variable key", "    type: date\n", "    ‸typ: date\n", "unknown-key", "did you mean `type`?"},
		{"unknown key without a near one", "    priority: 2\n", "    ‸kleur: rood\n", "unknown-key", "remove it"},
		// Wrong kinds of value.
		{"text not per language", `label: {nl: "1 Ja"}`, `label: ‸"1 Ja"`, "text-not-per-language", "{nl:"},
		{"match not a list", `match: ["1"]`, `match: ‸"1"`, "not-a-list", "must be a list"},
		{"goto is a group", "goto: done\n        label", "goto: ‸{step: done}\n        label", "not-a-word", "`goto` must be a word"},
		{"reminders is a group", "reminders:\n      - {days_before", "reminders: ‸{days_before", "not-a-list", "`reminders` must be a list"},
		{"text in a language is a list", `en: "Hello`, `en: ‸["Hello"]` + "\n      de: \"Hallo", "not-a-word", "the en text must be a text"},
		// YAML that could blow up or hides meaning.
		{"anchor", "    action: end", "    action: ‸&a end", "yaml-anchor", "not allowed"},
		{"tag", "    action: end", "    action: ‸!!str end", "yaml-tag", "not allowed"},
		{"second document", "  max_attempts: 3\n", "  max_attempts: 3\n‸---\nid: u\n", "two-documents", "more than one flow"},
		{"too deep", "label: {nl: \"1 Ja\"}", "label: {nl: " + strings.Repeat("[", 11) + "‸[[" + strings.Repeat("]", 13) + "}", "too-deep", "levels deep"},
		// Syntax, in plain words.
		{"duplicate key", "    priority: 2\n", "    priority: 2\n    ‸priority: 3\n", "yaml-syntax", "written twice"},
		{"unclosed quote", `en: "Hello {{.FirstName}}, call {{.CallbackNumber}}."`, `en: ‸"Hello {{.FirstName}}`, "yaml-syntax", "not closed"},
		{"tab indentation", "    action: end", "‸\taction: end", "yaml-syntax", "tab"},
		// Tone: a distrustful word in any message Seintje sends on its own,
		// in any language, is an error at the word.
		{"distrustful word in the first message", "Hallo {{.FirstName}}.\n", "Hallo {{.FirstName}}. Geen ‸boete.\n", "distrustful-word", "\"boete\""},
		{"distrustful word in English", "call {{.CallbackNumber}}.\"", "call {{.CallbackNumber}}. No ‸penalty.\"", "distrustful-word", "[en]"},
		{"distrustful word in Polish", "      en: \"Hello", "      pl: \"Grozi ‸kara. {{.CallbackNumber}}\"\n      en: \"Hello", "distrustful-word", "[pl]"},
		{"distrustful word in Ukrainian", "      en: \"Hello", "      uk: \"Можливий ‸штраф. {{.CallbackNumber}}\"\n      en: \"Hello", "distrustful-word", "[uk]"},
		{"distrustful word in Arabic", "      en: \"Hello", "      ar: \"هذه ‸الغرامة. {{.CallbackNumber}}\"\n      en: \"Hello", "distrustful-word", "[ar]"},
		{"distrustful word in a reminder", "Denk aan het formulier.", "Denk aan de ‸controle.", "distrustful-word", "reminder 1"},
		{"distrustful word after a timeout", "  - id: done\n    action: end", "  - id: done\n    say: {nl: \"Tot ziens.\", tr: \"Bu bir ‸denetim.\"}\n    action: end", "distrustful-word", "[tr] step \"done\""},
		// Privacy: no BSN, IBAN or amount in any text.
		{"BSN in a button", `label: {nl: "1 Ja"}`, `label: {nl: "1 Ja ‸111222333"}`, "sensitive-value", "BSN"},
		{"IBAN in a reminder", "Denk aan het formulier.", "Betaal op ‸NL91 ABNA 0417 1643 00.", "sensitive-value", "IBAN"},
		{"amount in the first message", "Hallo {{.FirstName}}.\n", "Hallo {{.FirstName}}. U moet ‸€ 250 betalen.\n", "sensitive-value", "amount of money"},
		{"amount after a value", "call {{.CallbackNumber}}.\"", "call {{.CallbackNumber}}. You owe ‸100 euro.\"", "sensitive-value", "amount"},
		{"variable with a BSN", "    required: true\nsteps:", "    required: true\n  - name: ‸bsn\n    type: string\nsteps:", "sensitive-variable", "\"bsn\""},
		{"protected variable", "    required: true\nsteps:", "    required: true\n  - name: ‸land_van_herkomst\n    type: string\nsteps:", "protected-variable", "origin"},
		// The first message gives the callback number, in every language.
		{"first message without the number", `en: "Hello {{.FirstName}}, call {{.CallbackNumber}}."`, `‸en: "Hello {{.FirstName}}."`, "no-callback-number", "[en]"},
		// Checks on a decoded flow.
		{"version zero", "version: 1", "version: ‸0", "bad-version", "version"},
		{"bad language code", "      en: \"Hello", "      ‸EN: \"Hello", "bad-language", "language code"},
		{"unknown step", "goto: done\n        label", "goto: ‸dne\n        label", "unknown-step", "no step \"dne\""},
		{"bad action", "    action: end", "    action: ‸stop", "bad-action", "callback, forward or end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(diagBase, tc.old) {
				t.Fatalf("base has no %q", tc.old)
			}
			marked := strings.Replace(diagBase, tc.old, tc.new, 1)
			line, col := markAt(t, marked)
			src := strings.Replace(marked, mark, "", 1)
			_, ds := flow.Parse("t.yaml", []byte(src))
			errs := ds.Errors()
			if len(errs) != 1 {
				t.Fatalf("want one error %s at %d:%d, got %d:\n%v", tc.code, line, col, len(errs), ds)
			}
			d := errs[0]
			if got, want := fmt.Sprintf("%d:%d %s", d.Line, d.Col, d.Code), fmt.Sprintf("%d:%d %s", line, col, tc.code); got != want {
				t.Errorf("got %s, want %s\n%s", got, want, d)
			}
			if !strings.Contains(d.Message+"; fix: "+d.Hint, tc.want) {
				t.Errorf("%s\ndoes not say %q", d, tc.want)
			}
			if d.Hint == "" {
				t.Errorf("no fix: %s", d)
			}
			for _, w := range libraryWords {
				if strings.Contains(d.Message+d.Hint, w) {
					t.Errorf("library words %q in %s", w, d)
				}
			}
		})
	}
}

// markAt returns the 1-based line and column (in characters) of the mark.
func markAt(t *testing.T, s string) (int, int) {
	t.Helper()
	i := strings.Index(s, mark)
	if i < 0 {
		t.Fatal("case has no ‸")
	}
	before := s[:i]
	line := strings.Count(before, "\n") + 1
	col := len([]rune(before[strings.LastIndex(before, "\n")+1:])) + 1
	return line, col
}

// TestFileTooLarge: a huge file is refused before it is parsed.
func TestFileTooLarge(t *testing.T) {
	src := diagBase + "description: \"" + strings.Repeat("x", flow.MaxFileBytes) + "\"\n"
	_, ds := flow.Parse("t.yaml", []byte(src))
	if len(ds) != 1 || ds[0].Code != "file-too-large" || ds[0].Line != 1 {
		t.Fatalf("got %v", ds)
	}
}

// TestProtectedTerms: every usual Dutch and English form and abbreviation
// of a protected characteristic is recognised in a variable or experiment
// name; ordinary names are not.
func TestProtectedTerms(t *testing.T) {
	for name, want := range map[string]string{
		"nationaliteit": "nationality", "nationality": "nationality", "nat": "nationality", "nationaliteit_code": "nationality",
		"staatsburgerschap": "nationality", "citizenship": "nationality", "paspoort_land": "nationality",
		"afkomst": "origin", "herkomst": "origin", "land_van_herkomst": "origin", "geboorteland": "origin", "geb_land": "origin",
		"country_of_birth": "origin", "countryOfBirth": "origin", "cob": "origin", "birth_country": "origin", "migratieachtergrond": "origin",
		"niet_westers": "origin", "allochtoon": "origin", "herkomstland": "origin", "origin": "origin",
		"etniciteit": "ethnicity", "ethnicity": "ethnicity", "etnische_groep": "ethnicity", "eth": "ethnicity",
		"religie": "religion", "religion": "religion", "geloof": "religion", "godsdienst": "religion", "rel": "religion", "moslim": "religion",
		"ras": "race", "huidskleur": "race",
		"due_date": "", "appointment_at": "", "form": "", "activity": "", "telegram_link": "", "letter_date": "", "relatie_nummer": "",
		"nature": "", "rasp": "",
	} {
		if got := flow.ProtectedTerm(name); got != want {
			t.Errorf("ProtectedTerm(%q) = %q, want %q", name, got, want)
		}
	}
}
