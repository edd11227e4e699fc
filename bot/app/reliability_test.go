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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/recipient"
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

// A delivery report's follow-up (the escalation of an undelivered first
// message; the opt-out bookkeeping of Twilio's 21610) is stored by the
// script that records the status. Seintje dies right after that script
// (the webhook never answered, and Twilio does not retry): the recovery
// pass runs the follow-up, once.
func TestStatusFollowUpSurvivesACrashAfterTheStatusChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		code     int
		optOut   bool
		wantTask bool
	}{
		{name: "undelivered 30003 escalates", code: 30003, wantTask: true},
		{name: "undelivered 21610 opts out, no call", code: 21610, optOut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := newHarness(t, nil)
			id := h.nudge("no-show", phoneSanne, noShowVars())
			req := h.waitSMS(t, 1, 5*time.Second)[0]
			h.waitHandedOver(id)

			// The webhook's status script commits; then the process dies.
			tag := h.app.Service.Keyer.Hash("phone", phoneSanne)
			now := time.Now()
			u := outreach.StatusUpdate{Channel: "sms", ProviderID: req.SID, To: phoneSanne, State: "undelivered", Code: tt.code}
			mid, w, err := h.app.Store.ProviderStatusWork(ctx, tag, req.SID, store.Status{State: u.State, Code: u.Code, At: now},
				store.NewOutbox(tag, now), false, outreach.StatusFollowUp(u, tt.optOut, now))
			if err != nil || mid == "" || w == nil || w.Status == nil {
				t.Fatalf("status script: %q %v %v", mid, w, err)
			}
			v := h.nudgeView(id)
			if m := messagesOf(v)[0]; m["status"] != "undelivered" || len(asList(v["callbacks"])) != 0 {
				t.Fatalf("after the status script: message %v, callbacks %v", m, v["callbacks"])
			}
			if tt.optOut {
				// The opt-out mark is part of the status change itself.
				if r := h.postJSON("/v1/nudges", tokCaseworker, nudgeBody("hobby-income", phoneSanne, nil), nil); r.Status != http.StatusConflict {
					t.Errorf("trigger after the 21610 report: %d, want 409 (opted out)", r.Status)
				}
			}
			if n, err := h.app.Store.PendingCount(ctx); err != nil || n != 1 {
				t.Fatalf("pending pointers: %d (%v), want the follow-up's", n, err)
			}

			res, err := h.app.Service.Recover(ctx, 0)
			if err != nil || res.Queued != 1 {
				t.Fatalf("recovery: %+v %v, want 1 queued", res, err)
			}
			check := func(when string) {
				t.Helper()
				v := h.nudgeView(id)
				cbs := asList(v["callbacks"])
				if tt.wantTask && len(cbs) != 1 || !tt.wantTask && len(cbs) != 0 {
					t.Errorf("%s: %d call tasks, want task=%v", when, len(cbs), tt.wantTask)
				}
				if tt.optOut {
					outs, _, err := h.app.Store.OptOuts(ctx, 0, 10)
					if err != nil || len(outs) != 1 || outs[0].Channel != "sms" {
						t.Errorf("%s: opt-out index %v (%v), want the sms opt-out", when, outs, err)
					}
					notes, _ := v["notes"].([]any)
					if len(notes) == 0 {
						t.Errorf("%s: no note saying why no call task was made", when)
					}
				}
			}
			check("after the recovery pass")

			// Once: a second pass and Twilio's re-delivery change nothing.
			if res, err := h.app.Service.Recover(ctx, 0); err != nil || res.Queued != 0 {
				t.Errorf("second pass: %+v %v", res, err)
			}
			if r := h.status(req.SID, phoneSanne, "undelivered", tt.code); r.Status >= 300 {
				t.Errorf("re-delivered report: %d %s", r.Status, r.Body)
			}
			check("after a re-delivered report")
			if err := h.app.Store.FlushDone(ctx); err != nil {
				t.Fatal(err)
			}
			if n, err := h.app.Store.PendingCount(ctx); err != nil || n != 0 {
				t.Errorf("pending pointers left: %d (%v)", n, err)
			}
		})
	}
}

