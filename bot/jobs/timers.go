package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/seintje/seintje/bot/store"
)

// KindHandler handles timers of a kind other than a wait timeout
// (reminders, expiry). A Handler that does not implement it only gets wait
// timeouts.
type KindHandler interface {
	ProcessTimerOf(ctx context.Context, tag, cid, kind string, seq, index int) error
}

// EnqueueTimerOf schedules a timer of kind ("" = wait timeout, "reminder",
// "expire") for conversation cid at at. The same timer scheduled twice (a
// retried transition) is one timer and fires once: in the store's timer
// sets it is one member, in asynq one task id derived from the
// conversation, kind, sequence and index.
func (q *Queue) EnqueueTimerOf(ctx context.Context, tag, cid, kind string, seq, index int, at time.Time) error {
	t := store.Timer{Tag: tag, Conv: cid, Kind: kind, Seq: seq, Index: index, At: at}
	if q.opt.Timers != nil {
		return q.opt.Timers.AddTimers(ctx, []store.Timer{t})
	}
	return q.timerTask(ctx, t, q.opt.at(at))
}

// EnqueueTimers schedules the timers of one change of conversation cid, in
// one round trip when they wait in the store's timer sets.
func (q *Queue) EnqueueTimers(ctx context.Context, tag, cid string, ts []store.TimerWork) error {
	if q.opt.Timers == nil {
		for _, t := range ts {
			if err := q.EnqueueTimerOf(ctx, tag, cid, t.Kind, t.Seq, t.Index, t.At); err != nil {
				return err
			}
		}
		return nil
	}
	return q.opt.Timers.AddTimers(ctx, store.TimersOf(tag, &store.Work{Conv: cid, Timers: ts}))
}

// timerTask enqueues the asynq task of timer t, to run at processAt (zero:
// now). Its id is derived from the timer, so enqueueing it again while it
// waits or runs is a no-op.
func (q *Queue) timerTask(ctx context.Context, t store.Timer, processAt time.Time) error {
	b, err := timerPayloadOf(t)
	if err != nil {
		return err
	}
	opts := []asynq.Option{asynq.Queue(q.opt.Queue), asynq.TaskID(timerID(t.Conv, t.Kind, t.Seq, t.Index)), asynq.MaxRetry(10),
		asynq.Retention(0)}
	if !processAt.IsZero() {
		opts = append(opts, asynq.ProcessAt(processAt))
	}
	return q.enqueue(ctx, asynq.NewTask(TypeTimer, b), opts)
}

// timerPayloadOf is the payload of the timer task of t.
func timerPayloadOf(t store.Timer) ([]byte, error) {
	b, err := json.Marshal(timerPayload{Tag: payloadTag(t.Tag, t.Conv), Cid: t.Conv, Seq: t.Seq, Kind: t.Kind, Index: t.Index,
		At: t.At.UnixMilli()})
	if err != nil {
		return nil, fmt.Errorf("encode timer: %w", err)
	}
	return b, nil
}
