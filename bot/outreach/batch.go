package outreach

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/store"
)

// Valid is a trigger request that passed every check that needs no
// storage: what Trigger would store for it.
type Valid struct {
	Flow  *flow.Flow
	Vars  map[string]string // normalised
	E164  string
	Tag   string // recipient tag (keyed hash of E164)
	Lang  string // as requested (canonical); the flow may fall back to Dutch
	Event string // "the same event" key (idempotency)
}

// Validate checks a request without touching storage: the flow, its
// variables and the phone number. Errors are *FieldError.
func (s *Service) Validate(req TriggerRequest) (Valid, error) {
	f, ok := s.Flows.Current(req.Flow)
	if !ok {
		return Valid{}, &FieldError{Field: "flow", Code: "unknown_flow", Message: fmt.Sprintf("there is no flow %q", req.Flow)}
	}
	if f.Var(TelegramLinkVar) != nil {
		if s.Telegram == nil {
			return Valid{}, &FieldError{Field: "flow", Code: "telegram_not_configured",
				Message: fmt.Sprintf("flow %q sends a Telegram link, but Telegram is not configured on this Seintje (set TELEGRAM_BOT_TOKEN)", f.ID)}
		}
		if _, sent := req.Vars[TelegramLinkVar]; sent {
			return Valid{}, &FieldError{Field: "vars." + TelegramLinkVar, Code: "invalid_var",
				Message: "Seintje fills in telegram_link itself; leave it out"}
		}
	}
	if asksWhatsAppOptIn(f) && !s.configured(channel.WhatsApp) {
		return Valid{}, &FieldError{Field: "flow", Code: "whatsapp_not_configured",
			Message: fmt.Sprintf("flow %q asks for WhatsApp, but WhatsApp is not configured on this Seintje (set TWILIO_WHATSAPP_FROM)", f.ID)}
	}
	vars, verr := f.CheckVars(req.Vars)
	if verr != nil {
		return Valid{}, &FieldError{Field: "vars." + verr.Name, Code: "invalid_var", Message: verr.Message}
	}
	e164, err := phone.Normalize(req.Phone)
	if err != nil {
		code := "invalid_phone"
		if errors.Is(err, phone.ErrNotMobile) {
			code = "not_mobile"
		}
		return Valid{}, &FieldError{Field: "recipient.phone", Code: code, Message: err.Error()}
	}
	requested := lang.Canon(req.Lang)
	if requested == "" {
		requested = flow.DefaultLang
	}
	return Valid{Flow: f, Vars: vars, E164: e164, Tag: s.tagFor(e164), Lang: requested,
		Event: eventKey(f.ID, vars, req.IdempotencyKey)}, nil // without a Telegram link: it is new every time
}

// Tally keeps a batch's figures up to date as its nudges move (bot/batch
// implements it). Every call is idempotent: it records a state, not a step,
// so a repeated call (a retried task) counts once.
type Tally interface {
	// Delivery records the delivery status of a batch nudge's first message.
	Delivery(ctx context.Context, batch, nudge string, st store.Status) error
	// Conversation records a batch nudge's state; replied, callback
	// (the recipient asked to be called) and optedOut are flags that, once
	// set, stay set.
	Conversation(ctx context.Context, batch string, n *store.Nudge, ev ConvEvent) error
	// Cancelled reports whether the batch was cancelled (its unsent first
	// messages are then not sent).
	Cancelled(ctx context.Context, batch string) (bool, error)
}

// DeliveryAlong is implemented by a Tally that can record a delivery
// status in the round trip that stores the status itself: along goes with
// it, and after reads what it answered (and records it on its own when it
// did not run).
type DeliveryAlong interface {
	DeliveryAlong(ctx context.Context, batch, nudge string, st store.Status) (along store.Along, after func(ctx context.Context) error)
}

// ConvEvent is what happened to a batch nudge's conversation.
type ConvEvent struct {
	At       time.Time
	Replied  bool
	Callback bool
	OptedOut bool
}

// tallyMessage records the status of a batch message (no-op otherwise).
func (s *Service) tallyMessage(ctx context.Context, m *store.Message, st store.Status) error {
	if s.Tally == nil || m == nil || m.Batch == "" || m.Conv == "" {
		return nil
	}
	if err := s.Tally.Delivery(ctx, m.Batch, m.Conv, st); err != nil {
		return fmt.Errorf("batch figures: %w", err)
	}
	return nil
}

// tallyNudge records a committed transition of a batch nudge (no-op
// otherwise). cbs are the callbacks the transition created.
func (s *Service) tallyNudge(ctx context.Context, n *store.Nudge, ev ConvEvent, cbs []store.Callback) error {
	if s.Tally == nil || n == nil || n.Batch == "" {
		return nil
	}
	for _, cb := range cbs {
		if cb.Kind == "requested" {
			ev.Callback = true
		}
	}
	if err := s.Tally.Conversation(ctx, n.Batch, n, ev); err != nil {
		return fmt.Errorf("batch figures: %w", err)
	}
	return nil
}

