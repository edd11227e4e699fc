package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/channel/telegram"
	"github.com/seintje/seintje/bot/config"
)

// runTelegram runs the Telegram subcommands:
//
//	seintje telegram set-webhook [--config file] [--max-connections 1] [--drop-pending]
func runTelegram(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "Usage: seintje telegram set-webhook [--config file] [--max-connections 1] [--drop-pending]")
		fmt.Fprintln(stderr, "Registers <public_url>/webhooks/telegram with Telegram, with the webhook secret and the update types Seintje handles.")
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, "Usage: seintje telegram set-webhook [--config file] [--max-connections 1] [--drop-pending]")
		fmt.Fprintln(stdout, "Registers <public_url>/webhooks/telegram with Telegram. Flags: seintje telegram set-webhook --help")
		return 0
	}
	if len(args) == 0 || args[0] != "set-webhook" {
		usage()
		return 2
	}
	fs := newFlagSet("telegram set-webhook", "seintje telegram set-webhook [--config file] [--max-connections 1] [--drop-pending]",
		"Registers <public_url>/webhooks/telegram with Telegram, with the webhook secret and the update types Seintje handles.", stdout, stderr)
	cfgPath := fs.String("config", "", "YAML config file (default: $SEINTJE_CONFIG)")
	maxConn := fs.Int("max-connections", 1, "parallel webhook connections Telegram may open (1 keeps every chat's updates strictly in order across instances)")
	drop := fs.Bool("drop-pending", false, "drop updates Telegram still holds for the old webhook")
	if _, code, ok := parseArgs(fs, args[1:], stdout, false); !ok {
		return code
	}
	cfg, err := config.Load(config.Options{Path: *cfgPath})
	if err != nil {
		fmt.Fprintln(stderr, "seintje telegram: config:", err)
		return 1
	}
	if !cfg.Telegram.Configured() {
		fmt.Fprintln(stderr, "seintje telegram: Telegram is not configured: set TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET and TELEGRAM_BOT_USERNAME")
		return 1
	}
	if !strings.HasPrefix(cfg.PublicURL, "https://") {
		fmt.Fprintln(stderr, "seintje telegram: Telegram only calls https webhooks: set SEINTJE_PUBLIC_URL to an https:// URL")
		return 1
	}
	if *maxConn < 1 || *maxConn > 100 {
		fmt.Fprintln(stderr, "seintje telegram: --max-connections must be 1 to 100")
		return 2
	}
	c, err := telegram.New(telegram.Config{Token: cfg.Telegram.Token, APIURL: cfg.Telegram.APIURL})
	if err != nil {
		fmt.Fprintln(stderr, "seintje telegram:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	url := cfg.PublicURL + "/webhooks/telegram"
	if err := c.SetWebhook(ctx, url, cfg.Telegram.Secret, *maxConn, *drop); err != nil {
		fmt.Fprintln(stderr, "seintje telegram:", err)
		return 1
	}
	fmt.Fprintf(stdout, "webhook set: %s (updates: %s, max connections: %d)\n", url, strings.Join(telegram.AllowedUpdates(), ", "), *maxConn)
	return 0
}
