package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Backlog is the work waiting in Redis, for the metrics.
type Backlog struct {
	OutboxPending int64
	OutboxOldest  time.Time // zero: none
	Callbacks     map[string]int64
	OldestOpenDue time.Time // zero: none open
	// TimersPending are the conversation timers waiting in the timer
	// sets; TimersFirstDue is when the soonest of them is due (zero: none).
	// A first due time in the past means due timers are not being moved.
	TimersPending  int64
	TimersFirstDue time.Time
}

// Backlog reads the outbox pointers (count and oldest, per shard) and the
// callback queue (open and claimed; the due time of the oldest open task)
// and the timer sets (count and soonest) in one round trip. Index entries whose task expired count until a reader
// drops them.
func (s *Store) Backlog(ctx context.Context) (Backlog, error) {
	pipe := s.rdb.Pipeline()
	cards := make([]*redis.IntCmd, PendingShards)
	oldest := make([]*redis.ZSliceCmd, PendingShards)
	for n := range PendingShards {
		cards[n] = pipe.ZCard(ctx, s.pendingShard(n))
		oldest[n] = pipe.ZRangeWithScores(ctx, s.pendingShard(n), 0, 0)
	}
	open := pipe.ZCard(ctx, s.callbacksKey(CallbackOpen))
	claimed := pipe.ZCard(ctx, s.callbacksKey(CallbackClaimed))
	first := pipe.ZRangeWithScores(ctx, s.callbacksKey(CallbackOpen), 0, 0)
	tcards := make([]*redis.IntCmd, TimerShards)
	tfirst := make([]*redis.ZSliceCmd, TimerShards)
	for n := range TimerShards {
		tcards[n] = pipe.ZCard(ctx, s.timerShard(n))
		tfirst[n] = pipe.ZRangeWithScores(ctx, s.timerShard(n), 0, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Backlog{}, fmt.Errorf("backlog: %w", err)
	}
	b := Backlog{Callbacks: map[string]int64{CallbackOpen: open.Val(), CallbackClaimed: claimed.Val()}}
	for n := range PendingShards {
		b.OutboxPending += cards[n].Val()
		if z := oldest[n].Val(); len(z) > 0 {
			if at := time.UnixMilli(int64(z[0].Score)); b.OutboxOldest.IsZero() || at.Before(b.OutboxOldest) {
				b.OutboxOldest = at
			}
		}
	}
	if z := first.Val(); len(z) > 0 {
		b.OldestOpenDue = time.UnixMilli(int64(z[0].Score))
	}
	for n := range TimerShards {
		b.TimersPending += tcards[n].Val()
		if z := tfirst[n].Val(); len(z) > 0 {
			if at := time.UnixMilli(int64(z[0].Score)); b.TimersFirstDue.IsZero() || at.Before(b.TimersFirstDue) {
				b.TimersFirstDue = at
			}
		}
	}
	return b, nil
}
