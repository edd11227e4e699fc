package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/telegram"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/spool"
)

// Kinds of spooled webhook requests.
const (
	RecordSMS      = "sms"
	RecordStatus   = "status"
	RecordTelegram = "telegram"
)

// telegramTimeout bounds the handling of one Telegram update (Telegram
// gives up on a webhook call after about 60s).
const telegramTimeout = 25 * time.Second

// statusRecord is a spooled delivery report.
type statusRecord struct {
	Update outreach.StatusUpdate `json:"u"`
	OptOut bool                  `json:"o,omitempty"`
}

// Records handles verified webhook requests, straight from the webhook or
// replayed from the spool. Every kind is idempotent (provider ids).
type Records struct {
	Service  *outreach.Service
	Telegram *outreach.Telegram // nil without Telegram
	// Seq keeps one Telegram chat's updates in order.
	Seq *telegram.Sequencer
}

// Handle handles one record.
func (h *Records) Handle(ctx context.Context, r spool.Record) error {
	switch r.Kind {
	case RecordSMS:
		var in channel.Inbound
		if err := json.Unmarshal(r.Body, &in); err != nil {
			return fmt.Errorf("decode spooled sms: %w", err)
		}
		return h.Service.HandleInbound(ctx, in)
	case RecordStatus:
		var st statusRecord
		if err := json.Unmarshal(r.Body, &st); err != nil {
			return fmt.Errorf("decode spooled status: %w", err)
		}
		return h.Service.HandleStatus(ctx, st.Update, st.OptOut)
	case RecordTelegram:
		if h.Telegram == nil {
			return errors.New("telegram update spooled, but Telegram is not configured")
		}
		u, err := telegram.Parse(r.Body)
		if err != nil {
			return fmt.Errorf("decode spooled telegram update: %w", err)
		}
		// Handling an update may answer the person right away (a consent
		// question, a button press): it is finished even when the intake's
		// deadline passes, and the replay of the spooled copy then finds
		// it done.
		detached := context.WithoutCancel(ctx)
		return h.Seq.Do(ctx, u.ChatID, u.ID, func() error {
			hctx, cancel := context.WithTimeout(detached, telegramTimeout)
			defer cancel()
			return h.Telegram.HandleUpdate(hctx, u)
		})
	}
	return fmt.Errorf("unknown spooled record kind %q", r.Kind)
}

// accept hands a verified webhook request to the intake: handled in Redis
// within the deadline, or spooled durably on local disk. Only when neither
// works does the webhook answer 503 (the provider's retry is then the last
// resort). It reports whether the caller may acknowledge.
func accept(c *gin.Context, intake *spool.Intake, direct func(ctx context.Context) error, kind string, body any) bool {
	if intake == nil {
		if err := direct(c.Request.Context()); err != nil {
			problem(c, http.StatusInternalServerError, CodeInternal, "internal error", "")
			return false
		}
		return true
	}
	b, err := json.Marshal(body)
	if raw, ok := body.(json.RawMessage); ok {
		b, err = raw, nil
	}
	if err != nil {
		problem(c, http.StatusInternalServerError, CodeInternal, "internal error", "")
		return false
	}
	if _, err := intake.Accept(c.Request.Context(), spool.Record{Kind: kind, Body: b, At: time.Now()}); err != nil {
		c.Header("Retry-After", "5")
		problem(c, http.StatusServiceUnavailable, CodeUnavailable, "cannot store the request now; please deliver it again", "")
		return false
	}
	return true
}
