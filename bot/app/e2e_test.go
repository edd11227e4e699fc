package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	phoneSanne    = "+31612345678"
	appointmentAt = "2026-11-20T10:00:00+01:00"
)

func noShowVars() map[string]any { return map[string]any{"appointment_at": appointmentAt} }

func TestTriggerSMSReplyCallback(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.nudge("no-show", "06 12345678", noShowVars())

	reqs := h.waitSMS(t, 1, 5*time.Second)
	first := reqs[0]
	if first.To != phoneSanne || first.From != testFrom {
		t.Fatalf("sent to %q from %q", first.To, first.From)
	}
	if first.StatusCallback != testPublicURL+"/webhooks/twilio/status" {
		t.Errorf("StatusCallback = %q", first.StatusCallback)
	}
	for _, want := range []string{"Sanne", "Ahmed", "088 123 45 67", "vrijdag 20 november om 10:00"} {
		if !strings.Contains(first.Body, want) {
			t.Errorf("first SMS lacks %q:\n%s", want, first.Body)
		}
	}
	for _, bad := range []string{"fraude", "boete", "sanctie", "overtreding", "uitkering"} {
		if strings.Contains(strings.ToLower(first.Body), bad) {
			t.Errorf("first SMS contains %q", bad)
		}
	}

	if r := h.sms(phoneSanne, "2", "SM00000000000000000000000000000001"); r.Status != http.StatusOK ||
		!strings.Contains(string(r.Body), "<Response></Response>") {
		t.Fatalf("webhook: %d %s", r.Status, r.Body)
	}
	reqs = h.waitSMS(t, 2, 5*time.Second)
	if !strings.Contains(reqs[1].Body, "bellen u") {
		t.Errorf("confirmation = %q", reqs[1].Body)
	}

	// The callback list shows who, which nudge and when.
	eventually(t, "callback listed", func() bool {
		return len(h.get("/v1/callbacks", tokCaseworker).JSON(t)["callbacks"].([]any)) > 0
	})
	cbs := h.get("/v1/callbacks", tokCaseworker).JSON(t)["callbacks"].([]any)
	if len(cbs) != 1 {
		t.Fatalf("callbacks = %v", cbs)
	}
	cb := cbs[0].(map[string]any)
	if cb["nudge_id"] != id || cb["ref"] != "C-5678" || cb["name"] != "Sanne de Vries" || cb["asked_at"] == "" {
		t.Errorf("callback = %v", cb)
	}

	// The nudge shows flow, version, state and every message with status.
	v := h.nudgeView(id)
	if v["flow"] != "no-show" || v["state"] != "ended" || v["flow_version"] == nil || v["callback"] == nil {
		t.Errorf("nudge = %v", v)
	}
	msgs := messagesOf(v)
	if len(msgs) != 3 || msgs[0]["direction"] != "out" || msgs[1]["direction"] != "in" || msgs[1]["body"] != "2" || msgs[2]["direction"] != "out" {
		t.Fatalf("messages = %v", msgs)
	}
	if msgs[0]["provider_id"] == "" || msgs[0]["status"] != "queued" {
		t.Errorf("first message status = %v", msgs[0])
	}
	if strings.Contains(fmt.Sprint(v["recipient"]), "612345678") {
		t.Errorf("nudge view leaks the full phone number: %v", v["recipient"])
	}

	// A delivery status callback updates the message.
	if r := h.status(first.SID, phoneSanne, "delivered", 0); r.Status != http.StatusNoContent {
		t.Fatalf("status webhook: %d %s", r.Status, r.Body)
	}
	if got := messagesOf(h.nudgeView(id))[0]["status"]; got != "delivered" {
		t.Errorf("status after callback = %v", got)
	}
	// A late "sent" never overwrites "delivered".
	h.status(first.SID, phoneSanne, "sent", 0)
	if got := messagesOf(h.nudgeView(id))[0]["status"]; got != "delivered" {
		t.Errorf("status went back to %v", got)
	}
	if v := h.twilio.Violations(); len(v) > 0 {
		t.Errorf("twilio-go sent invalid requests: %v", v)
	}
}

