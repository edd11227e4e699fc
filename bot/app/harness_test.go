package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "time/tzdata"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/internal/apitest"
	"github.com/seintje/seintje/bot/internal/redistest"
	"github.com/seintje/seintje/bot/jobs"
	"github.com/seintje/seintje/internal/testflows"
)

// Test credentials. They are fake and only ever sent to loopback servers.
const (
	testSID        = "AC00000000000000000000000000000001"
	testAuthToken  = "0123456789abcdef0123456789abcdef"
	testFrom       = "+3197010000001"
	testPublicURL  = "https://seintje.test"
	tokCaseworker  = "caseworker-secret-0001"
	tokCoordinator = "coordinator-secret-001"
	tokAdmin       = "admin-secret-000000001"
	tokWerkplaats  = "werkplaats-secret-0001"
)

// itest counts the integration tests skipped without Redis (main_test.go).
var itest = redistest.NewSuite("bot/app")

// redisURL returns the Redis for integration tests. Without one, the test
// is skipped locally and fails on CI.
func redisURL(t testing.TB) string {
	t.Helper()
	return itest.URL(t)
}

// clock is a settable clock shared by the service under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// harness is one Seintje under test with its own key prefix and queue, on
// real Redis, sending SMS to a fake Twilio.
type harness struct {
	t      testing.TB
	env    map[string]string
	prefix string
	rdb    redis.UniversalClient // a *redis.ClusterClient with REDIS_CLUSTER_ADDRS
	twilio *twiliotest.Server
	clock  *clock
	log    *slog.Logger // nil: discard
	opts   app.Options  // extra options (fault injection)
	// httpClient, when set, is used for provider APIs.
	httpClient *http.Client
	// noWorker starts the app without its job worker (work piles up).
	noWorker bool
	app      *app.App
	srv      *httptest.Server
	// api validates every /v1 response against docs/openapi.yaml.
	api *apitest.Spec
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newHarness starts Seintje. env entries override the defaults; with
// REDIS_CLUSTER_ADDRS in env it runs on that Redis Cluster instead of
// REDIS_URL.
func newHarness(t testing.TB, env map[string]string, opts ...func(*harness)) *harness {
	t.Helper()
	cluster := env["REDIS_CLUSTER_ADDRS"]
	ru := env["REDIS_URL"] // a Redis the test started itself
	sentinels := env["REDIS_SENTINEL_ADDRS"]
	if cluster == "" && ru == "" && sentinels == "" {
		ru = redisURL(t)
	}
	h := &harness{t: t, prefix: "t" + randHex(6), clock: &clock{}}
	spec, err := apitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	h.api = spec
	h.twilio = twiliotest.New(t, testSID, testAuthToken)
	h.env = map[string]string{
		"REDIS_URL":                 ru,
		"SEINTJE_KEY_PREFIX":        h.prefix,
		"SEINTJE_PUBLIC_URL":        testPublicURL,
		"SEINTJE_HASH_KEY":          "test-hash-key-0123456789abcdef0123456789",
		"SEINTJE_API_TOKENS":        "cw:caseworker:" + tokCaseworker + ",co:coordinator:" + tokCoordinator + ",ad:admin:" + tokAdmin + ",wp:werkplaats:" + tokWerkplaats,
		"SEINTJE_CALLBACK_NUMBER":   "088 123 45 67",
		"SEINTJE_CALLBACK_HOURS":    "maandag tot en met vrijdag van 9 tot 17 uur",
		"SEINTJE_FLOWS_DIR":         testflows.Dir(t),
		"SEINTJE_QUIET_HOURS":       "off",
		"SEINTJE_WEEKLY_LIMIT":      "100",
		"TWILIO_ACCOUNT_SID":        testSID,
		"TWILIO_AUTH_TOKEN":         testAuthToken,
		"TWILIO_FROM":               testFrom,
		"TWILIO_API_URL":            h.twilio.URL,
		"SEINTJE_SMS_RATE":          "1000",
		"SEINTJE_AGENCY":            "gemeente Utrecht",
		"SEINTJE_TELEGRAM_LINK_TTL": "",
	}
	for k, v := range env {
		h.env[k] = v
	}
	switch {
	case cluster != "":
		delete(h.env, "REDIS_URL")
		h.rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(cluster, ",")})
	case sentinels != "":
		delete(h.env, "REDIS_URL")
		h.rdb = redis.NewFailoverClient(&redis.FailoverOptions{MasterName: env["REDIS_SENTINEL_MASTER"], SentinelAddrs: strings.Split(sentinels, ",")})
	default:
		opt, _ := redis.ParseURL(ru)
		h.rdb = redis.NewClient(opt)
	}
	t.Cleanup(func() {
		h.stop()
		h.flush()
		h.rdb.Close()
	})
	for _, o := range opts {
		o(h)
	}
	h.start()
	return h
}

