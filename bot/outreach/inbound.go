package outreach

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/recipient"
	"github.com/seintje/seintje/bot/store"
	"github.com/seintje/seintje/bot/texts"
)

// Keywords are checked before any flow, as whole messages. Every text
// names the Latin keywords (STOP, START), which work in every language; the
// words people of the other shipped languages write themselves work too.
var (
	stopWords = flow.Phrases("stop", "stoppen", "afmelden", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke",
		"durdur", "wypisz", "wypisz mnie", "стоп", "відписатися", "توقف", "إيقاف")
	startWords = flow.Phrases("start", "aanmelden", "unstop", "старт", "ابدأ")
	helpWords  = flow.Phrases("help", "hulp", "info", "yardım", "pomoc", "допомога", "مساعدة")
)

// Keyword classifies a whole message: "stop", "start", "help" or "".
func Keyword(body string) string {
	n := flow.Normalize(body)
	for _, set := range []struct {
		name  string
		words []string
	}{{"stop", stopWords}, {"start", startWords}, {"help", helpWords}} {
		for _, w := range set.words {
			if n == w {
				return set.name
			}
		}
	}
	return ""
}

// Kinds of system messages; KindStopConfirm is the only message ever sent
// to a recipient who opted out (the one confirmation).
const (
	KindStopConfirm = "stop_confirm"
	KindSystem      = "system"
)

// HandleInbound stores and processes one received message. It is
// idempotent per provider message id: a duplicate is ignored. The message
// is stored before anything else happens, so nothing received is lost.
func (s *Service) HandleInbound(ctx context.Context, in channel.Inbound) error {
	now := s.Now()
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = now
	}
	tag, addr, err := s.inboundTag(ctx, in)
	if err != nil {
		return err
	}
	msg := store.Message{ID: store.NewID(now), Tag: tag, Dir: "in", Channel: string(in.Channel), At: in.ReceivedAt,
		Body: in.Body, Kind: "reply", ProviderID: in.ProviderID}
	ib, err := s.Store.StoreInbound(ctx, msg)
	if errors.Is(err, store.ErrDuplicate) {
		s.Log.InfoContext(ctx, "duplicate inbound ignored", "channel", in.Channel, "provider_id", in.ProviderID)
		return nil
	}
	if err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "inbound stored", "channel", in.Channel, "from", maskAddr(in.Channel, addr), "msg", msg.ID)
	if in.Channel == channel.WhatsApp {
		// The person wrote: WhatsApp's 24-hour window (re)opens.
		if err := s.Store.TouchInbound(ctx, tag, channel.WhatsApp, in.ReceivedAt); err != nil {
			return err
		}
	}
	if err := s.process(ctx, in.Channel, addr, msg, ib); err != nil {
		// The text is stored; make sure a person sees it even though it
		// could not be routed (it may count as a report to the agency).
		msg.Route = "(unprocessed)"
		if ierr := s.Store.AddMessages(ctx, msg.Tag, "", msg); ierr == nil {
			_ = s.Store.AddToInbox(ctx, msg.Tag, msg.ID, msg.At)
		}
		s.Log.ErrorContext(ctx, "inbound not processed; kept in the inbox", "msg", msg.ID, "err", err)
		return err
	}
	return nil
}

// inboundTag finds the recipient tag of a sender.
func (s *Service) inboundTag(ctx context.Context, in channel.Inbound) (string, string, error) {
	switch in.Channel {
	case channel.SMS, channel.WhatsApp: // WhatsApp's address is the phone number
		if phone.IsE164(in.From) {
			// Providers send E.164 already: skip the (costly) full parse.
			return s.tagFor(in.From), in.From, nil
		}
		e164, err := phone.Normalize(in.From)
		if err != nil {
			// Keep it anyway: hash the raw sender so nothing is dropped.
			return s.Keyer.Hash("phone", in.From), in.From, nil
		}
		return s.tagFor(e164), e164, nil
	}
	if in.Channel == channel.Telegram {
		return s.telegramTag(ctx, in.From)
	}
	return "", "", fmt.Errorf("inbound on unsupported channel %q", in.Channel)
}

func maskAddr(ch channel.Name, addr string) string {
	if ch == channel.SMS || ch == channel.WhatsApp {
		return phone.Mask(addr)
	}
	return "***"
}

