package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/seintje/seintje/bot/store"
)

// mover moves due conversation timers from the store's timer sets into
// the queue, every Options.Poll: it claims up to Options.TimerBatch due
// timers per shard (re-scored to the end of a lease, so another instance
// does not take them too), enqueues each as a timer task due now (the task
// id is derived from the timer, so enqueueing it twice is one task), then
// removes them from the sets. A crash between claim and removal leaves
// them claimed until the lease ends; then they are due again and moved
// again, which is harmless (same task id; a timer that already ran is
// stale for the engine). Any number of instances may run a mover.
type mover struct {
	q      *Queue
	st     *store.Store
	every  time.Duration
	lease  time.Duration
	batch  int
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// moverParallel is how many timer tasks a mover enqueues at once.
const moverParallel = 16

// handTimeout bounds handing on a claimed batch, which finishes even when
// the worker is shutting down (what is not handed on waits for its lease).
const handTimeout = 10 * time.Second

func newMover(q *Queue, o Options) *mover {
	return &mover{q: q, st: o.Timers, every: o.Poll, lease: o.TimerLease, batch: o.TimerBatch, log: o.Log}
}

func (m *mover) start() {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	go m.run(ctx)
}

// stop ends the loop after the batch in hand.
func (m *mover) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
}

func (m *mover) run(ctx context.Context) {
	defer close(m.done)
	tick := time.NewTicker(m.every)
	defer tick.Stop()
	for {
		if _, err := m.moveDue(ctx); err != nil && ctx.Err() == nil {
			m.log.WarnContext(ctx, "moving due timers", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// moveDue moves every timer due now into the queue and returns how many
// it moved.
func (m *mover) moveDue(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		ts, err := m.st.ClaimDueTimers(ctx, time.Now(), m.lease, m.batch)
		if err != nil || len(ts) == 0 {
			return total, err
		}
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handTimeout)
		moved, herr := m.hand(hctx, ts)
		err = m.st.RemoveTimers(hctx, moved)
		cancel()
		total += len(moved)
		if err := errors.Join(herr, err); err != nil {
			return total, err
		}
	}
	return total, nil
}

// hand enqueues a timer task due now for each of ts, moverParallel at a
// time, and returns the timers it enqueued.
func (m *mover) hand(ctx context.Context, ts []store.Timer) ([]store.Timer, error) {
	ok := make([]bool, len(ts))
	errs := make([]error, len(ts))
	var first error
	var wg sync.WaitGroup
	sem := make(chan struct{}, moverParallel)
	for i, t := range ts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := m.q.timerTask(ctx, t, time.Time{}); err != nil {
				errs[i] = err
				return
			}
			ok[i] = true
		}()
	}
	wg.Wait()
	moved := make([]store.Timer, 0, len(ts))
	for i, t := range ts {
		if ok[i] {
			moved = append(moved, t)
		}
	}
	for _, err := range errs {
		if err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return moved, fmt.Errorf("%d of %d due timers not queued (due again after the lease): %w", len(ts)-len(moved), len(ts), first)
	}
	return moved, nil
}
