package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Arm is one group of an experiment.
type Arm struct {
	Name string `json:"name"`
	// Share is the arm's part of the people, in percent.
	Share float64 `json:"share"`
	// Holdout arms get no message at all; they are recorded as assigned so
	// the case system's outcomes are still counted.
	Holdout bool `json:"holdout,omitempty"`
}

// Measure is an outcome counted when it happens within Window after the
// person's first nudge in the experiment.
type Measure struct {
	Outcome string        `json:"outcome"`
	Window  time.Duration `json:"window"`
}

// Design is what an experiment declares before it starts.
type Design struct {
	ID        string    `json:"id"`
	Flow      string    `json:"flow"`
	Arms      []Arm     `json:"arms"`
	Control   string    `json:"control"` // the arm every other arm is compared with
	Primary   Measure   `json:"primary"`
	Secondary []Measure `json:"secondary,omitempty"`
	// SmallestEffect is the smallest difference worth detecting, as a
	// proportion (0.05 = 5 percentage points).
	SmallestEffect float64 `json:"smallest_effect"`
	Stopped        bool    `json:"stopped,omitempty"`
}

// Shares returns the arms' shares in order.
func (d Design) Shares() []float64 {
	out := make([]float64, len(d.Arms))
	for i, a := range d.Arms {
		out[i] = a.Share
	}
	return out
}

// Measures returns the primary measure followed by the secondary ones.
func (d Design) Measures() []Measure { return append([]Measure{d.Primary}, d.Secondary...) }

// Counts are the experiment's counters.
type Counts struct {
	// People per arm: everyone assigned (held out or not), counted once.
	People map[string]int `json:"people"`
	// Outcomes: outcome → arm → people with that outcome within the window.
	Outcomes map[string]map[string]int `json:"outcomes"`
}

// Verdicts of one arm against the control arm.
const (
	VerdictControl      = "control"
	VerdictTooFew       = "too_few"
	VerdictHigher       = "higher"
	VerdictLower        = "lower"
	VerdictNoDifference = "no_difference"
)

// Report is an experiment's result, ready to show.
type Report struct {
	Experiment string      `json:"experiment"`
	Flow       string      `json:"flow"`
	Control    string      `json:"control"`
	Stopped    bool        `json:"stopped"`
	Arms       []ArmPeople `json:"arms"`
	SRM        SRM         `json:"sample_ratio"`
	// NeededPerArm is how many people each arm needs to detect the
	// smallest effect on the primary outcome at 80% power, α 0.05
	// two-sided (-1: not computable).
	NeededPerArm   int             `json:"needed_per_arm"`
	SmallestEffect float64         `json:"smallest_effect"`
	Primary        OutcomeReport   `json:"primary"`
	Secondary      []OutcomeReport `json:"secondary,omitempty"`
	// Conclusion says in plain words what can be concluded now.
	Conclusion string `json:"conclusion"`
}

// ArmPeople is the number of people in an arm against its declared share.
type ArmPeople struct {
	Arm
	People int `json:"people"`
	// Observed share in percent.
	Observed float64 `json:"observed_share"`
}

// OutcomeReport is one outcome's rate per arm and the comparison with the
// control arm.
type OutcomeReport struct {
	Outcome   string      `json:"outcome"`
	Window    string      `json:"window"`
	Secondary bool        `json:"secondary"`
	Arms      []ArmResult `json:"arms"`
}

// ArmResult is one arm's figures for one outcome.
type ArmResult struct {
	Arm    string   `json:"arm"`
	People int      `json:"people"`
	Count  int      `json:"count"`
	Rate   Interval `json:"rate"` // with the 95% Wilson interval
	// Difference with the control arm (this − control), Newcombe 95%.
	Difference *Interval `json:"difference,omitempty"`
	// RelativeRisk this/control with the 95% log-method interval.
	RelativeRisk *Interval `json:"relative_risk,omitempty"`
	// StillNeeded is how many more people this arm needs (primary only).
	StillNeeded int    `json:"still_needed"`
	Verdict     string `json:"verdict"`
	Says        string `json:"says"`
}

