package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// tgLinkRe finds a t.me deep link with its one-time token in a text.
var tgLinkRe = regexp.MustCompile(`https://t\.me/` + tgBot + `\?start=([A-Za-z0-9_-]{43})\b`)

// linkTokenKeys returns this test's stored link-token keys.
func (h *harness) linkTokenKeys() []string {
	h.t.Helper()
	var out []string
	for _, k := range h.keys() {
		if strings.Contains(k, ":tglink:") {
			out = append(out, k)
		}
	}
	return out
}

// The telegram-invite flow by API: Seintje makes the link for a recipient
// it did not know yet, the SMS carries it, opening it asks for consent,
// yes links the chat, and the link works once.
func TestTelegramInviteBySMS(t *testing.T) {
	t.Parallel()
	h := newTelegramHarness(t)
	id := h.nudge("telegram-invite", phoneSanne, nil)
	eventually(t, "the invitation SMS", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
	sms := h.sentTo(phoneSanne)[0]
	m := tgLinkRe.FindStringSubmatch(sms)
	if m == nil {
		t.Fatalf("invitation SMS has no t.me link with a token: %q", sms)
	}
	token := m[1]
	for _, want := range []string{"Telegram", "Liever sms? Dan hoeft u niets te doen.", "Stuur 2", "088 123 45 67", "Groet, Ahmed"} {
		if !strings.Contains(sms, want) {
			t.Errorf("invitation SMS lacks %q: %q", want, sms)
		}
	}
	// The token is stored only as its SHA-256.
	sum := sha256.Sum256([]byte(token))
	if keys := h.linkTokenKeys(); len(keys) != 1 || !strings.HasSuffix(keys[0], ":tglink:"+hex.EncodeToString(sum[:])) {
		t.Fatalf("link token keys = %v, want one keyed by the token's SHA-256", keys)
	}
	for _, k := range h.keys() {
		if strings.Contains(k, token) {
			t.Errorf("key %s contains the raw token", k)
		}
	}
	events := h.channelState()["events"].([]any)
	if ev := events[0].(map[string]any); len(events) != 1 || ev["action"] != "link_created" || ev["by"] != "cw" {
		t.Errorf("link log = %v, want one link_created by cw", events)
	}

	// The person opens the link: /start <token>, then presses Ja.
	h.mustWebhook(h.tg.MessageUpdate(0, tgChat, "/start "+token))
	consent := h.waitSent(tgChat, 1)
	if !strings.Contains(consent.Text, "via Telegram krijgen") || len(consent.Keyboard) != 2 || consent.Keyboard[0][0].CallbackData != "c:yes" {
		t.Fatalf("consent question: %q %v", consent.Text, consent.Keyboard)
	}
	body, qid := h.tg.CallbackUpdate(0, tgChat, consent.MessageID, "c:yes")
	h.mustWebhook(body)
	eventually(t, "consent button press answered", func() bool { return h.tg.Answered(qid) })
	if ok := h.waitSent(tgChat, 2); !strings.Contains(ok.Text, "Gelukt") {
		t.Fatalf("link confirmation: %q", ok.Text)
	}
	st := h.channelState()
	if st["preferred"] != "telegram" || st["telegram"].(map[string]any)["linked"] != true {
		t.Fatalf("after consent: %v", st)
	}
	if keys := h.linkTokenKeys(); len(keys) != 0 {
		t.Errorf("used token still stored: %v", keys)
	}

	// Single use: the same link opened again (here from another chat) is refused.
	const otherChat = int64(555003)
	h.mustWebhook(h.tg.MessageUpdate(0, otherChat, "/start "+token))
	if m := h.waitSent(otherChat, 1); !strings.Contains(m.Text, "werkt niet meer") || len(m.Keyboard) != 0 {
		t.Errorf("second use of the link: %q %v", m.Text, m.Keyboard)
	}
	if st := h.channelState(); st["telegram"].(map[string]any)["linked"] != true {
		t.Errorf("second use changed the link: %v", st)
	}
	// The invitation itself is an ordinary conversation, waiting for 1 or 2.
	if v := h.nudgeView(id); v["flow"] != "telegram-invite" || v["step"] != "ask" || v["channel"] != "sms" {
		t.Errorf("invite nudge: flow %v step %v channel %v", v["flow"], v["step"], v["channel"])
	}
}

// A refused trigger of a flow with telegram_link leaves no token (nor
// anything else) behind; a repeated event keeps only the first link.
func TestTelegramInviteRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		telegram bool
		before   func(h *harness)
		vars     map[string]any
		phone    string
		status   int
		code     string
		field    string
	}{
		{name: "link sent by the case system", telegram: true, vars: map[string]any{"telegram_link": "https://t.me/x?start=abc"},
			status: http.StatusUnprocessableEntity, code: "invalid_var", field: "vars.telegram_link"},
		{name: "empty link sent by the case system", telegram: true, vars: map[string]any{"telegram_link": ""},
			status: http.StatusUnprocessableEntity, code: "invalid_var", field: "vars.telegram_link"},
		{name: "telegram not configured", telegram: false,
			status: http.StatusUnprocessableEntity, code: "telegram_not_configured", field: "flow"},
		{name: "landline", telegram: true, phone: "030 123 4567",
			status: http.StatusUnprocessableEntity, code: "not_mobile", field: "recipient.phone"},
		{name: "opted out of sms", telegram: true, before: func(h *harness) {
			h.nudge("no-show", phoneSanne, noShowVars())
			if r := h.sms(phoneSanne, "STOP", "SM"+randHex(16)); r.Status >= 300 {
				h.t.Fatalf("STOP: %d %s", r.Status, r.Body)
			}
		}, status: http.StatusConflict, code: "recipient_opted_out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h *harness
			if tc.telegram {
				h = newTelegramHarness(t).harness
			} else {
				h = newHarness(t, nil)
			}
			if tc.before != nil {
				tc.before(h)
			}
			before := len(h.keys())
			phone := tc.phone
			if phone == "" {
				phone = phoneSanne
			}
			body := nudgeBody("telegram-invite", phoneSanne, tc.vars)
			body["recipient"].(map[string]any)["phone"] = phone
			r := h.postJSON("/v1/nudges", tokCaseworker, body, nil)
			p := r.JSON(t)
			if r.Status != tc.status || p["code"] != tc.code || (tc.field != "" && p["field"] != tc.field) {
				t.Fatalf("POST /v1/nudges: %d %s; want %d %s field %q", r.Status, r.Body, tc.status, tc.code, tc.field)
			}
			if tc.code == "telegram_not_configured" && !strings.Contains(p["detail"].(string), "Telegram is not configured") {
				t.Errorf("detail: %v", p["detail"])
			}
			if keys := h.linkTokenKeys(); len(keys) != 0 {
				t.Errorf("a refused trigger left link tokens: %v", keys)
			}
			// (After an opt-out the worker may still be writing statuses.)
			if after := len(h.keys()); tc.before == nil && after != before {
				t.Errorf("a refused trigger left %d keys", after-before)
			}
		})
	}
}

