// Package app wires Seintje's parts into one running service: Redis, the
// flow registry, the engine, the channels, the job worker and the HTTP
// handler. cmd/seintje and the integration tests both build it from a
// config.Config.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/api"
	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/batch"
	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/twilio"
	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/console"
	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/jobs"
	"github.com/seintje/seintje/bot/metrics"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/pace"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/registry"
	"github.com/seintje/seintje/bot/store"
	"github.com/seintje/seintje/bot/texts"
)

// Options adjust the wiring for demo mode and tests.
type Options struct {
	// Redis overrides the client built from the config (demo: miniredis).
	Redis redis.UniversalClient
	// Senders override or add channels (demo: the console).
	Senders []channel.Sender
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Log; default discards.
	Log *slog.Logger
	// Jobs tune the queue (tests use a unique queue name and short delays).
	// An empty Jobs.Queue takes SEINTJE_JOBS_QUEUE from the config.
	Jobs jobs.Options
	// HTTPClient is used for provider APIs (tests).
	HTTPClient *http.Client
	// NoWorker skips starting the job worker (benchmarks of the HTTP path).
	NoWorker bool
	// WatchFlows reloads changed flow files while running (serve turns it
	// on): a file that passes the checks goes live, one with errors keeps
	// the previous version and shows its errors in GET /v1/flows.
	WatchFlows bool
	// Mounts adds routes (Telegram, werkplaats) to the HTTP handler.
	Mounts []func(r *gin.Engine, auth func(roles ...string) gin.HandlerFunc)
}

// batchRecoverEvery is how often a worker looks for started batches whose
// run was lost (a crash between a start and its queueing).
const batchRecoverEvery = 15 * time.Second

// App is a running Seintje.
type App struct {
	Config   *config.Config
	Redis    redis.UniversalClient
	Store    *store.Store
	Registry *registry.Registry
	Service  *outreach.Service
	Batches  *batch.Service
	Queue    *jobs.Queue
	Audit    *audit.Log
	Console  *console.Console
	Handler  http.Handler
	Log      *slog.Logger

	worker    *jobs.Worker
	watcher   *registry.Watcher
	ownsRedis bool
	srv       *http.Server
	stopBg    context.CancelFunc // background loops (batch recovery)
}

