package app_test

// Events to the case system (docs/events.md), on real Redis, delivered to
// a case system on loopback that checks every signature.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/events"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/store"
)

const eventsSecret = "zaken-signing-secret-0123456789"

// caseSystem is a case system's event receiver: it verifies the
// signature of every request, keeps what it accepted, and can be told to
// answer 500 for a while (an outage).
type caseSystem struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	failNext int // answer 500 to this many requests; -1: until told otherwise
	got      []events.CloudEvent
	raw      []string
	requests map[string]int // event id → requests seen (accepted or not)
	unsigned int            // requests whose signature did not verify
}

func newCaseSystem(t *testing.T) *caseSystem {
	cs := &caseSystem{t: t, requests: map[string]int{}}
	cs.srv = httptest.NewServer(http.HandlerFunc(cs.serve))
	t.Cleanup(cs.srv.Close)
	return cs
}

func (cs *caseSystem) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if err := events.Verify([]byte(eventsSecret), body, r.Header.Get(events.SignatureHeader), time.Now(), events.DefaultTolerance); err != nil {
		cs.unsigned++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/cloudevents+json") {
		cs.t.Errorf("Content-Type %q, want application/cloudevents+json", ct)
	}
	var ev events.CloudEvent
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		cs.t.Errorf("event is not the documented CloudEvent: %v: %s", err, body)
	}
	cs.requests[ev.ID]++
	if cs.failNext != 0 {
		if cs.failNext > 0 {
			cs.failNext--
		}
		http.Error(w, "case system down", http.StatusInternalServerError)
		return
	}
	cs.got = append(cs.got, ev)
	cs.raw = append(cs.raw, string(body))
	w.WriteHeader(http.StatusNoContent)
}

func (cs *caseSystem) fail(n int) {
	cs.mu.Lock()
	cs.failNext = n
	cs.mu.Unlock()
}

// ofType returns the accepted events of type typ (without prefix).
func (cs *caseSystem) ofType(typ string) []events.CloudEvent {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []events.CloudEvent
	for _, e := range cs.got {
		if e.Type == events.TypePrefix+typ {
			out = append(out, e)
		}
	}
	return out
}

func (cs *caseSystem) wait(t *testing.T, typ string) events.CloudEvent {
	t.Helper()
	var ev events.CloudEvent
	eventually(t, "event "+typ, func() bool {
		got := cs.ofType(typ)
		if len(got) > 0 {
			ev = got[0]
		}
		return len(got) > 0
	})
	return ev
}

