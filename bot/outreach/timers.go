package outreach

import (
	"context"
	"errors"
	"fmt"
	"github.com/seintje/seintje/bot/calendar"
	"time"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/store"
)

// ProcessTimerOf fires a reminder or the expiry of a conversation. Like
// ProcessTimer it ignores stale timers (the recipient answered, the
// conversation moved on or ended), so each fires its transition once.
func (s *Service) ProcessTimerOf(ctx context.Context, tag, cid, kind string, seq, index int) error {
	switch kind {
	case engine.TimerWait:
		return s.ProcessTimer(ctx, tag, cid, seq)
	case engine.TimerReminder:
		return s.transition(ctx, cid, "reminder", func(f *flow.Flow, c engine.Conversation, now time.Time) (engine.Result, error) {
			return s.Engine.Remind(f, c, seq, index, now)
		})
	case engine.TimerExpire:
		return s.transition(ctx, cid, "expiry", func(f *flow.Flow, c engine.Conversation, now time.Time) (engine.Result, error) {
			return s.Engine.Expire(f, c, now)
		})
	}
	return fmt.Errorf("unknown timer kind %q", kind)
}

// transition loads a nudge, applies fn and commits it, retrying on a
// concurrent change. Stale and ended results are not an error.
func (s *Service) transition(ctx context.Context, cid, what string,
	fn func(f *flow.Flow, c engine.Conversation, now time.Time) (engine.Result, error)) error {
	for attempt := 0; attempt < 8; attempt++ {
		n, err := s.Store.Nudge(ctx, cid)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		f, err := s.Flows.Version(ctx, n.Flow)
		if err != nil {
			return err
		}
		now := s.Now()
		res, err := fn(f, n.Conversation, now)
		if errors.Is(err, engine.ErrStaleTimer) || errors.Is(err, engine.ErrEnded) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(res.Effects) == 0 && res.Conv.Rev == n.Rev && res.Conv.Status == n.Status && res.Conv.TimerSeq == n.TimerSeq {
			return nil // nothing to do
		}
		next := *n
		next.Conversation = res.Conv
		msgs, cbs := s.effects(&next, res.Effects, nil, now)
		for _, cb := range cbs {
			next.CallbackIDs = append(next.CallbackIDs, cb.ID)
			next.Notes = append(next.Notes, store.Note{At: now, Code: "callback_" + cb.Kind, Text: "werkplaats task created: " + cb.Reason})
		}
		ob := store.NewOutbox(next.Tag, now)
		w := s.workOf(&next, res.Effects, msgs)
		w.Events = s.nudgeEvents(n, &next, cbs, false)
		err = s.Store.CommitWork(ctx, &next, msgs, cbs, ob, w, "")
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		if err := s.tallyNudge(ctx, &next, ConvEvent{At: now}, cbs); err != nil {
			s.Log.WarnContext(ctx, "batch figures not updated", "nudge", cid, "err", err)
		}
		s.Log.InfoContext(ctx, what+" fired", "nudge", cid, "step", next.Step, "status", next.Status, "callbacks", len(cbs))
		s.queueCommitted(ctx, ob, w)
		return nil
	}
	return store.ErrConflict
}

// undelivered runs the follow-ups of a message that a delivery report
// says never arrived (undelivered, failed): see notReached.
func (s *Service) undelivered(ctx context.Context, tag, msgID string) error {
	m, err := s.Store.Message(ctx, tag, msgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.notReached(ctx, tag, m)
}

// notReached handles a message that never reached the person: the provider
// rejected it (Permanent, OptedOut), the retries ran out, or a delivery
// report said undelivered/failed. A proactive message gives its weekly-limit
// slot back. When it is the first message of a conversation and the flow
// says escalate.on_undelivered, the engine's Undelivered creates one
// werkplaats task: Conversation.Escalated makes it once, however many of
// these paths report the same failure.
func (s *Service) notReached(ctx context.Context, tag string, m *store.Message) error {
	if m.Proactive {
		if err := s.Store.ReleaseSendSlot(ctx, tag, m.ID); err != nil {
			return err
		}
	}
	s.systemOutcomeOf(ctx, m.Conv, flow.OutcomeUndelivered, s.Now())
	if m.Conv == "" || !m.Proactive || m.Kind != "say" {
		return nil
	}
	// Someone who unsubscribed (STOP, or opted out at the provider) chose
	// not to be contacted this way: Seintje does not turn that into a call.
	// The case worker sees why and decides.
	if rcp, err := s.Store.Recipient(ctx, tag); err == nil && rcp.OptedOut(m.Channel) {
		return s.Store.AddNote(ctx, m.Conv, store.Note{At: s.Now(), Code: "not_reached_opted_out",
			Text: "the first message was not delivered because the recipient opted out on " + m.Channel + "; no call task was created"})
	}
	return s.transition(ctx, m.Conv, "undelivered escalation", func(f *flow.Flow, c engine.Conversation, now time.Time) (engine.Result, error) {
		if m.Step != f.Start().ID {
			return engine.Result{Conv: c}, nil // not the first message
		}
		return s.Engine.Undelivered(f, c, now)
	})
}

// newCallback makes the werkplaats task for an engine callback effect.
func (s *Service) newCallback(n *store.Nudge, e engine.Callback, now time.Time) store.Callback {
	by, action := "recipient", "requested"
	if e.Kind == engine.CallbackEscalation {
		by, action = "seintje", "escalated"
	}
	prio := e.Priority
	if prio == 0 {
		prio = flow.DefaultCallbackPriority
	}
	cb := store.Callback{ID: store.NewScopedID(n.Tag, now), NudgeID: n.ID, Ref: n.Ref, Name: n.Name,
		Reason: e.Reason, Step: e.Step, Status: store.CallbackOpen, Priority: prio, AskedAt: now, Due: s.dueFor(e.Preferred, now),
		Preferred: e.Preferred, Events: []store.Event{{At: now, By: by, Action: action, Note: e.Reason}}}
	cb.Kind = e.Kind
	cb.Flow = n.Flow.ID
	cb.RetryAfter = e.Policy.RetryAfter.Duration
	cb.MaxAttempts = e.Policy.MaxAttempts
	return cb
}

// dueFor turns the recipient's preferred moment into the task's due time:
// "morning" is the next working morning (from 09:00; now if it is one),
// "afternoon" the next working afternoon (from 13:00). Anything else is due
// at once.
func (s *Service) dueFor(preferred string, now time.Time) time.Time {
	w := calendar.DefaultWindow()
	if s.Gate != nil {
		w = s.Gate.Window
	}
	loc := s.Engine.Location
	if loc == nil {
		loc = time.UTC
	}
	lt := now.In(loc)
	switch preferred {
	case "morning":
		if w.IsWorkingDay(lt) && lt.Hour() >= 9 && lt.Hour() < 12 {
			return now
		}
		return w.NextWorkingAt(now, 9)
	case "afternoon":
		if w.IsWorkingDay(lt) && lt.Hour() >= 13 && lt.Hour() < 17 {
			return now
		}
		return w.NextWorkingAt(now, 13)
	}
	return now
}
