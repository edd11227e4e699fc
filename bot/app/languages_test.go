package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/internal/testflows"
)

func languagesHarness(t *testing.T) *harness {
	t.Helper()
	dir := testflows.Dir(t)
	testflows.CopyExtra(t, dir, "ask-ar")
	return newHarness(t, map[string]string{"SEINTJE_FLOWS_DIR": dir})
}

func nudgeIn(flowID, phone, language string, vars map[string]any) map[string]any {
	b := nudgeBody(flowID, phone, vars)
	b["recipient"].(map[string]any)["language"] = language
	return b
}

// A language the flow does not have: Dutch is sent, and the nudge says so
// (in the 202 answer and in GET /v1/nudges/{id}).
func TestLanguageFallbackIsNoted(t *testing.T) {
	t.Parallel()
	h := languagesHarness(t)
	const to = "+31612340001"
	r := h.postJSON("/v1/nudges", tokCaseworker, nudgeIn("ask-ar", to, "fr", nil), nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.Status, r.Body)
	}
	body := r.JSON(t)
	if body["language"] != "nl" {
		t.Errorf("language = %v, want nl", body["language"])
	}
	notes, _ := body["notes"].([]any)
	if len(notes) != 1 || notes[0].(map[string]any)["code"] != "language_fallback" ||
		!strings.Contains(notes[0].(map[string]any)["text"].(string), "French (fr)") {
		t.Fatalf("notes = %v, want one language_fallback note naming French", body["notes"])
	}
	h.twilio.WaitForRequests(t, 1, 5*time.Second)
	if got := h.sentTo(to); len(got) != 1 || !strings.HasPrefix(got[0], "Hallo Sanne") {
		t.Errorf("sent %q, want the Dutch text", got)
	}
	v := h.nudgeView(body["id"].(string))
	if rc := v["recipient"].(map[string]any); rc["language"] != "nl" {
		t.Errorf("recipient.language = %v, want nl (the language used)", rc["language"])
	}
	vn, _ := v["notes"].([]any)
	if len(vn) != 1 || vn[0].(map[string]any)["code"] != "language_fallback" {
		t.Errorf("GET notes = %v", v["notes"])
	}

	// A language the flow has: no note.
	r = h.postJSON("/v1/nudges", tokCaseworker, nudgeIn("ask-ar", "+31612340002", "ar", nil), nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.Status, r.Body)
	}
	if b := r.JSON(t); b["language"] != "ar" || b["notes"] != nil {
		t.Errorf("Arabic: %v, want language ar and no notes", b)
	}
}

// Malformed codes are refused; well-formed ones are taken.
func TestLanguageCodes(t *testing.T) {
	t.Parallel()
	h := languagesHarness(t)
	for i, tc := range []struct {
		code   string
		status int
	}{
		{"klingon", 422}, {"n1", 422}, {"ar-", 422}, {"عربي", 422},
		{"AR-ma", 202}, {"uk", 202}, {"pap", 202}, {"", 202},
	} {
		r := h.postJSON("/v1/nudges", tokCaseworker, nudgeIn("ask-ar", "+3161234010"+itoa(i), tc.code, nil), nil)
		if r.Status != tc.status {
			t.Errorf("language %q: %d %s, want %d", tc.code, r.Status, r.Body, tc.status)
			continue
		}
		if tc.status == 422 {
			if b := r.JSON(t); b["code"] != "invalid_field" || b["field"] != "recipient.language" {
				t.Errorf("language %q: %v", tc.code, b)
			}
		}
	}
}

// An Arabic conversation end to end on real Redis: the Arabic text with the
// callback number kept left to right, an Arabic-Indic "٢" routes like "2",
// "لا أفهم" gets Seintje's own simpler text in Arabic, and the Arabic
// STOP word opts out with an Arabic confirmation.
func TestArabicConversation(t *testing.T) {
	t.Parallel()
	h := languagesHarness(t)
	const to = "+31612340003"
	body := nudgeIn("ask-ar", to, "ar-MA", nil)
	r := h.postJSON("/v1/nudges", tokCaseworker, body, nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	h.twilio.WaitForRequests(t, 1, 5*time.Second)
	first := h.sentTo(to)[0]
	if !strings.HasPrefix(first, "مرحبا Sanne") || !strings.Contains(first, "\u2066088 123 45 67\u2069") {
		t.Errorf("first message %q: want Arabic with the number in a left-to-right isolate", first)
	}

	h.sms(to, "لا أفهم", "SM00000000000000000000000000000a01")
	eventually(t, "simpler text", func() bool { return len(h.sentTo(to)) == 2 })
	if simple := h.sentTo(to)[1]; !strings.Contains(simple, "عذرا") || !strings.Contains(simple, "088 123 45 67") {
		t.Errorf("simpler text %q: want Seintje's Arabic text", simple)
	}

	h.sms(to, "٢", "SM00000000000000000000000000000a02")
	eventually(t, "callback confirmation", func() bool { return len(h.sentTo(to)) == 3 })
	if got := h.sentTo(to)[2]; got != "شكرا. سنتصل بكم." {
		t.Errorf("confirmation %q", got)
	}
	v := h.nudgeView(id)
	if v["state"] != "ended" || v["callback"] == nil {
		t.Errorf("after ٢: state %v, callback %v", v["state"], v["callback"])
	}

	h.sms(to, "توقف", "SM00000000000000000000000000000a03")
	eventually(t, "STOP confirmation", func() bool { return len(h.sentTo(to)) == 4 })
	if got := h.sentTo(to)[3]; !strings.Contains(got, "لن تصلكم رسائل") || !strings.Contains(got, "START") {
		t.Errorf("STOP confirmation %q: want Arabic naming START", got)
	}
	r = h.postJSON("/v1/nudges", tokCaseworker, nudgeIn("ask-ar", to, "ar", map[string]any{}), map[string]string{"Idempotency-Key": "again"})
	if r.Status != http.StatusConflict {
		t.Errorf("nudge after the Arabic STOP: %d %s, want 409", r.Status, r.Body)
	}
}

// Telegram asks for consent in the recipient's language, with Arabic
// buttons, and a typed Arabic "yes" links the chat.
func TestTelegramConsentInArabic(t *testing.T) {
	t.Parallel()
	h := newTelegramHarness(t)
	r := h.postJSON("/v1/nudges", tokCaseworker, nudgeIn("no-show", phoneSanne, "ar", noShowVars()), nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.Status, r.Body)
	}
	r = h.postJSON(tgLinkPath, tokCaseworker, map[string]any{}, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("telegram-link: %d %s", r.Status, r.Body)
	}
	link := r.JSON(t)["link"].(string)
	token := link[strings.Index(link, "start=")+len("start="):]
	const chat = int64(555077)
	h.mustWebhook(h.tg.MessageUpdate(0, chat, "/start "+token))
	consent := h.waitSent(chat, 1)
	if !strings.Contains(consent.Text, "تريدون استلام رسائل") || len(consent.Keyboard) != 2 ||
		consent.Keyboard[0][0].Text != "نعم" || consent.Keyboard[1][0].Text != "لا" {
		t.Fatalf("consent question: %q %v; want Arabic with نعم / لا", consent.Text, consent.Keyboard)
	}
	h.mustWebhook(h.tg.MessageUpdate(0, chat, "نعم"))
	if ok := h.waitSent(chat, 2); !strings.HasPrefix(ok.Text, "تم.") {
		t.Fatalf("link confirmation: %q", ok.Text)
	}
	if st := h.channelState(); st["preferred"] != "telegram" {
		t.Errorf("after the Arabic yes: %v", st)
	}
}
