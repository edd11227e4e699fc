package outreach

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/lang"
)

// The Telegram texts exist in every shipped language, with the same
// template parts as the Dutch.
func TestTelegramTextsInEveryLanguage(t *testing.T) {
	t.Parallel()
	actionRe := regexp.MustCompile(`\{\{[^}]*\}\}`)
	actions := func(s string) []string {
		a := actionRe.FindAllString(s, -1)
		slices.Sort(a)
		return slices.Compact(a)
	}
	for k, txt := range tgTexts {
		want := actions(txt["nl"])
		for _, l := range lang.Shipped() {
			s := txt[l]
			if strings.TrimSpace(s) == "" {
				t.Errorf("telegram text %s has no %s", k, l)
				continue
			}
			if got := actions(s); !slices.Equal(got, want) {
				t.Errorf("telegram text %s/%s uses %v, the Dutch %v", k, l, got, want)
			}
		}
	}
	for _, code := range []string{"ar", "ar-MA", "tr", "uk", "pl", "en-GB", "nl"} {
		if got := langHint(code); got != lang.Base(code) {
			t.Errorf("langHint(%q) = %q", code, got)
		}
	}
	if got := langHint("fr"); got != "nl" {
		t.Errorf("langHint(fr) = %q, want nl", got)
	}
}
