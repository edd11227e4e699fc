package app_test

// Issue 3 integration tests on real Redis: the werkplaats queue (claim,
// complete, retry, home-visit suggestion), quiet hours and the weekly
// limit. The clock is injected; asynq runs on real (short) timers.

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// t3Amsterdam is Europe/Amsterdam for fake clocks.
func t3Amsterdam(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// t3Callback asks for a callback on a fresh missing-form nudge and returns
// the task id.
func t3Callback(t *testing.T, h *harness, phone string) (nudge, cb string) {
	t.Helper()
	nudge = h.nudge("missing-form", phone, map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	eventually(t, "first SMS", func() bool { return len(h.sentTo(phone)) == 1 })
	h.waitHandedOver(nudge) // a reply routes to a message the person saw
	if r := h.sms(phone, "2", "SM"+randHex(16)); r.Status != http.StatusOK && r.Status != http.StatusNoContent {
		t.Fatalf("inbound: %d %s", r.Status, r.Body)
	}
	var id string
	eventually(t, "callback task", func() bool {
		cbs := h.get("/v1/callbacks?status=open", tokWerkplaats).JSON(t)["callbacks"].([]any)
		if len(cbs) == 1 {
			id = cbs[0].(map[string]any)["id"].(string)
		}
		return id != ""
	})
	return nudge, id
}

func TestWerkplaatsClaimRaceOneWins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const phone = "+31612340301"
	_, id := t3Callback(t, h, phone)

	list := h.get("/v1/callbacks?status=open", tokWerkplaats).JSON(t)["callbacks"].([]any)
	if p := list[0].(map[string]any)["phone"].(string); p == phone || !strings.Contains(p, "*") {
		t.Errorf("list shows phone %q, want it masked", p)
	}

	// Two werkplaats staff claim at once (the admin token is a second person).
	var wg sync.WaitGroup
	codes := make([]int, 2)
	bodies := make([]map[string]any, 2)
	for i, tok := range []string{tokWerkplaats, tokAdmin} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := h.postJSON("/v1/callbacks/"+id+"/claim", tok, map[string]any{}, nil)
			codes[i] = r.Status
			if r.Status == http.StatusOK {
				bodies[i] = r.JSON(t)
			}
		}()
	}
	wg.Wait()
	won, lost := 0, 0
	for i, c := range codes {
		switch c {
		case http.StatusOK:
			won++
			if bodies[i]["phone"] != phone {
				t.Errorf("claim response phone = %v, want the full number", bodies[i]["phone"])
			}
		case http.StatusConflict:
			lost++
		}
	}
	if won != 1 || lost != 1 {
		t.Fatalf("claims: %v, want one 200 and one 409", codes)
	}
	if n := len(h.get("/v1/callbacks?status=claimed", tokWerkplaats).JSON(t)["callbacks"].([]any)); n != 1 {
		t.Errorf("claimed list has %d tasks", n)
	}
	// A caseworker may read the queue but not claim.
	if r := h.postJSON("/v1/callbacks/"+id+"/claim", tokCaseworker, map[string]any{}, nil); r.Status != http.StatusForbidden {
		t.Errorf("caseworker claim: %d", r.Status)
	}
}

