package lint_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	_ "time/tzdata"

	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/lint"
)

const base = `id: t
version: 1
steps:
  - id: ask
    say:
      nl: "Hallo {{.FirstName}}. Wilt u ons bellen? Bel {{.CallbackNumber}}."
      en: "Hello {{.FirstName}}. Call {{.CallbackNumber}}."
    replies:
      - match: ["1"]
        goto: next
    wait: {timeout: 48h, then: done}
  - id: next
    say:
      nl: "Dank u."
      en: "Thank you."
    next: done
  - id: done
    action: end
`

// TestLints: each lint reports its code at the expected line:col.
func TestLints(t *testing.T) {
	long := strings.Repeat("Dit is een hele lange zin met veel woorden erin. ", 12)
	tests := []struct {
		name, old, new string
		want           string
	}{
		{"ucs2", "Dank u.", "Dank u. Tot ziëns.", "14:11 sms-ucs2"},
		{"segments", "Dank u.", long, "14:11 sms-length"},
		{"long sentence", "Dank u.", "Dank u voor uw bericht want wij vinden het heel fijn dat u ons zo snel een antwoord heeft gestuurd.", "14:11 long-sentence"},
		{"long word", "Dank u.", "Dank u voor de arbeidsongeschiktheidsverzekering.", "14:11 long-word"},
		{"readability", "Dank u.", "Alle betalingsachterstanden veroorzaken administratieve complicaties. Gemeentelijke organisaties registreren verschuldigde bedragen.", "14:11 readability"},
		// Tone and the callback number in a first message are errors of
		// flow.Parse, at the word; the lint warns about tone elsewhere.
		{"tone", "Wilt u ons bellen?", "Het gaat over een boete.", "6:52 distrustful-word"},
		{"tone fraudeur", "Wilt u ons bellen?", "Bent u een fraudeur?", "6:45 distrustful-word"},
		{"tone in an answer", "Dank u.", "Dank u. Er volgt geen boete.", "14:11 tone"},
		{"no callback number", " Bel {{.CallbackNumber}}.\"\n      en", "\"\n      en", "6:7 no-callback-number"},
		{"missing language", "      en: \"Thank you.\"\n", "", "14:9 missing-language"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.old) {
				t.Fatalf("base has no %q", tc.old)
			}
			got, diags := lintOrErrors(t, strings.Replace(base, tc.old, tc.new, 1))
			for _, d := range diags {
				got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Col, d.Code))
			}
			if !slices.Contains(got, tc.want) {
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
}

func TestBaseHasNoLints(t *testing.T) {
	f, ds := flow.Parse("t.yaml", []byte(base))
	if f == nil {
		t.Fatal(ds.Err())
	}
	if got := lint.Lint(f, lint.Default()).Diagnostics; len(got) > 0 {
		t.Fatalf("lints on the base flow: %v", got)
	}
}

func TestFleschDouma(t *testing.T) {
	tests := []struct {
		text                 string
		sentences, words, sy int
	}{
		{"Dank u.", 1, 2, 2},
		{"Wij bellen u. Gaat het goed?", 2, 6, 7},
		{"De uitkering komt later.", 1, 4, 7},
		{"Bel 088 123 45 67.", 1, 1, 1},
	}
	for _, tc := range tests {
		r := lint.Dutch(tc.text)
		if len(r.Sentences) != tc.sentences || r.Words != tc.words || r.Syllables != tc.sy {
			t.Errorf("%q: %d sentences, %d words, %d syllables; want %d, %d, %d", tc.text, len(r.Sentences), r.Words, r.Syllables, tc.sentences, tc.words, tc.sy)
		}
		want := 206.835 - 0.93*float64(tc.words)/float64(tc.sentences) - 77*float64(tc.sy)/float64(tc.words)
		if d := r.Ease - want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%q: ease %.2f, want %.2f", tc.text, r.Ease, want)
		}
	}
}

