package flow

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/experiment"
)

// Outcome is something that can happen after a nudge, declared by the
// flow and reported by the case system (POST /v1/nudges/{id}/outcomes),
// e.g. attended, form_received.
type Outcome struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description,omitempty"`
}

// Seintje's own events, recorded as outcomes of a nudge without the case
// system: every flow has them.
const (
	OutcomeReplied        = "replied"               // the recipient answered
	OutcomeAskedForCall   = "asked_for_call"        // the recipient asked to be called back
	OutcomeReached        = "reached_by_werkplaats" // the werkplaats reached the person by phone
	OutcomeOptedOut       = "opted_out"             // the recipient sent STOP
	OutcomeUndelivered    = "undelivered"           // a message of the nudge could not be delivered
	DefaultMaxHoldout     = 20.0                    // percent; SEINTJE_EXPERIMENT_MAX_HOLDOUT
	experimentVariantKind = "say@"
)

// SystemOutcomes lists Seintje's own outcomes with a description.
var SystemOutcomes = []Outcome{
	{OutcomeReplied, "the recipient answered (recorded by Seintje)"},
	{OutcomeAskedForCall, "the recipient asked to be called back (recorded by Seintje)"},
	{OutcomeReached, "the werkplaats reached the person by phone (recorded by Seintje)"},
	{OutcomeOptedOut, "the recipient sent STOP (recorded by Seintje)"},
	{OutcomeUndelivered, "a message could not be delivered (recorded by Seintje)"},
}

// IsSystemOutcome reports whether name is one of Seintje's own outcomes.
func IsSystemOutcome(name string) bool {
	return slices.ContainsFunc(SystemOutcomes, func(o Outcome) bool { return o.Name == name })
}

// AllOutcomes returns the flow's declared outcomes followed by Seintje's own.
func (f *Flow) AllOutcomes() []Outcome { return append(slices.Clip(f.Outcomes), SystemOutcomes...) }

// HasOutcome reports whether the flow declares outcome name, or it is one
// of Seintje's own.
func (f *Flow) HasOutcome(name string) bool {
	return IsSystemOutcome(name) || slices.ContainsFunc(f.Outcomes, func(o Outcome) bool { return o.Name == name })
}

// Experiment compares text variants or paths of a flow, optionally with a
// hold-out group that gets no message at all. It is part of the flow file,
// so of the pinned flow version, and is declared before it starts.
type Experiment struct {
	ID   string          `yaml:"id" json:"id"`
	Arms []ExperimentArm `yaml:"arms" json:"arms"`
	// Control is the arm the others are compared with (default: the
	// hold-out arm if there is one, else the first arm).
	Control   string    `yaml:"control" json:"control"`
	Primary   Measure   `yaml:"primary" json:"primary"`
	Secondary []Measure `yaml:"secondary" json:"secondary,omitempty"`
	// SmallestEffect is the smallest difference worth detecting on the
	// primary outcome, in percentage points: "5pp" or 5.
	SmallestEffect Points `yaml:"smallest_effect" json:"smallest_effect"`
	// Stopped ends the experiment: new nudges get the flow's own texts and
	// are not assigned; the data collected so far is kept.
	Stopped bool `yaml:"stopped" json:"stopped,omitempty"`

	holdoutLine, holdoutCol int
}

// ExperimentArm is one group: its share of the people and what it gets.
type ExperimentArm struct {
	Name  string  `yaml:"name" json:"name"`
	Share float64 `yaml:"share" json:"share"` // percent
	// Holdout arms get no message at all; they are recorded as assigned.
	Holdout bool `yaml:"holdout" json:"holdout,omitempty"`
	// Say replaces the `say` text of steps: step id → text.
	Say map[string]Text `yaml:"say" json:"say,omitempty"`
	// Start begins the conversation at another step (another path).
	Start string `yaml:"start" json:"start,omitempty"`
}