func TestWerkplaatsClaimLapsesAndNoAnswerRetriesThenSuggestsHomeVisit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	loc := t3Amsterdam(t)
	now := time.Date(2031, 1, 6, 10, 0, 0, 0, loc)
	h.clock.Set(now)
	const phone = "+31612340302"
	nudge, id := t3Callback(t, h, phone)

	claim := func(tok string, want int) {
		t.Helper()
		if r := h.postJSON("/v1/callbacks/"+id+"/claim", tok, map[string]any{}, nil); r.Status != want {
			t.Fatalf("claim: %d %s, want %d", r.Status, r.Body, want)
		}
	}
	complete := func(tok, outcome string, want int) map[string]any {
		t.Helper()
		r := h.postJSON("/v1/callbacks/"+id+"/complete", tok, map[string]any{"outcome": outcome, "note": "geen gehoor"}, nil)
		if r.Status != want {
			t.Fatalf("complete %s: %d %s, want %d", outcome, r.Status, r.Body, want)
		}
		if want != http.StatusOK {
			return nil
		}
		return r.JSON(t)
	}

	claim(tokWerkplaats, http.StatusOK)
	claim(tokAdmin, http.StatusConflict)
	// The claim lapses after 30 minutes: open again, another person may take it.
	h.clock.Set(now.Add(31 * time.Minute))
	if n := len(h.get("/v1/callbacks?status=open", tokWerkplaats).JSON(t)["callbacks"].([]any)); n != 1 {
		t.Fatalf("lapsed claim: open list has %d tasks, want 1", n)
	}
	claim(tokAdmin, http.StatusOK)
	complete(tokWerkplaats, "no_answer", http.StatusConflict) // not the claimer any more
	if r := h.postJSON("/v1/callbacks/"+id+"/complete", tokAdmin, map[string]any{"outcome": "busy"}, nil); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("bad outcome: %d", r.Status)
	}

	// missing-form: retry_after 4h, max_attempts 3.
	at := now.Add(31 * time.Minute)
	for i := 1; i <= 3; i++ {
		if i > 1 {
			claim(tokWerkplaats, http.StatusOK)
		}
		tok := tokWerkplaats
		if i == 1 {
			tok = tokAdmin
		}
		cb := complete(tok, "no_answer", http.StatusOK)
		attempts := cb["attempts"].([]any)
		if len(attempts) != i {
			t.Fatalf("attempts = %d, want %d", len(attempts), i)
		}
		if i < 3 {
			if sugs, ok := h.get("/v1/inbox", tokCaseworker).JSON(t)["suggestions"].([]any); !ok || len(sugs) != 0 {
				t.Errorf("after %d no_answer: inbox suggestions = %v, want an empty list", i, sugs)
			}
			if cb["status"] != "open" {
				t.Fatalf("after %d no_answer: status %v", i, cb["status"])
			}
			due, _ := time.Parse(time.RFC3339Nano, cb["due"].(string))
			if !due.Equal(at.Add(4 * time.Hour)) {
				t.Errorf("due = %s, want %s", due, at.Add(4*time.Hour))
			}
			at = at.Add(4 * time.Hour)
			h.clock.Set(at)
			continue
		}
		if cb["status"] != "done" || cb["home_visit_suggested"] != true || cb["outcome"] != "unreachable" {
			t.Errorf("after 3 no_answer: %v", cb)
		}
		events := cb["events"].([]any)
		for _, e := range events {
			ev := e.(map[string]any)
			if ev["by"] == "" || ev["at"] == "" {
				t.Errorf("event without who/when: %v", ev)
			}
		}
	}
	v := h.nudgeView(nudge)
	found := false
	for _, n := range v["notes"].([]any) {
		found = found || n.(map[string]any)["code"] == "consider_home_visit"
	}
	if !found {
		t.Errorf("nudge notes lack consider_home_visit: %v", v["notes"])
	}
	// The case worker also finds the suggestion in the inbox, with the
	// nudge and the reason; the werkplaats has no access to the inbox.
	inbox := h.get("/v1/inbox", tokCaseworker).JSON(t)
	sugs, _ := inbox["suggestions"].([]any)
	if len(sugs) != 1 {
		t.Fatalf("inbox suggestions = %v, want one", inbox["suggestions"])
	}
	sug := sugs[0].(map[string]any)
	for k, want := range map[string]any{"code": "consider_home_visit", "nudge": nudge, "callback": id, "ref": "C-0302", "name": "Sanne de Vries", "flow": "missing-form"} {
		if sug[k] != want {
			t.Errorf("suggestion %s = %v, want %v", k, sug[k], want)
		}
	}
	if r, _ := sug["reason"].(string); !strings.Contains(r, "called 3 times without contact") || !strings.Contains(r, "home visit") {
		t.Errorf("suggestion reason = %q", r)
	}
	if _, ok := inbox["messages"].([]any); !ok {
		t.Errorf("inbox lost its messages list: %v", inbox)
	}
	if r := h.get("/v1/inbox", tokWerkplaats); r.Status != http.StatusForbidden {
		t.Errorf("werkplaats reads the inbox: %d", r.Status)
	}
	complete(tokWerkplaats, "reached", http.StatusConflict)
}

