package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/store"
)

// TaskType is the job type of one delivery attempt (bot/jobs).
const TaskType = "seintje:event"

// Subscriber is a receiver of events.
type Subscriber struct {
	Name   string
	URL    string
	Secret []byte
	// Types it wants (without TypePrefix); empty: every type.
	Types []string
}

// Wants reports whether the subscriber takes events of type t.
func (s Subscriber) Wants(t string) bool { return len(s.Types) == 0 || slices.Contains(s.Types, t) }

// Queue schedules delivery attempts (jobs.Queue.EnqueueTask). Enqueueing
// an id that waits already is a no-op.
type Queue interface {
	EnqueueTask(ctx context.Context, typ, id string, payload []byte, at time.Time, timeout time.Duration) error
}

// Nudges looks up a nudge (for the case reference of a status event).
type Nudges interface {
	Nudge(ctx context.Context, id string) (*store.Nudge, error)
}

// Options configure a Dispatcher.
type Options struct {
	Redis       redis.UniversalClient
	Prefix      string // Redis key prefix, default "sj"
	Subscribers []Subscriber
	Queue       Queue
	Nudges      Nudges
	// Source is the CloudEvents source: Seintje's public URL.
	Source string
	// RetryBase is the first retry delay (default 30s); it doubles each
	// attempt up to RetryMax (default 4h), with 10% jitter. After RetryFor
	// (default 24h) since the first attempt the delivery goes to the
	// dead-letter list.
	RetryBase, RetryMax, RetryFor time.Duration
	// Timeout bounds one HTTP attempt (default 10s).
	Timeout time.Duration
	// Retention is how long dead letters are kept (default 30 days).
	Retention  time.Duration
	HTTPClient *http.Client
	Now        func() time.Time
	Log        *slog.Logger
	// Audit records each replay of a dead letter (nil: not recorded).
	Audit *audit.Log
	// Observe, when set, counts attempts by subscriber and result
	// ("delivered", "retry", "dead_letter").
	Observe func(subscriber, result string)
}

// Dispatcher turns case events into delivery tasks and delivers them.
// It holds no mutable state.
type Dispatcher struct {
	o    Options
	subs map[string]Subscriber
}

