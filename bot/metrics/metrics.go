// Package metrics exposes Seintje's Prometheus metrics. The collectors live
// on their own registry (no global state), served at /metrics. No label ever
// holds personal data: only routes, flows, channels, statuses and reasons.
//
// Counters whose label values are known in advance (channels, reasons,
// flows, timer kinds) are created at zero when Seintje starts, so every
// series exists from the first scrape: rates and alerts work without
// waiting for the first failure, and deploy/metrics_test.go can check that
// every metric the dashboard and the alert rules use is exported.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Label values created at start-up.
var (
	channels       = []string{"sms", "telegram", "whatsapp"}
	sendFailures   = []string{"temporary", "rejected", "opted_out", "gave_up", "no_address", "not_configured", "canceled", "other"}
	deliveryStates = []string{"sent", "delivered", "read", "undelivered", "failed"}
	timerKinds     = []string{"wait", "reminder", "expire"}
	nudgeResults   = []string{"created", "existing", "opted_out"}
	eventResults   = []string{"delivered", "retry", "dead_letter"}
)

// Metrics holds the collectors.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.HistogramVec
	nudges    *prometheus.CounterVec
	inbound   *prometheus.CounterVec
	rejected  *prometheus.CounterVec
	events    *prometheus.CounterVec
	sent      *prometheus.CounterVec
	failures  *prometheus.CounterVec
	reports   *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	replies   *prometheus.CounterVec
	timerLate *prometheus.HistogramVec
	redisErrs prometheus.Counter
}

// New registers the collectors on a fresh registry.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "seintje", Name: "http_request_duration_seconds",
		Help:    "HTTP requests by route pattern, method and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "method", "status"})
	m.nudges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "seintje", Name: "nudges_total", Help: "Nudge requests by flow and result (created, existing, opted_out, invalid).",
	}, []string{"flow", "result"})
	m.inbound = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "seintje", Name: "inbound_messages_total", Help: "Inbound messages accepted by channel.",
	}, []string{"channel"})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "seintje", Name: "webhook_rejected_total", Help: "Webhook calls refused (bad signature or secret) by channel.",
	}, []string{"channel"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "seintje", Name: "event_deliveries_total",
		Help: "Event delivery attempts to the case system by subscriber and result (delivered, retry, dead_letter).",
	}, []string{"subscriber", "result"})
	m.sent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "seintje", Name: "messages_sent_total", Help: "Messages handed to a provider, by channel.",
	}, []string{"channel"})
	m.failures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "seintje", Name: "send_failures_total",
		Help: "Send attempts that did not reach the provider, by channel and reason (temporary: retried; the others are final).",
	}, []string{"channel", "reason"})
	m.reports = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "seintje", Name: "delivery_reports_total", Help: "Delivery reports from providers by channel and state.",
	}, []string{"channel", "state"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "seintje", Name: "delivery_latency_seconds",
		Help:    "Time from a message being queued to the provider reporting it delivered, by channel.",
		Buckets: []float64{1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
	}, []string{"channel"})
	m.replies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "seintje", Name: "replies_total", Help: "Replies routed into a conversation, by flow.",
	}, []string{"flow"})
	m.timerLate = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "seintje", Name: "timer_lateness_seconds",
		Help:    "How late conversation timers fire after their due time, by kind (wait, reminder, expire).",
		Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 300, 900, 3600},
	}, []string{"kind"})
	m.redisErrs = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "seintje", Name: "redis_errors_total", Help: "Redis commands and pipelines that failed (not counting \"no such key\").",
	})
	m.reg.MustRegister(m.requests, m.nudges, m.inbound, m.rejected, m.events, m.sent, m.failures, m.reports, m.latency,
		m.replies, m.timerLate, m.redisErrs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, ch := range channels {
		m.inbound.WithLabelValues(ch)
		m.rejected.WithLabelValues(ch)
		m.sent.WithLabelValues(ch)
		m.latency.WithLabelValues(ch)
		for _, r := range sendFailures {
			m.failures.WithLabelValues(ch, r)
		}
		for _, st := range deliveryStates {
			m.reports.WithLabelValues(ch, st)
		}
	}
	m.rejected.WithLabelValues("status")
	for _, k := range timerKinds {
		m.timerLate.WithLabelValues(k)
	}
	return m
}

// Flows creates the per-flow series at zero.
func (m *Metrics) Flows(ids []string) {
	if m == nil {
		return
	}
	for _, id := range ids {
		m.replies.WithLabelValues(id)
		for _, r := range nudgeResults {
			m.nudges.WithLabelValues(id, r)
		}
	}
}

