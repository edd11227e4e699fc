package outreach

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/recipient"
	"github.com/seintje/seintje/bot/store"
)

// What is about a recipient's channels (address, consent, opt-out,
// preference, fallback) is decided here, once, on the recipient.Channels
// model; the provider-specific parts (Telegram linking, WhatsApp's window
// and templates) live in telegram.go and whatsapp.go and call into this.

// Errors of the channel endpoints.
var (
	ErrUnknownRecipient = errors.New("no recipient with this reference")
	ErrNotLinked        = errors.New("the recipient has not linked Telegram")
	ErrNoOptIn          = errors.New("the recipient has no recorded WhatsApp opt-in")
	ErrNotConfigured    = errors.New("channel not configured")
)

// configured reports whether a sender for ch is wired.
func (s *Service) configured(ch channel.Name) bool {
	_, ok := s.Senders[ch]
	return ok
}

// Configured reports whether channel ch can send on this Seintje.
func (s *Service) Configured(ch channel.Name) bool { return s.configured(ch) }

// channelFor picks a new nudge's channel: the recipient's preferred channel
// when it is configured and usable (address, consent, no opt-out), else the
// next in the fallback order, else SMS.
func (s *Service) channelFor(ctx context.Context, tag string) channel.Name {
	if s.onlySMS() {
		return channel.SMS // what Pick answers whatever the person's state: no round trip
	}
	c, err := s.Store.Channels(ctx, tag)
	if err != nil {
		s.Log.WarnContext(ctx, "channel state unreadable; using sms", "err", err)
		return channel.SMS
	}
	return c.Pick(s.configured)
}

// onlySMS reports whether SMS is the only channel configured: then every
// new nudge goes by SMS.
func (s *Service) onlySMS() bool {
	for ch := range s.Senders {
		if ch != channel.SMS {
			return false
		}
	}
	return true
}

func (s *Service) refHash(ref string) string { return s.Keyer.Hash("ref", ref) }

// recipientTag resolves a case reference.
func (s *Service) recipientTag(ctx context.Context, ref string) (string, error) {
	tag, err := s.Store.TagByRef(ctx, s.refHash(ref))
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrUnknownRecipient
	}
	return tag, err
}

func inConversation(m *store.Message) bool { return m.Conv != "" && m.Conv != "_" }

// needsConsentNow reports whether message m may only go out with a recorded
// consent on its channel. Telegram needs a link for every message of a
// conversation; WhatsApp needs the opt-in for what Seintje starts itself
// (proactive messages): a direct answer to someone who just wrote to us is
// fine. The STOP confirmation always goes to where STOP came from.
func needsConsentNow(ch channel.Name, m *store.Message) bool {
	if !recipient.NeedsConsent(ch) || !inConversation(m) || m.Kind == KindStopConfirm {
		return false
	}
	return ch == channel.Telegram || m.Proactive
}

// addressFor decides where a queued message goes. handled is true when the
// message was dealt with instead (fallen back, or failed).
func (s *Service) addressFor(ctx context.Context, m *store.Message, rcp store.Recipient) (to string, handled bool, err error) {
	ch := channel.Name(m.Channel)
	if !recipient.NeedsConsent(ch) {
		to = rcp.Phone
		if a, ok := rcp.Addrs[m.Channel]; ok && to == "" {
			to = a
		}
		return to, false, nil
	}
	st := rcp.Channels.Get(ch)
	to = st.Address
	if !needsConsentNow(ch, m) {
		return to, false, nil
	}
	if st.Consent == nil || to == "" {
		return "", true, s.fallback(ctx, m, rcp, 0, noConsentReason(ch))
	}
	return to, false, nil
}

func noConsentReason(ch channel.Name) string {
	if ch == channel.WhatsApp {
		return "no WhatsApp opt-in (any more)"
	}
	return "Telegram is no longer linked"
}

// channelLabel names a channel for case workers.
func channelLabel(ch channel.Name) string {
	switch ch {
	case channel.SMS:
		return "SMS"
	case channel.WhatsApp:
		return "WhatsApp"
	case channel.Telegram:
		return "Telegram"
	}
	return string(ch)
}

