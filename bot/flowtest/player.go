// Package flowtest plays conversations through the engine without Redis or
// a phone: `seintje flows test` (conversation test files next to the
// flows, *.test.yaml) and `go test ./bot/flowtest/` use it. (`seintje flows
// simulate` runs the whole service instead: bot/simulate.)
//
// The Player never decides anything itself: Start, Reply and Timeout are
// the engine's. Time jumps fire the timers the engine asked for (its Timer
// effects), in order, like the job queue does in production.
package flowtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/sms"
)

// Player is one conversation being played.
type Player struct {
	Engine *engine.Engine
	Flow   *flow.Flow
	Conv   engine.Conversation
	Now    time.Time
	timers []engine.Timer // pending, in the order they are due
}

// Turn is what happened after one event (start, a reply, a time jump).
type Turn struct {
	At      time.Time
	Event   string // "start", `say "2"`, "wait 48h", "timer"
	Matched string
	Effects []engine.Effect
	State   engine.Status
	Step    string
	Outcome string
}

// Messages returns the texts sent in the turn.
func (t Turn) Messages() []engine.Send {
	var out []engine.Send
	for _, e := range t.Effects {
		if s, ok := e.(engine.Send); ok {
			out = append(out, s)
		}
	}
	return out
}

// Has reports whether the turn has an effect of the same type as like.
func (t Turn) Has(like engine.Effect) bool {
	for _, e := range t.Effects {
		if fmt.Sprintf("%T", e) == fmt.Sprintf("%T", like) {
			return true
		}
	}
	return false
}

// NewPlayer prepares a conversation; vars are checked against the flow.
func NewPlayer(e *engine.Engine, f *flow.Flow, lang, firstName, caseworker string, vars map[string]any, now time.Time) (*Player, error) {
	canon, verr := f.CheckVars(vars)
	if verr != nil {
		return nil, fmt.Errorf("flow %s: %w", f.ID, verr)
	}
	return &Player{Engine: e, Flow: f, Now: now, Conv: engine.Conversation{
		ID: "sim", Lang: lang, FirstName: firstName, Caseworker: caseworker, Vars: canon}}, nil
}

// Start sends the first message.
func (p *Player) Start() (Turn, error) {
	r, err := p.Engine.Start(p.Flow, p.Conv, p.Now)
	if err != nil {
		return Turn{}, fmt.Errorf("start: %w", err)
	}
	return p.apply("start", r), nil
}

// Say is the recipient answering text.
func (p *Player) Say(text string) (Turn, error) {
	r, err := p.Engine.Reply(p.Flow, p.Conv, text, p.Now)
	if err != nil {
		return Turn{}, fmt.Errorf("reply %q: %w", text, err)
	}
	return p.apply(fmt.Sprintf("say %q", text), r), nil
}

// Wait moves the clock on by d and fires every timer that falls due, in
// order. It returns one turn per fired timer (none when nothing was due).
func (p *Player) Wait(d time.Duration) ([]Turn, error) {
	until := p.Now.Add(d)
	var turns []Turn
	for len(p.timers) > 0 && !p.timers[0].At.After(until) && p.Conv.Status == engine.Waiting {
		t := p.timers[0]
		p.timers = p.timers[1:]
		if t.At.After(p.Now) {
			p.Now = t.At
		}
		r, err := p.fire(t)
		if errors.Is(err, engine.ErrStaleTimer) || errors.Is(err, engine.ErrEnded) {
			continue // answered in time, like the worker ignores it
		}
		if err != nil {
			return turns, fmt.Errorf("timer at %s: %w", t.At.Format(time.RFC3339), err)
		}
		kind := t.Kind
		if kind == engine.TimerWait {
			kind = "timeout"
		}
		turns = append(turns, p.apply(fmt.Sprintf("%s (step %s)", kind, t.Step), r))
	}
	p.Now = until
	return turns, nil
}

// fire hands a due timer to the engine, by kind, as the job worker does.
func (p *Player) fire(t engine.Timer) (engine.Result, error) {
	switch t.Kind {
	case engine.TimerReminder:
		return p.Engine.Remind(p.Flow, p.Conv, t.Seq, t.Index, p.Now)
	case engine.TimerExpire:
		return p.Engine.Expire(p.Flow, p.Conv, p.Now)
	case engine.TimerWait:
		return p.Engine.Timeout(p.Flow, p.Conv, t.Seq, p.Now)
	}
	return engine.Result{}, fmt.Errorf("unknown timer kind %q", t.Kind)
}

// NextTimer returns when the next pending timer is due.
func (p *Player) NextTimer() (time.Time, bool) {
	if len(p.timers) == 0 || p.Conv.Status != engine.Waiting {
		return time.Time{}, false
	}
	return p.timers[0].At, true
}

func (p *Player) apply(event string, r engine.Result) Turn {
	p.Conv = r.Conv
	for _, e := range r.Effects {
		if t, ok := e.(engine.Timer); ok {
			p.timers = append(p.timers, t)
		}
	}
	slices.SortStableFunc(p.timers, func(a, b engine.Timer) int { return a.At.Compare(b.At) })
	return Turn{At: p.Now, Event: event, Matched: r.Matched, Effects: r.Effects,
		State: r.Conv.Status, Step: r.Conv.Step, Outcome: r.Conv.Outcome}
}

// Phone formats a sent message as the recipient's phone shows it, with
// its SMS segments and encoding underneath.
func Phone(s engine.Send) string {
	var b strings.Builder
	for _, l := range strings.Split(s.Text, "\n") {
		b.WriteString("  │ " + l + "\n")
	}
	if len(s.Buttons) > 0 {
		b.WriteString("  ┊ buttons on Telegram:")
		for _, c := range s.Buttons {
			fmt.Fprintf(&b, " [%s]", c.Label)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  └ %s, %s\n", s.Lang, sms.Analyze(s.Text))
	return b.String()
}

// Describe writes the effects of a turn other than messages, one a line.
func Describe(t Turn) []string {
	var out []string
	for _, e := range t.Effects {
		switch v := e.(type) {
		case engine.Callback:
			line := fmt.Sprintf("callback task: %s (step %s", v.Reason, v.Step)
			if v.Preferred != "" {
				line += ", preferred " + v.Preferred
			}
			out = append(out, line+")")
		case engine.Forward:
			out = append(out, fmt.Sprintf("forwarded to the case worker (step %s)", v.Step))
		case engine.Timer:
			kind := v.Kind
			if kind == engine.TimerWait {
				kind = "timeout"
			}
			out = append(out, fmt.Sprintf("timer %s: %s (step %s)", kind, v.At.Format("Mon 2006-01-02 15:04 MST"), v.Step))
		case engine.End:
			out = append(out, "end: "+v.Outcome)
		case engine.Send:
		default:
			out = append(out, fmt.Sprintf("%T %+v", v, v))
		}
	}
	return out
}

func analyze(text string) int { return sms.Analyze(text).Segments }
