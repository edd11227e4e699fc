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
		{"tone", "Wilt u ons bellen?", "Het gaat over een boete.", "6:11 tone"},
		{"tone fraudeur", "Wilt u ons bellen?", "Bent u een fraudeur?", "6:11 tone"},
		{"no callback number", " Bel {{.CallbackNumber}}.\"\n      en", "\"\n      en", "6:11 no-callback-number"},
		{"missing language", "      en: \"Thank you.\"\n", "", "14:9 missing-language"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.old) {
				t.Fatalf("base has no %q", tc.old)
			}
			f, ds := flow.Parse("t.yaml", []byte(strings.Replace(base, tc.old, tc.new, 1)))
			if f == nil {
				t.Fatal(ds.Err())
			}
			var got []string
			for _, d := range lint.Lint(f, lint.Default()).Diagnostics {
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
