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
	"github.com/seintje/seintje/bot/recipient"
	"github.com/seintje/seintje/bot/store"
)

// WhatsApp lets a business send free text only within 24 hours after the
// person's last message (the customer service window); outside it only an
// approved template. Seintje tracks the window per recipient from their
// inbound WhatsApp messages (store.TouchInbound) and picks free text or the
// step's template (flow.ContentTemplate) at send time, with the service
// clock.

// WhatsAppWindow is WhatsApp's customer service window.
const WhatsAppWindow = 24 * time.Hour

// StateStandby is the status of an SMS copy that waits for the WhatsApp
// message it backs up: it goes out only when that one is not delivered in
// time.
const StateStandby = "standby"

// Twilio error codes of WhatsApp this file decides on.
const (
	// CodeOutsideWindow: free text more than 24 hours after the person's
	// last message (Twilio 63016).
	CodeOutsideWindow = 63016
)

// WhatsAppOptions configure WhatsApp on the service.
type WhatsAppOptions struct {
	// RetryAsTemplate: when WhatsApp refuses free text because the window
	// closed (63016), send the step's approved template instead (when it
	// has one) before falling back to SMS. Off: fall back to SMS at once.
	RetryAsTemplate bool
	// DeliveryTimeout: a WhatsApp message of a conversation that is not
	// delivered (or read) within this time is sent again by SMS. Zero: only
	// failures fall back.
	DeliveryTimeout time.Duration
}

// OutcomeWhatsAppOptIn: a conversation that ends with this outcome
// (the person answered JA to a flow that asked) records the WhatsApp
// opt-in and makes WhatsApp the preferred channel.
const OutcomeWhatsAppOptIn = "whatsapp_opt_in"

// asksWhatsAppOptIn reports whether a flow can end in the WhatsApp opt-in.
func asksWhatsAppOptIn(f *flow.Flow) bool {
	for _, st := range f.Steps {
		if st.Outcome == OutcomeWhatsAppOptIn {
			return true
		}
	}
	return false
}

// windowOpen reports whether the person wrote on WhatsApp in the last 24 hours.
func (s *Service) windowOpen(ctx context.Context, tag string, now time.Time) (bool, error) {
	last, err := s.Store.LastInbound(ctx, tag, channel.WhatsApp)
	if err != nil {
		return false, err
	}
	return !last.IsZero() && now.Sub(last) < WhatsAppWindow, nil
}

// whatsappTemplate decides how a WhatsApp message goes out: free text in
// the window (nil), else the step's approved template. Without a template
// the message falls back (handled).
func (s *Service) whatsappTemplate(ctx context.Context, m *store.Message, rcp store.Recipient, now time.Time) (*channel.Template, bool, error) {
	if !m.AsTemplate {
		open, err := s.windowOpen(ctx, m.Tag, now)
		if err != nil {
			return nil, false, err
		}
		if open {
			return nil, false, nil
		}
	}
	tpl, why, err := s.templateOf(ctx, m)
	if err != nil {
		return nil, false, err
	}
	if tpl != nil {
		return tpl, false, nil
	}
	reason := "more than 24 hours since the person's last WhatsApp message, and " + why
	if !inConversation(m) {
		return nil, true, s.setStatus(ctx, m, "", store.Status{State: "failed", Reason: reason, At: now})
	}
	s.Log.InfoContext(ctx, "whatsapp window closed and no template; falls back", "msg", m.ID, "step", m.Step)
	return nil, true, s.fallback(ctx, m, rcp, 0, reason)
}

// templateOf finds and fills the approved template of message m; nil with
// a plain reason when there is none.
func (s *Service) templateOf(ctx context.Context, m *store.Message) (*channel.Template, string, error) {
	if !inConversation(m) || m.Step == "" {
		return nil, "this answer has no approved template", nil
	}
	n, err := s.Store.Nudge(ctx, m.Conv)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "the conversation is gone", nil
	}
	if err != nil {
		return nil, "", err
	}
	f, err := s.Flows.Version(ctx, n.Flow)
	if err != nil {
		return nil, "", err
	}
	kind := m.Kind
	if kind == "reminder" {
		kind = s.reminderKind(f, n.Conversation, m)
	}
	t, lang, ok := f.WhatsAppTemplate(m.Step, kind, n.Lang)
	if !ok {
		return nil, fmt.Sprintf("step %q of flow %s has no WhatsApp template for this message", m.Step, f.ID), nil
	}
	vars, err := t.RenderVariables(lang, engine.Data(s.Engine.Contact, f, n.Conversation, s.Engine.Location))
	if err != nil {
		return nil, fmt.Sprintf("the WhatsApp template of step %q could not be filled in", m.Step), nil
	}
	return &channel.Template{SID: t.ContentSID, Variables: vars}, "", nil
}

