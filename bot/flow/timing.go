package flow

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// What a flow file can say about time and about the werkplaats:
//
//	expire:    {after: 14d, outcome: no_response}      # close an open conversation
//	escalate:  {after_unanswered: 2, on_undelivered: true, priority: 1}
//	callbacks: {priority: 2, retry_after: 4h, max_attempts: 3}
//	steps:
//	  - id: ask
//	    wait: {timeout: 72h, then: no-answer}           # or {working_days: 2, then: ...}
//	    reminders:
//	      - {days_before: 3, of: due_date, at: "10:00", say: {nl: ..., en: ...}}
//	      - {days_before: 1, of: due_date, at: "10:00", say: {nl: ..., en: ...}}

// Reminder is a message sent while a conversation still waits at a step,
// DaysBefore calendar days before the date in variable Of, at local time At
// (Europe/Amsterdam, daylight-saving safe).
type Reminder struct {
	DaysBefore int    `yaml:"days_before"`
	Of         string `yaml:"of"`
	At         string `yaml:"at"` // "10:00"; default 10:00
	Say        Text   `yaml:"say"`
	// WhatsApp is the approved template per language for this reminder
	// (whatsapp.go).
	WhatsApp map[string]ContentTemplate `yaml:"whatsapp"`
}

// DefaultReminderAt is the clock time of a reminder without `at`.
const DefaultReminderAt = "10:00"

// Clock returns the reminder's local hour and minute.
func (r Reminder) Clock() (int, int, error) {
	at := r.At
	if at == "" {
		at = DefaultReminderAt
	}
	if !clockRe.MatchString(at) {
		return 0, 0, fmt.Errorf("%q is not a clock time like 10:00", at)
	}
	h, _ := strconv.Atoi(at[:len(at)-3])
	m, _ := strconv.Atoi(at[len(at)-2:])
	if h > 23 || m > 59 {
		return 0, 0, fmt.Errorf("%q is not a clock time between 00:00 and 23:59", at)
	}
	return h, m, nil
}

var clockRe = regexp.MustCompile(`^\d{1,2}:\d{2}$`)

// Expire closes a conversation that is still open After its start, with
// Outcome (default no_response).
type Expire struct {
	After   Duration `yaml:"after"`
	Outcome string   `yaml:"outcome"`
}

// DefaultExpireOutcome is recorded when an expiry gives no outcome.
const DefaultExpireOutcome = "no_response"

// Escalate creates a werkplaats callback task ("call this person") when
// messages do not work: AfterUnanswered proactive messages got no answer,
// or (OnUndelivered) the first message could not be delivered. A
// conversation escalates at most once.
type Escalate struct {
	AfterUnanswered int    `yaml:"after_unanswered"`
	OnUndelivered   bool   `yaml:"on_undelivered"`
	Reason          string `yaml:"reason"`
	Priority        int    `yaml:"priority"`
}

// CallbackPolicy is how the werkplaats works the flow's callback tasks:
// after a call without contact the task comes back RetryAfter later; after
// MaxAttempts calls without contact it closes and suggests to the case
// worker to consider a home visit (sociaal huisbezoek).
type CallbackPolicy struct {
	Priority    int      `yaml:"priority"`
	RetryAfter  Duration `yaml:"retry_after"`
	MaxAttempts int      `yaml:"max_attempts"`
}

// Policy defaults.
const (
	DefaultCallbackPriority = 2
	DefaultRetryAfter       = 4 * time.Hour
	DefaultMaxAttempts      = 3
)

// Policy returns the flow's callback policy with defaults filled in.
func (f *Flow) Policy() CallbackPolicy {
	p := CallbackPolicy{Priority: DefaultCallbackPriority, RetryAfter: Duration{DefaultRetryAfter}, MaxAttempts: DefaultMaxAttempts}
	if f == nil || f.Callbacks == nil {
		return p
	}
	if f.Callbacks.Priority > 0 {
		p.Priority = f.Callbacks.Priority
	}
	if f.Callbacks.RetryAfter.Duration > 0 {
		p.RetryAfter = f.Callbacks.RetryAfter
	}
	if f.Callbacks.MaxAttempts > 0 {
		p.MaxAttempts = f.Callbacks.MaxAttempts
	}
	return p
}

// Preferred moments a step may record on its callback task.
var preferredMoments = []string{"morning", "afternoon", "self", "none"}

// ReminderKind is the render kind of reminder i of a step.
func ReminderKind(i int) string { return fmt.Sprintf("reminder:%d", i) }

