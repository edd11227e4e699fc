package engine_test

import (
	"testing"
	"time"

	"github.com/seintje/seintje/bot/engine"
)

const withExperiment = `
id: inline
version: 1
outcomes: [{name: form_received}]
steps:
  - id: ask
    say: {nl: "Hallo {{.FirstName}}, wij missen nog een formulier. Bel {{.CallbackNumber}}."}
    replies:
      - match: ["1"]
        goto: done
    wait: {timeout: 48h, then: done}
  - id: call-first
    say: {nl: "Hallo {{.FirstName}}, wij bellen u binnenkort. Bel {{.CallbackNumber}}."}
    next: done
  - id: done
    action: end
experiment:
  id: inline-exp
  arms:
    - {name: standard, share: 30}
    - name: short
      share: 30
      say: {ask: {nl: "Hallo {{.FirstName}}, stuur ons het formulier? Bel {{.CallbackNumber}}."}}
    - {name: call, share: 20, start: call-first}
    - {name: holdout, share: 20, holdout: true}
  primary: {outcome: form_received, within: 14d}
  smallest_effect: 5pp
`

// The arm is passed in by the caller; the engine only follows it: the
// variant text, another path, or no message at all for the hold-out arm.
func TestStartFollowsTheArm(t *testing.T) {
	e := testEngine(t)
	f := parseInline(t, withExperiment)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, e.Location)
	cases := []struct {
		arm, text, status string
	}{
		{"", "Hallo Samira, wij missen nog een formulier. Bel 088 123 45 67.", "waiting"},
		{"standard", "Hallo Samira, wij missen nog een formulier. Bel 088 123 45 67.", "waiting"},
		{"short", "Hallo Samira, stuur ons het formulier? Bel 088 123 45 67.", "waiting"},
		{"call", "Hallo Samira, wij bellen u binnenkort. Bel 088 123 45 67.", "ended"},
		{"holdout", "", "ended"},
	}
	for _, c := range cases {
		t.Run(c.arm, func(t *testing.T) {
			res, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl", FirstName: "Samira", Arm: c.arm}, now)
			if err != nil {
				t.Fatal(err)
			}
			var sent []string
			for _, ef := range res.Effects {
				if s, ok := ef.(engine.Send); ok {
					sent = append(sent, s.Text)
				}
			}
			if c.text == "" && len(sent) != 0 || c.text != "" && (len(sent) != 1 || sent[0] != c.text) {
				t.Errorf("sent %q, want %q", sent, c.text)
			}
			if string(res.Conv.Status) != c.status || res.Conv.Arm != c.arm {
				t.Errorf("status %s arm %q, want %s %q", res.Conv.Status, res.Conv.Arm, c.status, c.arm)
			}
			if c.arm != "" && res.Conv.Experiment != "inline-exp" {
				t.Errorf("experiment %q not recorded", res.Conv.Experiment)
			}
			if c.arm == "holdout" && res.Conv.Outcome != engine.OutcomeHeldOut {
				t.Errorf("hold-out outcome %q", res.Conv.Outcome)
			}
		})
	}
	if _, err := e.Start(f, engine.Conversation{ID: "c", Lang: "nl", Arm: "nope"}, now); err == nil {
		t.Error("an unknown arm must be refused")
	}
}
