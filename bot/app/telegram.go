package app

import (
	"fmt"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/api"
	"github.com/seintje/seintje/bot/channel/telegram"
	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/spool"
)

// TelegramRate is the overall Telegram send rate (messages per second);
// Telegram allows about 30. One chat gets at most one per second (in the
// telegram.Client).
const TelegramRate = 30

// newTelegramClient returns the Telegram client, or nil when Telegram is
// not configured.
func newTelegramClient(cfg *config.Config, o Options, log *slog.Logger) (*telegram.Client, error) {
	if !cfg.Telegram.Configured() {
		return nil, nil
	}
	c, err := telegram.New(telegram.Config{Token: cfg.Telegram.Token, APIURL: cfg.Telegram.APIURL, HTTPClient: o.HTTPClient,
		Log: log.With("component", "telegram")})
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	return c, nil
}

// telegramRoutes builds the Telegram routes: the webhook (when configured)
// and the recipient channel endpoints (always; 422 without Telegram).
func telegramRoutes(svc *outreach.Service, client *telegram.Client, cfg *config.Config, log *slog.Logger,
	records *api.Records, intake *spool.Intake) (func(r *gin.Engine, auth func(roles ...string) gin.HandlerFunc), error) {
	d := api.TelegramDeps{Service: svc, Secret: cfg.Telegram.Secret, Log: log, Seq: records.Seq, Intake: intake}
	if client != nil {
		bot, err := outreach.NewTelegram(svc, client, cfg.Telegram.BotUsername, cfg.Telegram.LinkTTL)
		if err != nil {
			return nil, err
		}
		d.Bot = bot
		records.Telegram = bot
		svc.Telegram = bot // links for flows that declare telegram_link; set before serving
	}
	return api.TelegramRoutes(d), nil
}
