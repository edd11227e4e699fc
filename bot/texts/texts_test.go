package texts_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/lint"
	"github.com/seintje/seintje/bot/sms"
	"github.com/seintje/seintje/bot/texts"
)

func TestSystemTexts(t *testing.T) {
	t.Parallel()
	c, err := texts.Default()
	if err != nil {
		t.Fatal(err)
	}
	d := flow.Data{Agency: "gemeente Utrecht", CallbackNumber: "088 123 45 67", CallbackHours: "ma-vr 9-17 uur", Caseworker: "Ahmed"}
	for _, k := range texts.Keys() {
		for _, l := range lang.Shipped() {
			if strings.TrimSpace(texts.Source(k)[l]) == "" {
				t.Errorf("%s has no %s (%s) text", k, l, lang.Name(l))
				continue
			}
			out, err := c.Render(k, l, d)
			if err != nil || out == "" {
				t.Fatalf("%s/%s: %q %v", k, l, out, err)
			}
			info := sms.Analyze(out)
			// The same message in every language: 2 GSM-7 parts for
			// Dutch and English, 4 UCS-2 parts for the others.
			switch {
			case lang.NeedsUCS2(l) && info.Segments > 4:
				t.Errorf("%s/%s: %s; at most 4 UCS-2 segments", k, l, info)
			case !lang.NeedsUCS2(l) && (info.Encoding != sms.GSM7 || info.Segments > 2):
				t.Errorf("%s/%s: %s; at most 2 GSM-7 segments", k, l, info)
			}
			low := strings.ToLower(out)
			for _, bad := range []string{"uitkering", "bijstand"} {
				if strings.Contains(low, bad) {
					t.Errorf("%s/%s contains %q", k, l, bad)
				}
			}
			if w := lint.ToneWord(out, lint.DefaultToneWords); w != "" {
				t.Errorf("%s/%s uses %q, which sounds distrustful", k, l, w)
			}
			if k != texts.StartConfirm && !strings.Contains(out, "088 123 45 67") {
				t.Errorf("%s/%s gives no number to call: %q", k, l, out)
			}
			if (k == texts.StopConfirm || k == texts.StartConfirm || k == texts.Help) && !strings.Contains(out, "STOP") && !strings.Contains(out, "START") {
				t.Errorf("%s/%s does not name the keyword (STOP or START) in Latin letters: %q", k, l, out)
			}
			if k == texts.Help || k == texts.Simple {
				if !strings.Contains(out, "2") {
					t.Errorf("%s/%s does not offer 2 (we call you)", k, l)
				}
			}
		}
	}
	if fr, _ := c.Render(texts.Help, "fr", d); fr != mustRender(t, c, texts.Help, "nl", d) {
		t.Error("a language without texts must fall back to Dutch")
	}
	if ar, nl := mustRender(t, c, texts.Help, "ar", d), mustRender(t, c, texts.Help, "nl", d); ar == nl {
		t.Error("Arabic must not fall back to Dutch")
	}
}

// TestStopConfirmationIsOneSegment: the one message after an opt-out is
// one SMS segment in every language, rendered as the service renders it
// (engine.Data: Arabic wraps the number in direction isolates), with a
// short and a long callback number.
func TestStopConfirmationIsOneSegment(t *testing.T) {
	c, err := texts.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, number := range []string{"088 123 45 67", "+31 88 123 45 67"} {
		ct := engine.Contact{Agency: "gemeente Utrecht", Number: number, Hours: map[string]string{"nl": "maandag tot en met vrijdag van 9 tot 17 uur"}}
		for _, l := range lang.Shipped() {
			d := engine.Data(ct, nil, engine.Conversation{Lang: l}, time.UTC)
			out := mustRender(t, c, texts.StopConfirm, l, d)
			if info := sms.Analyze(out); info.Segments != 1 {
				t.Errorf("STOP confirmation %s with %q: %s, want 1 segment: %q", l, number, info, out)
			}
		}
	}
}

// TestStopConfirmationSaysThisChannel: STOP ends one channel only (STOP on
// WhatsApp leaves SMS allowed), so the confirmation says "on this channel"
// or "here" in every language, never "no more messages" at all.
func TestStopConfirmationSaysThisChannel(t *testing.T) {
	c, err := texts.Default()
	if err != nil {
		t.Fatal(err)
	}
	here := map[string]string{"nl": "via dit kanaal", "en": "on this channel", "tr": "buradan", "pl": " tu ", "uk": "Тут ", "ar": " هنا "}
	d := engine.Data(engine.Contact{Number: "088 123 45 67"}, nil, engine.Conversation{}, time.UTC)
	for _, l := range lang.Shipped() {
		w, ok := here[l]
		if !ok {
			t.Errorf("%s: no word for \"here\" in this test; add one", l)
			continue
		}
		if out := mustRender(t, c, texts.StopConfirm, l, d); !strings.Contains(out, w) {
			t.Errorf("STOP confirmation %s %q does not say %q: STOP ends this channel only", l, out, w)
		}
	}
}

// TestSystemTextRules: a system text with a distrustful word, a BSN, an
// IBAN or an amount is refused, in any language.
func TestSystemTextRules(t *testing.T) {
	for _, tc := range []struct {
		text flow.Text
		want string
	}{
		{flow.Text{"nl": "Anders krijgt u een boete."}, "boete"},
		{flow.Text{"nl": "Hallo.", "tr": "Para cezası var."}, "[tr]"},
		{flow.Text{"nl": "Hallo.", "ar": "هذه الغرامة."}, "[ar]"},
		{flow.Text{"nl": "Uw BSN is 111222333."}, "BSN"},
		{flow.Text{"nl": "Betaal op NL91 ABNA 0417 1643 00."}, "IBAN"},
		{flow.Text{"nl": "U moet € 250 terugbetalen."}, "amount"},
		{flow.Text{"en": "Hello.", "nl": "Hallo.", "pl": "Kwota 100 zł."}, "amount"},
	} {
		if got := flow.CheckSystemText(tc.text); !strings.Contains(got, tc.want) {
			t.Errorf("CheckSystemText(%v) = %q, want it to mention %q", tc.text, got, tc.want)
		}
	}
	if got := flow.CheckSystemText(texts.Source(texts.Help)); got != "" {
		t.Errorf("shipped HELP text: %s", got)
	}
}

func mustRender(t *testing.T, c *texts.Catalog, k texts.Key, lang string, d flow.Data) string {
	t.Helper()
	s, err := c.Render(k, lang, d)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