// process handles a stored inbound message. Errors leave the message stored.
func (s *Service) process(ctx context.Context, ch channel.Name, addr string, msg store.Message, ib store.Inbound) error {
	now := s.Now()
	rcp := ib.Recipient
	lang := rcp.Lang
	caseworker := ""
	if ib.Nudge != nil {
		caseworker = ib.Nudge.Caseworker
	}
	conv := ""
	if ib.Nudge != nil {
		conv = ib.Nudge.ID
	}

	switch Keyword(msg.Body) {
	case "stop":
		msg.Route, msg.Conv = "(stop)", conv
		if err := s.Store.SetOptOut(ctx, msg.Tag, string(ch), true, now); err != nil {
			return err
		}
		if err := s.auditOptOut(ctx, msg.Tag, conv, ch, true, "recipient", "keyword stop"); err != nil {
			return err
		}
		s.SystemOutcome(ctx, ib.Nudge, flow.OutcomeOptedOut, now)
		s.Log.InfoContext(ctx, "recipient opted out", "channel", ch, "msg", msg.ID)
		if err := s.tallyNudge(ctx, ib.Nudge, ConvEvent{At: now, OptedOut: true}, nil); err != nil {
			s.Log.WarnContext(ctx, "batch figures not updated", "err", err)
		}
		return s.reply(ctx, ch, addr, msg, KindStopConfirm, s.system(texts.StopConfirm, lang, caseworker))
	case "start":
		msg.Route, msg.Conv = "(start)", conv
		if err := s.Store.SetOptOut(ctx, msg.Tag, string(ch), false, now); err != nil {
			return err
		}
		if err := s.auditOptOut(ctx, msg.Tag, conv, ch, false, "recipient", "keyword start"); err != nil {
			return err
		}
		return s.reply(ctx, ch, addr, msg, KindSystem, s.system(texts.StartConfirm, lang, caseworker))
	case "help":
		msg.Route, msg.Conv = "(help)", conv
		return s.reply(ctx, ch, addr, msg, KindSystem, s.system(texts.Help, lang, caseworker))
	}

	if !rcp.Known() {
		// A number we do not know: keep the text for case workers and
		// answer kindly, once a day (an auto-responder must not loop).
		msg.Route = "(unknown sender)"
		if err := s.Store.AddToInbox(ctx, msg.Tag, msg.ID, msg.At); err != nil {
			return err
		}
		first, err := s.Store.Once(ctx, msg.Tag, "unknown-reply", 24*time.Hour)
		if err != nil {
			return err
		}
		if !first {
			return s.Store.AddMessages(ctx, msg.Tag, "", msg)
		}
		return s.reply(ctx, ch, addr, msg, KindSystem, s.system(texts.UnknownSender, flow.DefaultLang, ""))
	}

	n := ib.Nudge
	for attempt := 0; ; attempt++ {
		if n == nil {
			return s.noConversation(ctx, ch, addr, msg, rcp)
		}
		f, err := s.Flows.Version(ctx, n.Flow)
		if err != nil {
			return fmt.Errorf("flow of nudge %s: %w", n.ID, err)
		}
		res, err := s.Engine.Reply(f, n.Conversation, msg.Body, now)
		if errors.Is(err, engine.ErrEnded) {
			n = nil
			continue
		}
		if err != nil {
			return fmt.Errorf("reply on nudge %s: %w", n.ID, err)
		}
		in := msg
		in.Conv, in.Route = n.ID, res.Matched
		next := *n
		if ch != channel.Name(next.Channel) && (recipient.NeedsConsent(ch) || recipient.NeedsConsent(channel.Name(next.Channel))) {
			// Answer on the channel the person used (Telegram, WhatsApp or SMS).
			next.Channel = string(ch)
		}
		next.Conversation = res.Conv
		msgs, cbs := s.effects(&next, res.Effects, &in, now)
		for _, cb := range cbs {
			next.CallbackIDs = append(next.CallbackIDs, cb.ID)
		}
		ops, err := s.Store.CommitDeferIndex(ctx, &next, msgs, cbs)
		if errors.Is(err, store.ErrConflict) && attempt < 8 {
			// Another reply advanced the conversation first: route this one
			// against the new state.
			if n, err = s.Store.WaitingNudge(ctx, msg.Tag); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := s.tallyNudge(ctx, &next, ConvEvent{At: now, Replied: true}, cbs); err != nil {
			s.Log.WarnContext(ctx, "batch figures not updated", "nudge", next.ID, "err", err)
		}
		s.Log.InfoContext(ctx, "reply routed", "nudge", next.ID, "step", next.Step, "route", res.Matched, "status", next.Status)
		s.SystemOutcome(ctx, &next, flow.OutcomeReplied, now)
		for _, e := range res.Effects {
			if cb, ok := e.(engine.Callback); ok && cb.Kind == engine.CallbackRequested {
				s.SystemOutcome(ctx, &next, flow.OutcomeAskedForCall, now)
				break
			}
		}
		if next.Outcome == OutcomeWhatsAppOptIn && n.Outcome != OutcomeWhatsAppOptIn {
			if err := s.recordWhatsAppOptIn(ctx, &next, now); err != nil {
				return err
			}
		}
		return s.dispatchIndexed(ctx, &next, res.Effects, msgs, ops)
	}
}

// noConversation handles a text from a known recipient with no waiting
// conversation: a question for the case worker, acknowledged once a day.
func (s *Service) noConversation(ctx context.Context, ch channel.Name, addr string, msg store.Message, rcp store.Recipient) error {
	msg.Route = "(forward)"
	if err := s.Store.AddToInbox(ctx, msg.Tag, msg.ID, msg.At); err != nil {
		return err
	}
	first, err := s.Store.Once(ctx, msg.Tag, "ack", 24*time.Hour)
	if err != nil {
		return err
	}
	if !first {
		return s.Store.AddMessages(ctx, msg.Tag, "", msg)
	}
	return s.reply(ctx, ch, addr, msg, KindSystem, s.system(texts.Ack, rcp.Lang, ""))
}

// reply stores the inbound message with a direct answer (not proactive) on
// the same channel and queues the answer.
func (s *Service) reply(ctx context.Context, ch channel.Name, addr string, in store.Message, kind, body string) error {
	now := s.Now()
	out := store.Message{ID: store.NewID(now), Tag: in.Tag, Conv: in.Conv, Dir: "out", Channel: string(ch), At: now,
		Body: body, Kind: kind}
	if err := s.Store.AddMessages(ctx, in.Tag, in.Conv, in, out); err != nil {
		return err
	}
	if in.Conv == "" {
		// Loose messages need the address: the recipient may be unknown.
		if err := s.Store.SetLooseAddress(ctx, in.Tag, string(ch), addr); err != nil {
			return err
		}
	}
	return s.Queue.EnqueueSend(ctx, in.Tag, out.ID, time.Time{})
}