// reminderKind finds which reminder of the step message m is ("reminder:<i>"),
// by rendering each; the engine's Send does not carry the index.
func (s *Service) reminderKind(f *flow.Flow, c engine.Conversation, m *store.Message) string {
	st := f.Step(m.Step)
	if st == nil {
		return "reminder"
	}
	d := engine.Data(s.Engine.Contact, f, c, s.Engine.Location)
	for i := range st.Reminders {
		k := fmt.Sprintf("reminder:%d", i)
		if out, _, err := f.Render(m.Step, k, c.Lang, d); err == nil && out == m.Body {
			return k
		}
	}
	return "reminder"
}

// whatsappFailed reacts to a WhatsApp send refused for good. It returns the
// plain reason for the transcript, or handled when it dealt with the
// message itself (sent again as the template).
func (s *Service) whatsappFailed(ctx context.Context, m *store.Message, rcp store.Recipient, code int, sendErr error) (string, bool, error) {
	if channel.KindOf(sendErr) == channel.OptedOut {
		if err := s.providerOptOut(ctx, m.Tag, string(channel.WhatsApp), m.Conv, s.Now()); err != nil {
			return "", false, err
		}
		if err := s.auditOptOut(ctx, m.Tag, m.Conv, channel.WhatsApp, true, "provider", "whatsapp refused: unsubscribed"); err != nil {
			return "", false, err
		}
		return "WhatsApp refused: the person unsubscribed", false, nil
	}
	s.Log.WarnContext(ctx, "whatsapp send failed permanently", "msg", m.ID, "code", code, "err", sendErr)
	if retried, err := s.retryAsTemplate(ctx, m, code); retried || err != nil {
		return "", true, err
	}
	return whatsappReason(code), false, nil
}

// whatsappReason explains a WhatsApp refusal in plain English.
func whatsappReason(code int) string {
	switch code {
	case CodeOutsideWindow:
		return "WhatsApp refused free text: more than 24 hours since the person's last message (63016)"
	case 63003, 63024:
		return fmt.Sprintf("WhatsApp cannot reach this number (%d): not on WhatsApp, or not a valid number", code)
	case 63032:
		return "WhatsApp refused: the person cannot receive business messages (63032)"
	case 63049:
		return "WhatsApp did not deliver this marketing message (63049)"
	case 0:
		return "rejected by WhatsApp"
	}
	return fmt.Sprintf("rejected by WhatsApp (Twilio error %d)", code)
}

// retryAsTemplate sends message m again as its approved template when
// WhatsApp refused free text outside the window (63016) and the policy
// allows it. The copy has the fixed id m.ID + "-tpl".
func (s *Service) retryAsTemplate(ctx context.Context, m *store.Message, code int) (bool, error) {
	if code != CodeOutsideWindow || !s.WhatsApp.RetryAsTemplate || m.AsTemplate || !inConversation(m) {
		return false, nil
	}
	tpl, _, err := s.templateOf(ctx, m)
	if err != nil || tpl == nil {
		return false, err
	}
	now := s.Now()
	cp := *m
	cp.ID, cp.At, cp.Status, cp.ProviderID, cp.AsTemplate, cp.FallbackOf = m.ID+"-tpl", now, nil, "", true, m.ID
	if _, err := s.Store.Message(ctx, m.Tag, cp.ID); errors.Is(err, store.ErrNotFound) {
		if err := s.Store.AddMessages(ctx, m.Tag, m.Conv, cp); err != nil {
			return false, err
		}
	} else if err != nil {
		return false, err
	}
	if err := s.Queue.EnqueueSend(ctx, m.Tag, cp.ID, time.Time{}); err != nil {
		return false, err
	}
	reason := whatsappReason(code) + "; sent again as the approved template"
	if err := s.setStatus(ctx, m, "", store.Status{State: "failed", Code: code, Reason: reason, At: now}); err != nil {
		return false, err
	}
	s.Log.InfoContext(ctx, "whatsapp free text refused; sent again as template", "msg", m.ID)
	return true, nil
}

