// Package jobs is Seintje's durable work queue, built on asynq: sending
// messages (with retries and backoff) and firing conversation timers. Tasks
// live in Redis, survive restarts of Seintje, and are processed once: a
// task id derived from the message or timer makes enqueueing idempotent.
package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/store"
)

// Task types.
const (
	TypeSend  = "seintje:send"
	TypeSends = "seintje:sends"
	TypeTimer = "seintje:timer"
)

// Handler does the work of a task.
type Handler interface {
	ProcessSend(ctx context.Context, tag, msgID string) error
	ApplyIndex(ctx context.Context, ops []store.IndexOp) error
	SendGaveUp(ctx context.Context, tag, msgID string, cause error) error
	ProcessTimer(ctx context.Context, tag, cid string, seq int) error
}

// Options configure the queue.
type Options struct {
	Queue string // asynq queue name, default "seintje"
	// Poll is how often scheduled tasks (timers, deferred sends) are moved
	// to the ready queue; asynq's default of 5 s is too coarse. Default 200ms.
	Poll time.Duration
	// Concurrency is the number of tasks worked on at once. Default 64:
	// a send mostly waits (Redis round trips, the provider's answer).
	Concurrency int
	// MaxSendRetries before a message is marked failed. Default 8.
	MaxSendRetries int
	// RetryBase is the first retry delay; it doubles each time up to
	// RetryMax. Defaults 2s and 10m.
	RetryBase, RetryMax time.Duration
	Log                 *slog.Logger
	// Manual is for a queue worked by hand on a simulated clock (Runner):
	// asynq decides at enqueueing whether a task is due by the machine's
	// clock, so a timed task is scheduled ManualOffset after its simulated
	// moment, where asynq never finds it due; the Runner takes the offset
	// off again. A Worker must not serve such a queue.
	Manual bool
	// TimerLate, when set, is told how late each timer fired after its
	// due time (metrics). Not on a Manual queue.
	TimerLate func(kind string, late time.Duration)
	// Timers is the store whose timer sets (store/timers.go) hold the
	// conversation timers until they are due: the Worker moves due timers
	// into the queue (mover.go), the Runner runs them on its simulated
	// clock. Nil: timers are scheduled in asynq itself (one task each).
	Timers *store.Store
	// TimerLease is how long a timer claimed by the mover stays claimed
	// before it is due again (a mover that crashed after claiming it).
	// Default 60s.
	TimerLease time.Duration
	// TimerBatch is how many due timers per shard the mover claims at
	// once. Default 256.
	TimerBatch int
	// TimerAhead is how far ahead of its due time the mover hands a timer
	// to asynq, scheduled for the whole second after its due time (asynq
	// keeps whole seconds; rounding up, a timer never fires early). The
	// mover then only has to keep up on average: in a burst (a batch of
	// 100,000 nudges whose reminders all fall due within a minute) asynq's
	// own forwarder, which moves 100 tasks per script, does the timing.
	// Default 5s; negative: hand timers on only when due.
	TimerAhead time.Duration
}

// ManualOffset is how far ahead a Manual queue schedules timed tasks.
const ManualOffset = 200 * 365 * 24 * time.Hour

// at is when asynq is asked to run a task due at t.
func (o Options) at(t time.Time) time.Time {
	if o.Manual {
		return t.Add(ManualOffset)
	}
	return t
}