// Quiet hours: a nudge triggered on Saturday evening waits until Monday
// 09:00 (Sunday is closed), with a note; then it is sent.
func TestQuietHoursDeferThenSend(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"SEINTJE_QUIET_HOURS": "mon-sat 09:00-20:00"})
	loc := t3Amsterdam(t)
	// Saturday 26 October 2030, 21:30: clocks go back that night.
	h.clock.Set(time.Date(2030, 10, 26, 21, 30, 0, 0, loc))
	const phone = "+31612340303"
	id := h.nudge("hobby-income", phone, map[string]any{})
	var msg map[string]any
	eventually(t, "deferred status", func() bool {
		msg = messagesOf(h.nudgeView(id))[0]
		return msg["status"] == "deferred"
	})
	if !strings.Contains(msg["reason"].(string), "Mon 2030-10-28 09:00") {
		t.Errorf("reason = %q, want the next allowed moment Monday 09:00", msg["reason"])
	}
	// The note is written right after the status (outreach.hold).
	var notes []any
	eventually(t, "quiet-hours note", func() bool {
		notes, _ = h.nudgeView(id)["notes"].([]any)
		return len(notes) > 0
	})
	if len(notes) != 1 || notes[0].(map[string]any)["code"] != "deferred_quiet_hours" {
		t.Errorf("notes = %v", notes)
	}
	if n := len(h.sentTo(phone)); n != 0 {
		t.Fatalf("sent %d messages in quiet hours", n)
	}
	// Monday 09:00: the deferred send task runs (here: called directly, as
	// asynq holds it until the real Monday).
	h.clock.Set(time.Date(2030, 10, 28, 9, 0, 0, 0, loc))
	if err := h.app.Service.ProcessSend(context.Background(), tagOfNudge(id), msg["id"].(string)); err != nil {
		t.Fatal(err)
	}
	if n := len(h.sentTo(phone)); n != 1 {
		t.Fatalf("sent %d messages after quiet hours, want 1", n)
	}
	// A direct answer is not proactive: it goes out at once, even at night.
	h.clock.Set(time.Date(2030, 10, 28, 23, 0, 0, 0, loc))
	h.sms(phone, "2", "SM"+randHex(16))
	eventually(t, "answer at night", func() bool { return len(h.sentTo(phone)) == 2 })
}

func tagOfNudge(id string) string {
	tag, _, _ := strings.Cut(id, "-")
	return tag
}

// The weekly limit (2 here) counts proactive messages across flows in a
// rolling 7 days: the third is deferred (its step waits long enough), the
// fourth refused (its step would end first); both say why on the nudge.
func TestWeeklyLimitAcrossFlows(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"SEINTJE_WEEKLY_LIMIT": "2"})
	loc := t3Amsterdam(t)
	h.clock.Set(time.Date(2030, 3, 4, 10, 0, 0, 0, loc))
	const phone = "+31612340304"
	h.nudge("no-show", phone, map[string]any{"appointment_at": "2030-03-03T10:00:00+01:00"})
	eventually(t, "first", func() bool { return len(h.sentTo(phone)) == 1 })
	h.nudge("hobby-income", phone, map[string]any{})
	eventually(t, "second", func() bool { return len(h.sentTo(phone)) == 2 })
	third := h.nudge("missing-form", phone, map[string]any{"form": "het formulier", "due_date": "2030-03-25"})
	fourth := h.nudge("werkplaats", phone, map[string]any{"letter_date": "2030-03-20"})
	state := func(id string) (string, string) {
		m := messagesOf(h.nudgeView(id))[0]
		r, _ := m["reason"].(string)
		return m["status"].(string), r
	}
	eventually(t, "third deferred, fourth refused", func() bool {
		s3, _ := state(third)
		s4, _ := state(fourth)
		return s3 == "deferred" && s4 == "refused"
	})
	if _, r := state(third); !strings.Contains(r, "Mon 2030-03-11 10:00") {
		t.Errorf("third: reason %q, want deferred until a week after the first", r)
	}
	for id, code := range map[string]string{third: "deferred_weekly_limit", fourth: "refused_weekly_limit"} {
		notes := h.nudgeView(id)["notes"].([]any)
		if len(notes) == 0 || notes[len(notes)-1].(map[string]any)["code"] != code {
			t.Errorf("notes of %s = %v, want %s", id, notes, code)
		}
	}
	if n := len(h.sentTo(phone)); n != 2 {
		t.Errorf("sent %d, want 2", n)
	}
}