func TestStopThenNothingMoreAnd409(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.nudge("no-show", phoneSanne, noShowVars())
	h.waitSMS(t, 1, 5*time.Second)

	if r := h.sms(phoneSanne, "Stop", "SM00000000000000000000000000000002"); r.Status != http.StatusOK {
		t.Fatalf("STOP webhook: %d", r.Status)
	}
	reqs := h.waitSMS(t, 2, 5*time.Second)
	if !strings.Contains(reqs[1].Body, "START") {
		t.Errorf("STOP confirmation = %q", reqs[1].Body)
	}
	// A later trigger is refused and sends nothing.
	r := h.postJSON("/v1/nudges", tokCaseworker, nudgeBody("missing-form", phoneSanne,
		map[string]any{"form": "het formulier Wijzigingen", "due_date": "2026-12-01"}), nil)
	if r.Status != http.StatusConflict || r.JSON(t)["code"] != "recipient_opted_out" {
		t.Fatalf("trigger after STOP: %d %s", r.Status, r.Body)
	}
	// The running conversation cannot send either: its answer is suppressed.
	h.sms(phoneSanne, "1", "SM00000000000000000000000000000003")
	eventually(t, "reply routed", func() bool { return h.nudgeView(id)["state"] == "ended" })
	msgs := messagesOf(h.nudgeView(id))
	last := msgs[len(msgs)-1]
	eventually(t, "answer suppressed", func() bool {
		msgs = messagesOf(h.nudgeView(id))
		return msgs[len(msgs)-1]["status"] == "suppressed"
	})
	if last["direction"] != "out" {
		t.Fatalf("last = %v", last)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(h.twilio.Requests()); n != 2 {
		t.Fatalf("Twilio got %d requests after STOP, want 2 (nudge + confirmation)", n)
	}
	// START opts in again.
	h.sms(phoneSanne, "START", "SM00000000000000000000000000000004")
	h.waitSMS(t, 3, 5*time.Second)
	if r := h.postJSON("/v1/nudges", tokCaseworker, nudgeBody("hobby-income", phoneSanne, nil), nil); r.Status != http.StatusAccepted {
		t.Fatalf("trigger after START: %d %s", r.Status, r.Body)
	}
}

func TestForgedSignatureChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.nudge("no-show", phoneSanne, noShowVars())
	h.waitSMS(t, 1, 5*time.Second)
	before := h.keys()
	for name, sig := range map[string]string{"forged": "dGhpcyBpcyBmb3JnZWQ=", "missing": ""} {
		if r := h.sms(phoneSanne, "2", "SM00000000000000000000000000000009", sig); r.Status != http.StatusForbidden ||
			r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s signature: %d %s", name, r.Status, r.Body)
		}
	}
	// Signed for the internal URL instead of the public one.
	if len(h.keys()) != len(before) {
		t.Errorf("keys changed: %d → %d", len(before), len(h.keys()))
	}
	if v := h.nudgeView(id); v["state"] != "waiting" || len(messagesOf(v)) != 1 {
		t.Errorf("nudge changed: %v", v)
	}
}

func TestDuplicateMessageSidProcessedOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.nudge("no-show", phoneSanne, noShowVars())
	h.waitSMS(t, 1, 5*time.Second)
	for i := 0; i < 3; i++ {
		if r := h.sms(phoneSanne, "2", "SM0000000000000000000000000000000d"); r.Status != http.StatusOK {
			t.Fatalf("delivery %d: %d", i, r.Status)
		}
	}
	h.waitSMS(t, 2, 5*time.Second)
	time.Sleep(150 * time.Millisecond)
	if n := len(h.twilio.Requests()); n != 2 {
		t.Errorf("Twilio requests = %d, want 2", n)
	}
	in := 0
	for _, m := range messagesOf(h.nudgeView(id)) {
		if m["direction"] == "in" {
			in++
		}
	}
	if in != 1 {
		t.Errorf("inbound stored %d times", in)
	}
	if cbs := h.get("/v1/callbacks", tokCaseworker).JSON(t)["callbacks"].([]any); len(cbs) != 1 {
		t.Errorf("callbacks = %d", len(cbs))
	}
}

