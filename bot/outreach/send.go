package outreach

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/events"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/recipient"
	"github.com/seintje/seintje/bot/store"
)

// ProcessSend sends one queued message. It is idempotent: a message that
// already left (or was suppressed) is not sent again. It returns an error
// only when the send should be retried later (a *channel.Error of kind
// Temporary, or a Redis error); every final outcome is recorded in the
// message status and returns nil.
func (s *Service) ProcessSend(ctx context.Context, tag, msgID string) error {
	m, rcp, err := s.Store.MessageFor(ctx, tag, msgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // expired (retention) or never stored: nothing to send
	}
	if err != nil {
		return err
	}
	if m.Status != nil && m.Status.State != "pending" && m.Status.State != "deferred" && m.Status.State != StateStandby {
		if m.Status.State == "failed" && m.Channel == string(channel.SMS) {
			// A retry after the follow-ups of a failed SMS did not finish
			// (they are idempotent).
			return s.notReached(ctx, tag, m)
		}
		// A retry after the batch figures could not be written: they
		// record a state, so writing it again is harmless.
		return s.tallyMessage(ctx, m, *m.Status)
	}

	now := s.Now()
	ch := channel.Name(m.Channel)
	// Checked again right before every send: an opted-out recipient is
	// never messaged, not even by a flow already running. The one STOP
	// confirmation is the exception.
	if rcp.OptedOut(m.Channel) && m.Kind != KindStopConfirm {
		s.Log.InfoContext(ctx, "send suppressed: opted out", "msg", msgID, "channel", ch)
		return s.setStatus(ctx, m, "", store.Status{State: "suppressed", Reason: "recipient opted out (STOP)", At: now})
	}
	if m.Status != nil && m.Status.State == StateStandby {
		if done, err := s.standbyDue(ctx, m); done || err != nil {
			return err
		}
	}
	to, handled, err := s.addressFor(ctx, m, rcp)
	if handled {
		return err
	}
	if to == "" {
		return s.setStatus(ctx, m, "", store.Status{State: "error", Reason: "no address for this channel", At: now})
	}
	sender, ok := s.Senders[ch]
	if !ok {
		return s.setStatus(ctx, m, "", store.Status{State: "error", Reason: "channel not configured: " + m.Channel, At: now})
	}
	if m.Proactive && s.Gate != nil {
		if held, err := s.gate(ctx, tag, m, now); held || err != nil {
			return err
		}
	}
	if s.Pace != nil {
		if err := s.Pace(ctx, ch); err != nil {
			return fmt.Errorf("pace %s: %w", ch, err)
		}
	}
	// Checked after waiting for the pace: a cancel while messages queue up
	// for the provider stops them.
	if done, err := s.batchCancelled(ctx, m); done || err != nil {
		return err
	}
	out := channel.Message{ID: m.ID, To: to, Body: m.Body}
	for _, b := range m.Buttons {
		out.Buttons = append(out.Buttons, channel.Button{Label: b.Label, Reply: b.Reply})
	}
	if ch == channel.WhatsApp {
		var handled bool
		if out.Template, handled, err = s.whatsappTemplate(ctx, m, rcp, now); handled || err != nil {
			return err
		}
	}
	rc, err := sender.Send(ctx, out)
	if err == nil {
		st := rc.Status
		if st == "" {
			st = "sent"
		}
		s.Log.InfoContext(ctx, "message sent", "msg", msgID, "channel", ch, "to", maskAddr(ch, to))
		if err := s.setStatus(ctx, m, rc.ProviderID, store.Status{State: st, At: s.Now()}); err != nil {
			return err
		}
		if ch == channel.WhatsApp {
			return s.whatsappSent(ctx, m, rcp)
		}
		return nil
	}
	var ce *channel.Error
	errors.As(err, &ce)
	code := 0
	if ce != nil {
		code = ce.Code
	}
	if k := channel.KindOf(err); recipient.NeedsConsent(ch) && (k == channel.OptedOut || k == channel.Permanent) {
		// It never arrived: the slot is free again (an SMS copy takes its own).
		if m.Proactive {
			if err := s.Store.ReleaseSendSlot(ctx, tag, msgID); err != nil {
				return err
			}
		}
		return s.failedForGood(ctx, m, rcp, err)
	}
	switch channel.KindOf(err) {
	case channel.OptedOut:
		s.Log.InfoContext(ctx, "provider says opted out", "msg", msgID, "channel", ch, "code", code)
		if err := s.providerOptOut(ctx, tag, m.Channel, m.Conv, now); err != nil {
			return err
		}
		if err := s.auditOptOut(ctx, tag, m.Conv, channel.Name(m.Channel), true, "provider", fmt.Sprintf("provider error %d", code)); err != nil {
			return err
		}
		if err := s.setStatus(ctx, m, "", store.Status{State: "failed", Code: code, Reason: "recipient unsubscribed (opted out at the provider)", At: now}); err != nil {
			return err
		}
		return s.notReached(ctx, tag, m)
	case channel.Permanent:
		s.Log.WarnContext(ctx, "send failed permanently", "msg", msgID, "channel", ch, "code", code, "err", err)
		if err := s.setStatus(ctx, m, "", store.Status{State: "failed", Code: code, Reason: "rejected by the provider", At: now}); err != nil {
			return err
		}
		return s.notReached(ctx, tag, m)
	}
	s.Log.WarnContext(ctx, "send failed, will retry", "msg", msgID, "channel", ch, "code", code, "err", err)
	if s.Observe != nil {
		s.Observe.SendFailed(m.Channel, "temporary")
	}
	return err
}

