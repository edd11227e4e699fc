// Package simulate plays a conversation with a complete Seintje on a
// simulated clock: `seintje flows simulate` and the console's simulator.
// A Session triggers a nudge, hands the recipient's answers to the
// service's own inbound handling (keywords STOP, HELP and START, the reply
// window, routing), and works the job queue by hand (jobs.Runner) as the
// clock moves, so sending hours, the weekly limit, reminders, timeouts and
// expiry behave as they do live. Where the service runs (an embedded Redis
// and the console channel, or a real Redis and Twilio in a test) is an Env.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/jobs"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/sms"
	"github.com/seintje/seintje/bot/store"
)

// Clock is the simulated clock the service reads.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t; it never goes back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

// Delivery is a message as it reached the recipient's phone.
type Delivery struct {
	At   time.Time
	To   string
	Body string
}

// Env is where a session's Seintje runs.
type Env interface {
	// Open builds a Seintje on a fresh, empty state, reading the flow
	// files again, with clock as its clock and its job queue worked by
	// hand (app.Options.NoWorker).
	Open(ctx context.Context, clock *Clock) (*app.App, error)
	// Reply delivers text from phone number from, the way the channel's
	// webhook does.
	Reply(ctx context.Context, from, text string) error
	// Delivered returns the messages that reached a phone since the last
	// call, in the order they were sent.
	Delivered() []Delivery
	// Advanced says the clock moved from one time to another (an embedded
	// Redis moves its TTLs along).
	Advanced(from, to time.Time)
	// Close stops the Seintje opened last and drops its state.
	Close()
}

// Options describe the nudge a session plays.
type Options struct {
	Flow       string
	Lang       string
	Name       string // the recipient's name, as the case system sends it
	Caseworker string
	Phone      string // default DefaultPhone
	Vars       map[string]any
	Start      time.Time // the clock when the nudge is triggered
	// Labels are the transcript's words (default English).
	Labels *Labels
}

// DefaultPhone is the simulated recipient's number (as in the demo).
const DefaultPhone = "+31612345678"

// Session is one simulated conversation.
type Session struct {
	env   Env
	o     Options
	out   io.Writer
	clock *Clock
	app   *app.App
	nudge string
	tag   string
	// what was shown already
	notes, callbacks int
	lastState        string
	loc              *time.Location
	l                *Labels
	dropped          map[string]bool // messages shown as not sent
}

// TimeFormat is how the transcript writes a moment (Europe/Amsterdam).
const TimeFormat = "Mon 2006-01-02 15:04"

// New opens env and triggers the nudge; the transcript goes to out.
func New(ctx context.Context, env Env, o Options, out io.Writer) (*Session, error) {
	if o.Phone == "" {
		o.Phone = DefaultPhone
	}
	if o.Start.IsZero() {
		o.Start = time.Now().Truncate(time.Minute)
	}
	s := &Session{env: env, o: o, out: out, l: &English}
	if o.Labels != nil {
		s.l = o.Labels
	}
	if err := s.begin(ctx); err != nil {
		env.Close()
		return nil, err
	}
	return s, nil
}

// Now is the simulated time.
func (s *Session) Now() time.Time { return s.clock.Now() }

// App is the running Seintje (for the console's views).
func (s *Session) App() *app.App { return s.app }

// NudgeID is the id of the nudge being played.
func (s *Session) NudgeID() string { return s.nudge }

// begin starts the service on a fresh state and triggers the nudge.
func (s *Session) begin(ctx context.Context) error {
	s.clock = NewClock(s.o.Start)
	a, err := s.env.Open(ctx, s.clock)
	if err != nil {
		return err
	}
	if a.Runner() == nil {
		return errors.New("simulate: the service must run without its worker (app.Options.NoWorker)")
	}
	s.app, s.notes, s.callbacks, s.lastState, s.dropped = a, 0, 0, "", map[string]bool{}
	s.loc = a.Service.Engine.Location
	if s.loc == nil {
		s.loc = time.UTC
	}
	s.tag = a.Service.Keyer.Hash("phone", s.o.Phone)
	f, ok := a.Registry.Current(s.o.Flow)
	if !ok {
		return fmt.Errorf("no flow %q", s.o.Flow)
	}
	fmt.Fprintf(s.out, s.l.Header+"\n", f.ID, f.Version, s.o.Lang, s.at(s.Now()))
	fmt.Fprintf(s.out, s.l.Hours+"\n", a.Service.Gate.Window, s.limit(a.Service.Gate.WeeklyLimit))
	res, err := a.Service.Trigger(ctx, outreach.TriggerRequest{Flow: s.o.Flow, Ref: "SIM-1", Phone: s.o.Phone, Name: s.o.Name,
		Lang: s.o.Lang, Vars: s.o.Vars, Caseworker: s.o.Caseworker, TriggeredBy: "flows simulate"})
	if err != nil {
		return fmt.Errorf("start %s: %w", s.o.Flow, err)
	}
	s.nudge = res.ID
	fmt.Fprintf(s.out, "%s  "+s.l.Starts+"\n", s.at(s.Now()), s.o.Flow)
	return s.settle(ctx, s.Now())
}

func (s *Session) limit(n int) string {
	if n <= 0 {
		return s.l.Unlimited
	}
	return fmt.Sprint(n)
}

func (s *Session) at(t time.Time) string {
	t = t.In(s.loc)
	return s.l.Days[t.Weekday()] + t.Format(TimeFormat[3:])
}

// Say is the recipient sending text.
func (s *Session) Say(ctx context.Context, text string) error {
	fmt.Fprintf(s.out, "%s  %s → Seintje: %s\n", s.at(s.Now()), s.o.Phone, text)
	if err := s.env.Reply(ctx, s.o.Phone, text); err != nil {
		return err
	}
	return s.settle(ctx, s.Now())
}

