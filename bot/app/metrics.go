package app

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/events"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/metrics"
)

// newMetrics builds the metrics: per-flow series at zero, the Redis
// gauges (up, outbox backlog, callback queue) read at each scrape, and
// the count of failed Redis commands (on a client this App opened).
func newMetrics(a *App, flows map[string]*flow.Flow) *metrics.Metrics {
	m := metrics.New()
	m.Flows(slices.Sorted(maps.Keys(flows)))
	m.BacklogFunc(func(ctx context.Context) (metrics.Backlog, error) {
		b, err := a.Store.Backlog(ctx)
		if err != nil {
			return metrics.Backlog{}, err
		}
		now := time.Now()
		out := metrics.Backlog{OutboxPending: b.OutboxPending, Callbacks: b.Callbacks, TimersPending: b.TimersPending}
		if !b.TimersFirstDue.IsZero() {
			out.TimersOverdue = max(now.Sub(b.TimersFirstDue), 0)
		}
		if !b.OutboxOldest.IsZero() {
			out.OutboxOldest = max(now.Sub(b.OutboxOldest), 0)
		}
		if !b.OldestOpenDue.IsZero() {
			out.OldestOpenCall = max(now.Sub(b.OldestOpenDue), 0)
		}
		return out, nil
	})
	if a.ownsRedis {
		a.Redis.AddHook(redisErrors{m})
	}
	return m
}

// redisErrors counts failed Redis commands and pipelines. "No such key"
// is an answer, not an error; NOSCRIPT is answered by sending the script;
// CLIENT SETINFO at connection set-up is refused by older servers and
// ignored by the client.
type redisErrors struct{ m *metrics.Metrics }

func (h redisErrors) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisErrors) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if failed(cmd, err) {
			h.m.RedisError()
		}
		return err
	}
}

func (h redisErrors) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil && slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return failed(c, c.Err()) }) {
			h.m.RedisError()
		}
		return err
	}
}

func failed(cmd redis.Cmder, err error) bool {
	return err != nil && !errors.Is(err, redis.Nil) && !redis.HasErrorPrefix(err, "NOSCRIPT") && cmd.Name() != "client"
}

func names(subs []events.Subscriber) []string {
	out := make([]string, len(subs))
	for i, s := range subs {
		out[i] = s.Name
	}
	return out
}
