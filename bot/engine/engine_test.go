package engine_test

// Engine behaviour that the shipped flows do not reach, on small inline
// flows. Tests marked "known bug" describe the wanted behaviour and are
// skipped until the engine or flow package is fixed.

import (
	"errors"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
)

func parseInline(t *testing.T, src string) *flow.Flow {
	t.Helper()
	f, ds := flow.Parse("inline.yaml", []byte(src))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	return f
}

// A waiting step without `otherwise` forwards the answer with the system
// acknowledgement and keeps waiting on the same step and timer.
const noOtherwise = `
id: inline
version: 1
variables:
  - {name: due, type: date}
steps:
  - id: ask
    say: {nl: "Hallo {{.FirstName}}{{if .Vars.due}}, uiterlijk {{date .Vars.due}}{{end}}. Bel {{.CallbackNumber}}."}
    replies:
      - match: ["2"]
        goto: done
    wait: {timeout: 48h, then: done}
  - id: done
    action: end
`

func TestUnmatchedAnswerWithoutOtherwiseKeepsWaiting(t *testing.T) {
	e := testEngine(t)
	f := parseInline(t, noOtherwise)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, e.Location)
	start, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl", FirstName: "Samira", Caseworker: "Anouk de Vries", Vars: map[string]string{"due": "2026-12-04"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Reply(f, start.Conv, "Mag ik iets vragen?", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.Conv.Status != engine.Waiting || res.Conv.Step != "ask" || res.Conv.TimerSeq != start.Conv.TimerSeq || !res.Conv.Deadline.Equal(start.Conv.Deadline) {
		t.Errorf("conversation moved: %+v", res.Conv)
	}
	if len(res.Effects) != 2 {
		t.Fatalf("effects = %+v, want forward and ack", res.Effects)
	}
	if _, ok := res.Effects[0].(engine.Forward); !ok {
		t.Errorf("first effect %T, want Forward", res.Effects[0])
	}
	if s, ok := res.Effects[1].(engine.Send); !ok || s.Kind != "ack" || s.Proactive {
		t.Errorf("second effect %+v, want a non-proactive ack", res.Effects[1])
	}
	// The original timer still fires.
	if _, err := e.Timeout(f, res.Conv, start.Conv.TimerSeq, start.Conv.Deadline); err != nil {
		t.Errorf("timer after a forwarded question: %v", err)
	}
}

func TestSystemTextsReportTheLanguageUsed(t *testing.T) {
	e := testEngine(t)
	f := parseInline(t, noOtherwise)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, e.Location)
	start, err := e.Start(f, engine.Conversation{ID: "c", Lang: "fr", FirstName: "Ayse", Caseworker: "Anouk de Vries"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if start.Conv.Lang != "nl" {
		t.Errorf("conversation language %q, want nl: the flow has no French", start.Conv.Lang)
	}
	if s := start.Effects[0].(engine.Send); s.Lang != "nl" {
		t.Errorf("flow text: Lang = %q, want nl (fallback)", s.Lang)
	}
	for _, answer := range []string{"een vraag", "?"} { // system ack, system simple text
		res, err := e.Reply(f, start.Conv, answer, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, eff := range res.Effects {
			if s, ok := eff.(engine.Send); ok && s.Lang != "nl" {
				t.Fatalf("regression of a fixed bug: system text %q is rendered in Dutch but Send.Lang = %q (engine.Reply uses c.Lang for texts.Catalog output)", s.Kind, s.Lang)
			}
		}
	}
}

func TestOptionalDateLeftOut(t *testing.T) {
	e := testEngine(t)
	f := parseInline(t, noOtherwise)
	vars, verr := f.CheckVars(map[string]any{})
	if verr != nil {
		t.Fatal(verr)
	}
	res, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl", FirstName: "Samira", Vars: vars}, time.Date(2026, 11, 24, 10, 0, 0, 0, e.Location))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Effects[0].(engine.Send).Text, "Hallo Samira. Bel 088 123 45 67."; got != want {
		t.Fatalf("regression of a fixed bug: a missing optional date is time.Time{}, which {{if}} treats as set: got %q, want %q", got, want)
	}
}

func TestEngineWithoutLocation(t *testing.T) {
	e := testEngine(t)
	e.Location = nil
	f := parseInline(t, noOtherwise)
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("regression of a fixed bug: Engine with nil Location panics on a date variable: %v", r)
		}
	}()
	if _, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl", Vars: map[string]string{"due": "2026-12-04"}}, time.Now()); err != nil {
		t.Errorf("Start: %v", err)
	}
}

func TestWrongFlowVersion(t *testing.T) {
	e := testEngine(t)
	f := parseInline(t, noOtherwise)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, e.Location)
	start, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl"}, now)
	if err != nil {
		t.Fatal(err)
	}
	changed := parseInline(t, noOtherwise+"# a coordinator edited the file\n")
	if _, err := e.Reply(changed, start.Conv, "2", now); !errors.Is(err, engine.ErrWrongFlow) {
		t.Errorf("Reply on a changed flow: err = %v, want ErrWrongFlow", err)
	}
	if _, err := e.Timeout(changed, start.Conv, start.Conv.TimerSeq, now); !errors.Is(err, engine.ErrWrongFlow) {
		t.Errorf("Timeout on a changed flow: err = %v, want ErrWrongFlow", err)
	}
}

func TestTimeoutWithoutDeadlineIsStale(t *testing.T) {
	e := testEngine(t)
	f := parseInline(t, `
id: inline
version: 1
steps:
  - id: ask
    say: {nl: "Hallo. Bel {{.CallbackNumber}}."}
    replies:
      - match: ["1"]
        goto: done
  - id: done
    action: end
`)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, e.Location)
	start, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl"}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, eff := range start.Effects {
		if _, ok := eff.(engine.Timer); ok {
			t.Errorf("a step without wait set a timer")
		}
	}
	if _, err := e.Timeout(f, start.Conv, start.Conv.TimerSeq, now); !errors.Is(err, engine.ErrStaleTimer) {
		t.Errorf("err = %v, want ErrStaleTimer", err)
	}
}
