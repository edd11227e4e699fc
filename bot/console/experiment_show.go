package console

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/seintje/seintje/bot/experiment"
	"github.com/seintje/seintje/bot/outreach"
)

// ExperimentsData is the list of experiments.
type ExperimentsData struct {
	IDs []string
}

// experimentsList lists the experiments (coordinator, case worker, admin).
func (c *Console) experimentsList(w http.ResponseWriter, r *http.Request, _ *Session) {
	ids, err := c.d.Service.Experiments(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	slices.Sort(ids)
	c.html(w, r, http.StatusOK, "experiments", c.page(r, "exp.list.title", ExperimentsData{IDs: ids}))
}

// ExperimentData is one experiment's report with its chart.
type ExperimentData struct {
	R          experiment.Report
	Arms       []ArmView
	Outcomes   []OutcomeView
	Conclusion string
	Needed     string
}

// ArmView is one arm's people against its declared share, formatted.
type ArmView struct {
	Name, Share, People, Observed string
	Holdout                       bool
}

// OutcomeView is one outcome's table and chart.
type OutcomeView struct {
	experiment.OutcomeReport
	Rows  []RowView
	Chart Chart
}

// RowView is one arm's row, formatted.
type RowView struct {
	Arm, People, Count, Rate, Diff, RR, Still, Late, Says string
	Control, Holdout                                      bool
}

// Chart is a server-rendered horizontal bar chart: the rate per arm with
// its 95% interval as a whisker. Coordinates are precomputed here so the
// template only places them.
type Chart struct {
	Width, Height int
	AxisX         int // where bars start
	Bars          []Bar
	Ticks         []Tick
}

// Bar is one arm in the chart.
type Bar struct {
	Label   string
	Y, H    int
	X, W    string // bar
	Lo, Hi  string // whisker ends
	Mid     string // whisker height
	Value   string // text after the whisker
	ValueX  string
	Holdout bool
}

// Tick is a gridline with its label.
type Tick struct {
	X, Label string
}

// experimentShow shows an experiment's report with a chart per outcome.
func (c *Console) experimentShow(w http.ResponseWriter, r *http.Request, _ *Session) {
	rep, late, err := c.d.Service.ExperimentReport(r.Context(), r.PathValue("id"))
	if errors.Is(err, outreach.ErrUnknownExperiment) {
		c.notFound(w, r)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	l := c.texts.locale(r)
	holdout := map[string]bool{}
	var arms []ArmView
	for _, a := range rep.Arms {
		holdout[a.Name] = a.Holdout
		arms = append(arms, ArmView{Name: a.Name, Holdout: a.Holdout, People: fmt.Sprint(a.People),
			Share: dec(l, fmt.Sprintf("%.0f%%", a.Share)), Observed: pct(l, a.Observed/100)})
	}
	d := ExperimentData{R: rep, Arms: arms, Conclusion: conclusion(l, rep)}
	d.Needed = l.T("exp.needed.unknown")
	if rep.NeededPerArm > 0 {
		d.Needed = l.T("exp.needed", rep.NeededPerArm, pp(l, rep.SmallestEffect))
	}
	for _, o := range append([]experiment.OutcomeReport{rep.Primary}, rep.Secondary...) {
		ov := OutcomeView{OutcomeReport: o, Chart: chart(l, o, holdout)}
		for _, a := range o.Arms {
			row := RowView{Arm: a.Arm, People: fmt.Sprint(a.People), Count: fmt.Sprint(a.Count), Diff: "—", RR: "—", Still: "—",
				Rate:    l.T("exp.rate", pct(l, a.Rate.Estimate), pct(l, a.Rate.Lower), pct(l, a.Rate.Upper)),
				Late:    fmt.Sprint(late[o.Outcome][a.Arm]),
				Control: a.Verdict == experiment.VerdictControl, Holdout: holdout[a.Arm], Says: verdict(l, rep, o, a)}
			if a.Difference != nil {
				row.Diff = l.T("exp.diff", signed(l, a.Difference.Estimate), signed(l, a.Difference.Lower), signed(l, a.Difference.Upper))
			}
			if a.RelativeRisk != nil {
				row.RR = l.T("exp.rr", num(l, a.RelativeRisk.Estimate), num(l, a.RelativeRisk.Lower), num(l, a.RelativeRisk.Upper))
			}
			if !o.Secondary {
				row.Still = fmt.Sprint(a.StillNeeded)
			}
			ov.Rows = append(ov.Rows, row)
		}
		d.Outcomes = append(d.Outcomes, ov)
	}
	c.html(w, r, http.StatusOK, "experiment", c.page(r, "exp.title", d))
}

// chart lays out the bars: 0 to a round maximum above the highest upper
// bound, one bar per arm.
func chart(l Locale, o experiment.OutcomeReport, holdout map[string]bool) Chart {
	const width, left, right, barH, gap, top = 640, 150, 110, 28, 14, 10
	top_ := 0.0
	for _, a := range o.Arms {
		top_ = math.Max(top_, a.Rate.Upper)
	}
	max := math.Min(1, math.Ceil(top_*10+1e-9)/10)
	if max <= 0 {
		max = 0.1
	}
	span := float64(width - left - right)
	x := func(v float64) string { return fmt.Sprintf("%.1f", float64(left)+span*v/max) }
	ch := Chart{Width: width, AxisX: left}
	for i, a := range o.Arms {
		y := top + i*(barH+gap)
		ch.Bars = append(ch.Bars, Bar{Label: a.Arm, Y: y, H: barH, X: fmt.Sprint(left), W: fmt.Sprintf("%.1f", span*a.Rate.Estimate/max),
			Lo: x(a.Rate.Lower), Hi: x(a.Rate.Upper), Mid: fmt.Sprint(y + barH/2), Value: pct(l, a.Rate.Estimate),
			ValueX: fmt.Sprintf("%.1f", float64(left)+span*a.Rate.Upper/max+6), Holdout: holdout[a.Arm]})
	}
	ch.Height = top + len(o.Arms)*(barH+gap) + 24
	for i := 0; i <= 4; i++ {
		v := max * float64(i) / 4
		ch.Ticks = append(ch.Ticks, Tick{X: x(v), Label: pct(l, v)})
	}
	return ch
}

func verdict(l Locale, rep experiment.Report, o experiment.OutcomeReport, a experiment.ArmResult) string {
	switch a.Verdict {
	case experiment.VerdictControl:
		return l.T("exp.verdict.control")
	case experiment.VerdictTooFew:
		ctl := 0
		for _, x := range o.Arms {
			if x.Verdict == experiment.VerdictControl {
				ctl = x.StillNeeded
			}
		}
		return l.T("exp.verdict.too_few", a.StillNeeded, ctl, pp(l, rep.SmallestEffect))
	case experiment.VerdictHigher, experiment.VerdictLower, experiment.VerdictNoDifference:
		return l.T("exp.verdict."+a.Verdict, o.Outcome, rep.Control, signed(l, a.Difference.Estimate), signed(l, a.Difference.Lower), signed(l, a.Difference.Upper))
	}
	return a.Says
}

func conclusion(l Locale, rep experiment.Report) string {
	total := 0
	for _, a := range rep.Arms {
		total += a.People
	}
	switch {
	case total == 0:
		return l.T("exp.conclusion.nobody")
	case rep.SRM.Mismatch:
		return l.T("exp.conclusion.srm", fmt.Sprintf("%.2g", rep.SRM.P))
	}
	var parts []string
	for _, a := range rep.Primary.Arms {
		switch a.Verdict {
		case experiment.VerdictControl:
		case experiment.VerdictTooFew:
			return l.T("exp.conclusion.too_few", rep.NeededPerArm, pp(l, rep.SmallestEffect), rep.Primary.Outcome)
		default:
			parts = append(parts, a.Arm+": "+verdict(l, rep, rep.Primary, a))
		}
	}
	return strings.Join(parts, " ")
}

// Numbers in the page's language: a decimal comma in Dutch.
func dec(l Locale, s string) string {
	if l.Lang == LangNL {
		return strings.Replace(s, ".", ",", 1)
	}
	return s
}
func pct(l Locale, x float64) string    { return dec(l, fmt.Sprintf("%.1f%%", 100*x)) }
func signed(l Locale, x float64) string { return dec(l, experiment.PP(x)) }
func pp(l Locale, x float64) string     { return dec(l, fmt.Sprintf("%.1f", 100*x)) }
func num(l Locale, x float64) string    { return dec(l, fmt.Sprintf("%.2f", x)) }
