package app_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
	"github.com/seintje/seintje/internal/testflows"
)

// WhatsApp test fixtures: a flow with an approved template per proactive
// step, and a flow that asks by SMS for the WhatsApp opt-in.
const (
	waFrom     = "+3197010000002"
	waTemplate = "HX0123456789abcdef0123456789abcdef"
	waReminder = "HXfedcba9876543210fedcba9876543210"
	waButtons2 = "HX22222222222222222222222222222222"
	waRef      = "C-5678" // nudgeBody's ref for phoneSanne

	waCheckFlow = `id: wa-check
version: 1
description: Test flow with WhatsApp templates.
variables:
  - name: appointment_at
    type: datetime
    required: true
steps:
  - id: ask
    say:
      nl: |
        Hallo {{.FirstName}}, u had {{datetime .Vars.appointment_at}} een afspraak met ons. Gaat het goed met u?
        Stuur 1 voor een nieuwe afspraak. Stuur 2, dan bellen wij u. Of bel {{.CallbackNumber}}.
        Groet, {{.Caseworker}}
    whatsapp:
      nl:
        content_sid: ` + waTemplate + `
        variables: ["{{.FirstName}}", "{{datetime .Vars.appointment_at}}", "{{.Caseworker}}"]
    replies:
      - match: ["1", "nieuwe afspraak"]
        goto: new-appointment
        label: {nl: "1 Nieuwe afspraak"}
      - match: ["2", "bel mij", "bel mij terug"]
        goto: callback
        label: {nl: "2 Bel mij terug"}
    otherwise: question
    wait:
      timeout: 48h
      then: reminder
  - id: reminder
    say:
      nl: "Hallo {{.FirstName}}, wij hebben nog niets van u gehoord. Stuur 1 voor een nieuwe afspraak. Stuur 2, dan bellen wij u."
    whatsapp:
      nl:
        content_sid: ` + waReminder + `
        variables: ["{{.FirstName}}"]
    replies:
      - match: ["1"]
        goto: new-appointment
      - match: ["2"]
        goto: callback
    otherwise: question
    wait:
      timeout: 3d
      then: done
  - id: new-appointment
    say:
      nl: "Fijn. {{.Caseworker}} maakt een nieuwe afspraak en stuurt u die op."
    action: forward
    outcome: new_appointment
    next: done
  - id: callback
    say:
      nl: "Dank u. Wij bellen u zo snel mogelijk."
    action: callback
    reason: asked to be called back
    outcome: callback_requested
    next: done
  - id: question
    say:
      nl: "Dank u voor uw bericht. {{.Caseworker}} leest het."
    action: forward
    outcome: question_forwarded
    next: done
  - id: done
    action: end
`
	waInviteFlow = `id: wa-invite
version: 1
description: Asks by SMS whether the person wants our messages on WhatsApp.
steps:
  - id: ask
    say:
      nl: "Hallo {{.FirstName}}. Wilt u onze berichten voortaan via WhatsApp krijgen? Stuur JA. Liever sms? Dan hoeft u niets te doen. Vragen? Bel {{.CallbackNumber}}. Groet, {{.Caseworker}}"
    replies:
      - match: ["ja", "ja graag"]
        goto: yes
    otherwise: question
    wait:
      timeout: 7d
      then: done
  - id: yes
    say:
      nl: "Dank u. U krijgt onze berichten nu via WhatsApp. Stoppen? Stuur daar STOP."
    outcome: whatsapp_opt_in
    action: end
  - id: question
    say:
      nl: "Dank u voor uw bericht. {{.Caseworker}} leest het."
    action: forward
    outcome: question_forwarded
    next: done
  - id: done
    action: end
`
)

// newWhatsAppHarness starts Seintje with SMS and WhatsApp on the fake
// Twilio, on the fixture flows plus the WhatsApp ones.
func newWhatsAppHarness(t *testing.T, env map[string]string, opts ...func(*harness)) *harness {
	t.Helper()
	dir := testflows.Dir(t)
	for name, src := range map[string]string{"wa-check.yaml": waCheckFlow, "wa-invite.yaml": waInviteFlow} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	all := map[string]string{"SEINTJE_FLOWS_DIR": dir, "TWILIO_WHATSAPP_FROM": waFrom, "TWILIO_WHATSAPP_BUTTONS": "2:" + waButtons2}
	for k, v := range env {
		all[k] = v
	}
	h := newHarness(t, all, opts...)
	t.Cleanup(func() {
		if v := h.twilio.Violations(); len(v) > 0 {
			t.Errorf("Twilio API contract violations: %v", v)
		}
	})
	return h
}

