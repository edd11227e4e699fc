package texts

import (
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/sms"
)

func TestSystemTexts(t *testing.T) {
	t.Parallel()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d := flow.Data{Agency: "gemeente Utrecht", CallbackNumber: "088 123 45 67", CallbackHours: "ma-vr 9-17 uur", Caseworker: "Ahmed"}
	for _, k := range Keys() {
		for _, lang := range []string{"nl", "en", "tr"} {
			out, err := c.Render(k, lang, d)
			if err != nil || out == "" {
				t.Fatalf("%s/%s: %q %v", k, lang, out, err)
			}
			if info := sms.Analyze(out); info.Encoding != sms.GSM7 || info.Segments > 2 {
				t.Errorf("%s/%s: %s", k, lang, info)
			}
			low := strings.ToLower(out)
			for _, bad := range []string{"fraude", "boete", "sanctie", "overtreding", "controle", "uitkering"} {
				if strings.Contains(low, bad) {
					t.Errorf("%s/%s contains %q", k, lang, bad)
				}
			}
			if k != StartConfirm && !strings.Contains(out, "088 123 45 67") {
				t.Errorf("%s/%s gives no number to call: %q", k, lang, out)
			}
		}
		if _, ok := Source(k)["en"]; !ok {
			t.Errorf("%s has no English translation", k)
		}
	}
	if tr, _ := c.Render(Help, "tr", d); tr != mustRender(t, c, Help, "nl", d) {
		t.Error("an unknown language must fall back to Dutch")
	}
}

func mustRender(t *testing.T, c *Catalog, k Key, lang string, d flow.Data) string {
	t.Helper()
	s, err := c.Render(k, lang, d)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
