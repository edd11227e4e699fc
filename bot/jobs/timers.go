package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// KindHandler handles timers of a kind other than a wait timeout
// (reminders, expiry). A Handler that does not implement it only gets wait
// timeouts.
type KindHandler interface {
	ProcessTimerOf(ctx context.Context, tag, cid, kind string, seq, index int) error
}

// EnqueueTimerOf schedules a timer of kind ("" = wait timeout, "reminder",
// "expire") for conversation cid at at. The task id is derived from the
// conversation, kind, sequence and index, so the same timer enqueued twice
// (a retried transition) is scheduled once and fires once.
func (q *Queue) EnqueueTimerOf(ctx context.Context, tag, cid, kind string, seq, index int, at time.Time) error {
	if kind == "" {
		return q.EnqueueTimer(ctx, tag, cid, seq, at)
	}
	b, err := json.Marshal(timerPayload{Tag: payloadTag(tag, cid), Cid: cid, Seq: seq, Kind: kind, Index: index, At: at.UnixMilli()})
	if err != nil {
		return fmt.Errorf("encode timer: %w", err)
	}
	id := timerID(cid, kind, seq, index)
	opts := []asynq.Option{asynq.Queue(q.opt.Queue), asynq.TaskID(id), asynq.ProcessAt(q.opt.at(at)), asynq.MaxRetry(10),
		asynq.Retention(0)}
	return q.enqueue(ctx, asynq.NewTask(TypeTimer, b), opts)
}
