package outreach

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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

// LateReplyWindow is how long after a conversation ended a reply to it is
// still filed there (as a late reply for the case worker) instead of being
// treated as a new question. See docs/reliability.md, "How replies are
// routed".
const LateReplyWindow = 24 * time.Hour

// HandleInbound stores and processes one received message. It is
// idempotent per provider message id: a text whose processing committed is
// a duplicate and ignored; a text that was stored but not processed (a
// crash, a Redis error half-way) is processed now, once. The message is
// stored before anything else happens, so nothing received is lost; until
// its processing commits it stays pending, and the recovery pass
// (Recover) processes it if this call does not get that far.
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
	ib, err := s.Store.StoreInbound(ctx, msg, addr, now, LateReplyWindow)
	if errors.Is(err, store.ErrDuplicate) {
		s.Log.InfoContext(ctx, "duplicate inbound ignored", "channel", in.Channel, "provider_id", in.ProviderID)
		return nil
	}
	if err != nil {
		return err
	}
	if ib.Resumed {
		s.Log.InfoContext(ctx, "inbound stored earlier, processing it now", "channel", in.Channel, "msg", ib.Message.ID)
	} else {
		s.Log.InfoContext(ctx, "inbound stored", "channel", in.Channel, "from", maskAddr(in.Channel, addr), "msg", msg.ID)
	}
	if in.Channel == channel.WhatsApp {
		// The person wrote: WhatsApp's 24-hour window (re)opens.
		if err := s.Store.TouchInbound(ctx, tag, channel.WhatsApp, in.ReceivedAt); err != nil {
			return err
		}
	}
	return s.process(ctx, in.Channel, addr, ib.Message, ib)
}

