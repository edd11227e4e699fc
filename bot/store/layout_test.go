package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/store"
)

// A waiting conversation whose first SMS was handed to the provider is
// two keys of its recipient: the recipient hash (with the routing state:
// active flow, event, last message seen, status, provider id, history,
// weekly limit) and the messages (with the conversation and its
// transcript).
// What the fields hold is read back through the store: the route, the
// transcript with its status, the provider id, the event, the history, the
// weekly limit. A later create of
// the same event finds the conversation; once the conversation's data is
// gone the event and the flow's active entry no longer hold a new one back.
func TestRecipientLayout(t *testing.T) {
	rdb, prefix := testRedis(t)
	st := store.New(rdb, store.Options{Prefix: prefix})
	ctx := context.Background()
	now := time.Now()
	tag := "00112233445566778899aabb"
	rcp := store.Recipient{Tag: tag, Phone: "+31612345678", Ref: "Z-1", Name: "Sanne", Lang: "nl"}
	newNudge := func() *store.Nudge {
		return &store.Nudge{Conversation: engine.Conversation{ID: store.NewScopedID(tag, now), Flow: flow.Ref{ID: "no-show", Version: 1},
			Lang: "nl", Status: engine.Waiting, Step: "ask", StartedAt: now, UpdatedAt: now}, Channel: "sms", EventKey: "ev-1"}
	}
	n := newNudge()
	first := store.Message{ID: store.NewID(now), Tag: tag, Conv: n.ID, Dir: "out", Channel: "sms", At: now, Body: "Hallo Sanne", Kind: "say", Step: "ask", Proactive: true}
	res, err := st.Create(ctx, rcp, n, []store.Message{first}, store.Outbox{}, nil)
	if err != nil || !res.Created {
		t.Fatalf("create: %+v %v", res, err)
	}
	if ok, _, err := st.TakeSendSlot(ctx, tag, first.ID, now, 1); err != nil || !ok {
		t.Fatalf("weekly slot: %v %v", ok, err)
	}
	if err := st.SetStatus(ctx, tag, first.ID, "SMlayout1", store.Status{State: "sent", At: now}); err != nil {
		t.Fatal(err)
	}

	var keys []string
	for it := rdb.Scan(ctx, 0, prefix+":{r:"+tag+"}:*", 100).Iterator(); it.Next(ctx); {
		keys = append(keys, strings.TrimPrefix(it.Val(), prefix+":{r:"+tag+"}:"))
	}
	slices.Sort(keys)
	if want := []string{"msgs", "rcp"}; !slices.Equal(keys, want) {
		t.Errorf("keys of the recipient = %v, want %v", keys, want)
	}

	route, got, err := st.Route(ctx, tag, now, time.Hour)
	if err != nil || route != "wait" || got == nil || got.ID != n.ID {
		t.Fatalf("route = %q %+v %v, want wait into %s", route, got, err, n.ID)
	}
	msgs, err := st.Transcript(ctx, tag, n.ID)
	if err != nil || len(msgs) != 1 || msgs[0].ID != first.ID || msgs[0].Status == nil || msgs[0].Status.State != "sent" {
		t.Fatalf("transcript = %+v %v", msgs, err)
	}
	if mid, err := st.MessageOfProvider(ctx, tag, "SMlayout1"); err != nil || mid != first.ID {
		t.Fatalf("message of provider = %q %v", mid, err)
	}
	r, err := st.Recipient(ctx, tag)
	if err != nil || r.Phone != rcp.Phone || r.Ref != rcp.Ref || len(r.Addrs) != 0 || len(r.OptOuts) != 0 {
		t.Fatalf("recipient = %+v %v", r, err)
	}
	probe, err := st.ProbeAll(ctx, []store.Probe{{Tag: tag, Channel: "sms", Event: "ev-1"}})
	if err != nil || probe[0].Existing != n.ID {
		t.Fatalf("probe = %+v %v", probe, err)
	}

	// The weekly limit (1) is taken by the first message: a second one
	// waits until the first leaves the window; the first again is the
	// same slot.
	if ok, _, err := st.TakeSendSlot(ctx, tag, first.ID, now.Add(time.Minute), 1); err != nil || !ok {
		t.Fatalf("the same message's slot again: %v %v", ok, err)
	}
	next := store.NewID(now)
	if ok, free, err := st.TakeSendSlot(ctx, tag, next, now.Add(time.Minute), 1); err != nil || ok || !free.Equal(time.UnixMilli(now.UnixMilli()).Add(store.WeeklyWindow).UTC()) {
		t.Fatalf("a second message within the week: %v %v %v", ok, free, err)
	}
	if ok, _, err := st.TakeSendSlot(ctx, tag, next, now.Add(store.WeeklyWindow+time.Minute), 1); err != nil || !ok {
		t.Fatalf("a second message a week later: %v %v", ok, err)
	}

	// The same event again: the conversation it started.
	again, err := st.Create(ctx, rcp, newNudge(), nil, store.Outbox{}, nil)
	if err != nil || again.Existing != n.ID {
		t.Fatalf("create the same event again = %+v %v, want existing %s", again, err, n.ID)
	}
	// The conversation's data expired (the recipient stayed active): the
	// event and the active entry naming it hold nothing back.
	if err := rdb.HDel(ctx, prefix+":{r:"+tag+"}:msgs", "c:"+strings.TrimPrefix(n.ID, tag+"-")).Err(); err != nil {
		t.Fatal(err)
	}
	n2 := newNudge()
	n2.StartedAt, n2.UpdatedAt = now.Add(time.Hour), now.Add(time.Hour)
	if res, err := st.Create(ctx, rcp, n2, nil, store.Outbox{}, nil); err != nil || !res.Created {
		t.Fatalf("create after the conversation expired = %+v %v, want created", res, err)
	}
	n3 := newNudge()
	n3.Flow.ID, n3.EventKey, n3.StartedAt, n3.UpdatedAt = "missing-form", "ev-3", now.Add(2*time.Hour), now.Add(2*time.Hour)
	if res, err := st.Create(ctx, rcp, n3, nil, store.Outbox{}, nil); err != nil || !res.Created {
		t.Fatalf("create in another flow = %+v %v, want created", res, err)
	}
	// The history lists the kept conversations, newest first (the expired
	// one is skipped), at most the limit.
	var ids []string
	hist, err := st.NudgesOf(ctx, tag, 10)
	for _, h := range hist {
		ids = append(ids, h.ID)
	}
	if err != nil || !slices.Equal(ids, []string{n3.ID, n2.ID}) {
		t.Fatalf("history = %v %v, want %s, %s", ids, err, n3.ID, n2.ID)
	}
	if hist, err := st.NudgesOf(ctx, tag, 1); err != nil || len(hist) != 1 || hist[0].ID != n3.ID {
		t.Fatalf("history limited to 1 = %v %v", hist, err)
	}
}