func TestConcurrentRepliesOneTransition(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.nudge("no-show", phoneSanne, noShowVars())
	h.waitSMS(t, 1, 5*time.Second)
	const n = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			if r := h.sms(phoneSanne, "2", fmt.Sprintf("SM%032d", 100+i)); r.Status != http.StatusOK {
				t.Errorf("reply %d: %d %s", i, r.Status, r.Body)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	// Exactly one reply advanced the step: one callback; the others are
	// kept (nothing is dropped) as questions without a conversation.
	// The queue entry rides on the reply's send task: it appears once the
	// worker has taken that task.
	eventually(t, "callback listed", func() bool {
		return len(h.get("/v1/callbacks", tokCaseworker).JSON(t)["callbacks"].([]any)) >= 1
	})
	time.Sleep(100 * time.Millisecond)
	if cbs := h.get("/v1/callbacks", tokCaseworker).JSON(t)["callbacks"].([]any); len(cbs) != 1 {
		t.Fatalf("callbacks = %d, want 1", len(cbs))
	}
	routed := 0
	for _, m := range messagesOf(h.nudgeView(id)) {
		if m["direction"] == "in" && m["route"] == "callback" {
			routed++
		}
	}
	if routed != 1 {
		t.Errorf("replies routed to callback = %d", routed)
	}
	inbox := h.get("/v1/inbox", tokCaseworker).JSON(t)["messages"].([]any)
	if len(inbox) != n-1 {
		t.Errorf("inbox = %d, want %d (the other replies, kept)", len(inbox), n-1)
	}
}

func TestRestartBetweenTriggerAndReply(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.nudge("no-show", phoneSanne, noShowVars())
	h.waitSMS(t, 1, 5*time.Second)
	h.stop()
	h.start()
	h.sms(phoneSanne, "bel mij terug", "SM00000000000000000000000000000010")
	h.waitSMS(t, 2, 5*time.Second)
	if v := h.nudgeView(id); v["state"] != "ended" || v["callback"] == nil {
		t.Errorf("after restart: %v", v)
	}
}

func TestIdempotentTrigger(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	a := h.nudge("no-show", phoneSanne, noShowVars())
	b := h.nudge("no-show", "06-12345678", noShowVars())
	if a != b {
		t.Fatalf("same event gave two nudges: %s %s", a, b)
	}
	// An Idempotency-Key makes a retried request return the same nudge.
	body := nudgeBody("missing-form", "+31687654321", map[string]any{"form": "x", "due_date": "2026-12-01"})
	k := map[string]string{"Idempotency-Key": "req-42"}
	r1 := h.postJSON("/v1/nudges", tokCaseworker, body, k)
	r2 := h.postJSON("/v1/nudges", tokCaseworker, body, k)
	if r1.Status != 202 || r2.Status != 202 || r1.JSON(t)["id"] != r2.JSON(t)["id"] || r2.JSON(t)["existing"] != true {
		t.Fatalf("idempotency key: %s / %s", r1.Body, r2.Body)
	}
	// A new event of the same flow replaces the waiting one.
	c := h.nudge("no-show", phoneSanne, map[string]any{"appointment_at": "2026-11-27T14:00:00+01:00"})
	if c == a {
		t.Fatal("new event reused the old nudge")
	}
	if v := h.nudgeView(a); v["state"] != "ended" || v["outcome"] != "superseded" {
		t.Errorf("old nudge: %v %v", v["state"], v["outcome"])
	}
	h.waitSMS(t, 3, 5*time.Second)
}

func TestUnknownSenderAndHelp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const stranger = "+31611111111"
	h.sms(stranger, "Hallo, wie is dit?", "SM00000000000000000000000000000020")
	reqs := h.waitSMS(t, 1, 5*time.Second)
	if reqs[0].To != stranger || !strings.Contains(reqs[0].Body, "088 123 45 67") {
		t.Fatalf("generic reply = %+v", reqs[0])
	}
	// Kept for case workers.
	inbox := h.get("/v1/inbox", tokCaseworker).JSON(t)["messages"].([]any)
	if len(inbox) != 1 || inbox[0].(map[string]any)["body"] != "Hallo, wie is dit?" {
		t.Fatalf("inbox = %v", inbox)
	}
	// A second text the same day is kept but not answered again (no loops
	// with auto-responders).
	h.sms(stranger, "Hallo?", "SM00000000000000000000000000000021")
	time.Sleep(150 * time.Millisecond)
	if n := len(h.twilio.Requests()); n != 1 {
		t.Errorf("replies to unknown sender = %d", n)
	}
	if inbox := h.get("/v1/inbox", tokCaseworker).JSON(t)["messages"].([]any); len(inbox) != 2 {
		t.Errorf("inbox = %d", len(inbox))
	}
	h.sms(stranger, "HULP", "SM00000000000000000000000000000022")
	reqs = h.waitSMS(t, 2, 5*time.Second)
	if !strings.Contains(reqs[1].Body, "gemeente Utrecht") || !strings.Contains(reqs[1].Body, "STOP") {
		t.Errorf("HELP answer = %q", reqs[1].Body)
	}
}

