package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/events"
)

// eventsQueue is what the dispatcher needs of the job queue.
type eventsQueue interface {
	EnqueueTask(ctx context.Context, typ, id string, payload []byte, at time.Time, timeout time.Duration) error
}

// newEvents builds the dispatcher of events to the case system (nil when
// no subscriber is configured) and its metrics.
func newEvents(cfg *config.Config, o Options, a *App) (*events.Dispatcher, error) {
	if len(cfg.Events.Subscribers) == 0 {
		return nil, nil
	}
	var subs []events.Subscriber
	for _, s := range cfg.Events.Subscribers {
		var types []string
		for _, t := range s.Types {
			if !events.Known(t) {
				return nil, fmt.Errorf("config: events subscriber %q: unknown event type %q: use some of %s",
					s.Name, t, strings.Join(events.Types(), ", "))
			}
			types = append(types, strings.TrimPrefix(t, events.TypePrefix))
		}
		subs = append(subs, events.Subscriber{Name: s.Name, URL: s.URL, Secret: s.Secret, Types: types})
	}
	a.Metrics.Subscribers(names(subs))
	var q eventsQueue = a.Queue
	d := events.New(events.Options{Redis: a.Redis, Prefix: cfg.Redis.KeyPrefix, Subscribers: subs, Queue: q, Nudges: a.Store,
		Source: cfg.PublicURL, RetryBase: cfg.Events.RetryBase, RetryFor: cfg.Events.RetryFor, Retention: cfg.Retention,
		HTTPClient: o.HTTPClient, Now: o.Now, Audit: a.Audit, Log: a.Log.With("component", "events"), Observe: a.Metrics.EventDelivery})
	a.Metrics.GaugeFunc("event_dead_letters", "Event deliveries that failed for their whole retry period and wait for an admin's replay.",
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			n, err := d.DeadLetterCount(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		})
	return d, nil
}