// checkTiming checks reminders, expiry, escalation and callback policy.
func checkTiming(f *Flow, errAt func(code, msg, hint string, path ...any),
	compileText func(stepID, kind string, t Text, required bool, path ...any), used map[string]bool) {
	if e := f.Expire; e != nil {
		if e.After.Duration <= 0 {
			errAt("bad-expire", "the expiry has no `after`, or it is not positive", "write e.g. `expire: {after: 14d, outcome: no_response}`", "expire")
		}
		if e.Outcome != "" && !outcomeRe.MatchString(e.Outcome) {
			errAt("bad-outcome", fmt.Sprintf("outcome %q is not valid", e.Outcome), "use lower case letters, digits and underscores, e.g. no_response", "expire", "outcome")
		}
	}
	if e := f.Escalate; e != nil {
		if e.AfterUnanswered < 0 || e.AfterUnanswered == 1 {
			errAt("bad-escalate", fmt.Sprintf("after_unanswered: %d makes no sense: a first message cannot be unanswered yet", e.AfterUnanswered),
				"use 2 or more (escalate after that many messages got no answer), or leave it out", "escalate", "after_unanswered")
		}
		if e.AfterUnanswered == 0 && !e.OnUndelivered {
			errAt("bad-escalate", "the escalation never happens", "set `after_unanswered: 2` and/or `on_undelivered: true`", "escalate")
		}
		if e.Priority < 0 || e.Priority > 3 {
			errAt("bad-priority", fmt.Sprintf("priority %d is not 1, 2 or 3", e.Priority), "use 1 (high), 2 or 3 (low)", "escalate", "priority")
		}
	}
	if p := f.Callbacks; p != nil {
		if p.Priority < 0 || p.Priority > 3 {
			errAt("bad-priority", fmt.Sprintf("priority %d is not 1, 2 or 3", p.Priority), "use 1 (high), 2 or 3 (low)", "callbacks", "priority")
		}
		if p.RetryAfter.Duration < 0 {
			errAt("bad-retry", "retry_after is negative", "write e.g. `retry_after: 4h`", "callbacks", "retry_after")
		}
		if p.MaxAttempts < 0 || p.MaxAttempts > 20 {
			errAt("bad-retry", fmt.Sprintf("max_attempts %d is not between 1 and 20", p.MaxAttempts), "write e.g. `max_attempts: 3`", "callbacks", "max_attempts")
		}
	}
	for i := range f.Steps {
		s := &f.Steps[i]
		if s.Wait != nil && s.Wait.WorkingDays != 0 {
			if s.Wait.WorkingDays < 0 || s.Wait.WorkingDays > 60 {
				errAt("bad-timeout", fmt.Sprintf("working_days %d is not between 1 and 60", s.Wait.WorkingDays), "write e.g. `working_days: 2`", "steps", i, "wait", "working_days")
			}
			if s.Wait.Timeout.Duration != 0 {
				errAt("bad-timeout", "the wait has both `timeout` and `working_days`", "keep one of the two", "steps", i, "wait")
			}
		}
		if s.Priority < 0 || s.Priority > 3 {
			errAt("bad-priority", fmt.Sprintf("priority %d is not 1, 2 or 3", s.Priority), "use 1 (high), 2 or 3 (low)", "steps", i, "priority")
		}
		if s.Preferred != "" {
			ok := false
			for _, p := range preferredMoments {
				ok = ok || s.Preferred == p
			}
			if !ok {
				errAt("bad-preferred", fmt.Sprintf("preferred %q is not known", s.Preferred), "use "+strings.Join(preferredMoments, ", "), "steps", i, "preferred")
			}
			if s.Action != ActionCallback {
				errAt("preferred-without-callback", "`preferred` is only used by a step with `action: callback`", "add `action: callback` or remove `preferred`", "steps", i, "preferred")
			}
		}
		if len(s.Reminders) > 0 && !s.Waits() {
			errAt("reminder-not-waiting", "reminders need a step that waits for an answer", "add `replies` or `wait` to the step, or move the reminders", "steps", i, "reminders")
		}
		seen := map[string]int{}
		for j, r := range s.Reminders {
			p := []any{"steps", i, "reminders", j}
			compileText(s.ID, ReminderKind(j), r.Say, true, append(p, "say")...)
			if len(r.Say) == 0 {
				errAt("reminder-without-text", "this reminder has no `say` text", "add `say: {nl: ..., en: ...}`", p...)
			}
			v := f.Var(r.Of)
			switch {
			case r.Of == "":
				errAt("reminder-without-date", "this reminder does not say which date it is relative to", "add `of: due_date` (a variable of type date or datetime)", p...)
			case v == nil:
				errAt("undefined-variable", fmt.Sprintf("the reminder is relative to %q, but the flow declares no variable %q", r.Of, r.Of), "declare it under `variables:` with `type: date`", append(p, "of")...)
			case v.Type != TypeDate && v.Type != TypeDatetime:
				errAt("reminder-not-a-date", fmt.Sprintf("variable %q is a %s, not a date", r.Of, v.Type), "use a variable of type date or datetime", append(p, "of")...)
			default:
				used[r.Of] = true
				if !v.Required {
					errAt("reminder-optional-date", fmt.Sprintf("variable %q is optional, so the reminder may have no date", r.Of), "make the variable `required: true`", append(p, "of")...)
				}
			}
			if r.DaysBefore < 0 {
				errAt("reminder-after-deadline", fmt.Sprintf("days_before: %d puts the reminder after the date itself", r.DaysBefore),
					"a reminder comes before the date: use 0 or more days (e.g. 7, 3 or 1)", append(p, "days_before")...)
			} else if r.DaysBefore > 90 {
				errAt("reminder-too-early", fmt.Sprintf("days_before: %d is more than 90 days", r.DaysBefore), "use at most 90 days (research used 7, 3 and 1)", append(p, "days_before")...)
			}
			h, m, err := r.Clock()
			if err != nil {
				errAt("bad-reminder-time", err.Error(), "write e.g. `at: \"10:00\"` (quoted)", append(p, "at")...)
			} else if v != nil && v.Type == TypeDate && r.DaysBefore == 0 && h*60+m >= 20*60 {
				errAt("reminder-too-late", "a reminder on the last day at "+r.At+" leaves no time to act", "send it earlier on that day or a day before", append(p, "at")...)
			}
			key := fmt.Sprintf("%s/%d/%s", r.Of, r.DaysBefore, r.At)
			if prev, ok := seen[key]; ok {
				errAt("duplicate-reminder", fmt.Sprintf("this reminder is the same as reminder %d", prev+1), "remove one of the two", p...)
			}
			seen[key] = j
		}
	}
}

var outcomeRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
