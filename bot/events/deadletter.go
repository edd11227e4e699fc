package events

import (
	"context"

	"encoding/json"
	"errors"
	"fmt"
	"github.com/seintje/seintje/bot/audit"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DeadLetter is a delivery that failed for its whole retry period.
//
// Keys (one hash tag, so the two change together on Redis Cluster):
//
//	<prefix>:{events}:dead       sorted set: dead letter id scored by when it died
//	<prefix>:{events}:dead:data  hash: dead letter id → DeadLetter json
type DeadLetter struct {
	ID         string          `json:"id"`
	Subscriber string          `json:"subscriber"`
	EventID    string          `json:"event_id"`
	Type       string          `json:"type"`
	Nudge      string          `json:"nudge,omitempty"`
	Attempts   int             `json:"attempts"`
	First      time.Time       `json:"first_attempt_at"`
	DeadAt     time.Time       `json:"dead_at"`
	LastStatus int             `json:"last_status,omitempty"` // the receiver's last HTTP status (0: no answer)
	LastError  string          `json:"last_error"`
	Event      json.RawMessage `json:"event"` // the CloudEvent as it was sent
}

// ErrNotFound is returned for an unknown dead letter.
var ErrNotFound = errors.New("no such dead letter")

func (d *Dispatcher) deadKey() string     { return d.o.Prefix + ":{events}:dead" }
func (d *Dispatcher) deadDataKey() string { return d.o.Prefix + ":{events}:dead:data" }

// addDead files a dead letter and forgets those older than the retention.
func (d *Dispatcher) addDead(ctx context.Context, dl DeadLetter) error {
	b, err := json.Marshal(dl)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	old, err := d.o.Redis.ZRangeByScore(ctx, d.deadKey(), &redis.ZRangeBy{Min: "-inf",
		Max: strconv.FormatInt(dl.DeadAt.Add(-d.o.Retention).UnixMilli(), 10)}).Result()
	if err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	pipe := d.o.Redis.TxPipeline()
	pipe.HSet(ctx, d.deadDataKey(), dl.ID, b)
	pipe.ZAdd(ctx, d.deadKey(), redis.Z{Score: float64(dl.DeadAt.UnixMilli()), Member: dl.ID})
	if len(old) > 0 {
		pipe.HDel(ctx, d.deadDataKey(), old...)
		pipe.ZRem(ctx, d.deadKey(), toAny(old)...)
	}
	// Case references are personal data: the list expires a retention
	// period after its newest letter (older ones are trimmed above).
	pipe.PExpire(ctx, d.deadDataKey(), d.o.Retention)
	pipe.PExpire(ctx, d.deadKey(), d.o.Retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("file dead letter: %w", err)
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// DeadLetters returns up to limit dead letters, newest first.
func (d *Dispatcher) DeadLetters(ctx context.Context, limit int64) ([]DeadLetter, error) {
	ids, err := d.o.Redis.ZRevRange(ctx, d.deadKey(), 0, limit-1).Result()
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	out := []DeadLetter{}
	if len(ids) == 0 {
		return out, nil
	}
	vals, err := d.o.Redis.HMGet(ctx, d.deadDataKey(), ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var dl DeadLetter
		if json.Unmarshal([]byte(s), &dl) == nil {
			out = append(out, dl)
		}
	}
	return out, nil
}

// DeadLetterCount returns how many dead letters wait (metrics).
func (d *Dispatcher) DeadLetterCount(ctx context.Context) (int64, error) {
	n, err := d.o.Redis.ZCard(ctx, d.deadKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("dead letters: %w", err)
	}
	return n, nil
}

// DeadLetter returns one dead letter.
func (d *Dispatcher) DeadLetter(ctx context.Context, id string) (*DeadLetter, error) {
	v, err := d.o.Redis.HGet(ctx, d.deadDataKey(), id).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("dead letter: %w", err)
	}
	var dl DeadLetter
	if err := json.Unmarshal([]byte(v), &dl); err != nil {
		return nil, fmt.Errorf("decode dead letter: %w", err)
	}
	return &dl, nil
}

// Replay queues a dead letter for delivery again, with a fresh retry
// period, removes it from the list and records the replay in the audit
// trail (the actor from ctx). The delivery task is queued before the
// letter is removed: a crash in between replays it at most twice
// (receivers deduplicate on the CloudEvent id), never loses it. A replay
// whose subscriber is no longer configured is refused.
func (d *Dispatcher) Replay(ctx context.Context, id string) (*DeadLetter, error) {
	dl, err := d.DeadLetter(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, ok := d.subs[dl.Subscriber]; !ok {
		return dl, fmt.Errorf("%w: subscriber %q is no longer configured", ErrNoSubscriber, dl.Subscriber)
	}
	p := delivery{Sub: dl.Subscriber, Event: dl.Event, ID: dl.EventID, Type: dl.Type, Nudge: dl.Nudge,
		First: d.o.Now(), Gen: dl.ID}
	if err := d.schedule(ctx, p, time.Time{}); err != nil {
		return dl, err
	}
	pipe := d.o.Redis.TxPipeline()
	pipe.HDel(ctx, d.deadDataKey(), dl.ID)
	pipe.ZRem(ctx, d.deadKey(), dl.ID)
	if _, err := pipe.Exec(ctx); err != nil {
		return dl, fmt.Errorf("remove dead letter: %w", err)
	}
	if err := d.o.Audit.Record(ctx, audit.Entry{Action: audit.ActionEventReplay, Nudge: dl.Nudge,
		Detail: dl.Type + " to " + dl.Subscriber + " (event " + dl.EventID + ")"}); err != nil {
		return dl, err
	}
	return dl, nil
}

// ErrNoSubscriber is returned when a replay's subscriber is gone.
var ErrNoSubscriber = errors.New("subscriber not configured")