// callbacksOfNudge returns the werkplaats tasks listed on a nudge.
func callbacksOfNudge(v map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := v["callbacks"].([]any)
	for _, c := range list {
		out = append(out, c.(map[string]any))
	}
	return out
}

// A first message that fails at send time (the provider rejects it, or the
// retries run out) escalates like an undelivered status callback: exactly
// one werkplaats task when the flow says escalate.on_undelivered, none when
// it does not, and none for someone who unsubscribed (a note instead). Every path that
// reports the failure again keeps it at one.
func TestFirstMessageFailsAtSendEscalatesOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		flow     string
		vars     map[string]any
		fail     func(h *harness)
		wantCode float64
		wantTask bool
		wantNote string
	}{
		{name: "rejected 400/21211", flow: "no-show", vars: noShowVars(),
			fail: func(h *harness) { h.twilio.FailNext(1, http.StatusBadRequest, 21211) }, wantCode: 21211, wantTask: true},
		{name: "unsubscribed 400/21610", flow: "missing-form", vars: map[string]any{"form": "het formulier", "due_date": "2031-01-31"},
			// Unsubscribed: no call task, a note for the case worker instead.
			fail: func(h *harness) { h.twilio.FailNext(1, http.StatusBadRequest, 21610) }, wantCode: 21610, wantTask: false,
			wantNote: "not_reached_opted_out"},
		{name: "retries exhausted 503", flow: "hobby-income", vars: map[string]any{},
			fail: func(h *harness) { h.twilio.FailNext(50, http.StatusServiceUnavailable, 20500) }, wantCode: 20500, wantTask: true},
		{name: "flow without on_undelivered", flow: "werkplaats", vars: map[string]any{"letter_date": "2031-01-20"},
			fail: func(h *harness) { h.twilio.FailNext(1, http.StatusBadRequest, 21211) }, wantCode: 21211, wantTask: false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			phone := "+3161234041" + string(rune('0'+i))
			tt.fail(h)
			id := h.nudge(tt.flow, phone, tt.vars)
			var msg map[string]any
			eventually(t, "first message failed", func() bool {
				msg = messagesOf(h.nudgeView(id))[0]
				return msg["status"] == "failed"
			})
			if msg["error_code"] != tt.wantCode {
				t.Errorf("error_code = %v, want %v", msg["error_code"], tt.wantCode)
			}
			want := 0
			if tt.wantTask {
				want = 1
				eventually(t, "escalation task", func() bool { return len(callbacksOfNudge(h.nudgeView(id))) == 1 })
			}
			// Report the failure again on every path: a duplicate send task,
			// the retry give-up, a late status callback.
			ctx := context.Background()
			if err := h.app.Service.ProcessSend(ctx, tagOfNudge(id), msg["id"].(string)); err != nil {
				t.Fatal(err)
			}
			if err := h.app.Service.SendGaveUp(ctx, tagOfNudge(id), msg["id"].(string), nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			v := h.nudgeView(id)
			cbs := callbacksOfNudge(v)
			if len(cbs) != want {
				t.Fatalf("tasks on the nudge = %d, want %d: %v", len(cbs), want, cbs)
			}
			open, _ := h.get("/v1/callbacks?status=open", tokWerkplaats).JSON(t)["callbacks"].([]any)
			if len(open) != want {
				t.Errorf("open werkplaats tasks = %d, want %d", len(open), want)
			}
			if !tt.wantTask {
				if tt.wantNote != "" {
					found := false
					notes, _ := v["notes"].([]any)
					for _, n := range notes {
						found = found || n.(map[string]any)["code"] == tt.wantNote
					}
					if !found {
						t.Errorf("nudge notes lack %s: %v", tt.wantNote, v["notes"])
					}
				}
				return
			}
			if reason, _ := cbs[0]["reason"].(string); cbs[0]["kind"] != "escalation" || !strings.Contains(reason, "could not be delivered") {
				t.Errorf("task = %v, want an escalation because the first message could not be delivered", cbs[0])
			}
			noted := false
			notes, _ := v["notes"].([]any)
			for _, n := range notes {
				noted = noted || n.(map[string]any)["code"] == "callback_escalation"
			}
			if !noted {
				t.Errorf("nudge notes lack callback_escalation: %v", v["notes"])
			}
		})
	}
}

