package outreach

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seintje/seintje/bot/calendar"
	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/store"
)

// Gate holds proactive messages (the ones Seintje starts: first messages,
// reminders, timeouts) to the sending hours and to at most WeeklyLimit per
// recipient in any rolling 7 days, across all flows. A direct answer to
// something the recipient just sent is not proactive and is never held.
type Gate struct {
	Window      calendar.Window
	WeeklyLimit int // 0: no limit
}

// gate decides on a proactive message. It returns true when the message is
// held (deferred, refused or cancelled; the status and a note on the nudge
// say why) and must not be sent now.
func (s *Service) gate(ctx context.Context, tag string, m *store.Message, now time.Time) (bool, error) {
	// The nudge is read only when needed (a message that waited, or one
	// held now): the common case, a message that goes, saves the read.
	var n *store.Nudge
	read := false
	nudge := func() (*store.Nudge, error) {
		if m.Conv == "" || read {
			return n, nil
		}
		var err error
		n, err = s.Store.Nudge(ctx, m.Conv)
		if errors.Is(err, store.ErrNotFound) {
			n, err = nil, nil
		}
		read = err == nil
		return n, err
	}
	// A message that waited (quiet hours, limit) is dropped when the
	// conversation moved on meanwhile: the recipient answered, or it ended.
	if m.Status != nil && m.Status.State == "deferred" {
		n, err := nudge()
		if err != nil {
			return false, err
		}
		if n != nil && (n.Status != engine.Waiting || n.Step != m.Step) {
			s.Log.InfoContext(ctx, "deferred message cancelled: conversation moved on", "msg", m.ID, "nudge", m.Conv)
			return true, s.setStatus(ctx, m, "", store.Status{State: "canceled", Reason: "the conversation moved on before the message could go out", At: now})
		}
	}
	if !s.Gate.Window.Allowed(now) {
		n, err := nudge()
		if err != nil {
			return false, err
		}
		at := s.Gate.Window.NextAllowed(now)
		why := fmt.Sprintf("outside sending hours (%s, Europe/Amsterdam, not on public holidays); it goes out %s", s.Gate.Window, at.In(s.Engine.Location).Format("Mon 2006-01-02 15:04"))
		return true, s.hold(ctx, tag, m, n, "deferred", "deferred_quiet_hours", why, at, now)
	}
	if s.Gate.WeeklyLimit > 0 {
		ok, free, err := s.Store.TakeSendSlot(ctx, tag, m.ID, now, s.Gate.WeeklyLimit)
		if err != nil {
			return false, err
		}
		if !ok {
			n, err := nudge()
			if err != nil {
				return false, err
			}
			at := s.Gate.Window.NextAllowed(free.Add(time.Second))
			if n != nil && !n.Deadline.IsZero() && at.After(n.Deadline) {
				why := fmt.Sprintf("refused: the recipient already had %d messages in the last 7 days (limit), and the next free moment (%s) is after this step ends",
					s.Gate.WeeklyLimit, at.In(s.Engine.Location).Format("Mon 2006-01-02 15:04"))
				return true, s.hold(ctx, tag, m, n, "refused", "refused_weekly_limit", why, time.Time{}, now)
			}
			why := fmt.Sprintf("deferred: the recipient already had %d messages in the last 7 days (limit); it goes out %s",
				s.Gate.WeeklyLimit, at.In(s.Engine.Location).Format("Mon 2006-01-02 15:04"))
			return true, s.hold(ctx, tag, m, n, "deferred", "deferred_weekly_limit", why, at, now)
		}
	}
	return false, nil
}

// hold records why a message is not sent now, re-queues it at at (unless
// zero) and notes it on the nudge for the case worker.
func (s *Service) hold(ctx context.Context, tag string, m *store.Message, n *store.Nudge, state, code, why string, at, now time.Time) error {
	st := store.Status{State: state, Reason: why, At: now}
	if err := s.Store.SetStatus(ctx, tag, m.ID, "", st); err != nil {
		return err
	}
	st.State = code // the batch counts why it is held
	if err := s.tallyMessage(ctx, m, st); err != nil {
		return err
	}
	if !at.IsZero() {
		if err := s.Queue.EnqueueSend(ctx, tag, m.ID, at); err != nil {
			return err
		}
	}
	s.Log.InfoContext(ctx, "proactive message held", "msg", m.ID, "nudge", m.Conv, "code", code, "until", at)
	if n == nil {
		return nil
	}
	if err := s.Store.AddNote(ctx, n.ID, store.Note{At: now, Code: code, Text: why}); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