// failedForGood handles a send on a consent channel (Telegram, WhatsApp)
// that failed for good: the provider part says why (and may unlink or
// retry otherwise); a message of a conversation then goes by the next
// channel in the recipient's order.
func (s *Service) failedForGood(ctx context.Context, m *store.Message, rcp store.Recipient, sendErr error) error {
	code := 0
	var ce *channel.Error
	if errors.As(sendErr, &ce) {
		code = ce.Code
	}
	var reason string
	switch channel.Name(m.Channel) {
	case channel.Telegram:
		reason = "rejected by Telegram"
		if channel.KindOf(sendErr) == channel.OptedOut {
			reason = "Telegram refused: the person blocked the bot or left Telegram"
			chat := rcp.Addrs[string(channel.Telegram)]
			if err := s.unlinkTelegram(ctx, m.Tag, s.chatHash(chat), "telegram answered 403 (bot blocked or account deactivated)", s.Now()); err != nil {
				return err
			}
			s.Log.InfoContext(ctx, "telegram unlinked after 403", "msg", m.ID)
		} else {
			s.Log.WarnContext(ctx, "telegram send failed permanently", "msg", m.ID, "code", code, "err", sendErr)
		}
	case channel.WhatsApp:
		var handled bool
		var err error
		if reason, handled, err = s.whatsappFailed(ctx, m, rcp, code, sendErr); handled || err != nil {
			return err
		}
	default:
		reason = "rejected by " + channelLabel(channel.Name(m.Channel))
	}
	if !inConversation(m) {
		return s.setStatus(ctx, m, "", store.Status{State: "failed", Code: code, Reason: reason, At: s.Now()})
	}
	return s.fallback(ctx, m, rcp, code, reason)
}

// fallback sends a copy of message m on the next channel of the
// recipient's order (SMS last), in the same transcript (so both attempts
// show), and moves the conversation there. The copy has a fixed id
// (m.ID + "-" + channel): a retried fallback never sends twice.
func (s *Service) fallback(ctx context.Context, m *store.Message, rcp store.Recipient, code int, reason string) error {
	now := s.Now()
	from := channel.Name(m.Channel)
	if m.Kind == KindStopConfirm {
		return s.setStatus(ctx, m, "", store.Status{State: "failed", Code: code, Reason: reason, At: now})
	}
	to, ok := rcp.Channels.Next(from, s.configured)
	if !ok {
		why := "no number or SMS not configured"
		if rcp.OptedOut(string(channel.SMS)) && rcp.Phone != "" {
			why = "opted out of SMS"
		}
		return s.setStatus(ctx, m, "", store.Status{State: "failed", Code: code, Reason: reason + "; no SMS fallback (" + why + ")", At: now})
	}
	cp, err := s.copyTo(ctx, m, to, now, nil)
	if err != nil {
		return err
	}
	if err := s.Queue.EnqueueSend(ctx, m.Tag, cp.ID, time.Time{}); err != nil {
		return err
	}
	if err := s.setStatus(ctx, m, "", store.Status{State: "failed", Code: code, Reason: reason + "; sent again by " + channelLabel(to), At: now}); err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "message falls back", "msg", m.ID, "from", from, "to", to, "copy", cp.ID)
	return s.moveTo(ctx, m.Conv, from, to, reason, now)
}

// copyTo stores (once) a copy of m for channel to, with id m.ID+"-"+to.
// An already stored copy is returned as it is. status, when set, is the
// copy's first status (a standby copy).
func (s *Service) copyTo(ctx context.Context, m *store.Message, to channel.Name, now time.Time, status *store.Status) (store.Message, error) {
	cp := *m
	cp.ID, cp.Channel, cp.At, cp.Status, cp.ProviderID = m.ID+"-"+string(to), string(to), now, nil, ""
	cp.FallbackOf = m.ID
	if to == channel.SMS {
		cp.Buttons = nil
	}
	prev, err := s.Store.Message(ctx, m.Tag, cp.ID)
	if err == nil {
		return *prev, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Message{}, err
	}
	if err := s.Store.AddMessages(ctx, m.Tag, m.Conv, cp); err != nil {
		return store.Message{}, err
	}
	if status != nil {
		if err := s.Store.SetStatus(ctx, m.Tag, cp.ID, "", *status); err != nil {
			return store.Message{}, err
		}
	}
	return cp, nil
}

// moveTo switches a conversation's later messages to channel to and notes why.
func (s *Service) moveTo(ctx context.Context, id string, from, to channel.Name, reason string, now time.Time) error {
	return s.updateNudge(ctx, id, func(n *store.Nudge) bool {
		if n.Channel == string(to) {
			return false
		}
		n.Channel = string(to)
		n.Notes = append(n.Notes, store.Note{At: now, Code: "fallback_" + string(to),
			Text: "fallback from " + string(from) + ": " + reason + "; messages go by " + channelLabel(to)})
		return true
	})
}

