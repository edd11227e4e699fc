// Package consoletest runs a whole Seintje with its console on a loopback
// port for browser tests: real Redis under a random key prefix, a fake
// Twilio, the frozen test flows, a settable clock and the demo sign-in.
// Any package's tests can use it with bot/console/browsertest:
//
//	s := consoletest.New(t, nil)
//	b := browsertest.New(t)
//	b.SignInDemo(s.URL, "Anne", "werkplaats")
package consoletest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	_ "time/tzdata"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/jobs"
	"github.com/seintje/seintje/bot/simulate"
	"github.com/seintje/seintje/internal/testflows"
)

// Fake credentials, only ever sent to loopback servers.
const (
	TwilioSID       = "AC00000000000000000000000000000009"
	TwilioAuthToken = "0123456789abcdef0123456789abcde9"
	TwilioFrom      = "+3197010000009"
	TokCaseworker   = "caseworker-secret-0009"
	TokWerkplaats   = "werkplaats-secret-0009"
	TokAdmin        = "admin-secret-000000009"
)

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Clock is the service's clock: real time plus an offset tests move on.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock on (sessions, claims, due times).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// Site is one Seintje with its console on a loopback port.
type Site struct {
	t      testing.TB
	URL    string // http://127.0.0.1:<port>
	Prefix string // Redis key prefix
	Redis  *redis.Client
	Twilio *twiliotest.Server
	Clock  *Clock
	App    *app.App
}

