// Package metrics exposes Seintje's Prometheus metrics. The collectors live
// on their own registry (no global state), served at /metrics. No label ever
// holds personal data: only routes, flows, channels and statuses.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	nudges   *prometheus.CounterVec
	inbound  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	events   *prometheus.CounterVec
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
	m.reg.MustRegister(m.requests, m.nudges, m.inbound, m.rejected, m.events,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
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

// GaugeFunc registers a gauge read from fn at every scrape (e.g. the
// inbound spool's size). name gets the "seintje_" namespace.
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "seintje", Name: name, Help: help}, fn))
}

// EventDelivery counts one event delivery attempt.
func (m *Metrics) EventDelivery(subscriber, result string) {
	if m == nil {
		return
	}
	m.events.WithLabelValues(subscriber, result).Inc()
}
