package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/seintje/seintje/bot/store"
)

// sendsParallel is how many messages of one grouped task are sent at once.
const sendsParallel = 8

// sendsPayload is a grouped send task: several messages queued at once
// (a batch's first messages), each sent as a send task would send it.
type sendsPayload struct {
	S []sendPayload `json:"s"`
}

// EnqueueSends queues several messages as one task, for many messages
// queued at once (a batch): one enqueue, dequeue and acknowledgement for
// all instead of one each, which is most of a send's cost in Redis. Each
// message is sent exactly as EnqueueSendIndexed's task sends it (its index
// entries first); one that fails continues as a send task of its own,
// with the retries, backoff and final "failed" of a single message. group
// (store.Work.Group) is the task's id: the same group twice is one task.
func (q *Queue) EnqueueSends(ctx context.Context, group string, sends []store.SendRef) error {
	if len(sends) == 0 {
		return nil
	}
	p := sendsPayload{S: make([]sendPayload, len(sends))}
	for i, s := range sends {
		p.S[i] = sendPayload{Tag: s.Tag, Msg: s.Msg, Ix: s.Ix}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode sends task: %w", err)
	}
	id := "sends:" + group
	opts := []asynq.Option{asynq.Queue(q.opt.Queue), asynq.TaskID(id), asynq.MaxRetry(q.opt.MaxSendRetries)}
	return q.enqueue(ctx, asynq.NewTask(TypeSends, b), opts)
}

// processSends sends the messages of a grouped task, sendsParallel at a
// time. A message whose send fails is queued as a send task of its own
// (the first retry's delay from now), so its retries do not hold the
// others back and end, after the last one, in the message's "failed"
// status. The group fails, and is tried again, only when such a task
// cannot be queued; then a message with a task of its own is left to that
// task, and one already sent is skipped by ProcessSend itself.
func processSends(ctx context.Context, sends []sendPayload, send func(context.Context, sendPayload) error, q *Queue, log *slog.Logger) error {
	retried, _ := asynq.GetRetryCount(ctx)
	var (
		mu     sync.Mutex
		failed []sendPayload
	)
	next := make(chan sendPayload)
	var wg sync.WaitGroup
	for range min(sendsParallel, len(sends)) {
		wg.Go(func() {
			for p := range next {
				if retried > 0 && q.ownTask(p.Msg) {
					continue
				}
				if err := send(ctx, p); err != nil {
					log.WarnContext(ctx, "send of a grouped message failed; it is retried on its own", "msg", p.Msg, "err", err)
					mu.Lock()
					failed = append(failed, p)
					mu.Unlock()
				}
			}
		})
	}
	for _, p := range sends {
		next <- p
	}
	close(next)
	wg.Wait()
	var errs []error
	at := time.Now().Add(q.opt.RetryBase)
	for _, p := range failed {
		errs = append(errs, q.enqueueOwn(ctx, p, at))
	}
	return errors.Join(errs...)
}

// enqueueOwn queues the send task of one message of a group, at at: the
// same task (id, payload) as EnqueueSendIndexed's.
func (q *Queue) enqueueOwn(ctx context.Context, p sendPayload, at time.Time) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode send task: %w", err)
	}
	opts := []asynq.Option{asynq.Queue(q.opt.Queue), asynq.TaskID("send:" + p.Msg), asynq.MaxRetry(q.opt.MaxSendRetries),
		asynq.ProcessAt(q.opt.at(at))}
	return q.enqueue(ctx, asynq.NewTask(TypeSend, b), opts)
}

// GroupHas reports which of msgs the grouped send task of group carries
// while it waits, runs or will be retried: that task sends them (and the
// index entries that travel with them), and nothing else should queue
// them. A group that is done, gone or given up carries none.
func (q *Queue) GroupHas(ctx context.Context, group string, msgs []string) ([]bool, error) {
	has := make([]bool, len(msgs))
	info, err := q.insp.GetTaskInfo(q.opt.Queue, "sends:"+group)
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound):
		return has, nil
	case err != nil:
		return nil, fmt.Errorf("find send task %s: %w", group, err)
	case info.State == asynq.TaskStateArchived || info.State == asynq.TaskStateCompleted:
		return has, nil
	}
	var p sendsPayload
	if err := json.Unmarshal(info.Payload, &p); err != nil {
		return nil, fmt.Errorf("send task %s: %w", group, err)
	}
	in := make(map[string]bool, len(p.S))
	for _, sp := range p.S {
		in[sp.Msg] = true
	}
	for i, m := range msgs {
		has[i] = in[m]
	}
	return has, nil
}

// ownTask reports whether message msg has a send task of its own (queued
// by an earlier try of its group).
func (q *Queue) ownTask(msg string) bool {
	_, err := q.insp.GetTaskInfo(q.opt.Queue, "send:"+msg)
	return err == nil
}
