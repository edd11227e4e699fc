package flow_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/flow"
)

const expBase = `id: t
version: 1
outcomes:
  - name: form_received
    description: the form came in
steps:
  - id: ask
    say:
      nl: "Hallo {{.FirstName}}, stuur het formulier. Bel {{.CallbackNumber}}."
    replies:
      - match: ["1"]
        goto: done
    wait:
      timeout: 48h
      then: done
  - id: short
    say: {nl: "Kort: stuur het formulier."}
    next: done
  - id: done
    action: end
experiment:
  id: form-text-2026
  arms:
    - name: standard
      share: 40
    - name: short
      share: 40
      say:
        ask: {nl: "Hallo {{.FirstName}}, kort: stuur het formulier. Bel {{.CallbackNumber}}."}
    - name: holdout
      share: 20
      holdout: true
  primary: {outcome: form_received, within: 14d}
  secondary:
    - {outcome: replied}
  smallest_effect: 5pp
`

func TestExperimentBlockParses(t *testing.T) {
	f, ds := flow.Parse("t.yaml", []byte(strings.Replace(expBase, "    next: done\n", "    next: done\n", 1)))
	// `short` is unreachable from the first step unless an arm starts there.
	if f != nil {
		t.Fatalf("want the unreachable step reported, got none: %v", ds)
	}
	src := strings.Replace(expBase, "      share: 40\n      say:", "      share: 40\n      start: short\n      say:", 1)
	f, ds = flow.Parse("t.yaml", []byte(src))
	if f == nil || ds.HasErrors() {
		t.Fatalf("parse: %v", ds)
	}
	e := f.Experiment
	if e.ControlArm() != "holdout" || e.Holdout().Name != "holdout" || float64(e.SmallestEffect) != 5 {
		t.Errorf("experiment: %+v", e)
	}
	if ms := e.Measures(); len(ms) != 2 || ms[1].Within != ms[0].Within || ms[0].Within.Hours() != 14*24 {
		t.Errorf("measures: %+v", ms)
	}
	if f.SayKind("short", "ask") != "say@short" || f.SayKind("standard", "ask") != "say" || f.StartFor("short").ID != "short" || f.StartFor("standard").ID != "ask" {
		t.Error("variant kinds or start steps are wrong")
	}
	got, _, err := f.Render("ask", f.SayKind("short", "ask"), "nl", flow.Data{FirstName: "Sanne"})
	if err != nil || got != "Hallo Sanne, kort: stuur het formulier. Bel ." {
		t.Errorf("variant text: %q, %v", got, err)
	}
	if !f.HasOutcome("form_received") || !f.HasOutcome("opted_out") || f.HasOutcome("attended") {
		t.Error("HasOutcome")
	}
	if ds := flow.CheckHoldout(f, 20); len(ds) != 0 {
		t.Errorf("20%% is allowed: %v", ds)
	}
	ds = flow.CheckHoldout(f, 10)
	if len(ds) != 1 || ds[0].Code != "holdout-too-large" || ds[0].Line != 32 || !strings.Contains(ds[0].String(), "fix: give the hold-out arm at most 10%") {
		t.Errorf("cap 10%%: %v", ds)
	}
}

// TestExperimentChecks: each mistake in the block is reported at its place,
// in a coordinator's words.
func TestExperimentChecks(t *testing.T) {
	withStart := strings.Replace(expBase, "      share: 40\n      say:", "      share: 40\n      start: short\n      say:", 1)
	tests := []struct {
		name, old, new string
		want           string // "line:col code"
	}{
		{"shares", "      share: 20\n", "      share: 25\n", "24:5 shares-not-100"},
		{"zero share", "      share: 20\n", "      share: 0\n", "32:14 bad-share"},
		{"unknown outcome", "outcome: form_received, within", "outcome: form_in, within", "34:22 unknown-outcome"},
		{"no window", "outcome: form_received, within: 14d}", "outcome: form_received}", "34:12 missing-window"},
		{"no smallest effect", "  smallest_effect: 5pp\n", "", "22:5 bad-smallest-effect"},
		{"variant of unknown step", "        ask: {nl:", "        akk: {nl:", "30:14 unknown-step"},
		{"variant template", "Hallo {{.FirstName}}, kort", "Hallo {{.Voornaam}}, kort", "30:28 unknown-field"},
		{"unknown start", "start: short", "start: shortt", "28:14 unknown-step"},
		{"hold-out with text", "      holdout: true\n", "      holdout: true\n      start: short\n", "31:11 holdout-with-text"},
		{"hold-out over half", "      share: 20\n      holdout", "      share: 60\n      holdout", "32:14 holdout-too-large"},
		{"protected arm", "name: standard", "name: nationaliteit_nl", "24:13 protected-arm"},
		{"protected experiment id", "id: form-text-2026", "id: form-herkomst-2026", "22:7 protected-experiment"},
		{"bad experiment id", "id: form-text-2026", "id: Form Text", "22:7 bad-experiment-id"},
		{"unknown control", "  smallest_effect: 5pp\n", "  smallest_effect: 5pp\n  control: hold\n", "38:12 unknown-arm"},
		{"system outcome declared", "  - name: form_received\n", "  - name: replied\n", "4:11 system-outcome"},
		{"secondary is primary", "    - {outcome: replied}", "    - {outcome: form_received}", "36:7 secondary-is-primary"},
		{"one arm", "    - name: short\n      share: 40\n      start: short\n      say:\n        ask: {nl: \"Hallo {{.FirstName}}, kort: stuur het formulier. Bel {{.CallbackNumber}}.\"}\n    - name: holdout\n      share: 20\n      holdout: true\n", "", "24:5 too-few-arms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(withStart, tc.old) {
				t.Fatalf("base has no %q", tc.old)
			}
			src := strings.Replace(withStart, tc.old, tc.new, 1)
			_, ds := flow.Parse("t.yaml", []byte(src))
			var got []string
			for _, d := range ds {
				got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Col, d.Code))
				if !strings.HasPrefix(d.String(), "t.yaml:") || d.Hint == "" {
					t.Errorf("diagnostic without file or hint: %s", d)
				}
			}
			if !slices.Contains(got, tc.want) {
				t.Errorf("want %s, got %v", tc.want, got)
			}
		})
	}
}
