package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/channel/telegram"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/spool"
)

// TelegramDeps are what the Telegram routes need. Bot is nil when
// Telegram is not configured: the webhook is then not mounted and the
// case-worker endpoints answer 422.
type TelegramDeps struct {
	Service *outreach.Service
	Bot     *outreach.Telegram
	Secret  string // X-Telegram-Bot-Api-Secret-Token
	Seq     *telegram.Sequencer
	Log     *slog.Logger
	// Timeout bounds the handling of one update (default 25s: Telegram
	// gives up on a webhook call after about 60s) when there is no Intake.
	Timeout time.Duration
	// Intake stores updates durably within a deadline (Redis or the local
	// spool); nil handles them directly.
	Intake *spool.Intake
}

// TelegramRoutes mounts POST /webhooks/telegram and the recipient channel
// endpoints (for api.Deps.Extra).
func TelegramRoutes(d TelegramDeps) func(r *gin.Engine, auth func(roles ...string) gin.HandlerFunc) {
	if d.Seq == nil {
		d.Seq = telegram.NewSequencer(0)
	}
	if d.Timeout <= 0 {
		d.Timeout = 25 * time.Second
	}
	return func(r *gin.Engine, auth func(roles ...string) gin.HandlerFunc) {
		cw := auth(RoleCaseworker, RoleAdmin)
		r.POST("/v1/recipients/:ref/telegram-link", cw, d.createLink)
		if d.Bot != nil {
			r.POST("/webhooks/telegram", d.webhook)
		}
	}
}

// webhook receives one update. The secret token is checked first (403 on
// mismatch, nothing processed); the update is handled before the answer,
// in order per chat, so a 500 makes Telegram deliver it again.
func (d TelegramDeps) webhook(c *gin.Context) {
	got := c.GetHeader("X-Telegram-Bot-Api-Secret-Token")
	if d.Secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(d.Secret)) != 1 {
		problem(c, http.StatusForbidden, CodeForbidden, "the X-Telegram-Bot-Api-Secret-Token does not match", "")
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		problem(c, http.StatusBadRequest, CodeMalformed, "cannot read the body", "")
		return
	}
	u, err := telegram.Parse(body)
	if err != nil {
		// Never quote the body: it holds personal data.
		problem(c, http.StatusBadRequest, CodeMalformed, "the body is not a Telegram update", "")
		return
	}
	if u.ChatID == 0 {
		c.Status(http.StatusOK)
		return
	}
	if d.Intake != nil {
		if accept(c, d.Intake, nil, RecordTelegram, json.RawMessage(body)) {
			c.Status(http.StatusOK)
		}
		return
	}
	// The update is handled to the end even when Telegram hangs up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), d.Timeout)
	defer cancel()
	err = d.Seq.Do(c.Request.Context(), u.ChatID, u.ID, func() error { return d.Bot.HandleUpdate(ctx, u) })
	if err != nil {
		d.Log.ErrorContext(c.Request.Context(), "telegram update failed", "update", u.ID, "err", err)
		problem(c, http.StatusInternalServerError, CodeInternal, "internal error; Telegram will deliver the update again", "")
		return
	}
	c.Status(http.StatusOK)
}

func (d TelegramDeps) createLink(c *gin.Context) {
	if d.Bot == nil {
		problem(c, http.StatusUnprocessableEntity, CodeTelegramOff, "Telegram is not configured on this Seintje (set TELEGRAM_BOT_TOKEN)", "")
		return
	}
	link, err := d.Bot.CreateLink(c.Request.Context(), c.Param("ref"), Caller(c))
	if d.refError(c, err) {
		return
	}
	c.JSON(http.StatusCreated, gin.H{"link": link.URL, "expires_at": link.ExpiresAt})
}

// refError writes the problem for err (unknown ref, internal); false when nil.
func (d TelegramDeps) refError(c *gin.Context, err error) bool { return refProblem(c, err, d.Log) }