// ChannelView is a recipient's channels as the API shows them.
type ChannelView struct {
	Tag      string
	Channels recipient.Channels
	Events   []store.ChannelEvent
	// WindowOpenUntil is when WhatsApp's 24-hour window closes (zero: closed).
	WindowOpenUntil time.Time
}

// Channels returns the channel settings of the recipient with case
// reference ref.
func (s *Service) Channels(ctx context.Context, ref string) (ChannelView, error) {
	tag, err := s.recipientTag(ctx, ref)
	if err != nil {
		return ChannelView{}, err
	}
	rcp, err := s.Store.Recipient(ctx, tag)
	if err != nil {
		return ChannelView{}, err
	}
	v := ChannelView{Tag: tag, Channels: rcp.Channels}
	if v.Events, err = s.Store.ChannelLog(ctx, tag); err != nil {
		return ChannelView{}, err
	}
	if last, err := s.Store.LastInbound(ctx, tag, channel.WhatsApp); err != nil {
		return ChannelView{}, err
	} else if until := last.Add(WhatsAppWindow); !last.IsZero() && until.After(s.Now()) {
		v.WindowOpenUntil = until
	}
	return v, nil
}

// ChannelsUpdate is a change to a recipient's channels; nil fields are
// left as they are.
type ChannelsUpdate struct {
	Preferred *channel.Name
	Fallback  []channel.Name // nil: unchanged; empty: SMS only
	// Consent records (Given) or withdraws (!Given) the opt-in of a channel
	// the case system may set (WhatsApp).
	Consent map[channel.Name]ConsentUpdate
}

// ConsentUpdate is one consent recorded or withdrawn by the case system.
type ConsentUpdate struct {
	Given  bool
	At     time.Time // when the person gave it (default: now)
	Source string    // where: "intake form", "phone call 2026-11-02", ...
}

// UpdateChannels applies a change to the recipient's channels; by is the
// API token name. Consent is applied first, so one request can record the
// WhatsApp opt-in and prefer WhatsApp. Preferring a channel that needs
// consent without it is ErrNotLinked (Telegram) or ErrNoOptIn (WhatsApp);
// a channel that is not configured is ErrNotConfigured.
func (s *Service) UpdateChannels(ctx context.Context, ref string, u ChannelsUpdate, by string) (ChannelView, error) {
	tag, err := s.recipientTag(ctx, ref)
	if err != nil {
		return ChannelView{}, err
	}
	now := s.Now()
	for ch, cu := range u.Consent {
		if !s.configured(ch) {
			return ChannelView{}, fmt.Errorf("%w: %s", ErrNotConfigured, ch)
		}
		if cu.Given {
			at := cu.At
			if at.IsZero() || at.After(now) {
				at = now
			}
			c := recipient.Consent{At: at, Source: recipient.SourceAPI, Detail: cu.Source, By: by}
			g := store.Grant{Channel: ch, Consent: c,
				Event: &store.ChannelEvent{At: now, Channel: string(ch), Action: "consent", Reason: cu.Source, By: by}}
			if err := s.Store.Grant(ctx, tag, g, nil, nil); err != nil {
				return ChannelView{}, err
			}
			if err := s.audit(ctx, audit.Entry{Action: audit.ActionOptIn, Subject: tag, Channel: string(ch), Detail: "consent recorded by the case system"}); err != nil {
				return ChannelView{}, err
			}
			continue
		}
		if err := s.Store.RevokeConsent(ctx, tag, ch); err != nil {
			return ChannelView{}, err
		}
		if err := s.Store.LogChannel(ctx, tag, store.ChannelEvent{At: now, Channel: string(ch), Action: "consent_revoked", Reason: cu.Source, By: by}); err != nil {
			return ChannelView{}, err
		}
		if err := s.audit(ctx, audit.Entry{Action: audit.ActionOptOut, Subject: tag, Channel: string(ch), Detail: "consent withdrawn by the case system"}); err != nil {
			return ChannelView{}, err
		}
	}
	if u.Preferred != nil || u.Fallback != nil {
		c, err := s.Store.Channels(ctx, tag)
		if err != nil {
			return ChannelView{}, err
		}
		pref := c.Preferred
		if u.Preferred != nil {
			pref = *u.Preferred
			if err := s.canPrefer(c, pref); err != nil {
				return ChannelView{}, err
			}
		}
		for _, f := range u.Fallback {
			if !s.configured(f) {
				return ChannelView{}, fmt.Errorf("%w: %s", ErrNotConfigured, f)
			}
		}
		if err := s.Store.SetPreference(ctx, tag, pref, u.Fallback); err != nil {
			return ChannelView{}, err
		}
		if err := s.audit(ctx, audit.Entry{Action: audit.ActionSetChannel, Subject: tag, Channel: string(pref)}); err != nil {
			return ChannelView{}, err
		}
		if u.Preferred != nil {
			if err := s.Store.LogChannel(ctx, tag, store.ChannelEvent{At: now, Channel: string(pref), Action: "preferred_" + string(pref), By: by}); err != nil {
				return ChannelView{}, err
			}
		}
	}
	return s.Channels(ctx, ref)
}