func (o *Options) defaults() {
	if o.Queue == "" {
		o.Queue = "seintje"
	}
	if o.Poll <= 0 {
		o.Poll = 200 * time.Millisecond
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.MaxSendRetries <= 0 {
		o.MaxSendRetries = 8
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 2 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 10 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.TimerLease <= 0 {
		o.TimerLease = 60 * time.Second
	}
	if o.TimerBatch <= 0 {
		o.TimerBatch = 256
	}
	if o.TimerAhead == 0 {
		o.TimerAhead = 5 * time.Second
	}
	if o.TimerAhead < 0 || o.TimerAhead >= o.TimerLease {
		o.TimerAhead = 0
	}
}

// Queue enqueues tasks.
type Queue struct {
	client *asynq.Client
	insp   *asynq.Inspector
	opt    Options
}

// NewQueue returns a queue on rdb.
func NewQueue(rdb redis.UniversalClient, o Options) *Queue {
	o.defaults()
	return &Queue{client: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb), opt: o}
}

// Close releases the client (not the shared Redis connection).
func (q *Queue) Close() error { return nil }

type sendPayload struct {
	Tag string `json:"t"`
	Msg string `json:"m"`
	// Ix are index entries of the transition that queued this message,
	// applied (idempotently) before sending: the durable task carries them,
	// so the webhook saves a round trip and a crash cannot lose them.
	Ix []store.IndexOp `json:"ix,omitempty"`
}

type timerPayload struct {
	// Tag is left out when the conversation id carries it (store.TagOf):
	// a pending timer is kept for days, so every byte counts.
	Tag   string `json:"t,omitempty"`
	Cid   string `json:"c"`
	Seq   int    `json:"s"`
	Kind  string `json:"k,omitempty"`  // "" wait timeout, "reminder", "expire"
	Index int    `json:"i,omitempty"`  // reminder index
	At    int64  `json:"at,omitempty"` // due time, unix ms (lateness metric)
}

// EnqueueSend queues a message; at zero means now. Enqueueing the same
// message twice is a no-op.
func (q *Queue) EnqueueSend(ctx context.Context, tag, msgID string, at time.Time) error {
	b, _ := json.Marshal(sendPayload{Tag: tag, Msg: msgID})
	id := "send:" + msgID
	if !at.IsZero() {
		id += ":" + fmt.Sprint(at.Unix()) // a deferred send is a new task
	}
	opts := []asynq.Option{asynq.Queue(q.opt.Queue), asynq.TaskID(id), asynq.MaxRetry(q.opt.MaxSendRetries)}
	if !at.IsZero() {
		opts = append(opts, asynq.ProcessAt(q.opt.at(at)))
	}
	return q.enqueue(ctx, asynq.NewTask(TypeSend, b), opts)
}

// EnqueueSendIndexed queues a message now, together with the index entries
// of the transition that produced it.
func (q *Queue) EnqueueSendIndexed(ctx context.Context, tag, msgID string, ix []store.IndexOp) error {
	b, err := json.Marshal(sendPayload{Tag: tag, Msg: msgID, Ix: ix})
	if err != nil {
		return fmt.Errorf("encode send task: %w", err)
	}
	opts := []asynq.Option{asynq.Queue(q.opt.Queue), asynq.TaskID("send:" + msgID), asynq.MaxRetry(q.opt.MaxSendRetries)}
	return q.enqueue(ctx, asynq.NewTask(TypeSend, b), opts)
}

// EnqueueTimer schedules a conversation timer; the same timer twice is a no-op.
func (q *Queue) EnqueueTimer(ctx context.Context, tag, cid string, seq int, at time.Time) error {
	return q.EnqueueTimerOf(ctx, tag, cid, "", seq, 0, at)
}

// timerID is the task id of a timer: a digest of what identifies it (the
// conversation, kind, sequence and index), so the same timer enqueued
// twice is one task. A digest instead of the readable parts: the id is
// stored three times per pending timer (task key, task, schedule), and a
// waiting conversation has two timers for days.
func timerID(cid, kind string, seq, index int) string {
	sum := sha256.Sum256([]byte(cid + "|" + kind + "|" + strconv.Itoa(seq) + "|" + strconv.Itoa(index)))
	return "tm:" + base64.RawURLEncoding.EncodeToString(sum[:15])
}

// payloadTag is the tag to put in a timer's payload: none when the
// conversation id carries it.
func payloadTag(tag, cid string) string {
	if t, ok := store.TagOf(cid); ok && t == tag {
		return ""
	}
	return tag
}

// EnqueueTask queues a task of another package's type (registered with
// Worker.Handle) under a task id: enqueueing the same id again while the
// task waits or runs is a no-op. at zero means now; timeout bounds one run.
func (q *Queue) EnqueueTask(ctx context.Context, typ, id string, payload []byte, at time.Time, timeout time.Duration) error {
	opts := []asynq.Option{asynq.Queue(q.opt.Queue), asynq.TaskID(id), asynq.MaxRetry(25)}
	if !at.IsZero() {
		opts = append(opts, asynq.ProcessAt(q.opt.at(at)))
	}
	if timeout > 0 {
		opts = append(opts, asynq.Timeout(timeout))
	}
	return q.enqueue(ctx, asynq.NewTask(typ, payload), opts)
}

func (q *Queue) enqueue(ctx context.Context, t *asynq.Task, opts []asynq.Option) error {
	_, err := q.client.EnqueueContext(ctx, t, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// Worker processes tasks, and moves due conversation timers into the
// queue (mover.go) when Options.Timers is set.
type Worker struct {
	srv   *asynq.Server
	mux   *asynq.ServeMux
	mover *mover // nil without Options.Timers
}

// NewWorker returns a worker for h on rdb.
func NewWorker(rdb redis.UniversalClient, h Handler, o Options) *Worker {
	o.defaults()
	log := o.Log
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              o.Concurrency,
		Queues:                   map[string]int{o.Queue: 1},
		DelayedTaskCheckInterval: o.Poll,
		TaskCheckInterval:        o.Poll,
		ShutdownTimeout:          10 * time.Second,
		Logger:                   slogAdapter{log},
		LogLevel:                 asynq.WarnLevel,
		RetryDelayFunc: func(n int, err error, _ *asynq.Task) time.Duration {
			var ce *channel.Error
			if errors.As(err, &ce) && ce.RetryAfter > 0 {
				return ce.RetryAfter
			}
			d := time.Duration(float64(o.RetryBase) * math.Pow(2, float64(n)))
			if d > o.RetryMax || d <= 0 {
				d = o.RetryMax
			}
			return d
		},
	})
	late := o.TimerLate
	if o.Manual {
		late = nil // simulated time: lateness means nothing
	}
	w := &Worker{srv: srv, mux: newMux(h, NewQueue(rdb, o), log, late)}
	if o.Timers != nil && !o.Manual {
		w.mover = newMover(NewQueue(rdb, o), o)
	}
	return w
}

// newMux routes Seintje's task types to h: the worker and the Runner
// (manual.go) share it, so a task does the same work either way.
func newMux(h Handler, q *Queue, log *slog.Logger, late func(kind string, d time.Duration)) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	send := func(ctx context.Context, p sendPayload) error {
		if len(p.Ix) > 0 {
			if err := h.ApplyIndex(ctx, p.Ix); err != nil {
				return err
			}
		}
		return h.ProcessSend(ctx, p.Tag, p.Msg)
	}
	mux.HandleFunc(TypeSends, func(ctx context.Context, t *asynq.Task) error {
		var p sendsPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("bad sends payload: %v: %w", err, asynq.SkipRetry)
		}
		return processSends(ctx, p.S, send, q, log)
	})
	mux.HandleFunc(TypeSend, func(ctx context.Context, t *asynq.Task) error {
		var p sendPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("bad send payload: %v: %w", err, asynq.SkipRetry)
		}
		err := send(ctx, p)
		if err == nil {
			return nil
		}
		retried, _ := asynq.GetRetryCount(ctx)
		max, _ := asynq.GetMaxRetry(ctx)
		if retried >= max {
			if gerr := h.SendGaveUp(ctx, p.Tag, p.Msg, err); gerr != nil {
				log.ErrorContext(ctx, "record failed send", "msg", p.Msg, "err", gerr)
			}
		}
		return err
	})
	mux.HandleFunc(TypeTimer, func(ctx context.Context, t *asynq.Task) error {
		var p timerPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("bad timer payload: %v: %w", err, asynq.SkipRetry)
		}
		if p.Tag == "" {
			p.Tag, _ = store.TagOf(p.Cid)
		}
		if retried, _ := asynq.GetRetryCount(ctx); late != nil && p.At > 0 && retried == 0 {
			late(p.Kind, time.Since(time.UnixMilli(p.At)))
		}
		if kh, ok := h.(KindHandler); ok && p.Kind != "" {
			return kh.ProcessTimerOf(ctx, p.Tag, p.Cid, p.Kind, p.Seq, p.Index)
		}
		return h.ProcessTimer(ctx, p.Tag, p.Cid, p.Seq)
	})
	return mux
}

// Handle registers fn for tasks of type typ (queued with EnqueueTask).
// Call it before Start. An error from fn retries the task with backoff.
func (w *Worker) Handle(typ string, fn func(ctx context.Context, payload []byte) error) {
	w.mux.HandleFunc(typ, func(ctx context.Context, t *asynq.Task) error { return fn(ctx, t.Payload()) })
}

// Start begins processing in the background.
func (w *Worker) Start() error {
	if err := w.srv.Start(w.mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if w.mover != nil {
		w.mover.start()
	}
	return nil
}

// Shutdown stops moving timers and processing, waiting for tasks in
// flight.
func (w *Worker) Shutdown() {
	if w.mover != nil {
		w.mover.stop()
	}
	w.srv.Shutdown()
}

// slogAdapter routes asynq's logs to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
