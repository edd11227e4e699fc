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
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/api"
	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/batch"
	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/telegram"
	"github.com/seintje/seintje/bot/channel/twilio"
	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/console"
	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/events"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/jobs"
	"github.com/seintje/seintje/bot/metrics"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/pace"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/registry"
	"github.com/seintje/seintje/bot/spool"
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
	// WrapQueue wraps the job queue (fault tests: a queue that fails).
	WrapQueue func(outreach.Queue) outreach.Queue
	// Flows, when set, are the flows instead of the files in
	// cfg.FlowsDir: the console's simulator plays the versions that are
	// live, even while a changed file waits with errors.
	Flows map[string]*flow.Flow
	// Simulator plays conversations on the console's flow page
	// (bot/simulate.Pool; cmd/seintje wires it); nil: no simulator.
	Simulator console.Simulator
	// WrapEvents wraps the events dispatcher as the service sees it (fault
	// tests: queueing events fails).
	WrapEvents func(outreach.Events) outreach.Events
	// RecoverEvery and RecoverGrace tune the recovery pass that queues work
	// a crash left unqueued (outreach.Recover); defaults 10s and 30s.
	RecoverEvery, RecoverGrace time.Duration
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
	// Events delivers events to the case system; nil without subscribers.
	Events  *events.Dispatcher
	Metrics *metrics.Metrics
	Handler http.Handler
	Log     *slog.Logger
	// Intake stores webhook requests in Redis within a deadline, or in the
	// local spool (bot/spool), and replays the spool.
	Intake *spool.Intake

	spool     *spool.Spool
	spoolTemp string // removed on Close (no SEINTJE_SPOOL_DIR)

	worker    *jobs.Worker
	runner    *jobs.Runner       // NoWorker: the queue is worked by hand
	stopBg    context.CancelFunc // background loops (recovery passes, spool replay)
	watcher   *registry.Watcher
	ownsRedis bool
	srv       *http.Server
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

	flows, ds, err := o.Flows, flow.Diagnostics(nil), error(nil)
	if flows == nil {
		if flows, ds, err = flow.LoadDir(cfg.FlowsDir); err != nil {
			return nil, err
		}
	}
	ds = append(ds, checkSettings(cfg, flows)...)
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
	so := store.Options{Prefix: prefix, Retention: cfg.Retention}
	if len(cfg.Redis.SentinelAddrs) > 0 {
		// A Sentinel deployment has a replica to fail over to: a write
		// is answered once the replica has it (store.Options.WaitReplicas).
		so.WaitReplicas = 1
	}
	a.Store = store.New(a.Redis, so)
	for _, advice := range a.Store.CheckRedisConfig(ctx) {
		a.Log.Warn("redis configuration", "advice", advice)
	}
	a.Registry = registry.New(a.Redis, prefix, cfg.Retention+30*24*time.Hour)
	a.Registry.Check = func(f *flow.Flow) flow.Diagnostics { return flow.CheckHoldout(f, cfg.Experiments.MaxHoldout) }
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
	// Conversation timers wait in the store's timer sets until due.
	o.Jobs.Timers = a.Store
	a.Queue = jobs.NewQueue(a.Redis, o.Jobs)
	var queue outreach.Queue = a.Queue
	if o.WrapQueue != nil {
		queue = o.WrapQueue(queue)
	}
	a.Audit = audit.New(a.Redis, audit.Options{Prefix: prefix, Retention: cfg.AuditRetention})
	a.Service = &outreach.Service{
		Store: a.Store, Flows: a.Registry, Keyer: keyer, Senders: senders, Queue: queue, Now: now, Log: a.Log,
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

	a.Metrics = newMetrics(a, flows)
	a.Service.Observe = a.Metrics
	if a.Events, err = newEvents(cfg, o, a); err != nil {
		a.Close()
		return nil, err
	}
	if a.Events != nil {
		var ev outreach.Events = a.Events
		if o.WrapEvents != nil {
			ev = o.WrapEvents(ev)
		}
		a.Service.Events = ev
	}

	a.Batches = batch.New(batch.Options{Redis: a.Redis, Prefix: prefix, Retention: cfg.Retention, Outreach: a.Service, Events: a.Service.Events,
		Store: a.Store, Queue: a.Queue, Now: now, Log: a.Log, Audit: a.Audit, SMSRate: smsRate, Location: loc})
	a.Service.Tally = a.Batches
	records := &api.Records{Service: a.Service, Seq: telegram.NewSequencer(0)}
	if err := a.openSpool(cfg, records); err != nil {
		a.Close()
		return nil, err
	}
	deps := api.Deps{Service: a.Service, Store: a.Store, Registry: a.Registry, PublicURL: cfg.PublicURL, Metrics: a.Metrics,
		Demo: cfg.Demo, Log: a.Log, Extra: o.Mounts, Intake: a.Intake, Audit: a.Audit, Batches: a.Batches, Events: a.Events}
	deps.Metrics.GaugeFunc("spool_records", "Webhook requests waiting in the local inbound spool (Redis did not answer in time).",
		func() float64 { return float64(a.Intake.Status().Records) })
	deps.Metrics.GaugeFunc("spool_capacity", "How many webhook requests the local inbound spool holds at most.",
		func() float64 { return float64(a.Intake.Status().Max) })
	deps.Metrics.GaugeFunc("spool_dead_records", "Spooled requests set aside after failing repeatedly while Redis answered.",
		func() float64 { return float64(a.Intake.Status().Dead) })
	for _, t := range cfg.APITokens {
		deps.Tokens = append(deps.Tokens, api.Token{Name: t.Name, Role: t.Role, Secret: t.Secret})
	}
	if cfg.Twilio.AuthToken != "" {
		deps.Twilio = twilio.NewValidator(cfg.Twilio.AuthToken)
	}
	tgRoutes, err := telegramRoutes(a.Service, tg, cfg, a.Log, records, a.Intake)
	if err != nil {
		a.Close()
		return nil, err
	}
	deps.Extra = append(deps.Extra[:len(deps.Extra):len(deps.Extra)], tgRoutes)
	a.Console, err = console.New(console.Deps{Service: a.Service, Store: a.Store, Registry: a.Registry, Audit: a.Audit, Batches: a.Batches,
		Events: a.Events,
		Redis:  a.Redis, Prefix: prefix, Config: cfg.Console, PublicURL: cfg.PublicURL, Demo: cfg.Demo, Log: a.Log, Now: now,
		HTTPClient: o.HTTPClient, Simulator: o.Simulator})
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
		jo.TimerLate = a.Metrics.TimerLate
		a.worker = jobs.NewWorker(a.Redis, a.Service, jo)
		a.worker.Handle(batch.TaskType, func(ctx context.Context, p []byte) error { return a.Batches.Run(ctx, string(p)) })
		if a.Events != nil {
			a.worker.Handle(events.TaskType, a.Events.Deliver)
		}
		a.startBackground(func(ctx context.Context) { a.Batches.RecoverEvery(ctx, batchRecoverEvery) })
		if err := a.worker.Start(); err != nil {
			a.Close()
			return nil, err
		}
		every, grace := o.RecoverEvery, o.RecoverGrace
		if every <= 0 {
			every = 10 * time.Second
		}
		if grace <= 0 {
			grace = 30 * time.Second
		}
		a.startBackground(func(ctx context.Context) { a.Service.RunRecovery(ctx, every, grace) })
	}
	if o.NoWorker {
		// No worker: the caller works the queue by hand (RunDue), on its
		// own clock (flows simulate, the console's simulator, tests).
		a.runner = jobs.NewRunner(a.Redis, a.Service, o.Jobs)
		a.runner.Handle(batch.TaskType, func(ctx context.Context, p []byte) error { return a.Batches.Run(ctx, string(p)) })
	}
	a.startBackground(func(ctx context.Context) { a.Intake.Run(ctx, 0) })
	return a, nil
}