// waNudge triggers wa-check (or flow) for phoneSanne with extra request
// members (channel, recipient.whatsapp_opt_in).
func (h *harness) waNudge(flowID string, vars map[string]any, channel string, optIn map[string]any) response {
	h.t.Helper()
	body := nudgeBody(flowID, phoneSanne, vars)
	if channel != "" {
		body["channel"] = channel
	}
	if optIn != nil {
		body["recipient"].(map[string]any)["whatsapp_opt_in"] = optIn
	}
	return h.postJSON("/v1/nudges", tokCaseworker, body, nil)
}

func (h *harness) mustWANudge(flowID string, vars map[string]any, channel string, optIn map[string]any) string {
	h.t.Helper()
	r := h.waNudge(flowID, vars, channel, optIn)
	if r.Status != http.StatusAccepted {
		h.t.Fatalf("POST /v1/nudges: %d %s", r.Status, r.Body)
	}
	return r.JSON(h.t)["id"].(string)
}

// waInbound posts an inbound WhatsApp message (payload: a button press).
func (h *harness) waInbound(from, body, sid, payload string, signature ...string) response {
	h.t.Helper()
	form := url.Values{"MessageSid": {sid}, "AccountSid": {testSID}, "From": {"whatsapp:" + from}, "To": {"whatsapp:" + waFrom},
		"Body": {body}, "NumMedia": {"0"}, "ProfileName": {"Sanne"}, "WaId": {strings.TrimPrefix(from, "+")}}
	if payload != "" {
		form.Set("ButtonPayload", payload)
		form.Set("ButtonText", body)
	}
	sig := twiliotest.Sign(testAuthToken, testPublicURL+"/webhooks/twilio/sms", form)
	if len(signature) > 0 {
		sig = signature[0]
	}
	return h.do(http.MethodPost, "/webhooks/twilio/sms", "", "application/x-www-form-urlencoded",
		strings.NewReader(form.Encode()), map[string]string{"X-Twilio-Signature": sig})
}

// waStatus posts a WhatsApp delivery report.
func (h *harness) waStatus(sid, to, st string, code int) response {
	h.t.Helper()
	form := url.Values{"MessageSid": {sid}, "AccountSid": {testSID}, "To": {"whatsapp:" + to}, "From": {"whatsapp:" + waFrom},
		"MessageStatus": {st}, "ChannelPrefix": {"whatsapp"}}
	if code != 0 {
		form.Set("ErrorCode", itoa(code))
	}
	sig := twiliotest.Sign(testAuthToken, testPublicURL+"/webhooks/twilio/status", form)
	return h.do(http.MethodPost, "/webhooks/twilio/status", "", "application/x-www-form-urlencoded",
		strings.NewReader(form.Encode()), map[string]string{"X-Twilio-Signature": sig})
}

// waSent returns the accepted WhatsApp requests to a number.
func (h *harness) waSent(to string) []twiliotest.Request {
	var out []twiliotest.Request
	for _, r := range h.twilio.Requests() {
		if r.To == "whatsapp:"+to && r.HTTPStatus == http.StatusCreated {
			out = append(out, r)
		}
	}
	return out
}

func (h *harness) channels(ref string) map[string]any {
	h.t.Helper()
	r := h.get("/v1/recipients/"+ref+"/channels", tokCaseworker)
	if r.Status != http.StatusOK {
		h.t.Fatalf("GET channels: %d %s", r.Status, r.Body)
	}
	return r.JSON(h.t)
}

func (h *harness) putChannels(ref string, body any) response {
	h.t.Helper()
	return h.do(http.MethodPut, "/v1/recipients/"+ref+"/channels", tokCaseworker, "application/json", reader(h.t, body), nil)
}

var optIn = map[string]any{"source": "intake form", "at": "2026-11-02T10:00:00+01:00"}

