package app_test

// Reliability promises (docs/reliability.md): a text is processed exactly
// once even when it was stored but its processing never finished; a nudge
// whose messages were never queued gets them queued (by a repeated
// trigger or the recovery pass); a reply goes to the conversation the
// person saw.

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/store"
)

// firstOut waits until the first message of nudge id was handed to the
// provider and returns the view.
func (h *harness) waitHandedOver(id string) map[string]any {
	h.t.Helper()
	var v map[string]any
	eventually(h.t, "first message of "+id+" sent", func() bool {
		v = h.nudgeView(id)
		for _, m := range messagesOf(v) {
			if m["direction"] == "out" && m["status"] != "pending" && m["status"] != "deferred" {
				return true
			}
		}
		return false
	})
	return v
}

// storeOnly stores a text as the webhook does, and stops there: a crash
// right after storing it.
func (h *harness) storeOnly(from, body, sid string) store.Message {
	h.t.Helper()
	now := time.Now()
	tag := h.app.Service.Keyer.Hash("phone", from)
	m := store.Message{ID: store.NewID(now), Tag: tag, Dir: "in", Channel: "sms", At: now, Body: body, Kind: "reply", ProviderID: sid}
	if _, err := h.app.Store.StoreInbound(context.Background(), m, from, now, outreach.LateReplyWindow); err != nil {
		h.t.Fatalf("store inbound: %v", err)
	}
	return m
}

func routesOf(v map[string]any) []string {
	var out []string
	for _, m := range messagesOf(v) {
		if m["direction"] == "in" {
			out = append(out, fmt.Sprint(m["body"], "→", m["route"]))
		}
	}
	return out
}

func TestRedeliveryOfAStoredButUnprocessedTextIsProcessedOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.nudge("no-show", phoneSanne, noShowVars())
	h.waitHandedOver(id)

	// Seintje stored "2" and crashed before routing it.
	h.storeOnly(phoneSanne, "2", "SM000000000000000000000000000rel01")
	if v := h.nudgeView(id); v["state"] != "waiting" {
		t.Fatalf("state after the crash = %v, want waiting", v["state"])
	}
	// Twilio delivers it again: it is processed now.
	if r := h.sms(phoneSanne, "2", "SM000000000000000000000000000rel01"); r.Status != http.StatusOK {
		t.Fatalf("re-delivery: %d %s", r.Status, r.Body)
	}
	v := h.nudgeView(id)
	if v["state"] != "ended" || v["outcome"] == "" {
		t.Fatalf("after the re-delivery: state %v outcome %v, want ended with the callback", v["state"], v["outcome"])
	}
	cbs, _ := v["callbacks"].([]any)
	if len(cbs) != 1 {
		t.Fatalf("callbacks = %v, want 1", v["callbacks"])
	}
	if got := routesOf(v); len(got) != 1 {
		t.Fatalf("inbound texts in the transcript = %v, want the one", got)
	}
	// A third delivery of the processed text changes nothing.
	before := len(messagesOf(v))
	if r := h.sms(phoneSanne, "2", "SM000000000000000000000000000rel01"); r.Status != http.StatusOK {
		t.Fatalf("third delivery: %d", r.Status)
	}
	time.Sleep(100 * time.Millisecond)
	v = h.nudgeView(id)
	if n := len(messagesOf(v)); n != before {
		t.Errorf("a duplicate changed the transcript: %d messages, want %d", n, before)
	}
	if cbs, _ := v["callbacks"].([]any); len(cbs) != 1 {
		t.Errorf("a duplicate made another callback: %v", v["callbacks"])
	}
}