// Runner works the job queue by hand; nil unless Options.NoWorker.
func (a *App) Runner() *jobs.Runner { return a.runner }

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

// openSpool opens the inbound spool and starts replaying it.
func (a *App) openSpool(cfg *config.Config, records *api.Records) error {
	dir := cfg.Spool.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "seintje-spool-")
		if err != nil {
			return fmt.Errorf("inbound spool: %w", err)
		}
		dir, a.spoolTemp = tmp, tmp
		if !cfg.Demo {
			a.Log.Warn("SEINTJE_SPOOL_DIR is not set: the inbound spool is in a temporary directory and does not survive a reboot; set it to a directory on persistent storage", "dir", dir)
		}
	}
	sp, err := spool.Open(dir, cfg.Spool.Max)
	if err != nil {
		return err
	}
	a.spool = sp
	a.Intake = spool.NewIntake(sp, records.Handle, spool.IntakeOptions{Ping: a.Store.Ping, Log: a.Log.With("component", "spool")})
	if sp.Len() > 0 {
		a.Log.Warn("inbound spool holds requests from before the restart; replaying them", "records", sp.Len())
	}
	return nil
}

// startBackground runs fn until Close.
func (a *App) startBackground(fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	prevStop := a.stopBg
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	a.stopBg = func() {
		cancel()
		<-done
		if prevStop != nil {
			prevStop()
		}
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
	if a.spool != nil {
		if err := a.spool.Close(); err != nil {
			a.Log.Warn("close inbound spool", "err", err)
		}
		a.spool = nil
	}
	if a.spoolTemp != "" {
		os.RemoveAll(a.spoolTemp)
		a.spoolTemp = ""
	}
	if a.ownsRedis && a.Redis != nil {
		a.Redis.Close()
		a.Redis = nil
	}
}

// checkSettings checks the flows against this installation's settings
// (the largest hold-out share of an experiment).
func checkSettings(cfg *config.Config, flows map[string]*flow.Flow) flow.Diagnostics {
	var ds flow.Diagnostics
	for _, f := range flows {
		ds = append(ds, flow.CheckHoldout(f, cfg.Experiments.MaxHoldout)...)
	}
	ds.Sort()
	return ds
}
