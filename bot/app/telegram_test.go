package app_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/channel/telegram/telegramtest"
)

const (
	tgToken    = "123456789:AAfake-token_for-tests0123456789"
	tgSecret   = "webhook-secret_0123456789"
	tgBot      = "GemeenteSeintjeBot"
	tgChat     = int64(555001)
	tgRef      = "C-5678" // nudgeBody's ref for phoneSanne
	tgLinkPath = "/v1/recipients/" + tgRef + "/telegram-link"
)

type tgHarness struct {
	*harness
	tg *telegramtest.Server
}

func newTelegramHarness(t *testing.T) *tgHarness {
	t.Helper()
	tg := telegramtest.New(t, tgToken)
	h := newHarness(t, map[string]string{
		"TELEGRAM_BOT_TOKEN":      tgToken,
		"TELEGRAM_WEBHOOK_SECRET": tgSecret,
		"TELEGRAM_BOT_USERNAME":   tgBot,
		"TELEGRAM_API_URL":        tg.URL,
	})
	t.Cleanup(func() {
		if v := tg.Violations(); len(v) > 0 {
			t.Errorf("Telegram Bot API contract violations: %v", v)
		}
	})
	return &tgHarness{harness: h, tg: tg}
}

// webhook posts an update with the given secret.
func (h *tgHarness) webhook(body []byte, secret string) response {
	h.t.Helper()
	hdr := map[string]string{}
	if secret != "" {
		hdr["X-Telegram-Bot-Api-Secret-Token"] = secret
	}
	return h.do(http.MethodPost, "/webhooks/telegram", "", "application/json", bytes.NewReader(body), hdr)
}

func (h *tgHarness) mustWebhook(body []byte) {
	h.t.Helper()
	if r := h.webhook(body, tgSecret); r.Status != http.StatusOK {
		h.t.Fatalf("webhook: %d %s", r.Status, r.Body)
	}
}

// lastSent waits for the n-th successful message to chat and returns it.
func (h *tgHarness) waitSent(chat int64, n int) telegramtest.Request {
	h.t.Helper()
	eventually(h.t, "telegram message "+itoa(n)+" to the chat", func() bool { return len(h.tg.Sent(chat)) >= n })
	return h.tg.Sent(chat)[n-1]
}

// link runs the whole linking: a nudge makes the recipient known, the
// case worker gets a link, the person opens it and says yes.
func (h *tgHarness) link(chat int64) {
	h.t.Helper()
	before := len(h.tg.Sent(chat))
	consent := h.openLink(chat)
	body, qid := h.tg.CallbackUpdate(0, chat, consent.MessageID, "c:yes")
	h.mustWebhook(body)
	eventually(h.t, "consent button press answered", func() bool { return h.tg.Answered(qid) })
	if ok := h.waitSent(chat, before+2); !strings.Contains(ok.Text, "Gelukt") {
		h.t.Fatalf("link confirmation: %q", ok.Text)
	}
}

// openLink makes a link for the recipient and opens it in chat; it
// returns the consent question.
func (h *tgHarness) openLink(chat int64) telegramtest.Request {
	h.t.Helper()
	r := h.postJSON(tgLinkPath, tokCaseworker, map[string]any{}, nil)
	if r.Status != http.StatusCreated {
		h.t.Fatalf("telegram-link: %d %s", r.Status, r.Body)
	}
	link := r.JSON(h.t)["link"].(string)
	m := regexp.MustCompile(`^https://t\.me/` + tgBot + `\?start=([A-Za-z0-9_-]{1,64})$`).FindStringSubmatch(link)
	if m == nil {
		h.t.Fatalf("link %q is not a t.me deep link with a valid token", link)
	}
	before := len(h.tg.Sent(chat))
	h.mustWebhook(h.tg.MessageUpdate(0, chat, "/start "+m[1]))
	consent := h.waitSent(chat, before+1)
	if !strings.Contains(consent.Text, "Telegram") || len(consent.Keyboard) != 2 ||
		consent.Keyboard[0][0].CallbackData != "c:yes" || consent.Keyboard[1][0].CallbackData != "c:no" {
		h.t.Fatalf("consent question: %q %v", consent.Text, consent.Keyboard)
	}
	return consent
}

func (h *tgHarness) channelState() map[string]any {
	h.t.Helper()
	r := h.get("/v1/recipients/"+tgRef+"/channel", tokCaseworker)
	if r.Status != http.StatusOK {
		h.t.Fatalf("GET channel: %d %s", r.Status, r.Body)
	}
	return r.JSON(h.t)
}