// New returns a Dispatcher.
func New(o Options) *Dispatcher {
	if o.Prefix == "" {
		o.Prefix = "sj"
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 30 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 4 * time.Hour
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 24 * time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{o: o, subs: map[string]Subscriber{}}
	for _, s := range o.Subscribers {
		d.subs[s.Name] = s
	}
	return d
}

// Enabled reports whether any subscriber is configured (no events are
// written to the outbox otherwise).
func (d *Dispatcher) Enabled() bool { return d != nil && len(d.subs) > 0 }

// delivery is the payload of one attempt.
type delivery struct {
	Sub     string          `json:"s"`
	Event   json.RawMessage `json:"e"`
	ID      string          `json:"id"`
	Type    string          `json:"ty"`
	Nudge   string          `json:"n,omitempty"`
	Attempt int             `json:"a"`
	First   time.Time       `json:"f"`
	Gen     string          `json:"g,omitempty"` // the dead letter a replay came from
}

func (p delivery) taskID() string {
	id := "event:" + p.ID + ":" + p.Sub
	if p.Gen != "" {
		id += ":r" + p.Gen
	}
	return id + ":" + strconv.Itoa(p.Attempt)
}

// Enqueue queues one delivery task per subscriber that wants each event.
// It fills in what the outbox entry leaves out: the type and id of a
// message status event, the case reference and flow from the nudge.
// Queueing is idempotent (task ids come from event ids).
func (d *Dispatcher) Enqueue(ctx context.Context, evs []store.CaseEvent) error {
	if !d.Enabled() {
		return nil
	}
	now := d.o.Now()
	var errs []error
	for _, ev := range evs {
		if ev.Type == "" {
			ev.Type = TypeOfStatus(ev.State)
			if ev.Type == "" {
				continue
			}
		}
		if ev.ID == "" {
			ev.ID = ev.Msg + "." + ev.Type
		}
		if (ev.Ref == "" || ev.Flow == "") && ev.Nudge != "" && d.o.Nudges != nil {
			n, err := d.o.Nudges.Nudge(ctx, ev.Nudge)
			switch {
			case err == nil:
				if ev.Ref == "" {
					ev.Ref = n.Ref
				}
				if ev.Flow == "" {
					ev.Flow = n.Flow.ID
				}
			case !errors.Is(err, store.ErrNotFound):
				errs = append(errs, err)
				continue
			}
		}
		body, err := Build(d.o.Source, ev).Encode()
		if err != nil {
			errs = append(errs, fmt.Errorf("encode event: %w", err))
			continue
		}
		for _, name := range d.names() {
			if !d.subs[name].Wants(ev.Type) {
				continue
			}
			p := delivery{Sub: name, Event: body, ID: ev.ID, Type: ev.Type, Nudge: ev.Nudge, First: now}
			errs = append(errs, d.schedule(ctx, p, time.Time{}))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("queue events: %w", err)
	}
	return nil
}

func (d *Dispatcher) names() []string {
	out := make([]string, 0, len(d.subs))
	for n := range d.subs {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (d *Dispatcher) schedule(ctx context.Context, p delivery, at time.Time) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode delivery: %w", err)
	}
	return d.o.Queue.EnqueueTask(ctx, TaskType, p.taskID(), b, at, d.o.Timeout+20*time.Second)
}

func (d *Dispatcher) doneKey(p delivery) string {
	return d.o.Prefix + ":{events}:done:" + p.Sub + ":" + p.ID
}

// Deliver makes one delivery attempt (the TaskType handler). On failure it
// schedules the next attempt itself (exponential backoff) or, after
// RetryFor, files the delivery in the dead-letter list; it returns an
// error only when that could not be stored (the job queue retries it).
func (d *Dispatcher) Deliver(ctx context.Context, payload []byte) error {
	var p delivery
	if err := json.Unmarshal(payload, &p); err != nil {
		d.o.Log.ErrorContext(ctx, "event delivery task unreadable; dropped", "err", err)
		return nil
	}
	sub, ok := d.subs[p.Sub]
	if !ok {
		d.o.Log.WarnContext(ctx, "event subscriber is no longer configured; event dropped", "subscriber", p.Sub, "event", p.ID)
		return nil
	}
	if n, err := d.o.Redis.Exists(ctx, d.doneKey(p)).Result(); err != nil {
		return fmt.Errorf("event delivered marker: %w", err)
	} else if n > 0 {
		return nil // delivered before (a repeated status report)
	}
	status, perr := d.post(ctx, sub, p.Event)
	if perr == nil {
		if err := d.o.Redis.Set(ctx, d.doneKey(p), "1", 7*24*time.Hour).Err(); err != nil {
			d.o.Log.WarnContext(ctx, "event delivered; marker not stored", "event", p.ID, "err", err)
		}
		d.observe(p.Sub, "delivered")
		d.o.Log.InfoContext(ctx, "event delivered", "subscriber", p.Sub, "event", p.ID, "type", p.Type, "attempt", p.Attempt+1)
		return nil
	}
	now := d.o.Now()
	if now.Sub(p.First) >= d.o.RetryFor {
		dl := DeadLetter{ID: store.NewID(now), Subscriber: p.Sub, EventID: p.ID, Type: p.Type, Nudge: p.Nudge,
			Attempts: p.Attempt + 1, First: p.First, DeadAt: now, LastStatus: status, LastError: perr.Error(), Event: p.Event}
		if err := d.addDead(ctx, dl); err != nil {
			return err
		}
		d.observe(p.Sub, "dead_letter")
		d.o.Log.ErrorContext(ctx, "event not delivered for its whole retry period; filed as a dead letter", "subscriber", p.Sub,
			"event", p.ID, "type", p.Type, "attempts", dl.Attempts, "dead_letter", dl.ID, "err", perr)
		return nil
	}
	p.Attempt++
	at := now.Add(d.backoff(p.Attempt))
	if last := p.First.Add(d.o.RetryFor); at.After(last) {
		at = last // the final attempt at the end of the period
	}
	if err := d.schedule(ctx, p, at); err != nil {
		return err
	}
	d.observe(p.Sub, "retry")
	d.o.Log.WarnContext(ctx, "event delivery failed; will retry", "subscriber", p.Sub, "event", p.ID, "attempt", p.Attempt,
		"next", at, "err", perr)
	return nil
}

// backoff is the delay before attempt n (1 = the first retry).
func (d *Dispatcher) backoff(n int) time.Duration {
	b := float64(d.o.RetryBase) * math.Pow(2, float64(n-1))
	if b > float64(d.o.RetryMax) || b <= 0 {
		b = float64(d.o.RetryMax)
	}
	return time.Duration(b * (0.9 + 0.2*rand.Float64()))
}

func (d *Dispatcher) observe(sub, result string) {
	if d.o.Observe != nil {
		d.o.Observe(sub, result)
	}
}

// post sends one signed request; a non-2xx answer is an error.
func (d *Dispatcher) post(ctx context.Context, sub Subscriber, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("User-Agent", "Seintje-Events/1")
	req.Header.Set(SignatureHeader, Sign(sub.Secret, body, d.o.Now()))
	resp, err := d.o.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %d %s", resp.StatusCode, strings.TrimSpace(http.StatusText(resp.StatusCode)))
	}
	return resp.StatusCode, nil
}
