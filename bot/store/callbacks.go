package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Callback statuses.
const (
	CallbackOpen    = "open"
	CallbackClaimed = "claimed"
	CallbackDone    = "done"
)

// Callback is a request for the werkplaats to call a recipient.
type Callback struct {
	ID        string    `json:"id"`
	NudgeID   string    `json:"nudge_id,omitempty"`
	Ref       string    `json:"ref"`
	Name      string    `json:"name"`
	Reason    string    `json:"reason"`
	Step      string    `json:"step,omitempty"`
	Status    string    `json:"status"`
	Priority  int       `json:"priority"` // 1 high … 3 low
	AskedAt   time.Time `json:"asked_at"`
	Due       time.Time `json:"due"`
	Preferred string    `json:"preferred,omitempty"` // the recipient's preferred moment
	Events    []Event   `json:"events,omitempty"`
	// Werkplaats work (werkplaats.go).
	WorkFields
}

// Event records who changed a callback, and when.
type Event struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Action string    `json:"action"`
	Note   string    `json:"note,omitempty"`
}

// Callbacks lists callback requests with status, ordered by due time.
// Entries whose data expired are dropped from the index.
func (s *Store) Callbacks(ctx context.Context, status string, limit int64) ([]Callback, error) {
	ids, err := s.rdb.ZRange(ctx, s.callbacksKey(status), 0, limit-1).Result()
	if err != nil {
		return nil, fmt.Errorf("list callbacks: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		tag, _ := TagOf(id)
		cmds[i] = pipe.HGet(ctx, s.cbKey(tag), id)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("load callbacks: %w", err)
	}
	out := make([]Callback, 0, len(ids))
	for i, c := range cmds {
		v, err := c.Result()
		if errors.Is(err, redis.Nil) {
			s.rdb.ZRem(ctx, s.callbacksKey(status), ids[i])
			continue
		}
		var cb Callback
		if err := json.Unmarshal([]byte(v), &cb); err != nil {
			return nil, fmt.Errorf("decode callback: %w", err)
		}
		if cb.Status != status { // index lagging behind a change
			continue
		}
		out = append(out, cb)
	}
	return out, nil
}

// Callback loads one callback request.
func (s *Store) Callback(ctx context.Context, id string) (*Callback, error) {
	tag, ok := TagOf(id)
	if !ok {
		return nil, ErrNotFound
	}
	v, err := s.rdb.HGet(ctx, s.cbKey(tag), id).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load callback: %w", err)
	}
	var cb Callback
	if err := json.Unmarshal([]byte(v), &cb); err != nil {
		return nil, fmt.Errorf("decode callback: %w", err)
	}
	return &cb, nil
}
