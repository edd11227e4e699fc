package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/jobs"
	"github.com/seintje/seintje/bot/store"
)

// sendHandler records sends and index entries; the messages in failFirst
// fail on their first try.
type sendHandler struct {
	mu        sync.Mutex
	sends     map[string]int // msg → tries
	ix        map[string]int // index member → times applied
	failFirst map[string]bool
	gaveUp    map[string]bool
}

func (h *sendHandler) ProcessSend(_ context.Context, tag, msg string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sends[tag+"|"+msg]++
	if h.failFirst[msg] && h.sends[tag+"|"+msg] == 1 {
		return errors.New("provider answered 503")
	}
	return nil
}
func (h *sendHandler) SendGaveUp(_ context.Context, _, msg string, _ error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gaveUp[msg] = true
	return nil
}
func (h *sendHandler) ApplyIndex(_ context.Context, ops []store.IndexOp) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, op := range ops {
		h.ix[op.Member]++
	}
	return nil
}
func (h *sendHandler) ProcessTimer(context.Context, string, string, int) error { return nil }

func (h *sendHandler) tries(tag, msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sends[tag+"|"+msg]
}

// A grouped send task sends every message of the group once, with its
// index entries; a message that fails is retried as a task of its own
// and sent on its second try, without sending the others again. The
// group carries its messages (and no other) while it waits, and none when
// it is done.
func TestGroupedSendsOnceEachFailureOnItsOwn(t *testing.T) {
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := jobs.Options{Queue: prefix, Poll: 20 * time.Millisecond, Concurrency: 4, Log: log, RetryBase: 50 * time.Millisecond}
	q := jobs.NewQueue(rdb, o)
	const n = 60
	var refs []store.SendRef
	for i := range n {
		ref := store.SendRef{Tag: fmt.Sprintf("%024x", i), Msg: fmt.Sprintf("m%03d", i)}
		if i%10 == 0 {
			ref.Ix = []store.IndexOp{{Index: "inbox", Member: fmt.Sprintf("ix%03d", i)}}
		}
		refs = append(refs, ref)
	}
	msgs := []string{"m000", "m059", "m999"} // two in the group, one not
	if has, err := q.GroupHas(ctx, "g1", msgs); err != nil || has[0] || has[1] || has[2] {
		t.Fatalf("before it is queued: has %v, %v", has, err)
	}
	if err := q.EnqueueSends(ctx, "g1", refs); err != nil {
		t.Fatal(err)
	}
	if err := q.EnqueueSends(ctx, "g1", refs); err != nil { // the same group again: one task
		t.Fatal(err)
	}
	if has, err := q.GroupHas(ctx, "g1", msgs); err != nil || !has[0] || !has[1] || has[2] {
		t.Fatalf("queued: has %v, %v, want the first two", has, err)
	}
	h := &sendHandler{sends: map[string]int{}, ix: map[string]int{}, gaveUp: map[string]bool{},
		failFirst: map[string]bool{"m007": true, "m033": true}}
	w := jobs.NewWorker(rdb, h, o)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Shutdown()
	deadline := time.Now().Add(20 * time.Second)
	for h.tries(refs[7].Tag, "m007") < 2 || h.tries(refs[33].Tag, "m033") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the failed messages were not retried: %v", h.sends)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a second run of anything would show now
	for i, r := range refs {
		want := 1
		if i == 7 || i == 33 {
			want = 2
		}
		if got := h.tries(r.Tag, r.Msg); got != want {
			t.Errorf("%s: %d tries, want %d", r.Msg, got, want)
		}
		if len(r.Ix) > 0 && h.ix[r.Ix[0].Member] != 1 {
			t.Errorf("%s: index entry applied %d times", r.Msg, h.ix[r.Ix[0].Member])
		}
	}
	if len(h.gaveUp) > 0 {
		t.Errorf("gave up on %v", h.gaveUp)
	}
	if has, err := q.GroupHas(ctx, "g1", msgs); err != nil || has[0] || has[1] || has[2] {
		t.Errorf("done: has %v, %v", has, err)
	}
}
