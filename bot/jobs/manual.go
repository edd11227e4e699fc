package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/store"
)

// Runner works the queue by hand, on a simulated clock: `seintje flows
// simulate` and the console's simulator use it instead of a Worker. It
// runs the tasks that are due in the order they fall due, through the same
// handlers as the Worker (newMux), so a simulated conversation sends,
// holds and fires timers exactly as the service does; only the moment a
// task runs is decided by the simulated clock instead of asynq's
// scheduler (which reads the machine's clock).
//
// Conversation timers wait in the store's timer sets (Options.Timers),
// scored by their simulated due time; the Runner runs them from there, in
// due order with the queue's own scheduled tasks.
type Runner struct {
	insp   *asynq.Inspector
	mux    *asynq.ServeMux
	queue  string
	offset time.Duration // ManualOffset for a Manual queue
	timers *store.Store  // nil: timers are asynq tasks
}

// NewRunner returns a runner for the tasks of queue o.Queue on rdb.
func NewRunner(rdb redis.UniversalClient, h Handler, o Options) *Runner {
	o.defaults()
	q := NewQueue(rdb, o)
	r := &Runner{insp: q.insp, mux: newMux(h, q, o.Log, nil), queue: o.Queue, timers: o.Timers}
	if o.Manual {
		r.offset = ManualOffset
	}
	return r
}

// Handle registers fn for tasks of type typ, like Worker.Handle.
func (r *Runner) Handle(typ string, fn func(ctx context.Context, payload []byte) error) {
	r.mux.HandleFunc(typ, func(ctx context.Context, t *asynq.Task) error { return fn(ctx, t.Payload()) })
}

// Pending is a task waiting in the queue.
type Pending struct {
	ID   string
	Type string
	At   time.Time // zero: ready now
	// Kind is a timer's kind: "" (a wait timeout), "reminder", "expire".
	Kind string
	// timer is set for a timer waiting in the store's timer sets.
	timer *store.Timer
}

func (r *Runner) pendingOfTimer(t store.Timer) Pending {
	return Pending{ID: timerID(t.Conv, t.Kind, t.Seq, t.Index), Type: TypeTimer, At: t.At, Kind: t.Kind, timer: &t}
}

// What says in a few words what the task does.
func (p Pending) What() string {
	switch {
	case p.Type == TypeSend:
		return "held message goes out"
	case p.Type == TypeSends:
		return "messages go out"
	case p.Type == TypeTimer && p.Kind == "":
		return "timeout"
	case p.Type == TypeTimer:
		return p.Kind
	}
	return p.Type
}

func (r *Runner) pendingOf(t *asynq.TaskInfo) Pending {
	p := Pending{ID: t.ID, Type: t.Type, At: t.NextProcessAt.Add(-r.offset)}
	if t.Type == TypeTimer {
		var tp timerPayload
		if json.Unmarshal(t.Payload, &tp) == nil {
			p.Kind = tp.Kind
		}
	}
	return p
}

// Next returns the task that runs first: a ready task, else the scheduled
// task due soonest. ok is false when the queue is empty.
func (r *Runner) Next() (Pending, bool, error) {
	ready, err := r.insp.ListPendingTasks(r.queue, asynq.PageSize(1))
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		return Pending{}, false, fmt.Errorf("list ready tasks: %w", err)
	}
	if len(ready) > 0 {
		p := r.pendingOf(ready[0])
		p.At = time.Time{}
		return p, true, nil
	}
	later, err := r.insp.ListScheduledTasks(r.queue, asynq.PageSize(1))
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		return Pending{}, false, fmt.Errorf("list scheduled tasks: %w", err)
	}
	timers, err := r.nextTimers(1)
	if err != nil {
		return Pending{}, false, err
	}
	switch {
	case len(timers) > 0 && (len(later) == 0 || timers[0].At.Before(r.pendingOf(later[0]).At)):
		// A queued task due at the same moment goes first, as it did
		// when timers were queued tasks too.
		return timers[0], true, nil
	case len(later) > 0:
		return r.pendingOf(later[0]), true, nil
	}
	return Pending{}, false, nil
}

// nextTimers returns up to n timers of the store's timer sets, soonest
// first.
func (r *Runner) nextTimers(n int64) ([]Pending, error) {
	if r.timers == nil {
		return nil, nil
	}
	ts, err := r.timers.NextTimers(context.Background(), n)
	if err != nil {
		return nil, err
	}
	out := make([]Pending, 0, len(ts))
	for _, t := range ts {
		out = append(out, r.pendingOfTimer(t))
	}
	return out, nil
}

// Scheduled lists the tasks scheduled for later, soonest first.
func (r *Runner) Scheduled() ([]Pending, error) {
	later, err := r.insp.ListScheduledTasks(r.queue, asynq.PageSize(100))
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, fmt.Errorf("list scheduled tasks: %w", err)
	}
	out := make([]Pending, 0, len(later))
	for _, t := range later {
		out = append(out, r.pendingOf(t))
	}
	timers, err := r.nextTimers(100)
	if err != nil {
		return nil, err
	}
	out = append(out, timers...)
	slices.SortStableFunc(out, func(a, b Pending) int { return a.At.Compare(b.At) })
	return out, nil
}

// maxRun bounds one RunDue: a flow whose timers keep queueing work due at
// once would otherwise never stop.
const maxRun = 1000

// RunDue runs every task due at or before until, one at a time, soonest
// first, including the tasks that running them queues. Before a scheduled
// task runs, advance moves the simulated clock to the moment it is due
// (never backwards), so what the task records carries that time. A task
// that fails is dropped and its error returned: the simulation stops there
// instead of retrying with backoff.
func (r *Runner) RunDue(ctx context.Context, until time.Time, advance func(time.Time)) (int, error) {
	n := 0
	for ; n < maxRun; n++ {
		p, ok, err := r.Next()
		if err != nil {
			return n, err
		}
		if !ok || p.At.After(until) {
			return n, nil
		}
		if !p.At.IsZero() {
			advance(p.At)
		}
		if p.timer != nil {
			if err := r.runTimer(ctx, *p.timer); err != nil {
				return n + 1, fmt.Errorf("task %s: %w", p.ID, err)
			}
			continue
		}
		info, err := r.insp.GetTaskInfo(r.queue, p.ID)
		if err != nil {
			return n, fmt.Errorf("read task %s: %w", p.ID, err)
		}
		if err := r.insp.DeleteTask(r.queue, p.ID); err != nil {
			return n, fmt.Errorf("take task %s: %w", p.ID, err)
		}
		if err := r.mux.ProcessTask(ctx, asynq.NewTask(info.Type, info.Payload)); err != nil {
			return n + 1, fmt.Errorf("task %s: %w", p.ID, err)
		}
	}
	return n, fmt.Errorf("more than %d tasks fell due at once: does a timer keep firing?", maxRun)
}

// runTimer takes timer t out of the store's timer sets and runs it, as the
// Worker would after moving it into the queue.
func (r *Runner) runTimer(ctx context.Context, t store.Timer) error {
	took, err := r.timers.TakeTimer(ctx, t)
	if err != nil || !took {
		return err
	}
	b, err := timerPayloadOf(t)
	if err != nil {
		return err
	}
	return r.mux.ProcessTask(ctx, asynq.NewTask(TypeTimer, b))
}