// asList is a JSON array (nil, or omitted, is empty).
func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// A "yes" to Telegram's consent question is recorded by one script (the
// consent, the chat as address, Telegram preferred, the "linked" event);
// the question stays open until the address lookup is written. Seintje
// dies right after that script: the recovery pass, or Telegram delivering
// the answer again, finishes the link.
func TestTelegramConsentSurvivesACrashAfterItWasRecorded(t *testing.T) {
	t.Parallel()
	for _, finish := range []string{"recovery pass", "answer delivered again"} {
		t.Run(finish, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := newTelegramHarness(t)
			h.nudge("no-show", phoneSanne, noShowVars())
			eventually(t, "first nudge by SMS", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
			consent := h.openLink(tgChat)

			// The answer's script commits; then the process dies.
			tag := h.app.Service.Keyer.Hash("phone", phoneSanne)
			chat := h.app.Service.Keyer.Hash("tg", fmt.Sprint(tgChat))
			now := time.Now()
			ob := store.NewOutbox(tag, now)
			g := store.Grant{Channel: "telegram", Addr: fmt.Sprint(tgChat), Prefer: true,
				Consent: recipient.Consent{At: now, Source: recipient.SourceTelegramLink},
				Event:   &store.ChannelEvent{At: now, Channel: "telegram", Action: "linked"}}
			if err := h.app.Store.Grant(ctx, tag, g, &ob, &store.Work{Link: &store.LinkWork{Channel: "telegram", AddrHash: chat}}); err != nil {
				t.Fatal(err)
			}
			st := h.channelState()
			if st["preferred"] != "telegram" || st["telegram"].(map[string]any)["linked"] != true || !strings.Contains(fmt.Sprint(st["events"]), "linked") {
				t.Fatalf("after the consent script: %v", st)
			}
			if open, err := h.app.Store.HasConsent(ctx, chat); err != nil || !open {
				t.Fatalf("consent question answered before the link was finished: %v %v", open, err)
			}

			switch finish {
			case "recovery pass":
				if res, err := h.app.Service.Recover(ctx, 0); err != nil || res.Queued != 1 {
					t.Fatalf("recovery: %+v %v", res, err)
				}
			default:
				body, qid := h.tg.CallbackUpdate(0, tgChat, consent.MessageID, "c:yes")
				h.mustWebhook(body)
				eventually(t, "consent button press answered", func() bool { return h.tg.Answered(qid) })
				if ok := h.waitSent(tgChat, 2); !strings.Contains(ok.Text, "Gelukt") {
					t.Fatalf("link confirmation: %q", ok.Text)
				}
				if _, err := h.app.Service.Recover(ctx, 0); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := h.app.Store.TagByAddress(ctx, "telegram", chat); err != nil || got != tag {
				t.Errorf("chat not linked: %q %v", got, err)
			}
			if open, _ := h.app.Store.HasConsent(ctx, chat); open {
				t.Error("consent question still open")
			}
			if n, err := h.app.Store.PendingCount(ctx); err != nil || n != 0 {
				t.Errorf("pending pointers left: %d (%v)", n, err)
			}
			// The link works: the next nudge goes by Telegram, and so does
			// a typed answer.
			h.nudge("hobby-income", phoneSanne, nil)
			if m := h.waitSent(tgChat, len(h.tg.Sent(tgChat))+1); !strings.Contains(m.Text, "Stuur 1") {
				t.Errorf("next nudge on Telegram: %q", m.Text)
			}
		})
	}
}

// Answering JA to an SMS that asks for WhatsApp records the opt-in in the
// script that commits the step. Seintje dies right after it (nothing it
// queues runs): the opt-in is there, and the recovery pass sends the
// confirmation.
func TestWhatsAppOptInIsRecordedWithItsStep(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	h := newWhatsAppHarness(t, nil, func(h *harness) {
		h.opts = app.Options{WrapQueue: func(q outreach.Queue) outreach.Queue { return brokenQueue{Queue: q, fail: &fail} }}
	})
	inv := h.nudge("wa-invite", phoneSanne, nil)
	eventually(t, "invite SMS", func() bool { return len(h.sentTo(phoneSanne)) == 1 })
	h.waitHandedOver(inv)
	fail.Store(true)
	if r := h.sms(phoneSanne, "Ja", "SMsms0001"); r.Status != http.StatusOK {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	st := h.channels(waRef)
	wa := st["channels"].(map[string]any)["whatsapp"].(map[string]any)
	if st["preferred"] != "whatsapp" || wa["consent"] == nil || !strings.Contains(fmt.Sprint(st["events"]), "consent") {
		t.Fatalf("after JA, before anything queued ran: %v", st)
	}
	if n, err := h.app.Store.PendingCount(context.Background()); err != nil || n == 0 {
		t.Fatalf("pending pointers: %d (%v), want the step's work", n, err)
	}
	fail.Store(false)
	if res, err := h.app.Service.Recover(context.Background(), 0); err != nil || res.Queued == 0 {
		t.Fatalf("recovery: %+v %v", res, err)
	}
	eventually(t, "confirmation by SMS", func() bool { return len(h.sentTo(phoneSanne)) == 2 })
	if n, err := h.app.Store.PendingCount(context.Background()); err != nil || n != 0 {
		t.Errorf("pending pointers left: %d (%v)", n, err)
	}
}