// New starts Seintje with the demo sign-in on (env "DEMO": "off" turns it
// off); env sets or overrides settings (SEINTJE_*). Skips without Redis
// unless CI is set.
func New(t testing.TB, env map[string]string) *Site {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	s := &Site{t: t, Prefix: "t" + randHex(6), Redis: redis.NewClient(opt), Clock: &Clock{}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Redis.Ping(ctx).Err(); err != nil {
		s.Redis.Close()
		if os.Getenv("CI") != "" {
			t.Fatalf("console tests need Redis at %s: %v", u, err)
		}
		t.Skipf("no Redis at %s", u)
	}
	s.Twilio = twiliotest.New(t, TwilioSID, TwilioAuthToken)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.URL = "http://" + ln.Addr().String()
	vars := map[string]string{
		"REDIS_URL":               u,
		"SEINTJE_KEY_PREFIX":      s.Prefix,
		"SEINTJE_PUBLIC_URL":      s.URL,
		"SEINTJE_HASH_KEY":        "console-test-hash-key-0123456789abcdef",
		"SEINTJE_API_TOKENS":      "cw:caseworker:" + TokCaseworker + ",wp:werkplaats:" + TokWerkplaats + ",ad:admin:" + TokAdmin,
		"SEINTJE_CALLBACK_NUMBER": "088 123 45 67",
		"SEINTJE_CALLBACK_HOURS":  "maandag tot en met vrijdag van 9 tot 17 uur",
		"SEINTJE_FLOWS_DIR":       flowsDir(t),
		"SEINTJE_QUIET_HOURS":     "off",
		"SEINTJE_WEEKLY_LIMIT":    "100",
		"TWILIO_ACCOUNT_SID":      TwilioSID,
		"TWILIO_AUTH_TOKEN":       TwilioAuthToken,
		"TWILIO_FROM":             TwilioFrom,
		"TWILIO_API_URL":          s.Twilio.URL,
		"SEINTJE_SMS_RATE":        "1000",
		"SEINTJE_AGENCY":          "gemeente Utrecht",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(config.Options{Getenv: func(k string) string { return vars[k] }, ReadFile: os.ReadFile})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cfg.Demo = vars["DEMO"] != "off" // the demo sign-in, on real Redis
	sims := simulate.NewPool(cfg, nil)
	t.Cleanup(sims.Close)
	a, err := app.New(context.Background(), cfg, app.Options{
		Now:       s.Clock.Now,
		Simulator: sims,
		Jobs:      jobs.Options{Queue: s.Prefix, Poll: 20 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	s.App = a
	sims.Flows = a.Registry.Live
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		a.Close()
		s.flush()
		s.Redis.Close()
	})
	return s
}

// flush removes this test's keys.
func (s *Site) flush() {
	ctx := context.Background()
	for _, pat := range []string{s.Prefix + ":*", "asynq:{" + s.Prefix + "}:*"} {
		iter := s.Redis.Scan(ctx, 0, pat, 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			s.Redis.Del(ctx, keys...)
		}
	}
	s.Redis.SRem(ctx, "asynq:queues", s.Prefix)
}

// API calls the JSON API with a token and decodes the answer.
func (s *Site) API(method, path, token string, body any) (int, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// AuditActions lists "actor action" of the trail, oldest first.
func (s *Site) AuditActions(filter string) []string {
	s.t.Helper()
	st, m := s.API(http.MethodGet, "/v1/audit?limit=500&"+filter, TokAdmin, nil)
	if st != http.StatusOK {
		s.t.Fatalf("audit: %d %v", st, m)
	}
	es := m["entries"].([]any)
	out := make([]string, 0, len(es))
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i].(map[string]any)
		out = append(out, e["actor"].(string)+" "+e["action"].(string))
	}
	return out
}

// Nudge starts flow for a person through the API (as case worker token
// cw) and returns the nudge id.
func (s *Site) Nudge(flowID, phone, name, ref string, vars map[string]any) string {
	s.t.Helper()
	st, m := s.API(http.MethodPost, "/v1/nudges", TokCaseworker, map[string]any{"flow": flowID,
		"recipient": map[string]any{"ref": ref, "phone": phone, "name": name}, "vars": vars, "caseworker": map[string]any{"name": "Ahmed"}})
	if st != http.StatusAccepted {
		s.t.Fatalf("POST /v1/nudges: %d %v", st, m)
	}
	return m["id"].(string)
}

// SMS posts an inbound SMS webhook, signed as Twilio signs it. It first
// waits until Seintje recorded every message the fake Twilio accepted for
// the sender: a reply belongs to a conversation only once its message was
// handed over (docs/reliability.md, "How replies are routed").
func (s *Site) SMS(from, body string) {
	s.t.Helper()
	s.Eventually("sent messages recorded", func() bool {
		for _, r := range s.Twilio.Requests() {
			if r.To != from || r.HTTPStatus != http.StatusCreated {
				continue
			}
			mid, err := s.App.Store.MessageOfProvider(context.Background(), s.App.Service.Keyer.Hash("phone", r.To), r.SID)
			if err != nil || mid == "" {
				return false
			}
		}
		return true
	})
	form := url.Values{"MessageSid": {"SM" + randHex(16)}, "AccountSid": {TwilioSID}, "From": {from}, "To": {TwilioFrom},
		"Body": {body}, "NumMedia": {"0"}}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Sign(TwilioAuthToken, s.URL+"/webhooks/twilio/sms", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		s.t.Fatalf("inbound SMS: %d", resp.StatusCode)
	}
}

// SentTo returns the SMS texts the fake Twilio accepted for a number.
func (s *Site) SentTo(phone string) []string {
	var out []string
	for _, r := range s.Twilio.Requests() {
		if r.To == phone && r.HTTPStatus == http.StatusCreated {
			out = append(out, r.Body)
		}
	}
	return out
}

// Eventually polls cond until it holds or 10 s pass.
func (s *Site) Eventually(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CallbackTask makes a werkplaats task the real way: a missing-form nudge
// to phone, the person answers "2" (call me). It returns the task id.
func (s *Site) CallbackTask(phone, name, ref string) string {
	s.t.Helper()
	nudge := s.Nudge("missing-form", phone, name, ref, map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	s.Eventually("first SMS to "+phone, func() bool { return len(s.SentTo(phone)) >= 1 })
	s.SMS(phone, "2")
	return s.CallbackOf(nudge)
}

// CallbackOf waits for the callback task of a nudge and returns its id.
func (s *Site) CallbackOf(nudge string) string {
	s.t.Helper()
	var id string
	s.Eventually("a callback task", func() bool {
		_, m := s.API(http.MethodGet, "/v1/nudges/"+nudge, TokCaseworker, nil)
		if cb, ok := m["callback"].(map[string]any); ok {
			id, _ = cb["id"].(string)
		}
		return id != ""
	})
	return id
}

// flowsDir holds the frozen test flows plus the console's own fixtures
// (bot/console/testdata, e.g. a flow with Arabic texts).
func flowsDir(t testing.TB) string {
	dir := testflows.Dir(t)
	_, file, _, _ := runtime.Caller(0)
	extra, _ := filepath.Glob(filepath.Join(filepath.Dir(file), "..", "testdata", "*.yaml"))
	for _, f := range extra {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
