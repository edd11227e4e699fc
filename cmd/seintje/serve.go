package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/console"
	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/simulate"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "seintje serve [--demo] [--config file]",
		"Runs the HTTP service (API, webhooks, health, metrics) and the job worker.", stdout, stderr)
	demo := fs.Bool("demo", false, "run on an embedded Redis with a console channel; nothing survives a restart")
	cfgPath := fs.String("config", "", "YAML config file (default: $SEINTJE_CONFIG)")
	if _, code, ok := parseArgs(fs, args, stdout, false); !ok {
		return code
	}
	cfg, err := config.Load(config.Options{Demo: *demo, Path: *cfgPath})
	if err != nil {
		// One clear line first, the rest after it.
		fmt.Fprintln(stderr, "seintje: cannot start:", err)
		return 1
	}
	log := newLogger(stderr, cfg.LogLevel, *demo)
	log.Info("starting", "config", cfg)
	for _, l := range lang.Shipped() {
		if cfg.Callback.Hours[l] == "" {
			log.Warn("no callback hours in this language: its messages show the Dutch ones", "lang", l, "set", "callback.hours."+l)
		}
	}

	opts := app.Options{Log: log, WatchFlows: true}
	var tokenFile string
	if *demo && os.Getenv("SEINTJE_QUIET_HOURS") == "" && cfg.Sending.QuietHours == config.DefaultQuietHours {
		// The demo works at any hour; set SEINTJE_QUIET_HOURS to try them.
		cfg.Sending.QuietHours = "off"
	}
	if *demo {
		// The same embedded Redis as `seintje flows simulate`.
		red, err := simulate.StartEmbedded()
		if err != nil {
			fmt.Fprintln(stderr, "seintje: cannot start embedded redis:", err)
			return 1
		}
		defer red.Close()
		go red.Tick(ctx)
		opts.Redis = red.Client
		opts.Senders = []channel.Sender{console.New(stdout)}
		if len(cfg.APITokens) == 0 {
			secret := randomHex(16)
			cfg.APITokens = []config.Token{{Name: "demo", Role: config.RoleAdmin, Secret: secret}}
		}
		tokenFile = demoTokenFile(cfg.Addr)
		if err := os.WriteFile(tokenFile, []byte(cfg.APITokens[0].Secret), 0o600); err != nil {
			log.Warn("could not write the demo token file", "err", err)
		}
		defer os.Remove(tokenFile)
	}

	// The console's flow page plays conversations in sandboxes of their
	// own (embedded Redis, console channel), like flows simulate.
	// Their own log lines (simulated messages) would read like real ones:
	// only their warnings and errors go to the log.
	sims := simulate.NewPool(cfg, newLogger(stderr, "warn", *demo).With("component", "simulator"))
	defer sims.Close()
	opts.Simulator = sims
	a, err := app.New(ctx, cfg, opts)
	if err != nil {
		fmt.Fprintln(stderr, "seintje: cannot start:", err)
		return 1
	}
	defer a.Close()
	sims.Flows = a.Registry.Live
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "seintje: cannot listen on SEINTJE_ADDR %s: %v\n", cfg.Addr, err)
		return 1
	}
	if *demo {
		printDemoBanner(stdout, cfg, ln.Addr().String())
	}
	log.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "flows", a.Registry.Len())
	if err := a.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "seintje:", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func newLogger(w io.Writer, level string, demo bool) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	if demo {
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv}))
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv}))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// demoTokenFile is where the demo leaves its token for `seintje reply`.
func demoTokenFile(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return filepath.Join(os.TempDir(), "seintje-demo-"+port+".token")
}

func printDemoBanner(w io.Writer, cfg *config.Config, addr string) {
	_, port, _ := net.SplitHostPort(addr)
	base := "http://localhost:" + port
	tok := cfg.APITokens[0].Secret
	fmt.Fprintf(w, `
================================================================
 Seintje DEMO: embedded Redis, SMS printed here instead of sent.
 Nothing survives a restart.
 Quiet hours: %s (set SEINTJE_QUIET_HOURS, e.g. "mon-sat 09:00-20:00").

 API token (role %s): %s

 Send a nudge:
   curl -s -X POST %s/v1/nudges \
     -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \
     -d '{"flow":"no-show","recipient":{"ref":"C-1001","phone":"06 12345678","name":"Sanne de Vries"},
          "vars":{"appointment_at":"%s"},"caseworker":{"name":"Ahmed"}}'

 Answer as the recipient (in another terminal):
   go run ./cmd/seintje reply +31612345678 2

 See what happened:
   curl -s %s/v1/nudges/<id> -H 'Authorization: Bearer %s'
   curl -s %s/v1/callbacks -H 'Authorization: Bearer %s'
================================================================
`, cfg.Sending.QuietHours, cfg.APITokens[0].Role, tok, base, tok, time.Now().Add(-24*time.Hour).Truncate(time.Hour).Format(time.RFC3339),
		base, tok, base, tok)
}