func (h *harness) config() *config.Config {
	h.t.Helper()
	cfg, err := config.Load(config.Options{Getenv: func(k string) string { return h.env[k] }, ReadFile: os.ReadFile})
	if err != nil {
		h.t.Fatalf("config: %v", err)
	}
	return cfg
}

// start builds the app (again, after stop: a restart on the same Redis).
func (h *harness) start() {
	h.t.Helper()
	o := h.opts
	o.Now, o.Log, o.HTTPClient, o.NoWorker = h.clock.Now, h.log, h.httpClient, h.noWorker
	if o.Log == nil && os.Getenv("SEINTJE_TEST_LOG") != "" {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	o.Jobs = jobs.Options{Queue: h.prefix, Poll: 20 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond}
	a, err := app.New(context.Background(), h.config(), o)
	if err != nil {
		h.t.Fatalf("app.New: %v", err)
	}
	h.app = a
	h.srv = httptest.NewServer(a.Handler)
}

// stop shuts the app down, like a process exit.
func (h *harness) stop() {
	if h.srv != nil {
		h.srv.Close()
		h.srv = nil
	}
	if h.app != nil {
		h.app.Close()
		h.app = nil
	}
}

// scan returns the keys matching pattern, on every master of a cluster.
func (h *harness) scan(ctx context.Context, pattern string) ([]string, error) {
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	if cc, ok := h.rdb.(*redis.ClusterClient); ok {
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
		return keys, err
	}
	return keys, scan(ctx, h.rdb)
}

// flush removes this test's keys (its prefix and its asynq queue). One
// DEL per key, pipelined: on a cluster the keys live in different slots.
func (h *harness) flush() {
	ctx := context.Background()
	for _, pat := range []string{h.prefix + ":*", "asynq:{" + h.prefix + "}:*"} {
		keys, _ := h.scan(ctx, pat)
		pipe := h.rdb.Pipeline()
		for _, k := range keys {
			pipe.Del(ctx, k)
		}
		if len(keys) > 0 {
			_, _ = pipe.Exec(ctx)
		}
	}
	h.rdb.SRem(ctx, "asynq:queues", h.prefix)
}

// keys counts this test's Seintje keys (not the queue's).
func (h *harness) keys() []string {
	h.t.Helper()
	ks, err := h.scan(context.Background(), h.prefix+":*")
	if err != nil {
		h.t.Fatal(err)
	}
	return ks
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.Status, r.Body)
	}
	return m
}