// Advance lets d pass: every task that falls due runs at its moment.
func (s *Session) Advance(ctx context.Context, d time.Duration) error {
	if d < 0 {
		return errors.New("the clock only goes forward")
	}
	return s.AdvanceTo(ctx, s.Now().Add(d))
}

// AdvanceTo moves the clock to t, running what falls due on the way.
func (s *Session) AdvanceTo(ctx context.Context, t time.Time) error {
	from := s.Now()
	if t.Before(from) {
		return fmt.Errorf("%s is before the simulated time %s: the clock only goes forward", s.at(t), s.at(from))
	}
	fmt.Fprintf(s.out, "%s  "+s.l.Passes+"\n", s.at(from), s.at(t))
	if err := s.settle(ctx, t); err != nil {
		return err
	}
	s.move(t)
	return nil
}

// NextDue is when the next timer or held message is due; ok is false when
// nothing waits.
func (s *Session) NextDue() (time.Time, bool, error) {
	p, ok, err := s.app.Runner().Next()
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	if p.At.IsZero() {
		return s.Now(), true, nil
	}
	return p.At, true, nil
}

// Restart starts over: a fresh service (flow files read again) and the
// nudge triggered again at the first moment.
func (s *Session) Restart(ctx context.Context) error {
	s.env.Close()
	fmt.Fprintln(s.out)
	return s.begin(ctx)
}

// Close stops the service.
func (s *Session) Close() { s.env.Close() }

func (s *Session) move(t time.Time) {
	from := s.Now()
	s.clock.Set(t)
	if t.After(from) {
		s.env.Advanced(from, t)
	}
}

// settle runs the queue up to until and shows what happened.
func (s *Session) settle(ctx context.Context, until time.Time) error {
	_, err := s.app.Runner().RunDue(ctx, until, s.move)
	s.show(ctx)
	return err
}

// show writes the messages that reached the phone and the changes a case
// worker would see on the nudge (held messages and why, call tasks, the
// conversation's state).
func (s *Session) show(ctx context.Context) {
	for _, d := range s.env.Delivered() {
		fmt.Fprintf(s.out, "%s  Seintje → %s (%s):\n", s.at(d.At), d.To, sms.Analyze(d.Body))
		for _, l := range strings.Split(strings.TrimRight(d.Body, "\n"), "\n") {
			fmt.Fprintf(s.out, "  │ %s\n", l)
		}
	}
	n, err := s.app.Store.Nudge(ctx, s.nudge)
	if err != nil {
		fmt.Fprintf(s.out, "  "+s.l.NoNudge+"\n", err)
		return
	}
	for _, note := range n.Notes[min(s.notes, len(n.Notes)):] {
		fmt.Fprintf(s.out, "  ⏸ %s: %s\n", note.Code, note.Text)
	}
	s.notes = len(n.Notes)
	// Messages that will never go out, and why (held ones are in the notes).
	if msgs, err := s.app.Store.Transcript(ctx, n.Tag, n.ID); err == nil {
		for _, m := range msgs {
			if m.Dir != "out" || m.Status == nil || s.dropped[m.ID] || !slices.Contains([]string{"suppressed", "canceled", "failed", "error"}, m.Status.State) {
				continue
			}
			s.dropped[m.ID] = true
			what := m.Kind
			if m.Step != "" {
				what += " (" + m.Step + ")"
			}
			fmt.Fprintf(s.out, "  ⏸ "+s.l.Dropped+"\n", what, m.Status.State, m.Status.Reason)
		}
	}
	for _, id := range n.CallbackIDs[min(s.callbacks, len(n.CallbackIDs)):] {
		if cb, err := s.app.Store.Callback(ctx, id); err == nil {
			fmt.Fprintf(s.out, "  "+s.l.Call+"\n", cb.Reason, s.at(cb.Due))
		}
	}
	s.callbacks = len(n.CallbackIDs)
	state := s.describe(n)
	if state != s.lastState {
		fmt.Fprintf(s.out, "  · %s\n", state)
		s.lastState = state
	}
}

// describe says where the conversation is and what waits.
func (s *Session) describe(n *store.Nudge) string {
	var b strings.Builder
	if n.Status == engine.Ended {
		fmt.Fprintf(&b, s.l.Ended, n.Outcome)
	} else {
		fmt.Fprintf(&b, s.l.Waiting, n.Step)
	}
	if n.Status == engine.Ended {
		// Timers left in the queue fire into an ended conversation and
		// do nothing (the engine ignores them).
		return b.String()
	}
	waits, _ := s.app.Runner().Scheduled()
	slices.SortStableFunc(waits, func(a, b jobs.Pending) int { return a.At.Compare(b.At) })
	var next []string
	for _, w := range waits {
		next = append(next, s.what(w)+" "+s.at(w.At))
	}
	if len(next) > 0 {
		b.WriteString(s.l.Next + strings.Join(next, ", "))
	}
	return b.String()
}

// Scheduled lists what waits in the queue (timers, held messages).
func (s *Session) Scheduled() ([]jobs.Pending, error) { return s.app.Runner().Scheduled() }

// what names a waiting task.
func (s *Session) what(p jobs.Pending) string {
	switch {
	case p.Type == jobs.TypeSend, p.Type == jobs.TypeSends:
		return s.l.Send
	case p.Type == jobs.TypeTimer && p.Kind == "":
		return s.l.Timeout
	case p.Type == jobs.TypeTimer && p.Kind == "reminder":
		return s.l.Reminder
	case p.Type == jobs.TypeTimer && p.Kind == "expire":
		return s.l.Expire
	}
	return p.What()
}
