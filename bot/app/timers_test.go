package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/seintje/seintje/bot/store"
)

// timersOf returns the pending timers of conversation cid.
func (h *harness) timersOf(cid string) []store.Timer {
	h.t.Helper()
	all, err := h.app.Store.NextTimers(context.Background(), 10000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []store.Timer
	for _, t := range all {
		if t.Conv == cid {
			out = append(out, t)
		}
	}
	return out
}

// makeDue moves timer t to now, as if its moment had come.
func (h *harness) makeDue(t store.Timer) {
	h.t.Helper()
	ctx := context.Background()
	if err := h.app.Store.RemoveTimers(ctx, []store.Timer{t}); err != nil {
		h.t.Fatal(err)
	}
	t.At = time.Now().Add(-time.Second)
	if err := h.app.Store.AddTimers(ctx, []store.Timer{t}); err != nil {
		h.t.Fatal(err)
	}
}

// A new nudge's timers wait in the timer sets (not as queued tasks), and a
// timer whose conversation is gone or moved on fires harmlessly: it is
// taken out of the sets, its task succeeds (nothing left to retry) and the
// conversation does not change.
func TestTimersOfGoneOrStaleConversationsFireHarmlessly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	erased := h.nudge("no-show", phoneSanne, noShowVars())
	answered := h.nudge("no-show", "+31687650002", noShowVars())
	h.waitSMS(t, 2, 20*time.Second)
	for _, id := range []string{erased, answered} {
		if ts := h.timersOf(id); len(ts) == 0 {
			t.Fatalf("nudge %s: no timers in the timer sets", id)
		}
	}
	insp := asynq.NewInspectorFromRedisClient(h.rdb)
	if qi, err := insp.GetQueueInfo(h.prefix); err == nil && qi.Scheduled != 0 {
		t.Errorf("%d tasks scheduled in the queue; timers belong in the timer sets", qi.Scheduled)
	}
	erasedTimers := h.timersOf(erased)
	if r := h.do(http.MethodDelete, "/v1/recipients/C-5678", tokAdmin, "", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("erase: %d %s", r.Status, r.Body)
	}
	h.sms("+31687650002", "2", "SM00000000000000000000000000000t01")
	eventually(t, "the answered nudge ended", func() bool { return h.nudgeView(answered)["state"] == "ended" })
	answeredTimers := h.timersOf(answered)
	before := h.nudgeView(answered)

	tests := []struct {
		name   string
		timers []store.Timer
	}{
		{"erased recipient", erasedTimers},
		{"conversation that ended", answeredTimers},
		{"conversation never stored (a refused create)", []store.Timer{
			{Tag: "0123456789abcdef01234567", Conv: "0123456789abcdef01234567-0000000000000000", Seq: 1, At: time.Now()},
			{Tag: "0123456789abcdef01234567", Conv: "0123456789abcdef01234567-0000000000000000", Kind: "expire", At: time.Now()}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.timers) == 0 {
				t.Fatal("no timers to fire")
			}
			for _, tm := range tc.timers {
				h.makeDue(tm)
			}
			eventually(t, "the timers moved and run", func() bool {
				if len(h.timersOf(tc.timers[0].Conv)) > 0 {
					return false
				}
				qi, err := insp.GetQueueInfo(h.prefix)
				return err == nil && qi.Pending+qi.Active+qi.Scheduled == 0
			})
			if qi, err := insp.GetQueueInfo(h.prefix); err != nil || qi.Retry+qi.Archived != 0 {
				t.Fatalf("queue after the timers ran: %+v, %v; want no failed task", qi, err)
			}
		})
	}
	after := h.nudgeView(answered)
	if after["state"] != before["state"] || len(messagesOf(after)) != len(messagesOf(before)) {
		t.Errorf("ended nudge changed by its old timers: %v → %v", before["state"], after["state"])
	}
	if r := h.get("/v1/nudges/"+erased, tokCaseworker); r.Status != http.StatusNotFound {
		t.Errorf("erased nudge readable after its timers fired: %d", r.Status)
	}
}