func TestTelegramInviteSameEventKeepsOneLink(t *testing.T) {
	t.Parallel()
	h := newTelegramHarness(t)
	hdr := map[string]string{"Idempotency-Key": "case-5678-telegram-invite-1"}
	var ids []string
	for i := range 2 {
		r := h.postJSON("/v1/nudges", tokCaseworker, nudgeBody("telegram-invite", phoneSanne, nil), hdr)
		if r.Status != http.StatusAccepted {
			t.Fatalf("trigger %d: %d %s", i+1, r.Status, r.Body)
		}
		v := r.JSON(t)
		if v["existing"] != (i == 1) {
			t.Errorf("trigger %d: existing = %v", i+1, v["existing"])
		}
		ids = append(ids, v["id"].(string))
	}
	if ids[0] != ids[1] {
		t.Errorf("same event gave two nudges: %v", ids)
	}
	eventually(t, "the invitation SMS", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
	m := tgLinkRe.FindStringSubmatch(h.sentTo(phoneSanne)[0])
	if m == nil {
		t.Fatal("no link in the invitation")
	}
	sum := sha256.Sum256([]byte(m[1]))
	if keys := h.linkTokenKeys(); len(keys) != 1 || !strings.HasSuffix(keys[0], hex.EncodeToString(sum[:])) {
		t.Errorf("link tokens after a repeated event = %v, want only the one sent", keys)
	}
	if n := len(h.channelState()["events"].([]any)); n != 1 {
		t.Errorf("%d link events, want 1", n)
	}
}
