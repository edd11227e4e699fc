package engine_test

// Time in flows (issue 3): reminders relative to a date variable, expiry,
// escalation to the werkplaats, working-day waits. The clock is passed in.

import (
	"errors"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
)

func timers(effs []engine.Effect, kind string) []engine.Timer {
	var out []engine.Timer
	for _, e := range effs {
		if t, ok := e.(engine.Timer); ok && t.Kind == kind {
			out = append(out, t)
		}
	}
	return out
}

func callbacks(effs []engine.Effect) []engine.Callback {
	var out []engine.Callback
	for _, e := range effs {
		if c, ok := e.(engine.Callback); ok {
			out = append(out, c)
		}
	}
	return out
}

// Reminders 3 days and 1 day before due_date at 10:00 local time, across
// the last Sunday of March (CET → CEST) and of October (CEST → CET).
func TestRemindersFireAtLocalTimeAcrossDST(t *testing.T) {
	e := testEngine(t)
	f := loadFlows(t)["missing-form"]
	cases := []struct {
		name    string
		due     string
		start   time.Time
		wantUTC []string // reminder[0] (3 days before), reminder[1] (1 day before)
	}{
		// Sun 29 March 2026: clocks go forward. Sat 28 March 10:00 CET is
		// 09:00 UTC; Mon 30 March 10:00 CEST is 08:00 UTC.
		{"spring forward", "2026-03-31", time.Date(2026, 3, 20, 14, 0, 0, 0, time.UTC), []string{"2026-03-28T09:00:00Z", "2026-03-30T08:00:00Z"}},
		// Sun 25 October 2026: clocks go back.
		{"fall back", "2026-10-27", time.Date(2026, 10, 16, 14, 0, 0, 0, time.UTC), []string{"2026-10-24T08:00:00Z", "2026-10-26T09:00:00Z"}},
		// Winter, no change.
		{"winter", "2026-12-04", time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), []string{"2026-12-01T09:00:00Z", "2026-12-03T09:00:00Z"}},
		// Due in two days: the 3-days-before reminder is already past.
		{"late trigger", "2026-12-04", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), []string{"2026-12-03T09:00:00Z"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl", FirstName: "Samira", Caseworker: "Anouk",
				Vars: map[string]string{"form": "het formulier", "due_date": tc.due}}, tc.start)
			if err != nil {
				t.Fatal(err)
			}
			got := timers(res.Effects, engine.TimerReminder)
			if len(got) != len(tc.wantUTC) {
				t.Fatalf("reminders = %+v, want %v", got, tc.wantUTC)
			}
			for i, want := range tc.wantUTC {
				if s := got[i].At.UTC().Format(time.RFC3339); s != want {
					t.Errorf("reminder %d at %s, want %s", i, s, want)
				}
				if lt := got[i].At.In(e.Location); lt.Hour() != 10 || lt.Minute() != 0 {
					t.Errorf("reminder %d at local %s, want 10:00", i, lt)
				}
			}
			// Firing the reminder sends a proactive message and stays.
			last := got[len(got)-1]
			fired, err := e.Remind(f, res.Conv, last.Seq, last.Index, last.At)
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := fired.Effects[len(fired.Effects)-1].(engine.Send); !ok || !s.Proactive || s.Kind != "reminder" || s.Text == "" {
				t.Errorf("reminder effects = %+v", fired.Effects)
			}
			if fired.Conv.Step != "ask" || fired.Conv.Status != engine.Waiting || fired.Conv.Unanswered != res.Conv.Unanswered+1 {
				t.Errorf("state after reminder: %+v", fired.Conv)
			}
		})
	}
}