// Measure is an outcome counted within a window after the first nudge.
type Measure struct {
	Outcome string   `yaml:"outcome" json:"outcome"`
	Within  Duration `yaml:"within" json:"within"`
}

// Points is a number of percentage points ("5pp", "5", 5).
type Points float64

// UnmarshalYAML implements yaml.BytesUnmarshaler.
func (p *Points) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	s = strings.TrimSpace(strings.TrimSuffix(s, "pp"))
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return fmt.Errorf("smallest_effect %q is not a number of percentage points: write for example 5pp", string(b))
	}
	*p = Points(v)
	return nil
}

// Arm returns the arm called name, or nil.
func (e *Experiment) Arm(name string) *ExperimentArm {
	if e == nil {
		return nil
	}
	for i := range e.Arms {
		if e.Arms[i].Name == name {
			return &e.Arms[i]
		}
	}
	return nil
}

// Shares returns the arms' shares in order.
func (e *Experiment) Shares() []float64 {
	out := make([]float64, len(e.Arms))
	for i, a := range e.Arms {
		out[i] = a.Share
	}
	return out
}

// Holdout returns the hold-out arm, or nil.
func (e *Experiment) Holdout() *ExperimentArm {
	for i := range e.Arms {
		if e.Arms[i].Holdout {
			return &e.Arms[i]
		}
	}
	return nil
}

// ControlArm is Control, or its default.
func (e *Experiment) ControlArm() string {
	if e.Control != "" {
		return e.Control
	}
	if h := e.Holdout(); h != nil {
		return h.Name
	}
	if len(e.Arms) > 0 {
		return e.Arms[0].Name
	}
	return ""
}

// Measures returns the primary measure, then the secondary ones, each
// with its window (a secondary one without `within` uses the primary's).
func (e *Experiment) Measures() []Measure {
	out := []Measure{e.Primary}
	for _, m := range e.Secondary {
		if m.Within.Duration <= 0 {
			m.Within = e.Primary.Within
		}
		out = append(out, m)
	}
	return out
}

// VariantKind is the template kind of an arm's text for a step.
func VariantKind(arm string) string { return experimentVariantKind + arm }

// SayKind returns the template kind to render for step in arm: the arm's
// variant when it has one, else "say".
func (f *Flow) SayKind(arm, step string) string {
	if a := f.Experiment.Arm(arm); a != nil && len(a.Say[step]) > 0 {
		return VariantKind(arm)
	}
	return "say"
}

// StartFor returns the first step for an arm.
func (f *Flow) StartFor(arm string) *Step {
	if a := f.Experiment.Arm(arm); a != nil && a.Start != "" {
		if s := f.Step(a.Start); s != nil {
			return s
		}
	}
	return f.Start()
}

// CheckHoldout reports an error when the hold-out arm's share is above
// max percent (the SEINTJE_EXPERIMENT_MAX_HOLDOUT setting, default 20).
func CheckHoldout(f *Flow, max float64) Diagnostics {
	e := f.Experiment
	if e == nil {
		return nil
	}
	h := e.Holdout()
	if h == nil || h.Share <= max {
		return nil
	}
	return Diagnostics{{Severity: Error, File: f.File, Line: e.holdoutLine, Col: e.holdoutCol, Code: "holdout-too-large",
		Message: fmt.Sprintf("the hold-out arm %q gets %g%% of the people, more than the %g%% allowed: that many people would get no help at all", h.Name, h.Share, max),
		Hint:    fmt.Sprintf("give the hold-out arm at most %g%% (the setting SEINTJE_EXPERIMENT_MAX_HOLDOUT)", max)}}
}