// Subscribers creates the event delivery series of subscribers at zero.
func (m *Metrics) Subscribers(names []string) {
	if m == nil {
		return
	}
	for _, n := range names {
		for _, r := range eventResults {
			m.events.WithLabelValues(n, r)
		}
	}
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest records one HTTP request.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// Nudge counts a nudge request.
func (m *Metrics) Nudge(flow, result string) {
	if m == nil {
		return
	}
	m.nudges.WithLabelValues(flow, result).Inc()
}

// Inbound counts an accepted inbound message.
func (m *Metrics) Inbound(channel string) {
	if m == nil {
		return
	}
	m.inbound.WithLabelValues(channel).Inc()
}

// Rejected counts a refused webhook call.
func (m *Metrics) Rejected(channel string) {
	if m == nil {
		return
	}
	m.rejected.WithLabelValues(channel).Inc()
}

// EventDelivery counts one event delivery attempt.
func (m *Metrics) EventDelivery(subscriber, result string) {
	if m == nil {
		return
	}
	m.events.WithLabelValues(subscriber, result).Inc()
}

// Sent counts a message handed to a provider.
func (m *Metrics) Sent(channel string) {
	if m == nil {
		return
	}
	m.sent.WithLabelValues(channel).Inc()
}

// SendFailed counts a send that did not reach the provider.
func (m *Metrics) SendFailed(channel, reason string) {
	if m == nil {
		return
	}
	m.failures.WithLabelValues(channel, reason).Inc()
}

// Delivery counts a provider's delivery report; after is the time since
// the message was queued (counted in the latency when delivered, 0:
// unknown).
func (m *Metrics) Delivery(channel, state string, after time.Duration) {
	if m == nil {
		return
	}
	m.reports.WithLabelValues(channel, state).Inc()
	if state == "delivered" && after > 0 {
		m.latency.WithLabelValues(channel).Observe(after.Seconds())
	}
}

// Replied counts a reply routed into a conversation of flow.
func (m *Metrics) Replied(flow string) {
	if m == nil {
		return
	}
	m.replies.WithLabelValues(flow).Inc()
}

// TimerLate records how late a timer of kind fired.
func (m *Metrics) TimerLate(kind string, late time.Duration) {
	if m == nil {
		return
	}
	if kind == "" {
		kind = "wait"
	}
	m.timerLate.WithLabelValues(kind).Observe(max(late, 0).Seconds())
}

// RedisError counts a failed Redis command or pipeline.
func (m *Metrics) RedisError() {
	if m == nil {
		return
	}
	m.redisErrs.Inc()
}

// GaugeFunc registers a gauge read from fn at every scrape (e.g. the
// inbound spool's size). name gets the "seintje_" namespace.
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "seintje", Name: name, Help: help}, fn))
}

// Backlog is the work waiting in Redis, read at each scrape.
type Backlog struct {
	OutboxPending  int64         // changes whose queued work is not handed to the job queue yet
	OutboxOldest   time.Duration // age of the oldest of them
	Callbacks      map[string]int64
	OldestOpenCall time.Duration // how long the oldest open callback task is past its due time
	TimersPending  int64         // conversation timers waiting in the timer sets
	TimersOverdue  time.Duration // how long the soonest of them is past its due time (0: none due)
}

// BacklogFunc registers the Redis gauges: seintje_redis_up (1 when fn
// answered within 2 s), the outbox backlog and the callback queue.
func (m *Metrics) BacklogFunc(fn func(ctx context.Context) (Backlog, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&backlogCollector{fn: fn})
}

type backlogCollector struct {
	fn func(ctx context.Context) (Backlog, error)
}

var (
	descRedisUp = prometheus.NewDesc("seintje_redis_up", "1 when Redis answered the metrics scrape within 2 s, else 0.", nil, nil)
	descOutbox  = prometheus.NewDesc("seintje_outbox_pending",
		"Committed changes whose work (sends, timers, events) is not yet handed to the job queue; the recovery pass finishes them.", nil, nil)
	descOutboxAge = prometheus.NewDesc("seintje_outbox_oldest_age_seconds", "Age of the oldest pending outbox entry (0: none).", nil, nil)
	descCallbacks = prometheus.NewDesc("seintje_callback_queue_size", "Werkplaats callback tasks by status (open, claimed).", []string{"status"}, nil)
	descCallAge   = prometheus.NewDesc("seintje_callback_oldest_open_age_seconds",
		"How long the oldest open callback task is past its due time (0: none due).", nil, nil)
	descTimers = prometheus.NewDesc("seintje_timers_pending",
		"Conversation timers (waits, reminders, expiries) waiting in the timer sets.", nil, nil)
	descTimersOverdue = prometheus.NewDesc("seintje_timers_overdue_seconds",
		"How long the soonest pending timer is past its due time (0: none due); grows when no worker moves due timers.", nil, nil)
)

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRedisUp, descOutbox, descOutboxAge, descCallbacks, descCallAge, descTimers, descTimersOverdue} {
		ch <- d
	}
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := c.fn(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descRedisUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descRedisUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(b.OutboxPending))
	ch <- prometheus.MustNewConstMetric(descOutboxAge, prometheus.GaugeValue, b.OutboxOldest.Seconds())
	for _, st := range []string{"open", "claimed"} {
		ch <- prometheus.MustNewConstMetric(descCallbacks, prometheus.GaugeValue, float64(b.Callbacks[st]), st)
	}
	ch <- prometheus.MustNewConstMetric(descCallAge, prometheus.GaugeValue, b.OldestOpenCall.Seconds())
	ch <- prometheus.MustNewConstMetric(descTimers, prometheus.GaugeValue, float64(b.TimersPending))
	ch <- prometheus.MustNewConstMetric(descTimersOverdue, prometheus.GaugeValue, b.TimersOverdue.Seconds())
}
