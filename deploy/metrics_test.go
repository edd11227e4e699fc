package deploy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/config"
)

// promql parses PromQL as Prometheus 3 does.
func promql() parser.Parser { return parser.NewParser(parser.Options{}) }

// metricNames returns the metric names an expression selects.
func metricNames(t *testing.T, p parser.Parser, where, expr string) []string {
	t.Helper()
	e, err := p.ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: PromQL does not parse: %v\n%s", where, err, expr)
		return nil
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					name = m.Value
				}
			}
			if name == "" {
				t.Errorf("%s: a selector without a metric name: %s", where, vs)
			}
			names = append(names, name)
		}
		return nil
	})
	return names
}

// ruleMetrics parses deploy/prometheus/alerts.yaml like `promtool check
// rules` (strict YAML, valid PromQL, templates that parse, durations) and
// returns the metric names its rules use, by rule.
func ruleMetrics(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(b, false, model.LegacyValidation, promql(), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("prometheus/alerts.yaml: %v", err)
	}
	if groups == nil {
		t.FailNow()
	}
	out := map[string][]string{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			where := "prometheus/alerts.yaml: " + g.Name + "/" + r.Alert + r.Record
			if r.Alert != "" && (r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "") {
				t.Errorf("%s: give it labels.severity, annotations.summary and annotations.description", where)
			}
			out[where] = metricNames(t, promql(), where, r.Expr)
		}
	}
	return out
}

// grafanaVar is a Grafana variable in a query ($__rate_interval, ${x}).
var grafanaVar = regexp.MustCompile(`\$__\w+|\$\{\w+\}|\$\w+`)

type grafanaPanel struct {
	Title      string         `json:"title"`
	Type       string         `json:"type"`
	Datasource map[string]any `json:"datasource"`
	Targets    []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

// dashboardMetrics reads deploy/grafana/seintje.json and returns the metric
// names its panels query, by panel.
func dashboardMetrics(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("grafana/seintje.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID        string         `json:"uid"`
		Title      string         `json:"title"`
		Panels     []grafanaPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name, Type, Query string
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana/seintje.json: %v", err)
	}
	if d.UID == "" || d.Title == "" {
		t.Error("grafana/seintje.json: give the dashboard a uid and a title")
	}
	if !slices.ContainsFunc(d.Templating.List, func(v struct{ Name, Type, Query string }) bool {
		return v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
	}) {
		t.Error("grafana/seintje.json: the dashboard needs a Prometheus datasource variable named datasource (agencies pick their own)")
	}
	out := map[string][]string{}
	var walk func(ps []grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			where := "grafana/seintje.json: panel " + p.Title
			if uid, _ := p.Datasource["uid"].(string); uid != "${datasource}" {
				t.Errorf("%s: datasource uid %q, want ${datasource}", where, uid)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no queries", where)
			}
			for _, tg := range p.Targets {
				expr := grafanaVar.ReplaceAllString(tg.Expr, "5m")
				out[where] = append(out[where], metricNames(t, promql(), where, expr)...)
			}
		}
	}
	walk(d.Panels)
	return out
}

// scrape starts a Seintje (on miniredis, with an events subscriber so the
// event metrics exist), answers one request and returns the metric names
// on its /metrics page (histograms as name_bucket, name_sum, name_count).
func scrape(t *testing.T) map[string]bool {
	t.Helper()
	mr := miniredis.RunT(t)
	env := map[string]string{
		"REDIS_URL":                   "redis://" + mr.Addr() + "/0",
		"SEINTJE_PUBLIC_URL":          "https://seintje.test",
		"SEINTJE_HASH_KEY":            "test-hash-key-0123456789abcdef0123456789",
		"SEINTJE_API_TOKENS":          "ad:admin:admin-secret-000000001",
		"SEINTJE_CALLBACK_NUMBER":     "088 123 45 67",
		"SEINTJE_CALLBACK_HOURS":      "maandag tot en met vrijdag van 9 tot 17 uur",
		"SEINTJE_FLOWS_DIR":           "../flows",
		"TWILIO_ACCOUNT_SID":          "AC00000000000000000000000000000001",
		"TWILIO_AUTH_TOKEN":           "0123456789abcdef0123456789abcdef",
		"TWILIO_FROM":                 "+3197010000001",
		"SEINTJE_EVENTS_SUBSCRIBERS":  "zaken",
		"SEINTJE_EVENTS_ZAKEN_URL":    "https://zaken.test/seintje-events",
		"SEINTJE_EVENTS_ZAKEN_SECRET": "events-secret-0123456789abcdef",
	}
	cfg, err := config.Load(config.Options{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Redis: redis.NewClient(&redis.Options{Addr: mr.Addr()}), NoWorker: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	get := func(path string) *http.Response {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	get("/healthz").Body.Close()
	resp := get("/metrics")
	defer resp.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// TestAlertRulesAndDashboardUseExportedMetrics parses the alert rules and
// the dashboard, and checks that every metric they use is on the /metrics
// page of a freshly started Seintje: a renamed metric or a typo fails here,
// not silently in an agency's Grafana.
func TestAlertRulesAndDashboardUseExportedMetrics(t *testing.T) {
	rules, panels := ruleMetrics(t), dashboardMetrics(t)
	if len(rules) < 10 || len(panels) < 15 {
		t.Errorf("%d rules and %d panels: the files lost content", len(rules), len(panels))
	}
	exported := scrape(t)
	for _, used := range []map[string][]string{rules, panels} {
		for where, names := range used {
			for _, n := range names {
				if !exported[n] {
					t.Errorf("%s uses %s, which Seintje does not export", where, n)
				}
			}
		}
	}
	// What the issue asks the operators to see.
	var all []string
	for _, used := range []map[string][]string{rules, panels} {
		for _, names := range used {
			all = append(all, names...)
		}
	}
	for _, want := range []string{"seintje_nudges_total", "seintje_send_failures_total", "seintje_delivery_latency_seconds_bucket",
		"seintje_replies_total", "seintje_callback_queue_size", "seintje_callback_oldest_open_age_seconds",
		"seintje_timer_lateness_seconds_bucket", "seintje_spool_records", "seintje_webhook_rejected_total",
		"seintje_redis_errors_total", "seintje_redis_up", "seintje_outbox_oldest_age_seconds", "seintje_event_dead_letters"} {
		if !slices.Contains(all, want) {
			t.Errorf("neither the dashboard nor the alert rules use %s", want)
		}
	}
}