func TestTwilioErrors(t *testing.T) {
	t.Parallel()
	t.Run("5xx is retried", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, nil)
		h.twilio.FailNext(2, 503, 0)
		id := h.nudge("no-show", phoneSanne, noShowVars())
		eventually(t, "sent after retries", func() bool { return messagesOf(h.nudgeView(id))[0]["status"] == "queued" })
		if n := len(h.twilio.Requests()); n != 3 {
			t.Errorf("requests = %d, want 3", n)
		}
	})
	t.Run("4xx is not retried", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, nil)
		h.twilio.FailNext(1, 400, 21211)
		id := h.nudge("no-show", phoneSanne, noShowVars())
		eventually(t, "failed", func() bool { return messagesOf(h.nudgeView(id))[0]["status"] == "failed" })
		time.Sleep(100 * time.Millisecond)
		if n := len(h.twilio.Requests()); n != 1 {
			t.Errorf("requests = %d, want 1", n)
		}
	})
	t.Run("21610 opts out", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, nil)
		h.twilio.FailNext(1, 400, 21610)
		id := h.nudge("no-show", phoneSanne, noShowVars())
		eventually(t, "failed", func() bool { return messagesOf(h.nudgeView(id))[0]["status"] == "failed" })
		r := h.postJSON("/v1/nudges", tokCaseworker, nudgeBody("hobby-income", phoneSanne, nil), nil)
		if r.Status != http.StatusConflict {
			t.Errorf("trigger after 21610: %d", r.Status)
		}
	})
	t.Run("status 21610 and 30003 recorded", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, nil)
		id := h.nudge("no-show", phoneSanne, noShowVars())
		req := h.waitSMS(t, 1, 5*time.Second)[0]
		eventually(t, "queued", func() bool { return messagesOf(h.nudgeView(id))[0]["status"] == "queued" })
		h.status(req.SID, phoneSanne, "undelivered", 30003)
		m := messagesOf(h.nudgeView(id))[0]
		if m["status"] != "undelivered" || m["error_code"] != float64(30003) || m["reason"] == "" {
			t.Errorf("message = %v", m)
		}
	})
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	good := func() map[string]any { return nudgeBody("no-show", phoneSanne, noShowVars()) }
	with := func(f func(m map[string]any)) map[string]any { m := good(); f(m); return m }
	tests := []struct {
		name   string
		token  string
		ctype  string
		body   any
		status int
		code   string
		field  string
	}{
		{"no token", "", "application/json", good(), 401, "unauthorized", ""},
		{"bad token", "nope-nope-nope-nope", "application/json", good(), 401, "unauthorized", ""},
		{"wrong role", tokCoordinator, "application/json", good(), 403, "forbidden", ""},
		{"malformed json", tokCaseworker, "application/json", `{"flow": "no-show",`, 400, "malformed_request", ""},
		{"not an object", tokCaseworker, "application/json", `[1,2]`, 400, "malformed_request", ""},
		{"empty body", tokCaseworker, "application/json", ``, 400, "malformed_request", ""},
		{"unknown field", tokCaseworker, "application/json", `{"flw":"no-show"}`, 400, "malformed_request", "flw"},
		{"wrong type", tokCaseworker, "application/json", `{"flow": 3}`, 400, "malformed_request", "flow"},
		{"wrong content type", tokCaseworker, "text/plain", good(), 415, "unsupported_media_type", ""},
		{"unknown flow", tokCaseworker, "application/json", with(func(m map[string]any) { m["flow"] = "nope" }), 422, "unknown_flow", "flow"},
		{"missing flow", tokCaseworker, "application/json", with(func(m map[string]any) { delete(m, "flow") }), 422, "invalid_field", "flow"},
		{"missing var", tokCaseworker, "application/json", with(func(m map[string]any) { m["vars"] = map[string]any{} }), 422, "invalid_var", "vars.appointment_at"},
		{"ill-typed var", tokCaseworker, "application/json", with(func(m map[string]any) { m["vars"] = map[string]any{"appointment_at": "morgen"} }), 422, "invalid_var", "vars.appointment_at"},
		{"number var", tokCaseworker, "application/json", with(func(m map[string]any) { m["vars"] = map[string]any{"appointment_at": 12} }), 422, "invalid_var", "vars.appointment_at"},
		{"unknown var", tokCaseworker, "application/json", with(func(m map[string]any) { m["vars"] = map[string]any{"appointment_at": appointmentAt, "bsn": "123"} }), 422, "invalid_var", "vars.bsn"},
		{"bad phone", tokCaseworker, "application/json", with(func(m map[string]any) { m["recipient"].(map[string]any)["phone"] = "12345" }), 422, "invalid_phone", "recipient.phone"},
		{"landline", tokCaseworker, "application/json", with(func(m map[string]any) { m["recipient"].(map[string]any)["phone"] = "030 123 4567" }), 422, "not_mobile", "recipient.phone"},
		{"missing name", tokCaseworker, "application/json", with(func(m map[string]any) { m["recipient"].(map[string]any)["name"] = "" }), 422, "invalid_field", "recipient.name"},
		{"missing ref", tokCaseworker, "application/json", with(func(m map[string]any) { delete(m["recipient"].(map[string]any), "ref") }), 422, "invalid_field", "recipient.ref"},
		{"bad language", tokCaseworker, "application/json", with(func(m map[string]any) { m["recipient"].(map[string]any)["language"] = "klingon" }), 422, "invalid_field", "recipient.language"},
		{"missing caseworker", tokCaseworker, "application/json", with(func(m map[string]any) { delete(m, "caseworker") }), 422, "invalid_field", "caseworker.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body = tt.body
			r := h.do(http.MethodPost, "/v1/nudges", tt.token, tt.ctype, reader(t, body), nil)
			if r.Status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			p := r.JSON(t)
			if p["code"] != tt.code || p["status"] != float64(tt.status) || p["title"] == "" || p["type"] == "" {
				t.Errorf("problem = %v, want code %s", p, tt.code)
			}
			if tt.field != "" && p["field"] != tt.field {
				t.Errorf("field = %v, want %s", p["field"], tt.field)
			}
		})
	}
	// Nothing was stored by any bad request; nothing was sent.
	for _, k := range h.keys() {
		if !strings.Contains(k, ":flows:") { // persisted flow sources are expected
			t.Errorf("bad input left key %s", k)
		}
	}
	if n := len(h.twilio.Requests()); n != 0 {
		t.Errorf("bad input sent %d SMS", n)
	}
	for _, tc := range []struct {
		path, token string
		status      int
		code        string
	}{
		{"/v1/nudges/nope", tokCaseworker, 404, "not_found"},
		{"/v1/nudges/0123456789abcdef01234567-00000000000000", tokCaseworker, 404, "not_found"},
		{"/v1/nope", tokCaseworker, 404, "not_found"},
		{"/v1/callbacks?status=weird", tokCaseworker, 400, "invalid_field"},
		{"/v1/flows", tokCaseworker, 403, "forbidden"},
	} {
		r := h.get(tc.path, tc.token)
		if r.Status != tc.status || r.JSON(t)["code"] != tc.code || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s", tc.path, r.Status, r.Body)
		}
	}
	if r := h.get("/v1/flows", tokCoordinator); r.Status != 200 || len(r.JSON(t)["flows"].([]any)) < 3 {
		t.Errorf("GET /v1/flows: %d %s", r.Status, r.Body)
	}
	if r := h.get("/readyz", ""); r.Status != 200 {
		t.Errorf("readyz: %d", r.Status)
	}
	if r := h.get("/healthz", ""); r.Status != 200 {
		t.Errorf("healthz: %d", r.Status)
	}
	_ = context.Background
}