func TestRecoveryPassProcessesAStrandedText(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.nudge("no-show", phoneSanne, noShowVars())
	h.waitHandedOver(id)
	h.storeOnly(phoneSanne, "2", "SM000000000000000000000000000rel02")

	res, err := h.app.Service.Recover(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Processed != 1 {
		t.Errorf("recovery processed %d texts, want 1 (%+v)", res.Processed, res)
	}
	if v := h.nudgeView(id); v["state"] != "ended" {
		t.Fatalf("state = %v, want ended", v["state"])
	}
	// The answer to the text was queued by the pass and goes out.
	eventually(t, "the answer to the recovered text", func() bool { return len(h.sentTo(phoneSanne)) == 2 })
	// A second pass finds nothing.
	if res, err := h.app.Service.Recover(context.Background(), 0); err != nil || res.Processed+res.Queued != 0 {
		t.Errorf("second pass = %+v, %v; want nothing to do", res, err)
	}
}

// brokenQueue fails every enqueue while fail is set: a crash (or a Redis
// error) right after a change was stored.
type brokenQueue struct {
	outreach.Queue
	fail *atomic.Bool
}

func (q brokenQueue) err() error {
	if q.fail.Load() {
		return fmt.Errorf("injected: queue unavailable")
	}
	return nil
}

func (q brokenQueue) EnqueueSend(ctx context.Context, tag, msgID string, at time.Time) error {
	if err := q.err(); err != nil {
		return err
	}
	return q.Queue.EnqueueSend(ctx, tag, msgID, at)
}

func (q brokenQueue) EnqueueSendIndexed(ctx context.Context, tag, msgID string, ix []store.IndexOp) error {
	if err := q.err(); err != nil {
		return err
	}
	return q.Queue.EnqueueSendIndexed(ctx, tag, msgID, ix)
}

func (q brokenQueue) EnqueueTimerOf(ctx context.Context, tag, cid, kind string, seq, index int, at time.Time) error {
	if err := q.err(); err != nil {
		return err
	}
	return q.Queue.EnqueueTimerOf(ctx, tag, cid, kind, seq, index, at)
}

func TestStrandedNudgeIsSentByTheRepeatedTriggerOrTheRecoveryPass(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	h := newHarness(t, nil, func(h *harness) {
		h.opts = app.Options{WrapQueue: func(q outreach.Queue) outreach.Queue { return brokenQueue{Queue: q, fail: &fail} }}
	})
	const other = "+31687650001"

	fail.Store(true)
	first := h.nudge("no-show", phoneSanne, noShowVars())
	second := h.nudge("no-show", other, noShowVars())
	time.Sleep(200 * time.Millisecond)
	if n := len(h.twilio.Requests()); n != 0 {
		t.Fatalf("sent %d messages while the queue failed", n)
	}
	fail.Store(false)

	// The case system retries the same request: the nudge goes out.
	r := h.postJSON("/v1/nudges", tokCaseworker, nudgeBody("no-show", phoneSanne, noShowVars()), nil)
	if r.Status != http.StatusAccepted || r.JSON(t)["id"] != first || r.JSON(t)["existing"] != true {
		t.Fatalf("repeated trigger: %d %s", r.Status, r.Body)
	}
	eventually(t, "the stranded nudge sent after the repeated trigger", func() bool { return len(h.sentTo(phoneSanne)) == 1 })

	// Nobody retries the other one: the recovery pass queues it.
	res, err := h.app.Service.Recover(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Queued != 1 {
		t.Errorf("recovery queued %d, want 1 (%+v)", res.Queued, res)
	}
	eventually(t, "the stranded nudge sent after the recovery pass", func() bool { return len(h.sentTo(other)) == 1 })
	h.waitHandedOver(second)
	// Exactly once: a second pass and a third trigger send nothing more.
	if _, err := h.app.Service.Recover(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	h.postJSON("/v1/nudges", tokCaseworker, nudgeBody("no-show", other, noShowVars()), nil)
	time.Sleep(300 * time.Millisecond)
	if a, b := len(h.sentTo(phoneSanne)), len(h.sentTo(other)); a != 1 || b != 1 {
		t.Errorf("sent %d and %d messages, want 1 each", a, b)
	}
	if n, err := h.app.Store.PendingCount(context.Background()); err != nil || n != 0 {
		t.Errorf("pending pointers left: %d (%v)", n, err)
	}
}

// A person with two waiting conversations, the newer one's message held
// back by the weekly limit, answers "2": the answer belongs to the one they
// saw.
func TestReplyGoesToTheConversationThePersonSaw(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"SEINTJE_WEEKLY_LIMIT": "1"})
	seen := h.nudge("no-show", phoneSanne, noShowVars())
	h.waitHandedOver(seen)
	held := h.nudge("missing-form", phoneSanne, map[string]any{"form": "het formulier", "due_date": "2026-12-10"})
	eventually(t, "the second message held back", func() bool {
		for _, m := range messagesOf(h.nudgeView(held)) {
			if m["direction"] == "out" && m["status"] != "pending" {
				return true
			}
		}
		return false
	})
	if n := len(h.sentTo(phoneSanne)); n != 1 {
		t.Fatalf("sent %d messages, want only the first (weekly limit 1)", n)
	}

	h.sms(phoneSanne, "2", "SM000000000000000000000000000rel10")
	if v := h.nudgeView(seen); v["state"] != "ended" || len(v["callbacks"].([]any)) != 1 {
		t.Fatalf("the conversation the person saw: state %v callbacks %v; want ended with a callback", v["state"], v["callbacks"])
	}
	if v := h.nudgeView(held); v["state"] != "waiting" || len(routesOf(v)) != 0 {
		t.Fatalf("the held-back conversation got the reply: state %v routes %v", v["state"], routesOf(v))
	}
}

// A late "2" just after its own conversation ended is filed there as a
// late reply, never routed into an older waiting conversation.
func TestLateReplyStaysWithItsOwnConversation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	older := h.nudge("missing-form", phoneSanne, map[string]any{"form": "het formulier", "due_date": "2026-12-10"})
	h.waitHandedOver(older)
	time.Sleep(5 * time.Millisecond)
	newer := h.nudge("no-show", phoneSanne, noShowVars())
	h.waitHandedOver(newer)

	h.sms(phoneSanne, "1", "SM000000000000000000000000000rel20") // new appointment: ends the newer one
	if v := h.nudgeView(newer); v["state"] != "ended" {
		t.Fatalf("newer conversation: %v, want ended after 1", v["state"])
	}
	h.sms(phoneSanne, "2", "SM000000000000000000000000000rel21") // late
	v := h.nudgeView(newer)
	got := routesOf(v)
	if len(got) != 2 || got[1] != "2→(late)" {
		t.Errorf("newer conversation's replies = %v, want the late 2 filed as (late)", got)
	}
	if o := h.nudgeView(older); o["state"] != "waiting" || len(routesOf(o)) != 0 || o["callbacks"] != nil {
		t.Errorf("older conversation took the late reply: state %v routes %v callbacks %v", o["state"], routesOf(o), o["callbacks"])
	}
	// The case worker sees it in the inbox.
	found := false
	eventually(t, "the late reply in the inbox", func() bool {
		for _, it := range h.get("/v1/inbox", tokCaseworker).JSON(t)["messages"].([]any) {
			if m := it.(map[string]any); m["body"] == "2" && m["nudge"] == newer {
				found = true
			}
		}
		return found
	})
}

// waitSMS waits until the fake Twilio accepted n messages and Seintje
// recorded each as handed over (a reply belongs to a conversation only
// from then on).
func (h *harness) waitSMS(t testing.TB, n int, timeout time.Duration) []twiliotest.Request {
	t.Helper()
	reqs := h.twilio.WaitForRequests(t, n, timeout)
	eventually(t, "sent messages recorded", func() bool {
		for _, r := range reqs {
			if r.HTTPStatus != http.StatusCreated {
				continue
			}
			mid, err := h.app.Store.MessageOfProvider(context.Background(), h.app.Service.Keyer.Hash("phone", r.To), r.SID)
			if err != nil || mid == "" {
				return false
			}
		}
		return true
	})
	return reqs
}