const withReminders = `id: t
version: 1
variables:
  - {name: due_date, type: date, required: true}
steps:
  - id: ask
    say:
      nl: "Hallo {{.FirstName}}. Wij hebben nog een brief van u nodig. Dat kan tot {{date .Vars.due_date}}. Bel ons gerust: {{.CallbackNumber}}."
      en: "Hello {{.FirstName}}. Send us the form before {{date .Vars.due_date}}. Call {{.CallbackNumber}}."
    replies:
      - match: ["1"]
        goto: done
    wait: {timeout: 14d, then: done}
    reminders:
      - days_before: 3
        of: due_date
        say:
          nl: "Denkt u aan het formulier?"
          en: "Please remember the form."
      - days_before: 1
        of: due_date
        say: {nl: "Morgen is de laatste dag.", en: "Tomorrow is the last day."}
  - id: done
    action: end
`

// TestReminderLints: reminder texts get the same lints as say texts, at
// the position of the reminder's text.
func TestReminderLints(t *testing.T) {
	long := strings.Repeat("Dit is een hele lange zin met veel woorden erin. ", 12)
	tests := []struct {
		name, old, new string
		want           string
	}{
		{"ucs2", "Denkt u aan het formulier?", "Denkt u aan het formulier? 🙂", "18:15 sms-ucs2"},
		{"segments", "Denkt u aan het formulier?", long, "18:15 sms-length"},
		{"long sentence", "Denkt u aan het formulier?", "Denkt u er nog aan dat wij het formulier graag voor het einde van deze week van u willen ontvangen?", "18:15 long-sentence"},
		{"long word", "Morgen is de laatste dag.", "Morgen is de laatste dag voor de inkomstenverantwoordingsformulieren.", "22:19 long-word"},
		{"readability", "Denkt u aan het formulier?", "Alle betalingsachterstanden veroorzaken administratieve complicaties. Gemeentelijke organisaties registreren verschuldigde bedragen.", "18:15 readability"},
		{"tone in a reminder of the first step", "Denkt u aan het formulier?", "Anders volgt een boete.", "18:33 distrustful-word"},
		{"tone in English", "Please remember the form.", "Otherwise a penalty follows.", "19:28 distrustful-word"},
		{"missing language", "          en: \"Please remember the form.\"\n", "", "18:13 missing-language"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(withReminders, tc.old) {
				t.Fatalf("flow has no %q", tc.old)
			}
			got, diags := lintOrErrors(t, strings.Replace(withReminders, tc.old, tc.new, 1))
			for _, d := range diags {
				got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Col, d.Code))
				if d.File != "t.yaml" || !strings.Contains(d.Message, "reminder") {
					t.Errorf("diagnostic does not name the reminder: %s", d)
				}
			}
			if !slices.Contains(got, tc.want) {
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
}

func TestRemindersAreRendered(t *testing.T) {
	f, ds := flow.Parse("t.yaml", []byte(withReminders))
	if f == nil {
		t.Fatal(ds.Err())
	}
	res := lint.Lint(f, lint.Default())
	if len(res.Diagnostics) > 0 {
		t.Fatalf("lints on the flow with reminders: %v", res.Diagnostics)
	}
	var got []string
	for _, tx := range res.Texts {
		if tx.Kind == "reminder" {
			got = append(got, fmt.Sprintf("%d:%d %s %d %s %d", tx.Line, tx.Col, tx.Step, tx.Reminder, tx.Lang, tx.SMS.Segments))
		}
	}
	want := []string{"19:15 ask 1 en 1", "18:15 ask 1 nl 1", "22:52 ask 2 en 1", "22:19 ask 2 nl 1"}
	if !slices.Equal(got, want) {
		t.Errorf("reminder texts %v, want %v", got, want)
	}
}

// lintOrErrors returns "line:col code" of the lints of doc, or of its
// errors when flow.Parse refuses it, with the diagnostics.
func lintOrErrors(t *testing.T, doc string) ([]string, flow.Diagnostics) {
	t.Helper()
	f, ds := flow.Parse("t.yaml", []byte(doc))
	if f != nil {
		ds = lint.Lint(f, lint.Default()).Diagnostics
	}
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Col, d.Code))
	}
	return got, ds
}