// SendGaveUp records that a message could not be sent after all retries,
// gives its weekly-limit slot back and escalates a first message like a
// delivery failure (notReached).
func (s *Service) SendGaveUp(ctx context.Context, tag, msgID string, cause error) error {
	code := 0
	var ce *channel.Error
	if errors.As(cause, &ce) {
		code = ce.Code
	}
	st := store.Status{State: "failed", Code: code, Reason: "gave up after retries: temporary errors", At: s.Now()}
	m, err := s.Store.Message(ctx, tag, msgID)
	switch {
	case err == nil:
		if err := s.setStatus(ctx, m, "", st); err != nil {
			return err
		}
	case errors.Is(err, store.ErrNotFound):
		if err := s.Store.SetStatus(ctx, tag, msgID, "", st); err != nil {
			return err
		}
	default:
		return err
	}
	return s.undelivered(ctx, tag, msgID)
}

// ProcessTimer fires a wait timeout. Stale timers (the recipient answered,
// or the conversation ended) are ignored; a timer fires its transition once.
func (s *Service) ProcessTimer(ctx context.Context, tag, cid string, seq int) error {
	return s.transition(ctx, cid, "timer", func(f *flow.Flow, c engine.Conversation, now time.Time) (engine.Result, error) {
		return s.Engine.Timeout(f, c, seq, now)
	})
}

// StatusUpdate is a delivery report from a provider.
type StatusUpdate struct {
	Channel    channel.Name
	ProviderID string
	To         string // address the message went to
	State      string
	Code       int
	Reason     string
}

// HandleStatus records a delivery report. An opt-out code marks the
// recipient opted out on that channel. The status, the opt-out mark, the
// case system's status event and the report's follow-up (escalation,
// fallback, opt-out index and audit) are written by one script; the
// follow-up then runs from the outbox, so a crash after the status changed
// leaves it to the recovery pass.
func (s *Service) HandleStatus(ctx context.Context, u StatusUpdate, optOut bool) error {
	tag, _, err := s.inboundTag(ctx, channel.Inbound{Channel: u.Channel, From: u.To})
	if err != nil {
		return err
	}
	now := s.Now()
	st := store.Status{State: u.State, Code: u.Code, Reason: u.Reason, At: now}
	ob := store.NewOutbox(tag, now)
	mid, w, err := s.Store.ProviderStatusWork(ctx, tag, u.ProviderID, st, ob,
		s.eventsOn() && events.TypeOfStatus(u.State) != "", StatusFollowUp(u, optOut, now))
	if err != nil {
		return err
	}
	var after time.Duration // since the message was queued
	if mid != "" && (s.Tally != nil || s.Observe != nil) {
		if m, err := s.Store.Message(ctx, tag, mid); err == nil {
			after = now.Sub(m.At)
			if err := s.tallyMessage(ctx, m, st); err != nil {
				s.Log.WarnContext(ctx, "batch figures not updated", "msg", mid, "err", err)
			}
		}
	}
	if s.Observe != nil {
		s.Observe.Delivery(string(u.Channel), u.State, after)
	}
	if w != nil {
		// A failure stays in the outbox for the recovery pass.
		s.queueCommitted(ctx, ob, w)
	}
	s.Log.InfoContext(ctx, "delivery status", "channel", u.Channel, "state", u.State, "code", u.Code)
	return nil
}

// StatusFollowUp is the work a delivery report leaves after its status is
// recorded (nil for none): a message that did not arrive is escalated or
// falls back to another channel, and an opt-out is indexed and audited.
func StatusFollowUp(u StatusUpdate, optOut bool, at time.Time) *store.StatusWork {
	if u.State != "undelivered" && u.State != "failed" && !optOut {
		return nil
	}
	return &store.StatusWork{Channel: string(u.Channel), ProviderID: u.ProviderID, State: u.State,
		Code: u.Code, Reason: u.Reason, OptOut: optOut, At: at}
}

// statusFollowUp runs a delivery report's follow-up (from HandleStatus or
// the recovery pass). Every step is idempotent: an escalation is made once
// (Conversation.Escalated), a fallback copy has a fixed id.
func (s *Service) statusFollowUp(ctx context.Context, tag string, w store.StatusWork) error {
	mid, err := s.Store.MessageOfProvider(ctx, tag, w.ProviderID)
	if err != nil {
		return err
	}
	if mid != "" && (w.State == "undelivered" || w.State == "failed") {
		handled := false
		if channel.Name(w.Channel) == channel.WhatsApp {
			if handled, err = s.whatsappUndelivered(ctx, tag, mid, w.Code, w.Reason); err != nil {
				return err
			}
		}
		if !handled {
			if err := s.undelivered(ctx, tag, mid); err != nil {
				return err
			}
		}
	}
	if w.OptOut {
		// The recipient's record was marked by the status script; this
		// lists it (and tells the case system).
		if err := s.providerOptOut(ctx, tag, w.Channel, "", w.At); err != nil {
			return err
		}
		if err := s.auditOptOut(ctx, tag, "", channel.Name(w.Channel), true, "provider", "delivery report"); err != nil {
			return err
		}
	}
	return nil
}