// processPending processes a stored text whose processing never finished
// (the recovery pass).
func (s *Service) processPending(ctx context.Context, tag, msgID string) error {
	p, err := s.Store.InboundPending(ctx, tag, msgID)
	if err != nil || p == nil {
		return err
	}
	m, err := s.Store.Message(ctx, tag, msgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.Now()
	kind, n, err := s.Store.Route(ctx, tag, now, LateReplyWindow)
	if err != nil {
		return err
	}
	rcp, err := s.Store.Recipient(ctx, tag)
	if err != nil {
		return err
	}
	m.Status = nil
	s.Log.InfoContext(ctx, "processing a stored inbound text", "msg", msgID)
	return s.process(ctx, channel.Name(p.Channel), p.From, *m, store.Inbound{Message: *m, Recipient: rcp, Route: kind, Nudge: n})
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

// process handles a stored inbound message. Every path ends in one atomic
// write that marks the text processed together with what it changed and
// the work it queues (store.CommitWork, store.FinishInbound); errors leave
// the text pending for a later attempt.
func (s *Service) process(ctx context.Context, ch channel.Name, addr string, msg store.Message, ib store.Inbound) error {
	now := s.Now()
	rcp := ib.Recipient
	lang := rcp.Lang
	caseworker := ""
	conv := ""
	if ib.Nudge != nil {
		caseworker, conv = ib.Nudge.Caseworker, ib.Nudge.ID
	}

	switch Keyword(msg.Body) {
	case "stop":
		msg.Route, msg.Conv = "(stop)", conv
		// The trail entry first: a crash before the opt-out is stored
		// processes the text again (and records it again), never silently.
		if err := s.auditOptOut(ctx, msg.Tag, conv, ch, true, "recipient", "keyword stop"); err != nil {
			return err
		}
		s.SystemOutcome(ctx, ib.Nudge, flow.OutcomeOptedOut, now)
		s.Log.InfoContext(ctx, "recipient opts out", "channel", ch, "msg", msg.ID)
		if err := s.tallyNudge(ctx, ib.Nudge, ConvEvent{At: now, OptedOut: true}, nil); err != nil {
			s.Log.WarnContext(ctx, "batch figures not updated", "err", err)
		}
		return s.finish(ctx, ch, addr, msg, store.FinishInbound{Set: map[string]string{"optout:" + string(ch): strconv.FormatInt(now.UnixMilli(), 10)},
			Work: store.Work{Ix: []store.IndexOp{store.OptOutIndexOp(msg.Tag, string(ch), true, now)},
				Events: s.optOutEvent(rcp.Ref, conv, string(ch), now)}},
			KindStopConfirm, s.system(texts.StopConfirm, lang, caseworker))
	case "start":
		msg.Route, msg.Conv = "(start)", conv
		if err := s.auditOptOut(ctx, msg.Tag, conv, ch, false, "recipient", "keyword start"); err != nil {
			return err
		}
		return s.finish(ctx, ch, addr, msg, store.FinishInbound{Del: "optout:" + string(ch),
			Work: store.Work{Ix: []store.IndexOp{store.OptOutIndexOp(msg.Tag, string(ch), false, now)}}}, KindSystem, s.system(texts.StartConfirm, lang, caseworker))
	case "help":
		msg.Route, msg.Conv = "(help)", conv
		return s.finish(ctx, ch, addr, msg, store.FinishInbound{}, KindSystem, s.system(texts.Help, lang, caseworker))
	}

	if !rcp.Known() {
		// A number we do not know: keep the text for case workers and
		// answer kindly, once a day (an auto-responder must not loop).
		msg.Route = "(unknown sender)"
		return s.finish(ctx, ch, addr, msg, store.FinishInbound{OnceKey: "unknown-reply", OnceTTL: 24 * time.Hour,
			Work: store.Work{Ix: []store.IndexOp{store.InboxIndexOp(msg.Tag, msg.ID, msg.At)}}},
			KindSystem, s.system(texts.UnknownSender, flow.DefaultLang, ""))
	}

	kind, n := ib.Route, ib.Nudge
	for attempt := 0; ; attempt++ {
		if n == nil {
			return s.noConversation(ctx, ch, addr, msg, rcp, nil)
		}
		if kind == "late" {
			return s.noConversation(ctx, ch, addr, msg, rcp, n)
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
		ob := store.InboundOutbox(msg.Tag, msg.ID, now)
		w := s.workOf(&next, res.Effects, msgs)
		outcomes := []string{flow.OutcomeReplied}
		for _, e := range res.Effects {
			if cb, ok := e.(engine.Callback); ok && cb.Kind == engine.CallbackRequested {
				outcomes = append(outcomes, flow.OutcomeAskedForCall)
				break
			}
		}
		// Outside an experiment the outcomes are written by the commit
		// itself (one round trip less each); an experiment counts them per
		// arm (SystemOutcome, below).
		var inCommit []store.OutcomeRecord
		if next.Experiment == "" {
			for _, o := range outcomes {
				inCommit = append(inCommit, store.OutcomeRecord{Outcome: o, At: now.UTC(), By: "seintje", RecordedAt: s.Now().UTC()})
			}
		}
		w.Events = s.nudgeEvents(n, &next, cbs, true)
		var grant *store.Grant
		optIn := next.Outcome == OutcomeWhatsAppOptIn && n.Outcome != OutcomeWhatsAppOptIn
		if optIn {
			// The opt-in is recorded by the same script as the step.
			grant = s.whatsAppOptIn(&next, w, now)
		}
		err = s.Store.CommitReply(ctx, &next, msgs, cbs, ob, w, msg.ID, inCommit, grant)
		if errors.Is(err, store.ErrDuplicate) {
			return nil // processed by a concurrent delivery of the same text
		}
		if errors.Is(err, store.ErrConflict) && attempt < 8 {
			// Another reply advanced the conversation first: route this one
			// against the new state.
			if kind, n, err = s.Store.Route(ctx, msg.Tag, now, LateReplyWindow); err != nil {
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
		if s.Observe != nil {
			s.Observe.Replied(next.Flow.ID)
		}
		s.queueCommitted(ctx, ob, w)
		if next.Experiment != "" {
			for _, o := range outcomes {
				s.SystemOutcome(ctx, &next, o, now)
			}
		}
		if optIn {
			s.Log.InfoContext(ctx, "whatsapp opt-in recorded", "nudge", next.ID, "source", recipient.SourceSMSReply)
		}
		return nil
	}
}

// noConversation handles a text from a known recipient with no waiting
// conversation: a question for the case worker, acknowledged once a day.
// With late set, the text is a late reply to that conversation (it ended
// within LateReplyWindow): filed in its transcript for the case worker,
// never routed into another conversation.
func (s *Service) noConversation(ctx context.Context, ch channel.Name, addr string, msg store.Message, rcp store.Recipient, late *store.Nudge) error {
	msg.Route = "(forward)"
	if late != nil {
		msg.Route, msg.Conv = "(late)", late.ID
		s.Log.InfoContext(ctx, "late reply filed", "nudge", late.ID, "msg", msg.ID)
	}
	return s.finish(ctx, ch, addr, msg, store.FinishInbound{OnceKey: "ack", OnceTTL: 24 * time.Hour,
		Work: store.Work{Ix: []store.IndexOp{store.InboxIndexOp(msg.Tag, msg.ID, msg.At)}}},
		KindSystem, s.system(texts.Ack, rcp.Lang, ""))
}

// finish ends the processing of a text that does not advance a
// conversation, with a direct answer (not proactive) on the same channel:
// one atomic write (store.FinishInbound), then the answer is queued.
func (s *Service) finish(ctx context.Context, ch channel.Name, addr string, in store.Message, f store.FinishInbound, kind, body string) error {
	now := s.Now()
	out := store.Message{ID: store.NewID(now), Tag: in.Tag, Conv: in.Conv, Dir: "out", Channel: string(ch), At: now,
		Body: body, Kind: kind}
	f.In, f.Out = in, &out
	if in.Conv == "" {
		// Loose messages need the address: the recipient may be unknown.
		if f.Set == nil {
			f.Set = map[string]string{}
		}
		f.Set["addr:"+string(ch)] = addr
	}
	w, err := s.Store.FinishInbound(ctx, f)
	if errors.Is(err, store.ErrDuplicate) {
		return nil
	}
	if err != nil {
		return err
	}
	s.queueCommitted(ctx, store.InboundOutbox(in.Tag, in.ID, now), w)
	return nil
}