// eventsEnv subscribes the case system cs to types (empty: all).
func eventsEnv(cs *caseSystem, types string, extra map[string]string) map[string]string {
	env := map[string]string{
		"SEINTJE_EVENTS_SUBSCRIBERS":  "zaken",
		"SEINTJE_EVENTS_ZAKEN_URL":    cs.srv.URL + "/seintje-events",
		"SEINTJE_EVENTS_ZAKEN_SECRET": eventsSecret,
		"SEINTJE_EVENTS_ZAKEN_TYPES":  types,
		"SEINTJE_EVENTS_RETRY_BASE":   "20ms",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// A case worker's nudge is handed over, delivered, answered with a request
// to be called, and the person then sends STOP: the case system hears
// each step, signed, by case reference and nudge id, never a phone number
// or a message text.
func TestEventsTellTheCaseSystemWhatHappens(t *testing.T) {
	t.Parallel()
	cs := newCaseSystem(t)
	h := newHarness(t, eventsEnv(cs, "", nil))
	const phone = "+31612349901"
	id := h.nudge("missing-form", phone, map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	h.waitHandedOver(id)

	sent := cs.wait(t, events.MessageSent)
	if sent.SpecVersion != "1.0" || sent.Source != testPublicURL || sent.Subject != id || sent.DataContentType != "application/json" {
		t.Errorf("message.sent envelope = %+v", sent)
	}
	if sent.Data.Nudge != id || sent.Data.Ref != "C-9901" || sent.Data.Flow != "missing-form" || sent.Data.Channel != "sms" || sent.Data.Message == "" {
		t.Errorf("message.sent data = %+v, want nudge %s, ref C-9901, flow missing-form, channel sms, a message id", sent.Data, id)
	}

	req := h.twilio.Requests()[0]
	if r := h.status(req.SID, phone, "delivered", 0); r.Status/100 != 2 {
		t.Fatalf("status callback: %d %s", r.Status, r.Body)
	}
	if d := cs.wait(t, events.MessageDelivered); d.Data.Message != sent.Data.Message || d.Data.Status != "delivered" || d.Data.Ref != "C-9901" {
		t.Errorf("message.delivered data = %+v", d.Data)
	}

	if r := h.sms(phone, "2", "SM"+randHex(16)); r.Status/100 != 2 {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	if e := cs.wait(t, events.NudgeReplied); e.Data.Nudge != id || e.Data.Ref != "C-9901" {
		t.Errorf("nudge.replied data = %+v", e.Data)
	}
	cb := cs.wait(t, events.CallbackRequested)
	if cb.Data.Nudge != id || cb.Data.Callback == "" {
		t.Errorf("nudge.callback_requested data = %+v, want the werkplaats task id", cb.Data)
	}

	// The werkplaats calls and reaches the person.
	if r := h.postJSON("/v1/callbacks/"+cb.Data.Callback+"/claim", tokWerkplaats, map[string]any{}, nil); r.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}
	if r := h.postJSON("/v1/callbacks/"+cb.Data.Callback+"/complete", tokWerkplaats, map[string]any{"outcome": "reached", "note": "belt terug om 3 uur"}, nil); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	if e := cs.wait(t, events.CallbackOutcome); e.Data.Callback != cb.Data.Callback || e.Data.Status != "reached" || e.Data.Ref != "C-9901" || e.Data.Nudge != id {
		t.Errorf("callback.outcome data = %+v", e.Data)
	}

	eventually(t, "the answer handed over", func() bool { return len(h.sentTo(phone)) >= 2 })
	if r := h.sms(phone, "STOP", "SM"+randHex(16)); r.Status/100 != 2 {
		t.Fatalf("STOP: %d %s", r.Status, r.Body)
	}
	if e := cs.wait(t, events.OptedOut); e.Data.Ref != "C-9901" || e.Data.Channel != "sms" {
		t.Errorf("recipient.opted_out data = %+v", e.Data)
	}

	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.unsigned > 0 {
		t.Errorf("%d deliveries did not verify", cs.unsigned)
	}
	ids := map[string]bool{}
	for i, raw := range cs.raw {
		for _, secret := range []string{phone, phone[1:], "12349901", "formulier", "STOP", "belt terug"} {
			if strings.Contains(raw, secret) {
				t.Errorf("event %d holds %q (a phone number or message text): %s", i, secret, raw)
			}
		}
		if ids[cs.got[i].ID] {
			t.Errorf("event id %s delivered twice", cs.got[i].ID)
		}
		ids[cs.got[i].ID] = true
	}
}

// The case system is down for three attempts: the fourth, after
// exponential backoff, gets the event; the subscriber's type filter holds.
func TestEventsRetriedUntilTheCaseSystemRecovers(t *testing.T) {
	t.Parallel()
	cs := newCaseSystem(t)
	cs.fail(3)
	h := newHarness(t, eventsEnv(cs, events.MessageSent, nil))
	const phone = "+31612349902"
	id := h.nudge("missing-form", phone, map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	ev := cs.wait(t, events.MessageSent)
	if ev.Data.Nudge != id {
		t.Errorf("event for nudge %s, want %s", ev.Data.Nudge, id)
	}
	cs.mu.Lock()
	n := cs.requests[ev.ID]
	others := len(cs.got) - 1
	cs.mu.Unlock()
	if n != 4 {
		t.Errorf("the event took %d requests, want 4 (3 answered 500, then delivered)", n)
	}
	if others != 0 {
		t.Errorf("%d other events delivered; the subscriber takes only message.sent", others)
	}
	// The worker counts the delivery after the receiver answered: wait for it.
	wants := []string{`seintje_event_deliveries_total{result="retry",subscriber="zaken"} 3`,
		`seintje_event_deliveries_total{result="delivered",subscriber="zaken"} 1`}
	eventually(t, "delivery counters", func() bool {
		m := string(h.get("/metrics", "").Body)
		for _, want := range wants {
			if !strings.Contains(m, want) {
				return false
			}
		}
		return true
	})
}

// The case system stays down for the whole retry period: the delivery
// becomes a dead letter. The admin sees it, replays it when the case
// system is back, and the replay is in the audit trail.
func TestEventsDeadLetterAndReplay(t *testing.T) {
	t.Parallel()
	cs := newCaseSystem(t)
	cs.fail(-1)
	h := newHarness(t, eventsEnv(cs, events.MessageSent, map[string]string{"SEINTJE_EVENTS_RETRY_FOR": "1s"}))
	const phone = "+31612349903"
	id := h.nudge("missing-form", phone, map[string]any{"form": "het formulier", "due_date": "2031-01-31"})

	var dl map[string]any
	eventually(t, "a dead letter", func() bool {
		list := h.get("/v1/events/dead-letters", tokAdmin).JSON(t)["dead_letters"].([]any)
		if len(list) == 1 {
			dl = list[0].(map[string]any)
		}
		return dl != nil
	})
	if dl["subscriber"] != "zaken" || dl["type"] != events.MessageSent || dl["nudge"] != id || dl["last_status"] != float64(500) {
		t.Errorf("dead letter = %v", dl)
	}
	if a := dl["attempts"].(float64); a < 3 {
		t.Errorf("dead after %v attempts, want several (exponential backoff within the period)", a)
	}
	if r := h.get("/v1/events/dead-letters", tokCaseworker); r.Status != http.StatusForbidden || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("a case worker reads dead letters: %d %s", r.Status, r.Body)
	}
	eventually(t, "seintje_event_dead_letters 1 in /metrics", func() bool {
		return strings.Contains(string(h.get("/metrics", "").Body), "seintje_event_dead_letters 1")
	})

	cs.fail(0) // the case system is back
	r := h.postJSON("/v1/events/dead-letters/"+dl["id"].(string)+"/replay", tokAdmin, map[string]any{}, nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	ev := cs.wait(t, events.MessageSent)
	if ev.ID != dl["event_id"] {
		t.Errorf("replayed event id %s, want the original %v", ev.ID, dl["event_id"])
	}
	if list := h.get("/v1/events/dead-letters", tokAdmin).JSON(t)["dead_letters"].([]any); len(list) != 0 {
		t.Errorf("dead letters after the replay: %v", list)
	}
	again := h.postJSON("/v1/events/dead-letters/"+dl["id"].(string)+"/replay", tokAdmin, map[string]any{}, nil)
	if again.Status != http.StatusNotFound || again.JSON(t)["code"] != "not_found" {
		t.Errorf("second replay: %d %s, want 404 not_found", again.Status, again.Body)
	}
	trail := h.get("/v1/audit?action=event_replay", tokAdmin).JSON(t)["entries"].([]any)
	if len(trail) != 1 {
		t.Fatalf("audit entries for the replay: %v", trail)
	}
	if e := trail[0].(map[string]any); e["actor"] != "ad" || e["nudge"] != id || !strings.Contains(e["detail"].(string), "zaken") {
		t.Errorf("audit entry = %v", e)
	}
}

// failingEvents fails to queue events a number of times: a crash or a
// Redis error right after the change was stored.
type failingEvents struct {
	outreach.Events
	fail *atomic.Int32
}

func (f failingEvents) Enqueue(ctx context.Context, evs []store.CaseEvent) error {
	if f.fail.Add(-1) >= 0 {
		return errors.New("injected: queueing events failed")
	}
	return f.Events.Enqueue(ctx, evs)
}

// Queueing the event fails right after the reply was committed: the event
// waits in the recipient's outbox, written by the same script as the
// reply, and the recovery pass delivers it.
func TestEventsSurviveAFailureAfterTheChange(t *testing.T) {
	t.Parallel()
	cs := newCaseSystem(t)
	var fail atomic.Int32
	h := newHarness(t, eventsEnv(cs, events.NudgeReplied, nil), func(h *harness) {
		h.opts = app.Options{RecoverEvery: 50 * time.Millisecond, RecoverGrace: 10 * time.Millisecond,
			WrapEvents: func(e outreach.Events) outreach.Events { return failingEvents{Events: e, fail: &fail} }}
	})
	const phone = "+31612349904"
	id := h.nudge("missing-form", phone, map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	h.waitHandedOver(id)
	fail.Store(1000) // every try fails until the recovery pass is let through
	if r := h.sms(phone, "1", "SM"+randHex(16)); r.Status/100 != 2 {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	eventually(t, "the queueing failed", func() bool { return fail.Load() < 1000 })
	n, err := h.app.Store.PendingCount(context.Background())
	if err != nil || n == 0 {
		t.Fatalf("pending outbox entries = %d (%v), want the reply's entry kept", n, err)
	}
	fail.Store(0)
	if e := cs.wait(t, events.NudgeReplied); e.Data.Nudge != id {
		t.Errorf("nudge.replied for %s, want %s", e.Data.Nudge, id)
	}
}

// A case worker ends a conversation: the case system hears it ended, with
// the outcome.
func TestEventsNudgeEndedByCaseworker(t *testing.T) {
	t.Parallel()
	cs := newCaseSystem(t)
	h := newHarness(t, eventsEnv(cs, events.NudgeEnded, nil))
	id := h.nudge("missing-form", "+31612349905", map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	h.waitHandedOver(id)
	if err := h.app.Service.EndNudge(context.Background(), id, "anne"); err != nil {
		t.Fatal(err)
	}
	if e := cs.wait(t, events.NudgeEnded); e.Data.Nudge != id || e.Data.Status != "ended_by_caseworker" || e.Data.Ref != "C-9905" {
		t.Errorf("nudge.ended data = %+v", e.Data)
	}
}

// The provider refuses a message because the person unsubscribed there
// (Twilio 21610): the case system hears the opt-out and the failed
// message, with the provider's code.
func TestEventsProviderOptOut(t *testing.T) {
	t.Parallel()
	cs := newCaseSystem(t)
	h := newHarness(t, eventsEnv(cs, events.OptedOut+","+events.MessageFailed, nil))
	h.twilio.FailNext(1, 400, 21610)
	id := h.nudge("missing-form", "+31612349906", map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	if e := cs.wait(t, events.OptedOut); e.Data.Ref != "C-9906" || e.Data.Nudge != id || e.Data.Status != "opted_out_at_provider" || e.Data.Channel != "sms" {
		t.Errorf("recipient.opted_out data = %+v", e.Data)
	}
	if e := cs.wait(t, events.MessageFailed); e.Data.Code != 21610 || e.Data.Status != "failed" || e.Data.Nudge != id {
		t.Errorf("message.failed data = %+v", e.Data)
	}
}

// A batch is done when every valid row was handed over: the case system is
// told once (batch.done, with the batch id). When queueing the event fails
// right after the batch ended, the mark written with the state change
// stays and the batch recovery pass tells it; a second pass tells nothing
// more.
func TestEventsBatchDone(t *testing.T) {
	t.Parallel()
	cs := newCaseSystem(t)
	var fail atomic.Int32
	h := newHarness(t, eventsEnv(cs, events.BatchDone, nil), func(h *harness) {
		h.opts = app.Options{WrapEvents: func(e outreach.Events) outreach.Events { return failingEvents{Events: e, fail: &fail} }}
	})
	ctx := context.Background()
	post := func(phone string) string {
		t.Helper()
		items := []map[string]any{{
			"recipient":  map[string]any{"ref": "B-" + phone[len(phone)-4:], "phone": phone, "name": "Sam"},
			"vars":       map[string]any{"appointment_at": "2026-11-20T10:00:00+01:00"},
			"caseworker": map[string]any{"name": "Ahmed"},
		}}
		r := h.postJSON("/v1/batches", tokCaseworker, map[string]any{"flow": "no-show", "items": items, "start": true}, nil)
		if r.Status != http.StatusCreated {
			t.Fatalf("create batch: %d %s", r.Status, r.Body)
		}
		return batchOf(t, r.JSON(t))["id"].(string)
	}

	id := post("+31612349911")
	h.waitBatch(id, "done")
	ev := cs.wait(t, events.BatchDone)
	if ev.Data.Batch != id || ev.Subject != id || ev.Data.Flow != "no-show" || ev.Data.Status != "done" || ev.Data.Nudge != "" {
		t.Errorf("batch.done = %+v (subject %q)", ev.Data, ev.Subject)
	}

	fail.Store(1000) // queueing fails until let through
	id2 := post("+31612349912")
	h.waitBatch(id2, "done")
	eventually(t, "the queueing failed", func() bool { return fail.Load() < 1000 })
	if n := len(cs.ofType(events.BatchDone)); n != 1 {
		t.Fatalf("%d batch.done events while queueing fails, want only the first batch's", n)
	}
	fail.Store(0)
	for range 2 {
		if err := h.app.Batches.Recover(ctx); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "batch.done for the second batch", func() bool { return len(cs.ofType(events.BatchDone)) == 2 })
	if got := cs.ofType(events.BatchDone)[1]; got.Data.Batch != id2 {
		t.Errorf("second batch.done for %q, want %q", got.Data.Batch, id2)
	}
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive by now
	if n := len(cs.ofType(events.BatchDone)); n != 2 {
		t.Errorf("%d batch.done events, want 2 (one per batch)", n)
	}
}
