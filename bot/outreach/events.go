package outreach

import (
	"context"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/events"
	"github.com/seintje/seintje/bot/store"
)

// Events queues the delivery of case events to the case system
// (events.Dispatcher). Events are written to the outbox entry of the
// change that caused them, in the same script, and queued with the rest
// of its work (queueWork), so the recovery pass queues them after a crash.
type Events interface {
	// Enabled reports whether anyone subscribed (no events are written
	// otherwise).
	Enabled() bool
	// Enqueue queues delivery tasks for evs; idempotent.
	Enqueue(ctx context.Context, evs []store.CaseEvent) error
}

func (s *Service) eventsOn() bool { return s.Events != nil && s.Events.Enabled() }

// nudgeEvents lists the case events of a committed transition from prev
// to next: a reply, a callback request, the end of the conversation.
func (s *Service) nudgeEvents(prev, next *store.Nudge, cbs []store.Callback, replied bool) []store.CaseEvent {
	if !s.eventsOn() {
		return nil
	}
	at := next.UpdatedAt
	if at.IsZero() {
		at = s.Now()
	}
	base := store.CaseEvent{Nudge: next.ID, Ref: next.Ref, Flow: next.Flow.ID, Channel: next.Channel, At: at}
	var out []store.CaseEvent
	add := func(typ, state, cb string) {
		ev := base
		ev.ID, ev.Type, ev.State, ev.Callback = store.NewID(at), typ, state, cb
		out = append(out, ev)
	}
	if replied {
		add(events.NudgeReplied, string(next.Status), "")
	}
	for _, cb := range cbs {
		if cb.Kind == string(engine.CallbackRequested) {
			add(events.CallbackRequested, "requested", cb.ID)
		}
	}
	if next.Status == engine.Ended && (prev == nil || prev.Status != engine.Ended) {
		add(events.NudgeEnded, next.Outcome, "")
	}
	return out
}

// callbackEvents lists the case event of a werkplaats call's outcome:
// reached, wrong_number, no_answer or voicemail (the task stays open), or
// unreachable (the last attempt; a home visit is suggested).
func (s *Service) callbackEvents(cb *store.Callback, outcome string, at time.Time) []store.CaseEvent {
	if !s.eventsOn() {
		return nil
	}
	if cb.Status == store.CallbackDone && cb.Outcome != "" {
		outcome = cb.Outcome
	}
	return []store.CaseEvent{{ID: store.NewID(at), Type: events.CallbackOutcome, Nudge: cb.NudgeID, Ref: cb.Ref, Flow: cb.Flow,
		Callback: cb.ID, State: outcome, At: at}}
}

func tagOfCallback(id string) string {
	tag, _ := store.TagOf(id)
	return tag
}

// providerOptOut records an opt-out the provider reported (the person
// unsubscribed there, not by STOP to Seintje), with its case event in the
// same transaction, and queues the event.
func (s *Service) providerOptOut(ctx context.Context, tag, ch, nudge string, at time.Time) error {
	var w *store.Work
	if s.eventsOn() {
		rcp, err := s.Store.Recipient(ctx, tag)
		if err != nil {
			return err
		}
		if evs := s.optOutEvent(rcp.Ref, nudge, ch, at); len(evs) > 0 {
			evs[0].State = "opted_out_at_provider"
			w = &store.Work{Conv: nudge, Events: evs}
		}
	}
	ob := store.NewOutbox(tag, at)
	if err := s.Store.SetOptOutWork(ctx, tag, ch, at, ob, w); err != nil {
		return err
	}
	if w != nil {
		s.queueCommitted(ctx, ob, w)
	}
	return nil
}

// statusEvent is the case event of a message's new status, or nil.
func (s *Service) statusEvent(m *store.Message, st store.Status) []store.CaseEvent {
	if !s.eventsOn() || m == nil || m.Conv == "" || m.Conv == "_" || events.TypeOfStatus(st.State) == "" {
		return nil
	}
	return []store.CaseEvent{{Nudge: m.Conv, Msg: m.ID, State: st.State, Code: st.Code, Channel: m.Channel, At: st.At}}
}

// optOutEvent is the case event of a STOP, or nil when the person is
// not known to any case.
func (s *Service) optOutEvent(ref, nudge, ch string, at time.Time) []store.CaseEvent {
	if nudge == "_" {
		nudge = "" // a loose message, outside any conversation
	}
	if !s.eventsOn() || (ref == "" && nudge == "") {
		return nil
	}
	return []store.CaseEvent{{ID: store.NewID(at), Type: events.OptedOut, Nudge: nudge, Ref: ref, Channel: ch, State: "opted_out", At: at}}
}

// Observer counts what the service does, for the metrics (bot/metrics
// implements it).
type Observer interface {
	Sent(channel string)
	SendFailed(channel, reason string)
	Delivery(channel, state string, after time.Duration)
	Replied(flow string)
}

// observeStatus counts a status Seintje set on a message: handed to the
// provider, or a final failure by reason.
func (s *Service) observeStatus(m *store.Message, st store.Status) {
	if s.Observe == nil {
		return
	}
	switch st.State {
	case "accepted", "queued", "sending", "sent":
		s.Observe.Sent(m.Channel)
	case "suppressed", "canceled", "error", "failed":
		s.Observe.SendFailed(m.Channel, failureReason(st))
	}
}

// failureReason classifies a final send failure for the metrics, from the
// reasons this package writes.
func failureReason(st store.Status) string {
	switch {
	case st.State == "suppressed" || strings.Contains(st.Reason, "opted out"):
		return "opted_out"
	case st.State == "canceled":
		return "canceled"
	case strings.HasPrefix(st.Reason, "channel not configured"):
		return "not_configured"
	case strings.HasPrefix(st.Reason, "no address"):
		return "no_address"
	case strings.HasPrefix(st.Reason, "gave up"):
		return "gave_up"
	case st.State == "failed":
		return "rejected"
	}
	return "other"
}