// A nudge asking for WhatsApp without a recorded opt-in is refused and
// nothing is sent; with the opt-in in the request it goes out as the
// approved template (the person never wrote to us: the window is closed).
func TestWhatsAppOptInRequiredThenTemplate(t *testing.T) {
	t.Parallel()
	h := newWhatsAppHarness(t, nil)
	r := h.waNudge("wa-check", noShowVars(), "whatsapp", nil)
	if r.Status != http.StatusConflict || r.JSON(t)["code"] != "whatsapp_no_optin" {
		t.Fatalf("whatsapp without opt-in: %d %s", r.Status, r.Body)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(h.twilio.Requests()); n != 0 {
		t.Fatalf("%d requests to Twilio after a refused nudge", n)
	}

	id := h.mustWANudge("wa-check", noShowVars(), "whatsapp", optIn)
	req := h.twilio.WaitForRequests(t, 1, 5*time.Second)[0]
	if req.To != "whatsapp:"+phoneSanne || req.From != "whatsapp:"+waFrom || req.Body != "" || req.ContentSid != waTemplate {
		t.Fatalf("template request: to %q from %q body %q content %q", req.To, req.From, req.Body, req.ContentSid)
	}
	want := map[string]string{"1": "Sanne", "2": "vrijdag 20 november om 10:00", "3": "Ahmed"}
	if raw := req.Form.Get("ContentVariables"); len(req.ContentVariables) != 3 || req.ContentVariables["1"] != want["1"] ||
		req.ContentVariables["2"] != want["2"] || req.ContentVariables["3"] != want["3"] {
		t.Fatalf("ContentVariables = %s, want %v", raw, want)
	}
	if req.StatusCallback != testPublicURL+"/webhooks/twilio/status" {
		t.Errorf("status callback %q", req.StatusCallback)
	}
	v := h.nudgeView(id)
	if v["channel"] != "whatsapp" {
		t.Errorf("nudge channel %v", v["channel"])
	}
	st := h.channels(waRef)
	wa := st["channels"].(map[string]any)["whatsapp"].(map[string]any)
	consent, _ := wa["consent"].(map[string]any)
	if consent == nil || consent["source"] != "api" || consent["detail"] != "intake form" || consent["by"] != "cw" {
		t.Fatalf("whatsapp consent = %v", wa["consent"])
	}
	if at, err := time.Parse(time.RFC3339, consent["at"].(string)); err != nil || !at.Equal(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("consent given at %v, want the date the case system sent", consent["at"])
	}
	if len(h.sentTo(phoneSanne)) != 0 {
		t.Errorf("an SMS went out too: %v", h.sentTo(phoneSanne))
	}
}

// Inside the 24-hour window (the person wrote) a message goes as free
// text, with the flow's labels on quick-reply buttons; a button press
// routes like typing the digit; after 24 hours (injected clock) the next
// proactive message is the template again.
func TestWhatsAppWindowButtonsAndRead(t *testing.T) {
	t.Parallel()
	h := newWhatsAppHarness(t, nil)
	// The clock runs ahead of the real one: the job queue schedules timers
	// in real time, and a wait timeout in the past would fire at once.
	start := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	h.clock.Set(start)
	// The recipient becomes known (SMS nudge), opts in, then writes to us
	// on WhatsApp: the window opens.
	inv := h.nudge("wa-invite", phoneSanne, nil)
	eventually(t, "invite SMS", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
	h.waitHandedOver(inv) // a reply routes to a message the person saw
	if r := h.putChannels(waRef, map[string]any{"preferred": "whatsapp",
		"channels": map[string]any{"whatsapp": map[string]any{"consent": optIn}}}); r.Status != http.StatusOK {
		t.Fatalf("PUT channels: %d %s", r.Status, r.Body)
	}
	if r := h.waInbound(phoneSanne, "Hallo", "SMwa0001", ""); r.Status != http.StatusOK {
		t.Fatalf("inbound: %d %s", r.Status, r.Body)
	}
	// The answer to "Hallo" goes out on WhatsApp first; the nudge below
	// must not race it to the provider.
	eventually(t, "the answer to Hallo", func() bool { return len(h.waSent(phoneSanne)) == 1 })
	h.clock.Set(start.Add(2 * time.Hour))
	if until := h.channels(waRef)["channels"].(map[string]any)["whatsapp"].(map[string]any)["window_open_until"]; until == nil {
		t.Errorf("window not shown as open")
	}
	id := h.nudge("wa-check", phoneSanne, noShowVars()) // preferred channel: WhatsApp
	eventually(t, "free-text WhatsApp", func() bool { return len(h.waSent(phoneSanne)) == 2 })
	msg := h.waSent(phoneSanne)[len(h.waSent(phoneSanne))-1]
	if msg.ContentSid != waButtons2 || msg.Body != "" {
		t.Fatalf("in the window: content %q body %q, want the 2-button quick reply", msg.ContentSid, msg.Body)
	}
	cv := msg.ContentVariables
	if !strings.HasPrefix(cv["1"], "Hallo Sanne, u had vrijdag 20 november om 10:00") || cv["2"] != "1 Nieuwe afspraak" || cv["3"] != "1" ||
		cv["4"] != "2 Bel mij terug" || cv["5"] != "2" {
		t.Fatalf("quick-reply variables = %v", cv)
	}
	// Delivered, then read: shown as read.
	sid := msg.SID
	h.waStatus(sid, phoneSanne, "delivered", 0)
	h.waStatus(sid, phoneSanne, "read", 0)
	h.waStatus(sid, phoneSanne, "delivered", 0) // late: never goes back
	first := messagesOf(h.nudgeView(id))[0]
	if first["status"] != "read" || first["channel"] != "whatsapp" {
		t.Errorf("first message: %v", first)
	}
	// A button press: payload "2" routes like typing 2.
	if r := h.waInbound(phoneSanne, "2 Bel mij terug", "SMwa0002", "2"); r.Status != http.StatusOK {
		t.Fatalf("button press: %d %s", r.Status, r.Body)
	}
	v := h.nudgeView(id)
	if v["step"] != "done" || v["outcome"] != "callback_requested" {
		t.Fatalf("after the button: step %v outcome %v", v["step"], v["outcome"])
	}
	eventually(t, "answer on WhatsApp", func() bool {
		s := h.waSent(phoneSanne)
		return len(s) >= 3 && strings.HasPrefix(s[len(s)-1].Body, "Dank u. Wij bellen u")
	})

	// 25 hours after the person's last message: a new nudge is the template.
	h.clock.Set(start.Add(26 * time.Hour))
	n := len(h.waSent(phoneSanne))
	h.nudge("wa-check", phoneSanne, map[string]any{"appointment_at": "2026-11-27T09:30:00+01:00"})
	eventually(t, "template after the window", func() bool { return len(h.waSent(phoneSanne)) == n+1 })
	if last := h.waSent(phoneSanne)[n]; last.ContentSid != waTemplate || last.ContentVariables["2"] != "vrijdag 27 november om 09:30" {
		t.Errorf("after 24 hours: content %q vars %v", last.ContentSid, last.ContentVariables)
	}
}

// 63016 on free text: sent again as the approved template, visible in the
// transcript. With SEINTJE_WHATSAPP_ON_REFUSED=sms, and for a step without
// a template, the message goes by SMS instead.
func TestWhatsApp63016RetryAsTemplateOrSMS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, onRefused string
		wantTemplate    bool
	}{{"template", "", true}, {"sms", "sms", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newWhatsAppHarness(t, map[string]string{"SEINTJE_WHATSAPP_ON_REFUSED": tc.onRefused, "TWILIO_WHATSAPP_BUTTONS": ""})
			inv := h.nudge("wa-invite", phoneSanne, nil)
			eventually(t, "invite SMS", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
			h.waitHandedOver(inv)                            // a reply routes to a message the person saw
			h.waInbound(phoneSanne, "Hallo", "SMwa0101", "") // window open as far as Seintje knows
			eventually(t, "the answer to Hallo", func() bool { return len(h.waSent(phoneSanne)) == 1 })
			h.twilio.FailNext(1, http.StatusBadRequest, 63016)
			id := h.mustWANudge("wa-check", noShowVars(), "whatsapp", optIn)
			var msgs []map[string]any
			eventually(t, "the second attempt", func() bool {
				msgs = messagesOf(h.nudgeView(id))
				return len(msgs) >= 2 && msgs[1]["status"] != "pending" && msgs[0]["status"] == "failed"
			})
			if msgs[0]["error_code"] != float64(63016) || !strings.Contains(msgs[0]["reason"].(string), "more than 24 hours") {
				t.Errorf("refused message: %v", msgs[0])
			}
			if tc.wantTemplate {
				if !strings.Contains(msgs[0]["reason"].(string), "sent again as the approved template") || msgs[1]["channel"] != "whatsapp" {
					t.Errorf("retry: %v / %v", msgs[0], msgs[1])
				}
				eventually(t, "the template", func() bool { return len(h.waSent(phoneSanne)) == 2 })
				if wa := h.waSent(phoneSanne)[1]; wa.ContentSid != waTemplate || wa.Body != "" {
					t.Errorf("retry request: content %q body %q, want the template", wa.ContentSid, wa.Body)
				}
				return
			}
			if !strings.Contains(msgs[0]["reason"].(string), "sent again by SMS") || msgs[1]["channel"] != "sms" {
				t.Errorf("fallback: %v / %v", msgs[0], msgs[1])
			}
			eventually(t, "the SMS", func() bool { return len(h.sentTo(phoneSanne)) == 2 })
			if got := h.sentTo(phoneSanne)[1]; !strings.HasPrefix(got, "Hallo Sanne, u had") {
				t.Errorf("SMS copy %q", got)
			}
			if v := h.nudgeView(id); v["channel"] != "sms" {
				t.Errorf("conversation channel %v after fallback", v["channel"])
			}
		})
	}
}

