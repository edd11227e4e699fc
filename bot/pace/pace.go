// Package pace provides send-rate limits shared by every Seintje instance:
// a GCRA token bucket in Redis (github.com/go-redis/redis_rate), one key per
// provider account, so three instances sending through one Twilio account
// together stay within the account's messages-per-second.
package pace

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limiter blocks callers until their key may send one more message.
type Limiter struct {
	rl    *redis_rate.Limiter
	limit map[string]redis_rate.Limit
	key   string // key prefix
}

// New returns a limiter on rdb; prefix separates Seintjes sharing a Redis.
func New(rdb redis.UniversalClient, prefix string) *Limiter {
	return &Limiter{rl: redis_rate.NewLimiter(rdb), limit: map[string]redis_rate.Limit{}, key: prefix + ":pace:"}
}

// Burst returns how many messages name may send at once after a pause.
func (l *Limiter) Burst(name string) int { return l.limit[name].Burst }

// Unlimited is the rate from which a limit is no limit: no provider account
// sends 100,000 messages a second, so such a setting means "do not pace",
// and Wait then costs no Redis round trip.
const Unlimited = 100_000.0

// Set configures the rate of name in messages per second (fractions allowed,
// e.g. 0.5). It must be called before the limiter is used concurrently.
// A rate of zero or less, or of Unlimited or more, removes the limit.
func (l *Limiter) Set(name string, perSecond float64) {
	if !(perSecond > 0) || perSecond >= Unlimited || math.IsInf(perSecond, 0) {
		delete(l.limit, name)
		return
	}
	// Rate per 1000 s keeps fractional rates exact to a thousandth. The
	// burst (one second's worth, at least 2) lets senders that were late
	// (a loaded machine, a slow provider answer) catch up, so the long-run
	// rate is the setting; Twilio queues a burst of one second's messages
	// rather than refusing them.
	burst := max(2, int(math.Ceil(perSecond)))
	l.limit[name] = redis_rate.Limit{Rate: int(math.Round(perSecond * 1000)), Period: 1000 * time.Second, Burst: burst}
}

// Wait blocks until name may send one message (or ctx ends). Names without
// a configured rate pass at once.
func (l *Limiter) Wait(ctx context.Context, name string) error {
	lim, ok := l.limit[name]
	if !ok {
		return nil
	}
	for {
		res, err := l.rl.Allow(ctx, l.key+name, lim)
		if err != nil {
			return fmt.Errorf("pace %s: %w", name, err)
		}
		if res.Allowed > 0 {
			return nil
		}
		wait := res.RetryAfter
		if wait <= 0 {
			wait = time.Millisecond
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