// checkOutcomes validates the declared outcomes and the experiment block.
func checkExperiment(f *Flow, pos positions, errAt func(code, msg, hint string, path ...any),
	compileText func(stepID, kind string, t Text, required bool, path ...any)) {
	seen := map[string]bool{}
	for i, o := range f.Outcomes {
		switch {
		case !varRe.MatchString(o.Name):
			errAt("bad-outcome-name", fmt.Sprintf("outcome name %q is not valid", o.Name), "use lower case letters, digits and underscores, e.g. form_received", "outcomes", i, "name")
		case IsSystemOutcome(o.Name):
			errAt("system-outcome", fmt.Sprintf("outcome %q is one Seintje records itself", o.Name), "remove it: every flow has replied, asked_for_call, reached_by_werkplaats, opted_out and undelivered", "outcomes", i, "name")
		case seen[o.Name]:
			errAt("duplicate-outcome", fmt.Sprintf("outcome %q is declared twice", o.Name), "remove one of the two", "outcomes", i, "name")
		}
		seen[o.Name] = true
	}
	e := f.Experiment
	if e == nil {
		return
	}
	at := func(path ...any) []any { return append([]any{"experiment"}, path...) }
	if !idRe.MatchString(e.ID) {
		errAt("bad-experiment-id", fmt.Sprintf("experiment id %q is not valid", e.ID), "give the experiment an id of lower case letters, digits and dashes, e.g. missing-form-short-text-2026; never reuse an old one", at("id")...)
	}
	if what := ProtectedTerm(e.ID); what != "" {
		errAt("protected-experiment", fmt.Sprintf("the experiment id points at %s, a protected characteristic", what), "experiments compare texts for everyone: people are put into arms by chance only, never by origin, nationality, ethnicity or religion", at("id")...)
	}
	if len(e.Arms) < 2 {
		errAt("too-few-arms", "an experiment needs at least two arms to compare", "add arms, e.g. `- {name: standard, share: 50}` and `- {name: short, share: 50, say: {...}}`", at("arms")...)
	}
	names := map[string]bool{}
	total, holdouts := 0.0, 0
	for i, a := range e.Arms {
		switch {
		case !varRe.MatchString(strings.ReplaceAll(a.Name, "-", "_")):
			errAt("bad-arm-name", fmt.Sprintf("arm name %q is not valid", a.Name), "use lower case letters, digits, dashes and underscores, e.g. short_text", at("arms", i, "name")...)
		case names[a.Name]:
			errAt("duplicate-arm", fmt.Sprintf("arm %q is declared twice", a.Name), "give each arm its own name", at("arms", i, "name")...)
		}
		if what := ProtectedTerm(a.Name); what != "" {
			errAt("protected-arm", fmt.Sprintf("arm %q points at %s, a protected characteristic", a.Name, what), "name arms after what they get (short_text, holdout); people are put into arms by chance only", at("arms", i, "name")...)
		}
		names[a.Name] = true
		if a.Share <= 0 || a.Share >= 100 || math.IsNaN(a.Share) {
			errAt("bad-share", fmt.Sprintf("arm %q has share %g", a.Name, a.Share), "give every arm a share above 0 and below 100 (percent); the shares add up to 100", at("arms", i, "share")...)
		}
		total += a.Share
		if a.Holdout {
			holdouts++
			e.holdoutLine, e.holdoutCol = pos.at(at("arms", i, "share")...)
			if len(a.Say) > 0 || a.Start != "" {
				errAt("holdout-with-text", fmt.Sprintf("the hold-out arm %q gets no message, so it cannot have texts or a start step", a.Name), "remove `say` and `start` from the hold-out arm", at("arms", i)...)
			}
			if a.Share > 50 {
				errAt("holdout-too-large", fmt.Sprintf("the hold-out arm %q gets %g%% of the people: most people would get no help", a.Name, a.Share), fmt.Sprintf("give the hold-out arm at most %g%%", DefaultMaxHoldout), at("arms", i, "share")...)
			}
		}
		for stepID, t := range a.Say {
			s := f.Step(stepID)
			if s == nil {
				errAt("unknown-step", fmt.Sprintf("arm %q changes the text of step %q, which does not exist", a.Name, stepID), "use a step id of this flow", at("arms", i, "say", stepID)...)
				continue
			}
			if len(s.Say) == 0 {
				errAt("variant-without-text", fmt.Sprintf("step %q says nothing, so arm %q has no text to change", stepID, a.Name), "give the variant to a step with `say`", at("arms", i, "say", stepID)...)
				continue
			}
			compileText(stepID, VariantKind(a.Name), t, true, at("arms", i, "say", stepID)...)
		}
		if a.Start != "" && f.Step(a.Start) == nil {
			errAt("unknown-step", fmt.Sprintf("arm %q starts at step %q, which does not exist", a.Name, a.Start), "use a step id of this flow", at("arms", i, "start")...)
		}
	}
	if holdouts > 1 {
		errAt("two-holdouts", "an experiment can have one hold-out arm only", "keep `holdout: true` on one arm", at("arms")...)
	}
	if len(e.Arms) >= 2 && math.Abs(total-100) > 1e-9 {
		errAt("shares-not-100", fmt.Sprintf("the arms' shares add up to %g, not 100", total), "make the shares (percent) add up to 100, e.g. 40, 40 and 20", at("arms")...)
	}
	if e.Control != "" && !names[e.Control] {
		errAt("unknown-arm", fmt.Sprintf("control %q is not one of the arms", e.Control), "name one of the arms, or leave `control` out (then the hold-out arm, else the first arm)", at("control")...)
	}
	measure := func(m Measure, primary bool, path ...any) {
		switch {
		case m.Outcome == "":
			errAt("missing-outcome", "the measure has no outcome", "write e.g. `{outcome: form_received, within: 14d}`", path...)
		case !f.HasOutcome(m.Outcome):
			errAt("unknown-outcome", fmt.Sprintf("outcome %q is not declared", m.Outcome), "declare it under `outcomes:` or use one of Seintje's own: replied, asked_for_call, reached_by_werkplaats, opted_out, undelivered", append(path, "outcome")...)
		}
		if primary && m.Within.Duration <= 0 {
			errAt("missing-window", "the primary outcome has no window", "say within how long after the nudge it counts, e.g. `within: 14d`", path...)
		}
	}
	measure(e.Primary, true, at("primary")...)
	for i, m := range e.Secondary {
		measure(m, false, at("secondary", i)...)
		if m.Outcome == e.Primary.Outcome {
			errAt("secondary-is-primary", fmt.Sprintf("%q is already the primary outcome", m.Outcome), "remove it from `secondary`", at("secondary", i)...)
		}
	}
	if e.SmallestEffect <= 0 || e.SmallestEffect >= 100 {
		errAt("bad-smallest-effect", "the experiment does not say the smallest effect worth detecting", "add e.g. `smallest_effect: 5pp` (5 percentage points: from 30% to 35%); it sets how many people are needed", at("smallest_effect")...)
	}
}

// Design is the experiment as the statistics see it (bot/experiment).
func (f *Flow) Design() experiment.Design {
	e := f.Experiment
	d := experiment.Design{ID: e.ID, Flow: f.ID, Control: e.ControlArm(),
		SmallestEffect: float64(e.SmallestEffect) / 100, Stopped: e.Stopped}
	for _, a := range e.Arms {
		d.Arms = append(d.Arms, experiment.Arm{Name: a.Name, Share: a.Share, Holdout: a.Holdout})
	}
	for i, m := range e.Measures() {
		em := experiment.Measure{Outcome: m.Outcome, Window: m.Within.Duration}
		if i == 0 {
			d.Primary = em
		} else {
			d.Secondary = append(d.Secondary, em)
		}
	}
	return d
}

// Window returns how long after the first nudge outcome counts for the
// flow's experiment, and false when the experiment does not measure it.
func (f *Flow) Window(outcome string) (time.Duration, bool) {
	if f == nil || f.Experiment == nil {
		return 0, false
	}
	for _, m := range f.Experiment.Measures() {
		if m.Outcome == outcome {
			return m.Within.Duration, true
		}
	}
	return 0, false
}
