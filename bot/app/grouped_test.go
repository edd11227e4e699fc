package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/seintje/seintje/bot/store"
)

// The recovery pass leaves a live grouped send task the messages it
// carries, and queues on their own the messages of a nudge whose outbox
// names that group but which the task does not carry: none is queued
// twice, none is left out.
func TestRecoveryLeavesAGroupItsOwnMessages(t *testing.T) {
	h := newHarness(t, nil, func(h *harness) { h.noWorker = true })
	a := h.app
	ctx := context.Background()
	now := time.Now()
	const group = "gtest"
	var items []store.CreateItem
	var msgs []string
	for i, tag := range []string{"0123456789abcdef0123456a", "0123456789abcdef0123456b"} {
		n := &store.Nudge{Tag: tag, Ref: "G-" + tag[23:], Channel: "sms"}
		n.ID, n.Flow.ID, n.Flow.Version, n.Status, n.StartedAt = store.NewScopedID(tag, now), "no-show", 1, "waiting", now
		msg := store.NewID(now) + string(rune('a'+i))
		msgs = append(msgs, msg)
		items = append(items, store.CreateItem{Recipient: store.Recipient{Tag: tag, Phone: "+3161234560" + string(rune('0'+i))},
			Nudge: n, Outbox: store.NewOutbox(tag, now), Work: &store.Work{Conv: n.ID, Sends: []string{msg}, Group: group}})
	}
	if _, errs, err := a.Store.CreateMany(ctx, items); err != nil || errors.Join(errs...) != nil {
		t.Fatalf("create: %v %v", err, errs)
	}
	// The group's task carries the first nudge's message only.
	if err := a.Queue.EnqueueSends(ctx, group, []store.SendRef{{Tag: items[0].Outbox.Tag, Msg: msgs[0]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Recover(ctx, 0); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(h.rdb)
	if _, err := insp.GetTaskInfo(h.prefix, "send:"+msgs[0]); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Errorf("the group's own message was queued again on its own (%v)", err)
	}
	if _, err := insp.GetTaskInfo(h.prefix, "send:"+msgs[1]); err != nil {
		t.Errorf("the message the group does not carry was not queued: %v", err)
	}
	if n, err := a.Store.PendingCount(ctx); err != nil || n != 0 {
		t.Errorf("pointers left: %d (%v)", n, err)
	}
}
