package simulate_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"time"
	_ "time/tzdata"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/flowtest"
	"github.com/seintje/seintje/bot/internal/redistest"
	"github.com/seintje/seintje/bot/jobs"
	"github.com/seintje/seintje/bot/simulate"
	"github.com/seintje/seintje/internal/testflows"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var itest = redistest.NewSuite("bot/simulate")

func TestMain(m *testing.M) { os.Exit(itest.Main(m)) }

// Test fakes: loopback only.
const (
	testSID       = "AC00000000000000000000000000000001"
	testAuthToken = "0123456789abcdef0123456789abcdef"
	testFrom      = "+3197010000001"
	testPublicURL = "https://seintje.test"
)

// TestCorpusSimulateEqualsLive plays every conversation in testdata/*.txt
// twice: in the simulator (embedded Redis, console channel, answers through
// the console webhook) and on the live path (real Redis, answers signed
// and posted to the Twilio webhook over HTTP, messages sent to a fake
// Twilio). Both transcripts must be the same, and match the reviewed
// golden file.
func TestCorpusSimulateEqualsLive(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conversations in testdata: %v", err)
	}
	redisURL := itest.URL(t)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := simulate.ParseScript(string(b))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			dir := testflows.Dir(t)
			sim := play(t, sc, simulate.NewSandbox(loadConfig(t, sc, dir, nil), nil))
			live := play(t, sc, newLive(t, sc, dir, redisURL))
			if sim != live {
				t.Fatalf("the simulator and the live service differ (- simulator, + live):\n%s", flowtest.GoldenDiff(sim, live))
			}
			golden := strings.TrimSuffix(file, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(sim), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./bot/simulate -run Corpus -update and review the file)", err)
			}
			if string(want) != sim {
				t.Fatalf("transcript differs from %s (- golden, + now; intended? rerun with -update):\n%s", golden, flowtest.GoldenDiff(string(want), sim))
			}
		})
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func play(t *testing.T, sc simulate.Script, env simulate.Env) string {
	t.Helper()
	var out bytes.Buffer
	ctx := context.Background()
	s, err := simulate.New(ctx, env, sc.Options, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := simulate.Run(ctx, s, simulate.NewScanLines(strings.NewReader(strings.Join(sc.Lines, "\n")))); err != nil {
		t.Fatalf("%v\ntranscript so far:\n%s", err, out.String())
	}
	return out.String()
}

// loadConfig loads the settings the way `seintje flows simulate` does
// (demo defaults), with the script's settings and extra on top.
func loadConfig(t *testing.T, sc simulate.Script, dir string, extra map[string]string) *config.Config {
	t.Helper()
	env := map[string]string{"SEINTJE_FLOWS_DIR": dir}
	for k, v := range sc.Env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(config.Options{Demo: true, Getenv: func(k string) string { return env[k] }, ReadFile: os.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// live is the live path: real Redis under its own key prefix and queue,
// the Twilio webhook over HTTP, SMS to a fake Twilio. Its job queue is
// worked by the session's Runner on the simulated clock, the same as the
// simulator's.
type live struct {
	t      *testing.T
	cfg    *config.Config
	prefix string
	rdb    *redis.Client
	twilio *twiliotest.Server

	mu    sync.Mutex
	app   *app.App
	srv   *httptest.Server
	clock *simulate.Clock
	got   []simulate.Delivery
	sids  int
}

func newLive(t *testing.T, sc simulate.Script, dir, redisURL string) *live {
	l := &live{t: t, prefix: "tsim" + randomHex(6)}
	l.twilio = twiliotest.New(t, testSID, testAuthToken)
	l.cfg = loadConfig(t, sc, dir, map[string]string{
		"REDIS_URL": redisURL, "SEINTJE_KEY_PREFIX": l.prefix, "SEINTJE_PUBLIC_URL": testPublicURL,
		"SEINTJE_HASH_KEY":   "test-hash-key-0123456789abcdef0123456789",
		"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": testAuthToken, "TWILIO_FROM": testFrom,
		"TWILIO_API_URL": l.twilio.URL, "SEINTJE_SMS_RATE": "1000",
	})
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	l.rdb = redis.NewClient(opt)
	t.Cleanup(func() { l.Close(); l.rdb.Close() })
	return l
}

// RoundTrip records each message the fake Twilio accepted, at the
// simulated moment it was sent.
func (l *live) RoundTrip(req *http.Request) (*http.Response, error) {
	var form url.Values
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/Messages.json") && req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, _ = url.ParseQuery(string(b))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && form != nil && resp.StatusCode == http.StatusCreated {
		l.mu.Lock()
		l.got = append(l.got, simulate.Delivery{At: l.clock.Now(), To: form.Get("To"), Body: form.Get("Body")})
		l.mu.Unlock()
	}
	return resp, err
}

func (l *live) Open(ctx context.Context, clock *simulate.Clock) (*app.App, error) {
	l.clock = clock
	a, err := app.New(ctx, l.cfg, app.Options{Redis: l.rdb, Now: clock.Now, NoWorker: true, HTTPClient: &http.Client{Transport: l},
		Jobs: jobs.Options{Queue: l.prefix, Manual: true}})
	if err != nil {
		return nil, err
	}
	l.app, l.srv = a, httptest.NewServer(a.Handler)
	return a, nil
}

func (l *live) Reply(ctx context.Context, from, text string) error {
	l.sids++
	form := url.Values{"MessageSid": {fmt.Sprintf("SM%032x", l.sids)}, "AccountSid": {testSID}, "From": {from}, "To": {testFrom},
		"Body": {text}, "NumMedia": {"0"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.srv.URL+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Sign(testAuthToken, testPublicURL+"/webhooks/twilio/sms", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("twilio webhook: %d %s", resp.StatusCode, b)
	}
	return nil
}

func (l *live) Delivered() []simulate.Delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := l.got
	l.got = nil
	return got
}

// Advanced: a real Redis's TTLs follow the machine's clock, not the
// simulated one (the corpus does not depend on a TTL running out).
func (l *live) Advanced(from, to time.Time) {}

func (l *live) Close() {
	if l.srv != nil {
		l.srv.Close()
		l.srv = nil
	}
	if l.app != nil {
		l.app.Close()
		l.app = nil
	}
	ctx := context.Background()
	for _, pat := range []string{l.prefix + ":*", "asynq:{" + l.prefix + "}:*"} {
		iter := l.rdb.Scan(ctx, 0, pat, 500).Iterator()
		for iter.Next(ctx) {
			l.rdb.Del(ctx, iter.Val())
		}
	}
	l.rdb.SRem(ctx, "asynq:queues", l.prefix)
}
