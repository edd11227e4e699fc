// Package engine is Seintje's conversation state machine. It is pure: it
// takes a flow, a conversation and an event with the current time, and
// returns the new conversation and the effects to carry out (messages to
// send, a callback request, a timer). No Redis, no network, no clock of its
// own, so every conversation can be tested in memory.
package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/seintje/seintje/bot/calendar"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/texts"
)

// Status of a conversation.
type Status string

const (
	Waiting Status = "waiting" // waiting for an answer (or a timer)
	Ended   Status = "ended"
)

// Conversation is the state of one nudge for one recipient.
type Conversation struct {
	ID         string            `json:"id"`
	Flow       flow.Ref          `json:"flow"`
	Lang       string            `json:"lang"`
	FirstName  string            `json:"first_name"`
	Caseworker string            `json:"caseworker"`
	Vars       map[string]string `json:"vars"`
	Status     Status            `json:"status"`
	Step       string            `json:"step"`
	Outcome    string            `json:"outcome,omitempty"`
	StartedAt  time.Time         `json:"started_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	// Deadline is when the current wait times out (zero: no timeout).
	Deadline time.Time `json:"deadline,omitzero"`
	// TimerSeq identifies the current timer; a timer carrying an older
	// sequence number is stale and ignored.
	TimerSeq int `json:"timer_seq"`
	// Unanswered counts proactive messages since the recipient last answered.
	Unanswered int `json:"unanswered"`
	// Confused counts "?"/"te moeilijk" answers.
	Confused int `json:"confused"`
	// Escalated is set once the flow's escalation created a callback task.
	Escalated bool `json:"escalated,omitempty"`
	// Reminded lists the reminders of the current step already sent, so a
	// reminder delivered twice by the queue is sent once.
	Reminded []int `json:"reminded,omitempty"`
	// Rev is bumped on every transition (optimistic concurrency in the store).
	Rev int64 `json:"rev"`
	// Experiment and Arm: the experiment of the flow this nudge is part of
	// and the person's arm in it (chosen by the caller, see bot/experiment).
	Experiment string `json:"experiment,omitempty"`
	Arm        string `json:"arm,omitempty"`
}

// OutcomeHeldOut ends a nudge of a person in an experiment's hold-out arm:
// no message is sent, the assignment is recorded.
const OutcomeHeldOut = "held_out"

// Effect is something the caller must do after a transition.
type Effect interface{ effect() }

// Send a message to the recipient.
type Send struct {
	Text string
	Lang string // language actually used
	// Proactive is true for messages Seintje starts (first message, timer
	// texts); false for a direct answer to something the recipient sent.
	Proactive bool
	Step      string
	Kind      string // "say", "simple", "ack"
	Buttons   []Choice
}

// Choice is a reply button: Label shown, Reply received when pressed.
type Choice struct{ Label, Reply string }

// Callback asks the werkplaats to call the recipient.
type Callback struct {
	Reason string
	Step   string
	// Kind is "requested" (the recipient asked) or "escalation".
	Kind string
	// Priority 1 (high) … 3 (low).
	Priority int
	// Preferred is the recipient's preferred moment (flow.Step.Preferred).
	Preferred string
	// Policy is how the werkplaats retries the task (from the flow).
	Policy flow.CallbackPolicy
}

// Forward hands the recipient's reply that caused this transition to the
// case worker.
type Forward struct{ Step string }

// Timer asks for Timeout(seq) at At (Kind TimerWait), Remind(seq, Index)
// (TimerReminder) or Expire (TimerExpire).
type Timer struct {
	At    time.Time
	Seq   int
	Step  string
	Kind  string
	Index int
}

// End records that the conversation ended.
type End struct{ Outcome string }

func (Send) effect()     {}
func (Callback) effect() {}
func (Forward) effect()  {}
func (Timer) effect()    {}
func (End) effect()      {}

// Result of a transition.
type Result struct {
	Conv    Conversation
	Effects []Effect
	// Matched is the route (step id) the reply was routed to, for the transcript.
	Matched string
}

// Contact is how a recipient reaches a person.
type Contact struct {
	Agency string
	Number string
	Hours  map[string]string // language → opening hours
}

// Engine runs flows. It holds only immutable configuration.
type Engine struct {
	Contact  Contact
	Texts    *texts.Catalog
	Location *time.Location // Europe/Amsterdam
	// Calendar counts working days for `wait: {working_days: n}`; the zero
	// Window uses the Dutch public holidays.
	Calendar calendar.Window
}

// Errors the caller must tell apart.
var (
	ErrEnded      = errors.New("conversation has ended")
	ErrStaleTimer = errors.New("timer is stale")
	ErrWrongFlow  = errors.New("conversation runs on another flow version")
)

// maxChain bounds `next` chains (the checker rejects loops; this is a guard).
const maxChain = 32

// Start enters the flow's first step. c must carry ID, Lang, FirstName,
// Caseworker and Vars, and Arm when the flow runs an experiment; Start
// fills in the rest. A hold-out arm ends at once without a message. A
// language the flow does not have becomes Dutch (flow.Flow.Lang), so every
// text of the conversation, Seintje's own included, is in one language; the
// caller compares c.Lang with the result to tell the case worker.
func (e *Engine) Start(f *flow.Flow, c Conversation, now time.Time) (Result, error) {
	c.Flow = f.Ref()
	c.Lang = f.Lang(c.Lang)
	c.Status = Waiting
	c.StartedAt = now
	c.UpdatedAt = now
	if c.Arm != "" {
		arm := f.Experiment.Arm(c.Arm)
		if arm == nil {
			return Result{}, fmt.Errorf("flow %s has no experiment arm %q", f.ID, c.Arm)
		}
		c.Experiment = f.Experiment.ID
		if arm.Holdout {
			c.Status, c.Outcome, c.Step = Ended, OutcomeHeldOut, ""
			return Result{Conv: c, Effects: []Effect{End{Outcome: OutcomeHeldOut}}}, nil
		}
	}
	r := Result{Conv: c}
	if err := e.enter(f, &r, f.StartFor(c.Arm).ID, true, now); err != nil {
		return Result{}, err
	}
	if f.Expire != nil && r.Conv.Status == Waiting {
		r.Effects = append(r.Effects, Timer{At: now.Add(f.Expire.After.Duration), Kind: TimerExpire, Step: r.Conv.Step})
	}
	return r, nil
}

// Reply routes an answer of the recipient.
func (e *Engine) Reply(f *flow.Flow, c Conversation, text string, now time.Time) (Result, error) {
	if err := e.sameFlow(f, c); err != nil {
		return Result{}, err
	}
	if c.Status != Waiting {
		return Result{}, ErrEnded
	}
	step := f.Step(c.Step)
	if step == nil {
		return Result{}, fmt.Errorf("flow %s has no step %q", f.ID, c.Step)
	}
	c.UpdatedAt = now
	c.Unanswered = 0
	r := Result{Conv: c}

	if i := flow.MatchRoute(step.Replies, text); i >= 0 {
		r.Matched = step.Replies[i].Goto
		return r, e.enter(f, &r, step.Replies[i].Goto, false, now)
	}
	if flow.IsConfused(text) {
		// Any answer cancels the step's pending reminders (routes that
		// move on bump the timer sequence anyway).
		e.cancelReminders(step, &r)
		r.Conv.Confused++
		msg, lang, err := f.Render(step.ID, "simple", c.Lang, e.data(f, c))
		if err != nil {
			return Result{}, err
		}
		if msg == "" {
			msg, lang, err = e.systemText(texts.Simple, c.Lang, e.data(f, c))
			if err != nil {
				return Result{}, err
			}
		}
		r.Effects = append(r.Effects, Send{Text: msg, Lang: lang, Step: step.ID, Kind: "simple", Buttons: e.buttons(f, step, c)})
		r.Matched = "(simple)"
		return r, nil
	}
	if step.Otherwise != "" {
		r.Matched = step.Otherwise
		return r, e.enter(f, &r, step.Otherwise, false, now)
	}
	// No route: a question for the case worker; keep waiting here.
	e.cancelReminders(step, &r)
	r.Matched = "(forward)"
	r.Effects = append(r.Effects, Forward{Step: step.ID})
	msg, lang, err := e.systemText(texts.Ack, c.Lang, e.data(f, c))
	if err != nil {
		return Result{}, err
	}
	r.Effects = append(r.Effects, Send{Text: msg, Lang: lang, Step: step.ID, Kind: "ack"})
	return r, nil
}

// Timeout fires the wait timer with sequence seq.
func (e *Engine) Timeout(f *flow.Flow, c Conversation, seq int, now time.Time) (Result, error) {
	if err := e.sameFlow(f, c); err != nil {
		return Result{}, err
	}
	if c.Status != Waiting {
		return Result{}, ErrEnded
	}
	if seq != c.TimerSeq || c.Deadline.IsZero() {
		return Result{}, ErrStaleTimer
	}
	step := f.Step(c.Step)
	if step == nil || step.Wait == nil {
		return Result{}, ErrStaleTimer
	}
	c.UpdatedAt = now
	c.Deadline = time.Time{}
	r := Result{Conv: c}
	e.escalateUnanswered(f, &r, step.ID)
	return r, e.enter(f, &r, step.Wait.Then, true, now)
}

func (e *Engine) sameFlow(f *flow.Flow, c Conversation) error {
	if c.Flow.ID != f.ID || c.Flow.Digest != f.Digest {
		return fmt.Errorf("%w: conversation on %s, got %s", ErrWrongFlow, c.Flow, f.Ref())
	}
	return nil
}

// enter moves the conversation into step id and follows `next` links.
func (e *Engine) enter(f *flow.Flow, r *Result, id string, proactive bool, now time.Time) error {
	for n := 0; ; n++ {
		if n >= maxChain {
			return fmt.Errorf("flow %s: `next` chain longer than %d steps", f.ID, maxChain)
		}
		step := f.Step(id)
		if step == nil {
			return fmt.Errorf("flow %s has no step %q", f.ID, id)
		}
		c := &r.Conv
		c.Step = step.ID
		c.Deadline = time.Time{}
		if step.Outcome != "" {
			c.Outcome = step.Outcome
		}
		if len(step.Say) > 0 {
			msg, lang, err := f.Render(step.ID, f.SayKind(c.Arm, step.ID), c.Lang, e.data(f, *c))
			if err != nil {
				return err
			}
			r.Effects = append(r.Effects, Send{Text: msg, Lang: lang, Proactive: proactive, Step: step.ID, Kind: "say", Buttons: e.buttons(f, step, *c)})
			if proactive {
				c.Unanswered++
			}
		}
		switch step.Action {
		case flow.ActionCallback:
			reason := step.Reason
			if reason == "" {
				reason = "recipient asked to be called back"
			}
			pol := f.Policy()
			prio := step.Priority
			if prio == 0 {
				prio = pol.Priority
			}
			r.Effects = append(r.Effects, Callback{Reason: reason, Step: step.ID, Kind: CallbackRequested,
				Priority: prio, Preferred: step.Preferred, Policy: pol})
		case flow.ActionForward:
			r.Effects = append(r.Effects, Forward{Step: step.ID})
		}
		if step.Next != "" && step.Action != flow.ActionEnd {
			id = step.Next
			continue
		}
		if step.Ends() {
			c.Status = Ended
			if c.Outcome == "" {
				c.Outcome = "completed"
			}
			r.Effects = append(r.Effects, End{Outcome: c.Outcome})
			return nil
		}
		c.Status = Waiting
		if step.Wait != nil || len(step.Reminders) > 0 {
			c.TimerSeq++
			c.Reminded = nil
		}
		if step.Wait != nil {
			if step.Wait.WorkingDays > 0 {
				c.Deadline = e.Calendar.AddWorkingDays(now, step.Wait.WorkingDays)
			} else {
				c.Deadline = now.Add(step.Wait.Timeout.Duration)
			}
			r.Effects = append(r.Effects, Timer{At: c.Deadline, Seq: c.TimerSeq, Step: step.ID})
		}
		r.Effects = append(r.Effects, e.reminderTimers(f, step, *c, now)...)
		return nil
	}
}

// systemText renders a system text and reports the language actually used
// (the catalog falls back to Dutch).
func (e *Engine) systemText(k texts.Key, lang string, d flow.Data) (string, string, error) {
	msg, err := e.Texts.Render(k, lang, d)
	if _, ok := texts.Source(k)[lang]; !ok {
		lang = flow.DefaultLang
	}
	return msg, lang, err
}

// buttons turns routes with a label into reply choices.
func (e *Engine) buttons(f *flow.Flow, step *flow.Step, c Conversation) []Choice {
	var out []Choice
	for i, rt := range step.Replies {
		if len(rt.Label) == 0 || len(rt.Match) == 0 {
			continue
		}
		label, _, err := f.Render(step.ID, fmt.Sprintf("label:%d", i), c.Lang, e.data(f, c))
		if err != nil || label == "" {
			continue
		}
		out = append(out, Choice{Label: label, Reply: rt.Match[0]})
	}
	return out
}

// data builds the template data for a conversation.
func (e *Engine) data(f *flow.Flow, c Conversation) flow.Data {
	return Data(e.Contact, f, c, e.Location)
}

// Data builds template data; exported for previews and system texts.
func Data(ct Contact, f *flow.Flow, c Conversation, loc *time.Location) flow.Data {
	hours, ok := ct.Hours[lang.Base(c.Lang)]
	if !ok {
		hours = ct.Hours[flow.DefaultLang]
	}
	number := ct.Number
	if lang.RTL(c.Lang) {
		// Keeps "088 123 45 67" in its order inside Arabic text.
		number = lang.Isolate(number)
	}
	d := flow.Data{
		Agency:         ct.Agency,
		FirstName:      c.FirstName,
		Caseworker:     c.Caseworker,
		CallbackNumber: number,
		CallbackHours:  hours,
	}
	if f != nil {
		d.Vars = f.TypedVars(c.Vars, loc)
	}
	return d
}