// A proactive message that never reached the person gives its weekly-limit
// slot back: with a limit of 2, after a failed first message two more
// nudges go out at once instead of the second one waiting a week.
func TestWeeklyLimitReleasesSlotOfFailedMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// fail makes the first message of nudge id (to phone) fail.
		before func(h *harness)
		after  func(t *testing.T, h *harness, id, phone string)
		sent   int // successful sends to phone in the end
	}{
		{name: "rejected at send (400/21211)",
			before: func(h *harness) { h.twilio.FailNext(1, http.StatusBadRequest, 21211) },
			sent:   2},
		{name: "delivery report undelivered (30003)",
			after: func(t *testing.T, h *harness, id, phone string) {
				req := h.waitSMS(t, 1, 5*time.Second)[0]
				eventually(t, "queued", func() bool { return messagesOf(h.nudgeView(id))[0]["status"] == "queued" })
				if r := h.status(req.SID, phone, "undelivered", 30003); r.Status >= 300 {
					t.Fatalf("status callback: %d %s", r.Status, r.Body)
				}
			},
			sent: 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, map[string]string{"SEINTJE_WEEKLY_LIMIT": "2"})
			h.clock.Set(time.Date(2030, 3, 4, 10, 0, 0, 0, t3Amsterdam(t)))
			phone := "+3161234042" + string(rune('0'+i))
			if tt.before != nil {
				tt.before(h)
			}
			first := h.nudge("no-show", phone, map[string]any{"appointment_at": "2030-03-03T10:00:00+01:00"})
			if tt.after != nil {
				tt.after(t, h, first, phone)
			}
			// The escalation (no-show: on_undelivered) comes after the release.
			eventually(t, "first message failed and escalated", func() bool {
				st := messagesOf(h.nudgeView(first))[0]["status"]
				return (st == "failed" || st == "undelivered") && len(callbacksOfNudge(h.nudgeView(first))) == 1
			})
			second := h.nudge("hobby-income", phone, map[string]any{})
			third := h.nudge("missing-form", phone, map[string]any{"form": "het formulier", "due_date": "2030-03-25"})
			eventually(t, "second and third sent", func() bool { return len(h.sentTo(phone)) == tt.sent })
			for _, id := range []string{second, third} {
				if st := messagesOf(h.nudgeView(id))[0]["status"]; st == "deferred" || st == "refused" {
					t.Errorf("nudge %s: first message %v, want sent (the failed message's slot is free)", id, st)
				}
			}
			// The limit still holds for the two that arrived.
			fourth := h.nudge("werkplaats", phone, map[string]any{"letter_date": "2030-03-20"})
			eventually(t, "fourth held", func() bool {
				st := messagesOf(h.nudgeView(fourth))[0]["status"]
				return st == "deferred" || st == "refused"
			})
		})
	}
}

// The claim time comes from SEINTJE_CLAIM_TTL (default 30 minutes).
func TestClaimTTLFromConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  string
		want time.Duration
	}{
		{name: "default", env: "", want: 30 * time.Minute},
		{name: "10m", env: "10m", want: 10 * time.Minute},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if tt.env != "" {
				env["SEINTJE_CLAIM_TTL"] = tt.env
			}
			h := newHarness(t, env)
			now := time.Date(2031, 1, 6, 10, 0, 0, 0, t3Amsterdam(t))
			h.clock.Set(now)
			_, id := t3Callback(t, h, "+3161234043"+string(rune('0'+i)))
			r := h.postJSON("/v1/callbacks/"+id+"/claim", tokWerkplaats, map[string]any{}, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("claim: %d %s", r.Status, r.Body)
			}
			raw, _ := r.JSON(t)["claimed_until"].(string)
			until, err := time.Parse(time.RFC3339Nano, raw)
			if err != nil || !until.Equal(now.Add(tt.want)) {
				t.Errorf("claimed_until = %v (%v), want %s", until, err, now.Add(tt.want))
			}
		})
	}
}