func TestAReplyCancelsPendingReminders(t *testing.T) {
	e := testEngine(t)
	f := loadFlows(t)["missing-form"]
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, e.Location)
	start, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl", FirstName: "Samira", Caseworker: "Anouk",
		Vars: map[string]string{"form": "het formulier", "due_date": "2026-12-04"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	rem := timers(start.Effects, engine.TimerReminder)
	if len(rem) != 2 {
		t.Fatalf("reminders = %+v", rem)
	}
	for _, answer := range []string{"1", "?", "Ik heb een vraag"} {
		t.Run(answer, func(t *testing.T) {
			res, err := e.Reply(f, start.Conv, answer, now.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rem {
				if _, err := e.Remind(f, res.Conv, r.Seq, r.Index, r.At); !errors.Is(err, engine.ErrStaleTimer) && !errors.Is(err, engine.ErrEnded) {
					t.Errorf("reminder %d after answer %q: err = %v, want ErrStaleTimer or ErrEnded", r.Index, answer, err)
				}
			}
			// The wait itself still times out (at the same deadline) when the
			// conversation stayed at the step.
			if res.Conv.Step == "ask" {
				w := timers(res.Effects, engine.TimerWait)
				if len(w) != 1 || !w[0].At.Equal(start.Conv.Deadline) {
					t.Fatalf("wait timer after answer = %+v, want one at %s", w, start.Conv.Deadline)
				}
				if _, err := e.Timeout(f, res.Conv, w[0].Seq, w[0].At); err != nil {
					t.Errorf("wait timer after answer: %v", err)
				}
			}
		})
	}
}

// no-show: escalate after 2 unanswered messages. The first message, the
// reminder 48 hours later, then the reminder's timeout creates exactly one
// task; the expiry later does not create a second.
func TestEscalationAfterUnansweredCreatesOneTask(t *testing.T) {
	e := testEngine(t)
	f := loadFlows(t)["no-show"]
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, e.Location)
	res, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl", FirstName: "Samira", Caseworker: "Anouk",
		Vars: map[string]string{"appointment_at": "2026-11-23T09:00:00+01:00"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	expire := timers(res.Effects, engine.TimerExpire)
	if len(expire) != 1 || !expire[0].At.Equal(now.Add(14*24*time.Hour)) {
		t.Fatalf("expire timers = %+v", expire)
	}
	total := 0
	c := res.Conv
	for i := 0; c.Status == engine.Waiting && i < 5; i++ {
		r, err := e.Timeout(f, c, c.TimerSeq, c.Deadline)
		if err != nil {
			t.Fatal(err)
		}
		total += len(callbacks(r.Effects))
		c = r.Conv
	}
	r, err := e.Expire(f, c, expire[0].At)
	if err == nil {
		total += len(callbacks(r.Effects))
	} else if !errors.Is(err, engine.ErrEnded) {
		t.Fatal(err)
	}
	if total != 1 || !c.Escalated {
		t.Errorf("escalation tasks = %d (escalated=%v), want exactly 1", total, c.Escalated)
	}
	if c.Outcome != "no_response" {
		t.Errorf("outcome = %q", c.Outcome)
	}
}

func TestExpireClosesWithOutcome(t *testing.T) {
	e := testEngine(t)
	f := loadFlows(t)["hobby-income"]
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, e.Location)
	res, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl", FirstName: "Samira", Caseworker: "Anouk"}, now)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := e.Expire(f, res.Conv, now.Add(21*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if exp.Conv.Status != engine.Ended || exp.Conv.Outcome != "no_response" {
		t.Errorf("after expiry: %+v", exp.Conv)
	}
	if _, err := e.Timeout(f, exp.Conv, res.Conv.TimerSeq, res.Conv.Deadline); !errors.Is(err, engine.ErrEnded) {
		t.Errorf("wait timer after expiry: %v, want ErrEnded", err)
	}
	if _, err := e.Expire(f, exp.Conv, now.Add(22*24*time.Hour)); !errors.Is(err, engine.ErrEnded) {
		t.Errorf("second expiry: %v, want ErrEnded", err)
	}
}

func TestUndeliveredEscalatesOnce(t *testing.T) {
	e := testEngine(t)
	f := loadFlows(t)["no-show"]
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, e.Location)
	res, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl", FirstName: "Samira", Caseworker: "Anouk",
		Vars: map[string]string{"appointment_at": "2026-11-23T09:00:00+01:00"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.Undelivered(f, res.Conv, now)
	if err != nil {
		t.Fatal(err)
	}
	cbs := callbacks(u.Effects)
	if len(cbs) != 1 || cbs[0].Kind != engine.CallbackEscalation || cbs[0].Policy.MaxAttempts != 3 {
		t.Fatalf("callbacks = %+v", cbs)
	}
	again, err := e.Undelivered(f, u.Conv, now)
	if err != nil || len(again.Effects) != 0 {
		t.Errorf("second undelivered: %+v %v", again.Effects, err)
	}
}