// Analyze turns the counters into a report. It is pure.
func Analyze(d Design, c Counts) Report {
	r := Report{Experiment: d.ID, Flow: d.Flow, Control: d.Control, Stopped: d.Stopped, SmallestEffect: d.SmallestEffect}
	obs := make([]int, len(d.Arms))
	total := 0
	for i, a := range d.Arms {
		obs[i] = c.People[a.Name]
		total += obs[i]
	}
	sumShare := 0.0
	for _, a := range d.Arms {
		sumShare += a.Share
	}
	for i, a := range d.Arms {
		ap := ArmPeople{Arm: a, People: obs[i]}
		if total > 0 {
			ap.Observed = 100 * float64(obs[i]) / float64(total)
		}
		if sumShare > 0 {
			ap.Share = 100 * a.Share / sumShare
		}
		r.Arms = append(r.Arms, ap)
	}
	r.SRM = SampleRatio(obs, d.Shares())
	r.Primary, r.NeededPerArm = outcomeReport(d, c, d.Primary, false)
	for _, m := range d.Secondary {
		or, _ := outcomeReport(d, c, m, true)
		r.Secondary = append(r.Secondary, or)
	}
	r.Conclusion = conclude(d, r)
	return r
}

// needed returns the people per arm needed to tell baseline from
// baseline ± effect (80% power, α 0.05), or -1.
func needed(baseline, effect float64) int {
	if effect <= 0 || effect >= 1 {
		return -1
	}
	p2 := baseline + effect
	if p2 > 1 {
		p2 = baseline - effect
	}
	if p2 < 0 {
		return -1
	}
	return SampleSize(baseline, p2, Alpha, Power)
}

func outcomeReport(d Design, c Counts, m Measure, secondary bool) (OutcomeReport, int) {
	or := OutcomeReport{Outcome: m.Outcome, Window: FormatWindow(m.Window), Secondary: secondary}
	counts := c.Outcomes[m.Outcome]
	ctlPeople, ctlCount := c.People[d.Control], counts[d.Control]
	// The baseline is the control arm's rate; before anyone is in it, the
	// most demanding one (50%).
	baseline := 0.5
	if ctlPeople > 0 {
		baseline = float64(ctlCount) / float64(ctlPeople)
	}
	need := needed(baseline, d.SmallestEffect)
	stillNeeded := func(n int) int {
		if need < 0 {
			return 0
		}
		return max(0, need-n)
	}
	for _, a := range d.Arms {
		n, x := c.People[a.Name], counts[a.Name]
		ar := ArmResult{Arm: a.Name, People: n, Count: x, Rate: Wilson(x, n), StillNeeded: stillNeeded(n)}
		if a.Name == d.Control {
			ar.Verdict = VerdictControl
			ar.Says = "control: the other arms are compared with this one"
			or.Arms = append(or.Arms, ar)
			continue
		}
		if diff, ok := Difference(x, n, ctlCount, ctlPeople); ok {
			ar.Difference = &diff
		}
		if rr, ok := RelativeRisk(x, n, ctlCount, ctlPeople); ok {
			ar.RelativeRisk = &rr
		}
		ctlMore := stillNeeded(ctlPeople)
		switch {
		case ar.StillNeeded > 0 || ctlMore > 0 || ar.Difference == nil:
			ar.Verdict = VerdictTooFew
			ar.Says = tooFewWords(ar.StillNeeded, ctlMore, d.SmallestEffect)
		case ar.Difference.Lower > 0:
			ar.Verdict = VerdictHigher
			ar.Says = fmt.Sprintf("more often %s than in %s: %s percentage points (95%% interval %s to %s)",
				m.Outcome, d.Control, PP(ar.Difference.Estimate), PP(ar.Difference.Lower), PP(ar.Difference.Upper))
		case ar.Difference.Upper < 0:
			ar.Verdict = VerdictLower
			ar.Says = fmt.Sprintf("less often %s than in %s: %s percentage points (95%% interval %s to %s)",
				m.Outcome, d.Control, PP(ar.Difference.Estimate), PP(ar.Difference.Lower), PP(ar.Difference.Upper))
		default:
			ar.Verdict = VerdictNoDifference
			ar.Says = fmt.Sprintf("no clear difference with %s: the 95%% interval runs from %s to %s percentage points",
				d.Control, PP(ar.Difference.Lower), PP(ar.Difference.Upper))
		}
		or.Arms = append(or.Arms, ar)
	}
	return or, need
}

