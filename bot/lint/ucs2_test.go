package lint_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/lint"
	"github.com/seintje/seintje/bot/sms"
)

// sixLangs is a Go-owned flow in the six languages of the shipped flows.
const sixLangs = `id: t
version: 1
steps:
  - id: ask
    say:
      nl: "Hallo {{.FirstName}}. Wilt u ons bellen? Bel {{.CallbackNumber}}."
      en: "Hello {{.FirstName}}. Call {{.CallbackNumber}}."
      tr: "Merhaba {{.FirstName}}. Bizi arayın: {{.CallbackNumber}}."
      pl: "Dzień dobry, {{.FirstName}}. Proszę zadzwonić: {{.CallbackNumber}}."
      uk: "Вітаємо, {{.FirstName}}. Телефонуйте: {{.CallbackNumber}}."
      ar: "مرحبا {{.FirstName}}. اتصلوا بالرقم {{.CallbackNumber}}."
    replies:
      - match: ["1"]
        goto: done
    wait: {timeout: 48h, then: done}
  - id: done
    action: end
`

// TestUCS2Languages: Turkish, Polish, Ukrainian and Arabic texts are UCS-2
// by nature, so they get no "switch to UCS-2" warning, are counted in
// UCS-2 segments and priced per segment, and are capped at MaxSegmentsUCS2.
func TestUCS2Languages(t *testing.T) {
	lints := func(t *testing.T, doc string) ([]string, lint.Result) {
		t.Helper()
		f, ds := flow.Parse("t.yaml", []byte(doc))
		if f == nil {
			got, _ := lintOrErrors(t, doc) // tone in a first message: an error
			return got, lint.Result{Diagnostics: ds}
		}
		res := lint.Lint(f, lint.Default())
		var got []string
		for _, d := range res.Diagnostics {
			got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Col, d.Code))
		}
		return got, res
	}
	got, res := lints(t, sixLangs)
	if len(got) > 0 {
		t.Fatalf("lints on six short texts: %v", res.Diagnostics)
	}
	for _, tx := range res.Texts {
		want := sms.UCS2
		if tx.Lang == "nl" || tx.Lang == "en" {
			want = sms.GSM7
		}
		if tx.SMS.Encoding != want || tx.SMS.Segments < 1 {
			t.Errorf("%s: %s, want %s", tx.Lang, tx.SMS, want)
		}
		if tx.Cost != float64(tx.SMS.Segments)*lint.DefaultPricePerSegment {
			t.Errorf("%s: cost %.2f for %d segments", tx.Lang, tx.Cost, tx.SMS.Segments)
		}
	}

	// Six UCS-2 parts (402 characters) pass, seven do not.
	long := func(sentence string, n int) string { return strings.TrimSpace(strings.Repeat(sentence+" ", n)) }
	for _, tc := range []struct {
		name, old, new string
		want           string // "" for no lint
	}{
		{"Arabic within 6 parts", "اتصلوا بالرقم", long("نحن هنا لمساعدتكم.", 18), ""},
		{"Arabic over 6 parts", "اتصلوا بالرقم", long("نحن هنا لمساعدتكم.", 24), "11:11 sms-length"},
		{"Polish over 6 parts", "Proszę zadzwonić:", long("Chętnie pomożemy.", 25), "9:11 sms-length"},
		{"Dutch with ë still warns", "Wilt u ons bellen?", "Tot ziëns.", "6:11 sms-ucs2"},
		{"Arabic tone word with the article", "اتصلوا بالرقم", "هذه ليست الغرامة.", "11:43 distrustful-word"},
		{"Polish tone word inflected", "Proszę zadzwonić:", "To nie jest karą.", "9:53 distrustful-word"},
		{"Ukrainian tone word", "Телефонуйте:", "Це не штрафи.", "10:43 distrustful-word"},
		{"Turkish tone word without its letters", "Bizi arayın:", "Bu bir yaptirim degil.", "8:43 distrustful-word"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(sixLangs, tc.old) {
				t.Fatalf("flow has no %q", tc.old)
			}
			got, res := lints(t, strings.Replace(sixLangs, tc.old, tc.new, 1))
			if tc.want == "" {
				if len(got) > 0 {
					t.Errorf("want no lints, got %v", res.Diagnostics)
				}
				return
			}
			if !slices.Contains(got, tc.want) {
				t.Errorf("got %v, want %s", res.Diagnostics, tc.want)
			}
		})
	}
}