func TestTelegramLinkConsentButtonsAdvanceFlow(t *testing.T) {
	t.Parallel()
	h := newTelegramHarness(t)
	first := h.nudge("no-show", phoneSanne, noShowVars())
	eventually(t, "first nudge by SMS", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
	if ch := h.nudgeView(first)["channel"]; ch != "sms" {
		t.Fatalf("unlinked recipient's nudge went by %v", ch)
	}
	h.link(tgChat)
	st := h.channelState()
	if st["preferred"] != "telegram" || st["telegram"].(map[string]any)["linked"] != true {
		t.Fatalf("after consent: %v", st)
	}

	id := h.nudge("hobby-income", phoneSanne, nil)
	nudge := h.waitSent(tgChat, 3)
	if !strings.Contains(nudge.Text, "Stuur 1 voor uitleg") {
		t.Fatalf("nudge text: %q", nudge.Text)
	}
	want := [][]telegramtest.Button{{{Text: "1 Uitleg", CallbackData: "r:1"}}, {{Text: "2 Bel mij terug", CallbackData: "r:2"}}}
	if len(nudge.Keyboard) != 2 || nudge.Keyboard[0][0] != want[0][0] || nudge.Keyboard[1][0] != want[1][0] {
		t.Fatalf("buttons = %v, want %v", nudge.Keyboard, want)
	}
	body, qid := h.tg.CallbackUpdate(0, tgChat, nudge.MessageID, "r:1")
	h.mustWebhook(body)
	eventually(t, "callback query answered", func() bool { return h.tg.Answered(qid) })
	next := h.waitSent(tgChat, 4)
	if !strings.Contains(next.Text, "Wat geeft u door?") || len(next.Keyboard) != 2 {
		t.Fatalf("after the button: %q %v", next.Text, next.Keyboard)
	}
	v := h.nudgeView(id)
	if v["step"] != "explain-what" || v["channel"] != "telegram" {
		t.Fatalf("nudge after button: step %v channel %v", v["step"], v["channel"])
	}
	var in []string
	for _, m := range messagesOf(v) {
		if m["direction"] == "in" {
			in = append(in, m["channel"].(string)+":"+m["body"].(string))
		}
	}
	if len(in) != 1 || in[0] != "telegram:1" {
		t.Errorf("inbound in transcript = %v", in)
	}
	// Typed digits keep working.
	h.mustWebhook(h.tg.MessageUpdate(0, tgChat, "1"))
	if m := h.waitSent(tgChat, 5); !strings.Contains(m.Text, "Geef het door via") {
		t.Errorf("typed reply: %q", m.Text)
	}
	if got := len(h.sentTo(phoneSanne)); got != 1 {
		t.Errorf("%d SMS sent; the Telegram nudge must not also go by SMS", got)
	}
}

func TestTelegramWrongSecret(t *testing.T) {
	t.Parallel()
	h := newTelegramHarness(t)
	h.nudge("no-show", phoneSanne, noShowVars())
	for _, secret := range []string{"", "wrong", tgSecret + "x"} {
		r := h.webhook(h.tg.MessageUpdate(0, tgChat, "/start abc"), secret)
		if r.Status != http.StatusForbidden {
			t.Errorf("secret %q: %d, want 403", secret, r.Status)
		}
	}
	time.Sleep(200 * time.Millisecond)
	for _, r := range h.tg.Requests() {
		t.Errorf("Telegram was called after a forged update: %s", r.Method)
	}
	for _, k := range h.keys() {
		if strings.Contains(k, "tgupd") || strings.Contains(k, "tgconsent") {
			t.Errorf("forged update left key %s", k)
		}
	}
}

func TestTelegramUpdatesOfAChatInOrder(t *testing.T) {
	t.Parallel()
	h := newTelegramHarness(t)
	h.nudge("no-show", phoneSanne, noShowVars())
	h.link(tgChat)
	id := h.nudge("hobby-income", phoneSanne, nil)
	h.waitSent(tgChat, 3)
	// Update 900001 ("1") and 900002 ("2") arrive together, the later one
	// first: "1" must be handled first (ask → explain-what, then 2 → call).
	var wg sync.WaitGroup
	for i, u := range []struct {
		id   int64
		text string
	}{{900002, "2"}, {900001, "1"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 5 * time.Millisecond)
			if r := h.webhook(h.tg.MessageUpdate(u.id, tgChat, u.text), tgSecret); r.Status != http.StatusOK {
				t.Errorf("webhook: %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	var in []string
	for _, m := range messagesOf(h.nudgeView(id)) {
		if m["direction"] == "in" {
			in = append(in, m["body"].(string))
		}
	}
	if strings.Join(in, ",") != "1,2" {
		t.Fatalf("inbound order = %v, want [1 2]", in)
	}
	// The same update again (Telegram retrying) changes nothing.
	h.mustWebhook(h.tg.MessageUpdate(900001, tgChat, "1"))
	if n := len(messagesOf(h.nudgeView(id))); n == 0 {
		t.Fatal("transcript empty")
	}
}

func TestTelegramBlockedUnlinksAndFallsBackToSMS(t *testing.T) {
	t.Parallel()
	h := newTelegramHarness(t)
	h.nudge("no-show", phoneSanne, noShowVars())
	h.link(tgChat)
	smsBefore := len(h.sentTo(phoneSanne))
	h.tg.Fail(tgChat, telegramtest.Failure{Code: 403, Description: "Forbidden: bot was blocked by the user"})
	id := h.nudge("hobby-income", phoneSanne, nil)
	eventually(t, "the SMS fallback", func() bool { return len(h.sentTo(phoneSanne)) == smsBefore+1 })
	if got := h.sentTo(phoneSanne)[smsBefore]; !strings.Contains(got, "Stuur 1 voor uitleg") {
		t.Errorf("fallback SMS: %q", got)
	}
	var eventuallyMsgs []map[string]any
	eventually(t, "both attempts in the transcript", func() bool {
		eventuallyMsgs = messagesOf(h.nudgeView(id))
		return len(eventuallyMsgs) >= 2 && eventuallyMsgs[1]["status"] != "pending"
	})
	tgMsg, smsMsg := eventuallyMsgs[0], eventuallyMsgs[1]
	if tgMsg["channel"] != "telegram" || tgMsg["status"] != "failed" || tgMsg["error_code"] != float64(403) {
		t.Errorf("telegram attempt: %v", tgMsg)
	}
	if smsMsg["channel"] != "sms" || smsMsg["body"] != tgMsg["body"] {
		t.Errorf("sms attempt: %v", smsMsg)
	}
	v := h.nudgeView(id)
	if v["channel"] != "sms" {
		t.Errorf("conversation channel after fallback = %v", v["channel"])
	}
	st := h.channelState()
	if st["preferred"] != "sms" || st["telegram"].(map[string]any)["linked"] != false {
		t.Errorf("after 403: %v", st)
	}
	events := st["events"].([]any)
	if last := events[len(events)-1].(map[string]any); last["action"] != "unlinked" {
		t.Errorf("unlink not recorded: %v", events)
	}
	// The next nudge goes by SMS straight away.
	attempts := len(h.tg.Attempts(tgChat))
	h.nudge("missing-form", phoneSanne, tgMissingFormVars())
	eventually(t, "next nudge by SMS", func() bool { return len(h.sentTo(phoneSanne)) == smsBefore+2 })
	if got := len(h.tg.Attempts(tgChat)); got != attempts {
		t.Errorf("Telegram tried again after the 403 (%d attempts)", got-attempts)
	}
	// The chat is no longer linked: what it sends is not routed to the recipient.
	if r := h.tgPut("/v1/recipients/"+tgRef+"/channel", map[string]any{"channel": "telegram"}); r.Status != http.StatusConflict {
		t.Errorf("prefer telegram while unlinked: %d %s", r.Status, r.Body)
	}
}

func TestTelegram429IsWaitedOut(t *testing.T) {
	t.Parallel()
	h := newTelegramHarness(t)
	h.nudge("no-show", phoneSanne, noShowVars())
	h.link(tgChat)
	h.tg.Fail(tgChat, telegramtest.Failure{Code: 429, Description: "Too Many Requests: retry after 1", RetryAfter: 1})
	h.nudge("hobby-income", phoneSanne, nil)
	eventually(t, "the nudge after the 429", func() bool { return len(h.tg.Sent(tgChat)) == 3 })
	att := h.tg.Attempts(tgChat)
	if len(att) != 4 {
		t.Fatalf("%d attempts, want 4 (2 linking, one 429, one success)", len(att))
	}
	if att[2].HTTPStatus != http.StatusTooManyRequests {
		t.Fatalf("third attempt status %d", att[2].HTTPStatus)
	}
	if d := att[3].Time.Sub(att[2].Time); d < 950*time.Millisecond {
		t.Errorf("retried %s after a 429 with retry_after 1s", d)
	}
}

func TestTelegramStopUnlinksTelegramOnly(t *testing.T) {
	t.Parallel()
	h := newTelegramHarness(t)
	h.nudge("no-show", phoneSanne, noShowVars())
	h.link(tgChat)
	h.mustWebhook(h.tg.MessageUpdate(0, tgChat, "/stop"))
	if m := h.waitSent(tgChat, 3); !strings.Contains(m.Text, "STOP") && !strings.Contains(m.Text, "START") {
		t.Errorf("stop confirmation: %q", m.Text)
	}
	st := h.channelState()
	if st["preferred"] != "sms" || st["telegram"].(map[string]any)["linked"] != false {
		t.Errorf("after /stop: %v", st)
	}
	if oo := st["opted_out"].([]any); len(oo) != 1 || oo[0] != "telegram" {
		t.Errorf("opted out of %v, want telegram only", oo)
	}
	smsBefore := len(h.sentTo(phoneSanne))
	h.nudge("hobby-income", phoneSanne, nil)
	eventually(t, "next nudge by SMS", func() bool { return len(h.sentTo(phoneSanne)) == smsBefore+1 })
	if got := len(h.tg.Sent(tgChat)); got != 3 {
		t.Errorf("%d Telegram messages after /stop", got-3)
	}
}

func TestTelegramLinkEndpoints(t *testing.T) {
	t.Parallel()
	h := newTelegramHarness(t)
	if r := h.postJSON(tgLinkPath, tokCaseworker, map[string]any{}, nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown ref: %d %s", r.Status, r.Body)
	}
	h.nudge("no-show", phoneSanne, noShowVars())
	if r := h.postJSON(tgLinkPath, tokWerkplaats, map[string]any{}, nil); r.Status != http.StatusForbidden {
		t.Errorf("werkplaats role: %d", r.Status)
	}
	r := h.postJSON(tgLinkPath, tokCaseworker, map[string]any{}, nil)
	link := r.JSON(t)["link"].(string)
	token := link[strings.Index(link, "start=")+6:]
	// "No" links nothing.
	h.mustWebhook(h.tg.MessageUpdate(0, tgChat, "/start "+token))
	h.waitSent(tgChat, 1)
	h.mustWebhook(h.tg.MessageUpdate(0, tgChat, "nee"))
	if m := h.waitSent(tgChat, 2); !strings.Contains(m.Text, "niets veranderd") {
		t.Errorf("refusal answer: %q", m.Text)
	}
	if st := h.channelState(); st["telegram"].(map[string]any)["linked"] != false {
		t.Errorf("linked after no: %v", st)
	}
	// The token was used once.
	h.mustWebhook(h.tg.MessageUpdate(0, tgChat, "/start "+token))
	if m := h.waitSent(tgChat, 3); !strings.Contains(m.Text, "werkt niet meer") {
		t.Errorf("second use of a link: %q", m.Text)
	}
	if r := h.tgPut("/v1/recipients/"+tgRef+"/channel", map[string]any{"channel": "fax"}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("bad channel: %d", r.Status)
	}
	if r := h.tgPut("/v1/recipients/"+tgRef+"/channel", map[string]any{"channel": "sms"}); r.Status != http.StatusOK {
		t.Errorf("prefer sms: %d %s", r.Status, r.Body)
	}
}

func TestTelegramNotConfigured(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.nudge("no-show", phoneSanne, noShowVars())
	r := h.postJSON(tgLinkPath, tokCaseworker, map[string]any{}, nil)
	if r.Status != http.StatusUnprocessableEntity || r.JSON(t)["code"] != "telegram_not_configured" {
		t.Errorf("link without Telegram: %d %s", r.Status, r.Body)
	}
	if r := h.postJSON("/webhooks/telegram", "", map[string]any{}, nil); r.Status != http.StatusNotFound {
		t.Errorf("webhook without Telegram: %d", r.Status)
	}
}

func (h *harness) tgPut(path string, v any) response {
	h.t.Helper()
	return h.do(http.MethodPut, path, tokCaseworker, "application/json", reader(h.t, v), nil)
}

func tgMissingFormVars() map[string]any {
	return map[string]any{"form": "het formulier Wijzigingen doorgeven", "due_date": "2026-12-10"}
}

func TestTelegramRelinkMovesToNewChat(t *testing.T) {
	t.Parallel()
	h := newTelegramHarness(t)
	const newChat = int64(555002)
	h.nudge("no-show", phoneSanne, noShowVars())
	h.link(tgChat)
	h.link(newChat)
	st := h.channelState()
	if st["telegram"].(map[string]any)["linked"] != true || st["preferred"] != "telegram" {
		t.Fatalf("after relink: %v", st)
	}
	id := h.nudge("hobby-income", phoneSanne, nil)
	h.waitSent(newChat, 3)
	if got := len(h.tg.Sent(tgChat)); got != 2 {
		t.Errorf("old chat got %d messages, want only its 2 linking texts", got)
	}
	// The old chat no longer answers for the recipient.
	h.mustWebhook(h.tg.MessageUpdate(0, tgChat, "1"))
	time.Sleep(300 * time.Millisecond)
	if v := h.nudgeView(id); v["step"] != "ask" {
		t.Errorf("old chat advanced the flow to %v", v["step"])
	}
}