func tooFewWords(arm, control int, effect float64) string {
	var parts []string
	if arm > 0 {
		parts = append(parts, fmt.Sprintf("%d more people in this arm", arm))
	}
	if control > 0 {
		parts = append(parts, fmt.Sprintf("%d more in the control arm", control))
	}
	if len(parts) == 0 {
		return "too few people to conclude: nobody has been counted yet"
	}
	return fmt.Sprintf("too few people to conclude: %s are needed to detect a difference of %s percentage points",
		strings.Join(parts, " and "), strings.TrimPrefix(PP(effect), "+"))
}

func conclude(d Design, r Report) string {
	total := 0
	for _, a := range r.Arms {
		total += a.People
	}
	switch {
	case total == 0:
		return "Nobody has been assigned yet."
	case r.SRM.Mismatch:
		return fmt.Sprintf("Do not trust this comparison: the arms did not get their declared shares (sample-ratio mismatch, chi-square %.1f, p = %.2g). Check how nudges were triggered and whether messages were lost.", r.SRM.ChiSquare, r.SRM.P)
	}
	var lines []string
	tooFew := 0
	for _, a := range r.Primary.Arms {
		switch a.Verdict {
		case VerdictControl:
		case VerdictTooFew:
			tooFew = max(tooFew, a.StillNeeded)
		default:
			lines = append(lines, a.Arm+": "+a.Says+".")
		}
	}
	if tooFew > 0 || (len(lines) == 0 && len(r.Primary.Arms) > 1) {
		ctlMore := 0
		for _, a := range r.Primary.Arms {
			if a.Verdict == VerdictControl {
				ctlMore = a.StillNeeded
			}
		}
		return fmt.Sprintf("Too few people to conclude yet: no arm can be called better or worse. Each arm needs about %d people to detect a difference of %s percentage points in %s (up to %d more per arm, %d more in %s).",
			r.NeededPerArm, strings.TrimPrefix(PP(d.SmallestEffect), "+"), d.Primary.Outcome, tooFew, ctlMore, d.Control)
	}
	return strings.Join(lines, " ")
}

// PP formats a proportion difference in percentage points with a sign.
func PP(x float64) string {
	v := 100 * x
	if math.Abs(v) < 0.05 {
		v = 0
	}
	return fmt.Sprintf("%+.1f", v)
}

// Percent formats a proportion as a percentage.
func Percent(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// FormatWindow writes a window as days when it is whole days ("14d").
func FormatWindow(w time.Duration) string {
	if w <= 0 {
		return "any time"
	}
	if w%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", w/(24*time.Hour))
	}
	return w.String()
}

type measureJSON struct {
	Outcome       string `json:"outcome"`
	Within        string `json:"within"`
	WithinSeconds int64  `json:"within_seconds"`
}

// MarshalJSON writes the window as "14d" and in seconds.
func (m Measure) MarshalJSON() ([]byte, error) {
	return json.Marshal(measureJSON{Outcome: m.Outcome, Within: FormatWindow(m.Window), WithinSeconds: int64(m.Window / time.Second)})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (m *Measure) UnmarshalJSON(b []byte) error {
	var v measureJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m.Outcome, m.Window = v.Outcome, time.Duration(v.WithinSeconds)*time.Second
	return nil
}
