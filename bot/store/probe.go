package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Probe asks, before anything is stored, whether a recipient opted out of
// a channel and whether an event already started a nudge.
type Probe struct {
	Tag, Channel, Event string
}

// ProbeResult answers a Probe.
type ProbeResult struct {
	OptedOut bool
	Existing string // id of the nudge the event already started
}

// ProbeAll answers many probes in one pipelined round trip (two reads per
// probe); batch checks use it for 100,000 rows at once.
func (s *Store) ProbeAll(ctx context.Context, ps []Probe) ([]ProbeResult, error) {
	out := make([]ProbeResult, len(ps))
	const chunk = 5000
	for lo := 0; lo < len(ps); lo += chunk {
		hi := min(lo+chunk, len(ps))
		pipe := s.rdb.Pipeline()
		opt := make([]*redis.BoolCmd, hi-lo)
		ev := make([]*redis.StringCmd, hi-lo)
		for i, p := range ps[lo:hi] {
			opt[i] = pipe.HExists(ctx, s.rcpKey(p.Tag), "optout:"+p.Channel)
			ev[i] = pipe.HGet(ctx, s.rcpKey(p.Tag), eventField(p.Event))
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("probe recipients: %w", err)
		}
		for i := range opt {
			out[lo+i] = ProbeResult{OptedOut: opt[i].Val(), Existing: fullID(ps[lo+i].Tag, ev[i].Val())}
		}
	}
	return out, nil
}
