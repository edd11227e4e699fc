package simulate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/console"
	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/jobs"
)

// Embedded is an in-process Redis (miniredis): the demo's and the
// simulator's, so nothing they do touches a real Redis.
type Embedded struct {
	mr     *miniredis.Miniredis
	Client *redis.Client
}

// StartEmbedded starts an empty embedded Redis.
func StartEmbedded() (*Embedded, error) {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	return &Embedded{mr: mr, Client: redis.NewClient(&redis.Options{Addr: mr.Addr()})}, nil
}

// Follow moves the embedded Redis's clock along with a simulated one:
// keys with a TTL expire as the simulated time passes.
func (e *Embedded) Follow(from, to time.Time) {
	if to.After(from) {
		e.mr.FastForward(to.Sub(from))
	}
	e.mr.SetTime(to)
}

// Tick moves the embedded Redis's clock with the machine's until ctx is
// done (miniredis only moves TTLs when told to): the demo.
func (e *Embedded) Tick(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			e.Follow(last, now)
			last = now
		}
	}
}

// Close stops the embedded Redis.
func (e *Embedded) Close() {
	e.Client.Close()
	e.mr.Close()
}

// Sandbox is the simulator's Env: a complete Seintje on an embedded Redis,
// with the console channel in place of SMS. Answers go in through the
// demo's console webhook (POST /webhooks/console, as `seintje reply`).
type Sandbox struct {
	cfg *config.Config
	log *slog.Logger
	// Flows, when set, gives the flows to play instead of the files in
	// the flows directory (the console plays the live versions).
	Flows func() map[string]*flow.Flow

	mu      sync.Mutex
	red     *Embedded
	app     *app.App
	clock   *Clock
	token   string
	got     []Delivery
	replies int
}

// NewSandbox prepares a sandbox from the service's settings (sending
// hours, weekly limit, callback number and hours, flows directory). The
// providers, API tokens and the spool of cfg are not used: a sandbox
// sends nothing and keeps nothing.
func NewSandbox(cfg *config.Config, log *slog.Logger) *Sandbox {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sandbox{cfg: sandboxConfig(cfg), log: log}
}

// sandboxConfig is a copy of cfg without providers, secrets or spool.
func sandboxConfig(cfg *config.Config) *config.Config {
	c := *cfg
	c.Twilio = config.Twilio{}
	c.Telegram = config.Telegram{}
	c.WhatsApp = config.WhatsApp{}
	c.Spool = config.Spool{Max: cfg.Spool.Max}
	c.Console = config.Console{}
	c.Redis = config.Redis{KeyPrefix: "sim"}
	c.Jobs = config.Jobs{Queue: "sim"}
	c.Demo = true // the console webhook
	if len(c.HashKey) == 0 {
		c.HashKey = []byte(randomHex(32))
	}
	return &c
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Open implements Env.
func (b *Sandbox) Open(ctx context.Context, clock *Clock) (*app.App, error) {
	red, err := StartEmbedded()
	if err != nil {
		return nil, err
	}
	red.Follow(clock.Now(), clock.Now())
	cfg := *b.cfg
	token := randomHex(16)
	cfg.APITokens = []config.Token{{Name: "flows simulate", Role: config.RoleCaseworker, Secret: token}}
	sender := console.NewFunc(func(m channel.Message) {
		b.mu.Lock()
		b.got = append(b.got, Delivery{At: clock.Now(), To: m.To, Body: m.Body})
		b.mu.Unlock()
	})
	var flows map[string]*flow.Flow
	if b.Flows != nil {
		flows = b.Flows()
	}
	a, err := app.New(ctx, &cfg, app.Options{Redis: red.Client, Senders: []channel.Sender{sender}, Now: clock.Now, Flows: flows,
		Log: b.log, NoWorker: true, Jobs: jobs.Options{Queue: "sim", Manual: true}})
	if err != nil {
		red.Close()
		return nil, err
	}
	b.mu.Lock()
	b.red, b.app, b.clock, b.token, b.got, b.replies = red, a, clock, token, nil, 0
	b.mu.Unlock()
	return a, nil
}

// Reply implements Env: the demo's console webhook, in process.
func (b *Sandbox) Reply(ctx context.Context, from, text string) error {
	b.mu.Lock()
	b.replies++
	id := fmt.Sprintf("sim-%d", b.replies)
	a, token := b.app, b.token
	b.mu.Unlock()
	body, err := json.Marshal(map[string]string{"from": from, "body": text, "id": id})
	if err != nil {
		return err
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/webhooks/console", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		return fmt.Errorf("the service did not take the answer: %d %s", rec.Code, rec.Body.String())
	}
	return nil
}

// Delivered implements Env.
func (b *Sandbox) Delivered() []Delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	got := b.got
	b.got = nil
	return got
}

// Advanced implements Env: the embedded Redis's TTLs follow the clock.
func (b *Sandbox) Advanced(from, to time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.red != nil {
		b.red.Follow(from, to)
	}
}

// Close implements Env.
func (b *Sandbox) Close() {
	b.mu.Lock()
	a, red := b.app, b.red
	b.app, b.red = nil, nil
	b.mu.Unlock()
	if a != nil {
		a.Close()
	}
	if red != nil {
		red.Close()
	}
}