// canPrefer says whether ch may become the preferred channel.
func (s *Service) canPrefer(c recipient.Channels, ch channel.Name) error {
	if !s.configured(ch) {
		return fmt.Errorf("%w: %s", ErrNotConfigured, ch)
	}
	if recipient.NeedsConsent(ch) && c.Get(ch).Consent == nil {
		if ch == channel.WhatsApp {
			return ErrNoOptIn
		}
		return ErrNotLinked
	}
	return nil
}

// SetPreferredChannel sets a recipient's preferred channel (the older
// PUT /v1/recipients/{ref}/channel). Telegram needs a linked chat
// (ErrNotLinked), WhatsApp an opt-in (ErrNoOptIn).
func (s *Service) SetPreferredChannel(ctx context.Context, ref string, ch channel.Name, by string) error {
	_, err := s.UpdateChannels(ctx, ref, ChannelsUpdate{Preferred: &ch}, by)
	return err
}

// triggerChannel picks the channel of a new nudge: the one the request
// asks for, else the recipient's preferred one. A WhatsApp opt-in in the
// request is recorded first. Asking for a channel that needs consent
// without it is ErrNoOptIn (WhatsApp) or ErrNotLinked (Telegram): nothing
// is sent.
func (s *Service) triggerChannel(ctx context.Context, tag string, req TriggerRequest, now time.Time) (channel.Name, error) {
	want := channel.Name(strings.ToLower(strings.TrimSpace(req.Channel)))
	if want != "" && !recipient.Valid(want) {
		return "", &FieldError{Field: "channel", Code: "invalid_field", Message: `channel must be "sms", "whatsapp" or "telegram"`}
	}
	if want != "" && !s.configured(want) {
		return "", &FieldError{Field: "channel", Code: string(want) + "_not_configured", Message: channelLabel(want) + " is not configured on this Seintje"}
	}
	if req.WhatsAppOptIn != nil {
		if !s.configured(channel.WhatsApp) {
			return "", &FieldError{Field: "recipient.whatsapp_opt_in", Code: "whatsapp_not_configured", Message: "WhatsApp is not configured on this Seintje (set TWILIO_WHATSAPP_FROM)"}
		}
		if strings.TrimSpace(req.WhatsAppOptIn.Source) == "" {
			return "", &FieldError{Field: "recipient.whatsapp_opt_in.source", Code: "invalid_field", Message: "say where the person gave the opt-in (source), e.g. \"intake form\""}
		}
		at := req.WhatsAppOptIn.At
		if at.IsZero() || at.After(now) {
			at = now
		}
		c := recipient.Consent{At: at, Source: recipient.SourceAPI, Detail: req.WhatsAppOptIn.Source, By: req.TriggeredBy}
		g := store.Grant{Channel: channel.WhatsApp, Consent: c,
			Event: &store.ChannelEvent{At: now, Channel: string(channel.WhatsApp), Action: "consent", Reason: c.Detail, By: req.TriggeredBy}}
		if err := s.Store.Grant(ctx, tag, g, nil, nil); err != nil {
			return "", err
		}
		if err := s.audit(ctx, audit.Entry{Action: audit.ActionOptIn, Subject: tag, Channel: string(channel.WhatsApp), Detail: "consent recorded by the case system with a nudge"}); err != nil {
			return "", err
		}
	}
	if want == "" {
		return s.channelFor(ctx, tag), nil
	}
	if recipient.NeedsConsent(want) {
		c, err := s.Store.Channels(ctx, tag)
		if err != nil {
			return "", err
		}
		if c.Get(want).Consent == nil {
			if want == channel.WhatsApp {
				return "", ErrNoOptIn
			}
			return "", ErrNotLinked
		}
	}
	return want, nil
}