// werkplaats: the choice becomes the preferred moment; no reply in two
// working days (Friday → Tuesday) gives a task with no preference.
func TestWerkplaatsFlow(t *testing.T) {
	e := testEngine(t)
	f := loadFlows(t)["werkplaats"]
	if f == nil {
		t.Fatal("no werkplaats flow")
	}
	fri := time.Date(2026, 11, 27, 15, 0, 0, 0, e.Location)
	start := func(t *testing.T) engine.Result {
		res, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl", FirstName: "Samira", Caseworker: "Anouk",
			Vars: map[string]string{"letter_date": "2026-12-07"}}, fri)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, tc := range []struct{ answer, preferred string }{{"1", "morning"}, {"2", "afternoon"}, {"3", "self"}, {"wat is er aan de hand?", "none"}} {
		t.Run(tc.answer, func(t *testing.T) {
			res, err := e.Reply(f, start(t).Conv, tc.answer, fri.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			cbs := callbacks(res.Effects)
			if len(cbs) != 1 || cbs[0].Preferred != tc.preferred || cbs[0].Policy.RetryAfter.Duration != 24*time.Hour {
				t.Errorf("callbacks = %+v, want one with preferred %q", cbs, tc.preferred)
			}
		})
	}
	t.Run("no reply", func(t *testing.T) {
		res := start(t)
		want := time.Date(2026, 12, 1, 15, 0, 0, 0, e.Location) // Tuesday
		if !res.Conv.Deadline.Equal(want) {
			t.Fatalf("deadline = %s, want %s (2 working days)", res.Conv.Deadline, want)
		}
		to, err := e.Timeout(f, res.Conv, res.Conv.TimerSeq, want)
		if err != nil {
			t.Fatal(err)
		}
		cbs := callbacks(to.Effects)
		if len(cbs) != 1 || cbs[0].Preferred != "none" || cbs[0].Priority != 1 {
			t.Errorf("callbacks = %+v", cbs)
		}
	})
	first := start(t).Effects[0].(engine.Send).Text
	for _, bad := range []string{"vordering", "€", "euro", "bedrag"} {
		if containsFold(first, bad) {
			t.Errorf("first SMS mentions %q:\n%s", bad, first)
		}
	}
}

func containsFold(s, sub string) bool {
	return len(sub) > 0 && indexFold(s, sub) >= 0
}

func indexFold(s, sub string) int {
	ls, lsub := []rune(toLower(s)), []rune(toLower(sub))
	for i := 0; i+len(lsub) <= len(ls); i++ {
		if string(ls[i:i+len(lsub)]) == string(lsub) {
			return i
		}
	}
	return -1
}

func toLower(s string) string {
	out := []rune(s)
	for i, r := range out {
		if r >= 'A' && r <= 'Z' {
			out[i] = r + 32
		}
	}
	return string(out)
}

// Flow files whose times make no sense are rejected with file:line:col.
func TestTimingChecks(t *testing.T) {
	const base = `id: t
version: 1
variables:
  - {name: due_date, type: date, required: true}
  - {name: note, type: string}
simple: {nl: "Stuur 2"}
steps:
  - id: ask
    say: {nl: "Hallo {{date .Vars.due_date}} {{.Vars.note}} {{.CallbackNumber}}"}
    replies:
      - match: ["2"]
        goto: done
    wait: {timeout: 48h, then: done}
    reminders:
      - {days_before: 3, of: due_date, at: "10:00", say: {nl: "Herinnering"}}
  - id: done
    action: end
`
	if _, ds := flow.Parse("ok.yaml", []byte(base)); ds.HasErrors() {
		t.Fatalf("base: %v", ds.Err())
	}
	cases := []struct{ name, from, to, code string }{
		{"reminder after the deadline", "days_before: 3", "days_before: -1", "reminder-after-deadline"},
		{"unknown variable", "of: due_date", "of: due", "undefined-variable"},
		{"not a date", "of: due_date", "of: note", "reminder-not-a-date"},
		{"bad clock", `at: "10:00"`, `at: "25:00"`, "bad-reminder-time"},
		{"on the last day at night", `days_before: 3, of: due_date, at: "10:00"`, `days_before: 0, of: due_date, at: "21:00"`, "reminder-too-late"},
		{"negative expiry", "steps:", "expire: {after: -1h}\nsteps:", "bad-expire"},
		{"escalate after 1", "steps:", "escalate: {after_unanswered: 1}\nsteps:", "bad-escalate"},
		{"both timeout and working days", "wait: {timeout: 48h, then: done}", "wait: {timeout: 48h, working_days: 2, then: done}", "bad-timeout"},
		{"reminder on a step that does not wait", "    action: end\n", "    action: end\n    reminders:\n      - {days_before: 1, of: due_date, say: {nl: x}}\n", "reminder-not-waiting"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := replaceOnce(t, base, tc.from, tc.to)
			_, ds := flow.Parse("times.yaml", []byte(src))
			var found *flow.Diagnostic
			for i := range ds {
				if ds[i].Code == tc.code {
					found = &ds[i]
				}
			}
			if found == nil {
				t.Fatalf("no %s diagnostic; got %v", tc.code, ds)
			}
			if found.Line <= 1 || found.Col < 1 {
				t.Errorf("diagnostic without a useful position: %s", found)
			}
		})
	}
}

func replaceOnce(t *testing.T, s, from, to string) string {
	t.Helper()
	i := indexFold(s, from)
	if i < 0 {
		t.Fatalf("no %q in base", from)
	}
	r := []rune(s)
	return string(r[:i]) + to + string(r[i+len([]rune(from)):])
}