// A step without a template, outside the window, goes by SMS with a plain
// reason; a WhatsApp message reported undelivered goes again by SMS; one not
// delivered within the delivery timeout too, while a read one is not copied.
func TestWhatsAppFallbackToSMS(t *testing.T) {
	t.Parallel()
	h := newWhatsAppHarness(t, map[string]string{"SEINTJE_WHATSAPP_DELIVERY_TIMEOUT": "1s"})
	// no-show has no WhatsApp template: outside the window it goes by SMS.
	id := h.mustWANudge("no-show", noShowVars(), "whatsapp", optIn)
	eventually(t, "SMS instead", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
	msgs := messagesOf(h.nudgeView(id))
	if len(h.waSent(phoneSanne)) != 0 || msgs[0]["channel"] != "whatsapp" || msgs[0]["status"] != "failed" ||
		!strings.Contains(msgs[0]["reason"].(string), "no WhatsApp template") || msgs[1]["channel"] != "sms" {
		t.Fatalf("no template: %v", msgs)
	}

	// Undelivered (63024): sent again by SMS at once, not when the
	// delivery timeout ends (long enough here that a slow CI machine
	// reports the status well before it: 5 s was once too short on two
	// busy cores running the race build and other tests).
	const timeout = 15 * time.Second
	h = newWhatsAppHarness(t, map[string]string{"SEINTJE_WHATSAPP_DELIVERY_TIMEOUT": timeout.String()})
	id = h.mustWANudge("wa-check", noShowVars(), "whatsapp", optIn)
	eventually(t, "template", func() bool { return len(h.waSent(phoneSanne)) == 1 })
	h.waStatus(h.waSent(phoneSanne)[0].SID, phoneSanne, "undelivered", 63024)
	eventually(t, "SMS after undelivered", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
	msgs = messagesOf(h.nudgeView(id))
	if msgs[0]["status"] != "failed" || !strings.Contains(msgs[0]["reason"].(string), "cannot reach this number") ||
		!strings.Contains(msgs[0]["reason"].(string), "sent again by SMS") {
		t.Errorf("undelivered: %v", msgs[0])
	}
	time.Sleep(timeout + 500*time.Millisecond) // the standby copy's time passes: still one SMS
	if n := len(h.sentTo(phoneSanne)); n != 1 {
		t.Errorf("%d SMS after the standby time, want 1", n)
	}

}

// A WhatsApp message not delivered within the delivery timeout goes again
// by SMS; one that was read in time is not copied.
func TestWhatsAppNotDeliveredInTime(t *testing.T) {
	t.Parallel()
	for _, read := range []bool{false, true} {
		// 3 s: the read report must beat it even on a slow CI machine.
		h := newWhatsAppHarness(t, map[string]string{"SEINTJE_WHATSAPP_DELIVERY_TIMEOUT": "3s"})
		id := h.mustWANudge("wa-check", noShowVars(), "whatsapp", optIn)
		eventually(t, "template", func() bool { return len(h.waSent(phoneSanne)) == 1 })
		if read {
			h.waStatus(h.waSent(phoneSanne)[0].SID, phoneSanne, "read", 0)
		}
		var msgs []map[string]any
		eventually(t, "the standby copy decided", func() bool {
			msgs = messagesOf(h.nudgeView(id))
			return len(msgs) == 2 && msgs[1]["status"] != "standby" && msgs[1]["status"] != "pending"
		})
		if read {
			if msgs[0]["status"] != "read" || msgs[1]["status"] != "canceled" || len(h.sentTo(phoneSanne)) != 0 {
				t.Errorf("read in time: %v / %v; %d SMS", msgs[0], msgs[1], len(h.sentTo(phoneSanne)))
			}
			continue
		}
		eventually(t, "the SMS", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
		if msgs[0]["status"] != "undelivered" || !strings.Contains(msgs[0]["reason"].(string), "not delivered on WhatsApp within 3s; sent again by SMS") ||
			msgs[1]["channel"] != "sms" {
			t.Errorf("not delivered in time: %v / %v", msgs[0], msgs[1])
		}
		if v := h.nudgeView(id); v["channel"] != "sms" {
			t.Errorf("conversation channel %v", v["channel"])
		}
	}
}

// STOP on WhatsApp opts out of WhatsApp only: the next nudge goes by SMS.
func TestWhatsAppStopLeavesSMS(t *testing.T) {
	t.Parallel()
	h := newWhatsAppHarness(t, nil)
	h.mustWANudge("wa-check", noShowVars(), "whatsapp", optIn)
	eventually(t, "template", func() bool { return len(h.waSent(phoneSanne)) == 1 })
	if r := h.putChannels(waRef, map[string]any{"preferred": "whatsapp"}); r.Status != http.StatusOK {
		t.Fatalf("prefer whatsapp: %d %s", r.Status, r.Body)
	}
	h.waInbound(phoneSanne, "STOP", "SMwa0301", "")
	eventually(t, "stop confirmation on WhatsApp", func() bool { return len(h.waSent(phoneSanne)) == 2 })
	st := h.channels(waRef)
	chans := st["channels"].(map[string]any)
	if chans["whatsapp"].(map[string]any)["opted_out_at"] == nil || chans["whatsapp"].(map[string]any)["usable"] != false ||
		chans["sms"].(map[string]any)["usable"] != true {
		t.Fatalf("after STOP on WhatsApp: %v", chans)
	}
	id := h.nudge("missing-form", phoneSanne, map[string]any{"form": "het formulier", "due_date": "2026-12-10"})
	eventually(t, "next nudge by SMS", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
	if v := h.nudgeView(id); v["channel"] != "sms" {
		t.Errorf("next nudge channel %v", v["channel"])
	}
	if r := h.waNudge("wa-check", noShowVars(), "whatsapp", nil); r.Status != http.StatusConflict || r.JSON(t)["code"] != "recipient_opted_out" {
		t.Errorf("whatsapp after STOP: %d %s", r.Status, r.Body)
	}
	if n := len(h.waSent(phoneSanne)); n != 2 {
		t.Errorf("%d WhatsApp messages after STOP, want 2", n)
	}
}

// Replying JA to an SMS that asks records the opt-in (source sms_reply)
// and makes WhatsApp the preferred channel.
func TestWhatsAppOptInBySMSReply(t *testing.T) {
	t.Parallel()
	h := newWhatsAppHarness(t, nil)
	inv := h.nudge("wa-invite", phoneSanne, nil)
	eventually(t, "invite SMS", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
	h.waitHandedOver(inv) // a reply routes to a message the person saw
	if r := h.sms(phoneSanne, "Ja", "SMsms0001"); r.Status != http.StatusOK {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	eventually(t, "confirmation by SMS", func() bool { return len(h.sentTo(phoneSanne)) == 2 })
	st := h.channels(waRef)
	wa := st["channels"].(map[string]any)["whatsapp"].(map[string]any)
	if st["preferred"] != "whatsapp" || wa["consent"] == nil || wa["consent"].(map[string]any)["source"] != "sms_reply" {
		t.Fatalf("after JA: %v", st)
	}
	id := h.nudge("wa-check", phoneSanne, noShowVars())
	eventually(t, "next nudge on WhatsApp", func() bool { return len(h.waSent(phoneSanne)) == 1 })
	if v := h.nudgeView(id); v["channel"] != "whatsapp" {
		t.Errorf("channel %v", v["channel"])
	}
}

// A forged WhatsApp webhook is refused and changes nothing.
func TestWhatsAppWebhookSignature(t *testing.T) {
	t.Parallel()
	h := newWhatsAppHarness(t, nil)
	h.nudge("wa-check", phoneSanne, noShowVars())
	eventually(t, "the SMS", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
	time.Sleep(300 * time.Millisecond) // its status is recorded
	before := len(h.keys())
	if r := h.waInbound(phoneSanne, "STOP", "SMwa0401", "", "bm90LWEtc2lnbmF0dXJl"); r.Status != http.StatusForbidden {
		t.Fatalf("forged webhook: %d", r.Status)
	}
	if after := len(h.keys()); after != before {
		t.Errorf("keys %d → %d after a forged webhook", before, after)
	}
	if st := h.channels(waRef)["channels"].(map[string]any)["whatsapp"].(map[string]any); st["opted_out_at"] != nil {
		t.Errorf("forged STOP opted out: %v", st)
	}
}

// PUT /v1/recipients/{ref}/channels: preferring WhatsApp needs the opt-in.
func TestWhatsAppChannelsAPI(t *testing.T) {
	t.Parallel()
	h := newWhatsAppHarness(t, nil)
	if r := h.putChannels(waRef, map[string]any{"preferred": "sms"}); r.Status != http.StatusNotFound {
		t.Errorf("unknown recipient: %d", r.Status)
	}
	h.nudge("wa-invite", phoneSanne, nil)
	if r := h.putChannels(waRef, map[string]any{"preferred": "whatsapp"}); r.Status != http.StatusConflict || r.JSON(t)["code"] != "whatsapp_no_optin" {
		t.Errorf("prefer without opt-in: %d %s", r.Status, r.Body)
	}
	if r := h.putChannels(waRef, map[string]any{"channels": map[string]any{"whatsapp": map[string]any{"consent": map[string]any{}}}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("opt-in without source: %d %s", r.Status, r.Body)
	}
	if r := h.putChannels(waRef, map[string]any{"preferred": "fax"}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("bad channel: %d", r.Status)
	}
	r := h.putChannels(waRef, map[string]any{"preferred": "whatsapp", "fallback": []string{"sms"},
		"channels": map[string]any{"whatsapp": map[string]any{"consent": optIn}}})
	if r.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	st := r.JSON(t)
	if st["preferred"] != "whatsapp" || len(st["order"].([]any)) != 2 || st["order"].([]any)[1] != "sms" {
		t.Errorf("after PUT: %v", st)
	}
	// Withdrawn: SMS is preferred again.
	r = h.putChannels(waRef, map[string]any{"channels": map[string]any{"whatsapp": map[string]any{"consent": map[string]any{"given": false, "source": "phone call"}}}})
	if r.Status != http.StatusOK || r.JSON(t)["preferred"] != "sms" {
		t.Errorf("after withdrawing: %d %s", r.Status, r.Body)
	}
}

// Without WhatsApp configured, a flow that asks for the WhatsApp opt-in
// cannot be triggered, and a nudge cannot ask for WhatsApp.
func TestWhatsAppNotConfigured(t *testing.T) {
	t.Parallel()
	dir := testflows.Dir(t)
	if err := os.WriteFile(filepath.Join(dir, "wa-invite.yaml"), []byte(waInviteFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, map[string]string{"SEINTJE_FLOWS_DIR": dir})
	r := h.postJSON("/v1/nudges", tokCaseworker, nudgeBody("wa-invite", phoneSanne, nil), nil)
	if r.Status != http.StatusUnprocessableEntity || r.JSON(t)["code"] != "whatsapp_not_configured" {
		t.Errorf("invite without WhatsApp: %d %s", r.Status, r.Body)
	}
	if r := h.waNudge("no-show", noShowVars(), "whatsapp", nil); r.Status != http.StatusUnprocessableEntity || r.JSON(t)["code"] != "whatsapp_not_configured" {
		t.Errorf("channel whatsapp without WhatsApp: %d %s", r.Status, r.Body)
	}
	if r := h.waNudge("no-show", noShowVars(), "", optIn); r.Status != http.StatusUnprocessableEntity || r.JSON(t)["code"] != "whatsapp_not_configured" {
		t.Errorf("opt-in without WhatsApp: %d %s", r.Status, r.Body)
	}
	if n := len(h.twilio.Requests()); n != 0 {
		t.Errorf("%d requests to Twilio", n)
	}
}