// whatsappSent backs a sent WhatsApp message of a conversation up with a
// standby SMS copy that goes out when the message is not delivered within
// the delivery timeout (standbyDue decides then).
func (s *Service) whatsappSent(ctx context.Context, m *store.Message, rcp store.Recipient) error {
	if s.WhatsApp.DeliveryTimeout <= 0 || !inConversation(m) || m.Kind == KindStopConfirm {
		return nil
	}
	if _, ok := rcp.Channels.Next(channel.WhatsApp, s.configured); !ok {
		return nil
	}
	now := s.Now()
	at := now.Add(s.WhatsApp.DeliveryTimeout)
	to, _ := rcp.Channels.Next(channel.WhatsApp, s.configured)
	st := store.Status{State: StateStandby, At: now,
		Reason: fmt.Sprintf("goes out by %s only if the WhatsApp message is not delivered by %s", channelLabel(to), at.In(s.location()).Format("Mon 2006-01-02 15:04"))}
	cp, err := s.copyTo(ctx, m, to, now, &st)
	if err != nil {
		return err
	}
	return s.Queue.EnqueueSend(ctx, m.Tag, cp.ID, at)
}

func (s *Service) location() *time.Location {
	if s.Engine != nil && s.Engine.Location != nil {
		return s.Engine.Location
	}
	return time.UTC
}

// standbyDue decides on a standby copy whose time came (or whose original
// failed): done when the original arrived after all (the copy is
// cancelled); otherwise the original is marked not delivered, the
// conversation moves to the copy's channel and the copy is sent.
func (s *Service) standbyDue(ctx context.Context, m *store.Message) (bool, error) {
	now := s.Now()
	orig, err := s.Store.Message(ctx, m.Tag, m.FallbackOf)
	if errors.Is(err, store.ErrNotFound) {
		return true, s.setStatus(ctx, m, "", store.Status{State: "canceled", Reason: "the WhatsApp message it backed up is gone", At: now})
	}
	if err != nil {
		return false, err
	}
	if orig.Status != nil && (orig.Status.State == "delivered" || orig.Status.State == "read") {
		return true, s.setStatus(ctx, m, "", store.Status{State: "canceled", Reason: "not needed: the WhatsApp message was " + orig.Status.State, At: now})
	}
	if orig.Status == nil || !strings.Contains(orig.Status.Reason, "sent again") {
		reason := fmt.Sprintf("not delivered on WhatsApp within %s; sent again by %s", s.WhatsApp.DeliveryTimeout, channelLabel(channel.Name(m.Channel)))
		state := "undelivered"
		if orig.Status != nil && orig.Status.State == "failed" {
			state = "failed"
		}
		if err := s.Store.SetStatus(ctx, m.Tag, orig.ID, "", store.Status{State: state, Reason: reason, At: now}); err != nil {
			return false, err
		}
		if err := s.moveTo(ctx, m.Conv, channel.WhatsApp, channel.Name(m.Channel), "not delivered on WhatsApp in time", now); err != nil {
			return false, err
		}
	}
	return false, nil
}

// whatsappUndelivered handles a WhatsApp delivery report saying a message
// did not arrive (failed, undelivered): retry as the template (63016) or
// fall back to the next channel. handled is false for messages outside a
// conversation, which follow the usual path.
func (s *Service) whatsappUndelivered(ctx context.Context, tag, msgID string, code int, reason string) (bool, error) {
	m, err := s.Store.Message(ctx, tag, msgID)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if m.Channel != string(channel.WhatsApp) || !inConversation(m) {
		return false, nil
	}
	if m.Proactive {
		if err := s.Store.ReleaseSendSlot(ctx, tag, m.ID); err != nil {
			return true, err
		}
	}
	if retried, err := s.retryAsTemplate(ctx, m, code); retried || err != nil {
		return true, err
	}
	rcp, err := s.Store.Recipient(ctx, tag)
	if err != nil {
		return true, err
	}
	if reason == "" || code == CodeOutsideWindow || code >= 63000 && code < 64000 {
		reason = whatsappReason(code)
	}
	return true, s.fallback(ctx, m, rcp, code, reason)
}

// whatsAppOptIn is the opt-in the person gave by answering JA in a
// conversation of a flow that asked (OutcomeWhatsAppOptIn): the consent,
// WhatsApp preferred, and the channel event, for the script that commits
// the step (store.CommitGrant); its audit entry goes into the step's work.
func (s *Service) whatsAppOptIn(n *store.Nudge, w *store.Work, at time.Time) *store.Grant {
	c := recipient.Consent{At: at, Source: recipient.SourceSMSReply, Detail: "answered an SMS of flow " + n.Flow.ID}
	w.Audit = append(w.Audit, optOutEntry(n.Tag, n.ID, channel.WhatsApp, false, "recipient", "answered JA by SMS"))
	return &store.Grant{Channel: channel.WhatsApp, Consent: c, Prefer: s.configured(channel.WhatsApp),
		Event: &store.ChannelEvent{At: at, Channel: string(channel.WhatsApp), Action: "consent", Reason: c.Detail}}
}