// New builds the service. Flow files with errors stop it with every
// error listed as file:line:col.
func New(ctx context.Context, cfg *config.Config, o Options) (*App, error) {
	a := &App{Config: cfg}
	a.Log = o.Log
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}

	flows, ds, err := flow.LoadDir(cfg.FlowsDir)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if d.Severity == flow.Warning {
			a.Log.Warn("flow warning", "at", fmt.Sprintf("%s:%d:%d", d.File, d.Line, d.Col), "msg", d.Message)
		}
	}
	if err := ds.Err(); err != nil {
		return nil, fmt.Errorf("flow files have errors:\n%w", err)
	}

	a.Redis = o.Redis
	if a.Redis == nil {
		rdb, err := cfg.Redis.NewClient()
		if err != nil {
			return nil, err
		}
		a.Redis, a.ownsRedis = rdb, true
	}
	if err := a.Redis.Ping(ctx).Err(); err != nil {
		a.Close()
		return nil, fmt.Errorf("redis is not reachable: %w", err)
	}
	prefix := cfg.Redis.KeyPrefix
	a.Store = store.New(a.Redis, store.Options{Prefix: prefix, Retention: cfg.Retention})
	a.Registry = registry.New(a.Redis, prefix, cfg.Retention+30*24*time.Hour)
	if err := a.Registry.Install(ctx, flows, now()); err != nil {
		a.Close()
		return nil, err
	}
	if o.WatchFlows {
		if a.watcher, err = a.Registry.Watch(cfg.FlowsDir, registry.WatchOptions{Log: a.Log, Now: now}); err != nil {
			a.Close()
			return nil, err
		}
	}

	keyer, err := phone.NewKeyer(cfg.HashKey)
	if err != nil {
		a.Close()
		return nil, err
	}
	cat, err := texts.Default()
	if err != nil {
		a.Close()
		return nil, err
	}
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("load time zone (import time/tzdata): %w", err)
	}

	senders := map[channel.Name]channel.Sender{}
	// Pacing is shared by every instance through Redis: the provider's
	// limit is per account, not per process.
	limiter := pace.New(a.Redis, prefix)
	paceKey := map[channel.Name]string{}
	if cfg.Twilio.Configured() {
		tw, err := twilio.New(twilio.Config{AccountSID: cfg.Twilio.AccountSID, AuthToken: cfg.Twilio.AuthToken,
			From: cfg.Twilio.From, MessagingServiceSID: cfg.Twilio.MessagingServiceSID, APIURL: cfg.Twilio.APIURL,
			StatusCallbackURL: cfg.PublicURL + "/webhooks/twilio/status", HTTPClient: o.HTTPClient})
		if err != nil {
			a.Close()
			return nil, err
		}
		senders[channel.SMS] = tw
	}
	tg, err := newTelegramClient(cfg, o, a.Log)
	if err != nil {
		a.Close()
		return nil, err
	}
	if tg != nil {
		senders[channel.Telegram] = tg
		paceKey[channel.Telegram] = "telegram"
		limiter.Set("telegram", TelegramRate)
	}
	if cfg.WhatsApp.Configured() {
		wa, err := newWhatsApp(cfg, o)
		if err != nil {
			a.Close()
			return nil, err
		}
		senders[channel.WhatsApp] = wa
		paceKey[channel.WhatsApp] = "whatsapp:" + cfg.Twilio.AccountSID
		limiter.Set(paceKey[channel.WhatsApp], cfg.Twilio.Rate)
	}
	for _, s := range o.Senders {
		senders[s.Name()] = s
	}
	smsRate := cfg.Twilio.Rate
	if smsRate <= 0 {
		smsRate = 10
	}
	paceKey[channel.SMS] = "sms:" + cfg.Twilio.AccountSID
	limiter.Set(paceKey[channel.SMS], smsRate)

	gate, err := newGate(cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	if o.Jobs.Queue == "" {
		o.Jobs.Queue = cfg.Jobs.Queue
	}
	a.Queue = jobs.NewQueue(a.Redis, o.Jobs)
	a.Audit = audit.New(a.Redis, audit.Options{Prefix: prefix, Retention: cfg.AuditRetention})
	a.Service = &outreach.Service{
		Store: a.Store, Flows: a.Registry, Keyer: keyer, Senders: senders, Queue: a.Queue, Now: now, Log: a.Log,
		Engine: &engine.Engine{Contact: engine.Contact{Agency: cfg.Agency, Number: cfg.Callback.Number, Hours: cfg.Callback.Hours},
			Texts: cat, Location: loc, Calendar: gate.Window},
		Gate:     gate,
		ClaimTTL: cfg.Werkplaats.ClaimTTL,
		Audit:    a.Audit,
		WhatsApp: outreach.WhatsAppOptions{RetryAsTemplate: cfg.WhatsApp.RetryAsTemplate, DeliveryTimeout: cfg.WhatsApp.DeliveryTimeout},
		Pace: func(ctx context.Context, ch channel.Name) error {
			if k, ok := paceKey[ch]; ok {
				return limiter.Wait(ctx, k)
			}
			return nil
		},
	}

	a.Batches = batch.New(batch.Options{Redis: a.Redis, Prefix: prefix, Retention: cfg.Retention, Outreach: a.Service,
		Store: a.Store, Queue: a.Queue, Now: now, Log: a.Log, Audit: a.Audit, SMSRate: smsRate, Location: loc})
	a.Service.Tally = a.Batches
	deps := api.Deps{Service: a.Service, Store: a.Store, Registry: a.Registry, PublicURL: cfg.PublicURL, Metrics: metrics.New(),
		Demo: cfg.Demo, Log: a.Log, Extra: o.Mounts, Audit: a.Audit, Batches: a.Batches}
	for _, t := range cfg.APITokens {
		deps.Tokens = append(deps.Tokens, api.Token{Name: t.Name, Role: t.Role, Secret: t.Secret})
	}
	if cfg.Twilio.AuthToken != "" {
		deps.Twilio = twilio.NewValidator(cfg.Twilio.AuthToken)
	}
	tgRoutes, err := telegramRoutes(a.Service, tg, cfg, a.Log)
	if err != nil {
		a.Close()
		return nil, err
	}
	deps.Extra = append(deps.Extra[:len(deps.Extra):len(deps.Extra)], tgRoutes)
	a.Console, err = console.New(console.Deps{Service: a.Service, Store: a.Store, Registry: a.Registry, Audit: a.Audit,
		Redis: a.Redis, Prefix: prefix, Config: cfg.Console, PublicURL: cfg.PublicURL, Demo: cfg.Demo, Log: a.Log, Now: now,
		HTTPClient: o.HTTPClient})
	if err != nil {
		a.Close()
		return nil, err
	}
	deps.Extra = append(deps.Extra, a.Console.Mount)
	a.Handler = api.New(deps)

	if !o.NoWorker {
		jo := o.Jobs
		if jo.Log == nil {
			jo.Log = a.Log
		}
		a.worker = jobs.NewWorker(a.Redis, a.Service, jo)
		a.worker.Handle(batch.TaskType, func(ctx context.Context, p []byte) error { return a.Batches.Run(ctx, string(p)) })
		var bg context.Context
		bg, a.stopBg = context.WithCancel(context.Background())
		go a.Batches.RecoverEvery(bg, batchRecoverEvery)
		if err := a.worker.Start(); err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

// Serve listens on addr until ctx is done, then shuts down gracefully.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	a.srv = &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- a.srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return a.srv.Shutdown(sctx)
	}
}

// Close stops the worker and releases Redis (when this App opened it).
func (a *App) Close() {
	if a.stopBg != nil {
		a.stopBg()
		a.stopBg = nil
	}
	if a.watcher != nil {
		if err := a.watcher.Close(); err != nil {
			a.Log.Warn("stop watching flows", "err", err)
		}
		a.watcher = nil
	}
	if a.worker != nil {
		a.worker.Shutdown()
		a.worker = nil
	}
	if a.ownsRedis && a.Redis != nil {
		a.Redis.Close()
		a.Redis = nil
	}
}