func (h *harness) do(method, path, token, contentType string, body io.Reader, hdr map[string]string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if apitest.Described(req.URL.Path) {
		if err := h.api.ValidateResponse(req, resp.StatusCode, resp.Header, b); err != nil {
			h.t.Error(err)
		}
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (h *harness) postJSON(path, token string, v any, hdr map[string]string) response {
	h.t.Helper()
	var body io.Reader
	switch v := v.(type) {
	case string:
		body = strings.NewReader(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			h.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	return h.do(http.MethodPost, path, token, "application/json", body, hdr)
}

func (h *harness) get(path, token string) response {
	h.t.Helper()
	return h.do(http.MethodGet, path, token, "", nil, nil)
}

// nudge triggers a flow for a phone and returns the nudge id.
func (h *harness) nudge(flowID, phone string, vars map[string]any) string {
	h.t.Helper()
	r := h.postJSON("/v1/nudges", tokCaseworker, nudgeBody(flowID, phone, vars), nil)
	if r.Status != http.StatusAccepted {
		h.t.Fatalf("POST /v1/nudges: %d %s", r.Status, r.Body)
	}
	return r.JSON(h.t)["id"].(string)
}

func nudgeBody(flowID, phone string, vars map[string]any) map[string]any {
	return map[string]any{
		"flow":       flowID,
		"recipient":  map[string]any{"ref": "C-" + phone[len(phone)-4:], "phone": phone, "name": "Sanne de Vries", "language": "nl"},
		"vars":       vars,
		"caseworker": map[string]any{"name": "Ahmed"},
	}
}

// sms posts an inbound SMS webhook, signed like Twilio signs it unless
// signature is given.
func (h *harness) sms(from, body, sid string, signature ...string) response {
	h.t.Helper()
	h.waitRecorded(from)
	return h.smsNow(from, body, sid, signature...)
}

// smsNow is sms without waiting for Seintje's records (fault tests, where
// Redis may not answer).
func (h *harness) smsNow(from, body, sid string, signature ...string) response {
	h.t.Helper()
	form := url.Values{"MessageSid": {sid}, "AccountSid": {testSID}, "From": {from}, "To": {testFrom}, "Body": {body}, "NumMedia": {"0"}}
	sig := twiliotest.Sign(testAuthToken, testPublicURL+"/webhooks/twilio/sms", form)
	if len(signature) > 0 {
		sig = signature[0]
	}
	return h.do(http.MethodPost, "/webhooks/twilio/sms", "", "application/x-www-form-urlencoded",
		strings.NewReader(form.Encode()), map[string]string{"X-Twilio-Signature": sig})
}

// status posts a delivery status callback.
func (h *harness) status(sid, to, st string, code int) response {
	h.t.Helper()
	form := url.Values{"MessageSid": {sid}, "AccountSid": {testSID}, "To": {to}, "From": {testFrom}, "MessageStatus": {st}}
	if code != 0 {
		form.Set("ErrorCode", strings.TrimSpace(strings.Repeat(" ", 0)+itoa(code)))
	}
	sig := twiliotest.Sign(testAuthToken, testPublicURL+"/webhooks/twilio/status", form)
	return h.do(http.MethodPost, "/webhooks/twilio/status", "", "application/x-www-form-urlencoded",
		strings.NewReader(form.Encode()), map[string]string{"X-Twilio-Signature": sig})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// eventually polls cond until it is true or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second) // generous: CI also runs these under -race on 2 busy cores
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for: %s", what)
}

// nudgeView fetches GET /v1/nudges/{id}.
func (h *harness) nudgeView(id string) map[string]any {
	h.t.Helper()
	r := h.get("/v1/nudges/"+id, tokCaseworker)
	if r.Status != http.StatusOK {
		h.t.Fatalf("GET nudge: %d %s", r.Status, r.Body)
	}
	return r.JSON(h.t)
}

func messagesOf(v map[string]any) []map[string]any {
	var out []map[string]any
	for _, m := range v["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

// sentTo returns the bodies the fake Twilio accepted for a number.
func (h *harness) sentTo(to string) []string {
	var out []string
	for _, r := range h.twilio.Requests() {
		if r.To == to && r.HTTPStatus == http.StatusCreated {
			out = append(out, r.Body)
		}
	}
	return out
}

func reader(t testing.TB, v any) io.Reader {
	t.Helper()
	switch v := v.(type) {
	case string:
		return strings.NewReader(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.NewReader(b)
	}
}

// waitRecorded waits until Seintje recorded every message the fake Twilio
// accepted for phone: a reply belongs to a conversation only once its
// message was handed over, and a real person cannot answer in the
// millisecond between Twilio's answer and that record.
func (h *harness) waitRecorded(phone string) {
	h.t.Helper()
	if h.app == nil {
		return
	}
	eventually(h.t, "sent messages recorded", func() bool {
		for _, r := range h.twilio.Requests() {
			if r.To != phone || r.HTTPStatus != http.StatusCreated {
				continue
			}
			mid, err := h.app.Store.MessageOfProvider(context.Background(), h.app.Service.Keyer.Hash("phone", r.To), r.SID)
			if err != nil || mid == "" {
				return false
			}
		}
		return true
	})
}
