package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/seintje/seintje/bot/flow"
)

// Timer kinds.
const (
	TimerWait     = ""         // the step's wait timed out: Timeout
	TimerReminder = "reminder" // reminder Index of the step: Remind
	TimerExpire   = "expire"   // the flow's expiry: Expire
)

// Callback kinds.
const (
	CallbackRequested  = "requested"  // the recipient asked ("2 = bel mij terug")
	CallbackEscalation = "escalation" // messages did not work
)

// ReminderAt returns when reminder r fires for conversation c, and false
// when the variable is missing or malformed. Dates are civil dates in
// loc; the reminder is at r's clock time DaysBefore days earlier, built
// with time.Date so it is right across daylight-saving changes.
func ReminderAt(f *flow.Flow, r flow.Reminder, vars map[string]string, loc *time.Location) (at, deadline time.Time, ok bool) {
	v := f.Var(r.Of)
	raw := vars[r.Of]
	if v == nil || raw == "" {
		return time.Time{}, time.Time{}, false
	}
	h, m, err := r.Clock()
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	var d time.Time
	switch v.Type {
	case flow.TypeDate:
		d, err = time.ParseInLocation(time.DateOnly, raw, loc)
		// A date deadline lasts the whole day.
		deadline = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
	case flow.TypeDatetime:
		d, err = time.Parse(time.RFC3339, raw)
		deadline = d
	default:
		return time.Time{}, time.Time{}, false
	}
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	y, mo, day := d.In(loc).Date()
	return time.Date(y, mo, day-r.DaysBefore, h, m, 0, 0, loc), deadline, true
}

// reminderTimers returns the timers for the reminders of step that are
// still ahead of now and before their deadline.
func (e *Engine) reminderTimers(f *flow.Flow, step *flow.Step, c Conversation, now time.Time) []Effect {
	var out []Effect
	for i, r := range step.Reminders {
		at, deadline, ok := ReminderAt(f, r, c.Vars, e.loc())
		if !ok || !at.After(now) || !at.Before(deadline) {
			continue
		}
		out = append(out, Timer{At: at, Seq: c.TimerSeq, Step: step.ID, Kind: TimerReminder, Index: i})
	}
	return out
}

func (e *Engine) loc() *time.Location {
	if e.Location != nil {
		return e.Location
	}
	return time.UTC
}

// Remind fires reminder index of the current step. It is stale (and does
// nothing) when the recipient answered or the conversation moved on since
// the timer was set.
func (e *Engine) Remind(f *flow.Flow, c Conversation, seq, index int, now time.Time) (Result, error) {
	if err := e.sameFlow(f, c); err != nil {
		return Result{}, err
	}
	if c.Status != Waiting {
		return Result{}, ErrEnded
	}
	step := f.Step(c.Step)
	if seq != c.TimerSeq || step == nil || index < 0 || index >= len(step.Reminders) || slices.Contains(c.Reminded, index) {
		return Result{}, ErrStaleTimer
	}
	c.UpdatedAt = now
	r := Result{Conv: c}
	e.escalateUnanswered(f, &r, step.ID)
	msg, lang, err := f.Render(step.ID, flow.ReminderKind(index), c.Lang, e.data(f, c))
	if err != nil {
		return Result{}, err
	}
	r.Effects = append(r.Effects, Send{Text: msg, Lang: lang, Proactive: true, Step: step.ID, Kind: "reminder", Buttons: e.buttons(f, step, c)})
	r.Conv.Unanswered++
	r.Conv.Reminded = append(slices.Clone(c.Reminded), index)
	return r, nil
}

// Expire closes a conversation that is still open when the flow's expiry
// comes. An outcome already recorded (help_requested, ...) is kept;
// otherwise the expiry's outcome (default no_response) is recorded.
func (e *Engine) Expire(f *flow.Flow, c Conversation, now time.Time) (Result, error) {
	if err := e.sameFlow(f, c); err != nil {
		return Result{}, err
	}
	if c.Status != Waiting {
		return Result{}, ErrEnded
	}
	if f.Expire == nil {
		return Result{}, ErrStaleTimer
	}
	c.UpdatedAt = now
	r := Result{Conv: c}
	e.escalateUnanswered(f, &r, c.Step)
	r.Conv.Status = Ended
	r.Conv.Deadline = time.Time{}
	r.Conv.TimerSeq++ // every pending wait and reminder timer is now stale
	if r.Conv.Outcome == "" {
		r.Conv.Outcome = f.Expire.Outcome
		if r.Conv.Outcome == "" {
			r.Conv.Outcome = flow.DefaultExpireOutcome
		}
	}
	r.Effects = append(r.Effects, End{Outcome: r.Conv.Outcome})
	return r, nil
}

// Undelivered escalates when the flow asks for it on an undelivered first
// message. The result has no effects when there is nothing to do.
func (e *Engine) Undelivered(f *flow.Flow, c Conversation, now time.Time) (Result, error) {
	if err := e.sameFlow(f, c); err != nil {
		return Result{}, err
	}
	r := Result{Conv: c}
	if f.Escalate == nil || !f.Escalate.OnUndelivered || c.Escalated {
		return r, nil
	}
	r.Conv.UpdatedAt = now
	e.escalate(f, &r, c.Step, "the first message could not be delivered")
	return r, nil
}

// escalateUnanswered creates the escalation task when a timer fires and the
// recipient left enough messages unanswered. It happens once per
// conversation.
func (e *Engine) escalateUnanswered(f *flow.Flow, r *Result, step string) {
	if f.Escalate == nil || f.Escalate.AfterUnanswered < 1 || r.Conv.Escalated || r.Conv.Unanswered < f.Escalate.AfterUnanswered {
		return
	}
	e.escalate(f, r, step, fmt.Sprintf("no answer to %d messages", r.Conv.Unanswered))
}

func (e *Engine) escalate(f *flow.Flow, r *Result, step, why string) {
	pol := f.Policy()
	prio := f.Escalate.Priority
	if prio == 0 {
		prio = pol.Priority
	}
	reason := f.Escalate.Reason
	if reason == "" {
		reason = "Messages do not work: " + why + "; please call"
	} else {
		reason += " (" + why + ")"
	}
	r.Conv.Escalated = true
	r.Effects = append(r.Effects, Callback{Reason: reason, Step: step, Kind: CallbackEscalation, Priority: prio, Policy: pol})
}

// WorkingDaysAfter is the engine's working-day arithmetic, for callers that
// need the same calendar (e.g. callback due times).
func (e *Engine) WorkingDaysAfter(t time.Time, n int) time.Time {
	return e.Calendar.AddWorkingDays(t, n)
}

// cancelReminders makes the pending reminders of step stale by bumping the
// timer sequence, and sets the wait timer again under the new sequence.
func (e *Engine) cancelReminders(step *flow.Step, r *Result) {
	if len(step.Reminders) == 0 {
		return
	}
	r.Conv.TimerSeq++
	if !r.Conv.Deadline.IsZero() {
		r.Effects = append(r.Effects, Timer{At: r.Conv.Deadline, Seq: r.Conv.TimerSeq, Step: step.ID})
	}
}