// setStatus records a message's status and counts it for its batch.
// A status the case system is told about goes to the outbox with it.
func (s *Service) setStatus(ctx context.Context, m *store.Message, providerID string, st store.Status) error {
	var w *store.Work
	ob := store.NewOutbox(m.Tag, s.Now())
	if evs := s.statusEvent(m, st); len(evs) > 0 {
		w = &store.Work{Conv: m.Conv, Events: evs}
	}
	var along store.Along
	var after func(context.Context) error
	if da, ok := s.Tally.(DeliveryAlong); ok && m.Batch != "" && m.Conv != "" {
		along, after = da.DeliveryAlong(ctx, m.Batch, m.Conv, st) // the batch figures in the same round trip
	}
	stored, err := s.Store.SetStatusWorkAlong(ctx, m.Tag, m.ID, providerID, st, ob, w, along)
	if err != nil {
		return err
	}
	if stored != nil {
		s.queueCommitted(ctx, ob, stored)
	}
	s.observeStatus(m, st)
	if after != nil {
		if err := after(ctx); err != nil {
			return fmt.Errorf("batch figures: %w", err)
		}
		return nil
	}
	return s.tallyMessage(ctx, m, st)
}

// batchCancelled handles the first message of a nudge whose batch was
// cancelled before it went out: the message is not sent and the
// conversation ends. It reports whether the message was dealt with.
func (s *Service) batchCancelled(ctx context.Context, m *store.Message) (bool, error) {
	if s.Tally == nil || m.Batch == "" {
		return false, nil
	}
	cancelled, err := s.Tally.Cancelled(ctx, m.Batch)
	if err != nil || !cancelled {
		return false, err
	}
	now := s.Now()
	if m.Proactive && s.Gate != nil && s.Gate.WeeklyLimit > 0 {
		if err := s.Store.ReleaseSendSlot(ctx, m.Tag, m.ID); err != nil {
			return true, err
		}
	}
	if err := s.setStatus(ctx, m, "", store.Status{State: "canceled", Reason: "the batch was cancelled before this message went out", At: now}); err != nil {
		return true, err
	}
	return true, s.endNudge(ctx, m.Conv, "batch_cancelled", "batch_cancelled", "the batch was cancelled before the first message went out", now)
}

// Redispatch queues again the work of a nudge whose creation was stored
// but whose queueing may not have happened (a crash in between): the work
// still in its outbox (never queued) and the timers of its first step.
// Its messages are queued only from the outbox: one queued already may
// wait in a grouped send task (EnqueueSends), whose id is not the
// message's, so queueing it again by its own id could send it twice.
// Everything else it queues is idempotent (task ids), so calling it for a
// nudge whose work is queued, or done, changes nothing.
func (s *Service) Redispatch(ctx context.Context, id string) error {
	n, err := s.Store.Nudge(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.requeue(ctx, n.Tag, n.ID); err != nil {
		return err
	}
	if n.Status != engine.Waiting || n.Rev != 1 {
		return nil // it moved on: its timers came from later transitions
	}
	f, err := s.Flows.Version(ctx, n.Flow)
	if err != nil {
		return err
	}
	// The engine is pure: starting the same conversation at the same moment
	// gives the same timers, and their task ids make queueing them again a
	// no-op.
	c := n.Conversation
	c.Status, c.Step, c.TimerSeq, c.Deadline, c.Rev = "", "", 0, time.Time{}, 0
	res, err := s.Engine.Start(f, c, n.StartedAt)
	if err != nil {
		return fmt.Errorf("restart flow %s: %w", f.ID, err)
	}
	for _, e := range res.Effects {
		if t, ok := e.(engine.Timer); ok {
			if err := s.Queue.EnqueueTimerOf(ctx, n.Tag, n.ID, t.Kind, t.Seq, t.Index, t.At); err != nil {
				return err
			}
		}
	}
	return nil
}

// PreviewFirst renders the first messages a request would send, with the same
// engine and templates as the real send, without storing anything. used is
// the language they are written in: the requested one, or Dutch when the
// flow does not have it (the console marks the text with it, right to left
// for Arabic).
func (s *Service) PreviewFirst(req TriggerRequest) (msgs []string, used string, err error) {
	v, err := s.Validate(req)
	if err != nil {
		return nil, "", err
	}
	if v.Flow.Var(TelegramLinkVar) != nil {
		v.Vars[TelegramLinkVar] = "https://t.me/…"
	}
	first, _, _ := strings.Cut(strings.TrimSpace(req.Name), " ")
	conv := engine.Conversation{ID: "preview", Lang: v.Lang, FirstName: first, Caseworker: req.Caseworker, Vars: v.Vars}
	res, err := s.Engine.Start(v.Flow, conv, s.Now())
	if err != nil {
		return nil, "", fmt.Errorf("preview flow %s: %w", v.Flow.ID, err)
	}
	for _, e := range res.Effects {
		if m, ok := e.(engine.Send); ok {
			msgs = append(msgs, m.Text)
		}
	}
	return msgs, res.Conv.Lang, nil
}
