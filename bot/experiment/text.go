package experiment

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report as plain-text tables (the CLI's
// `seintje experiments report`). late lists outcomes reported after
// their window: outcome → arm → people.
func (r Report) WriteText(w io.Writer, late map[string]map[string]int) error {
	var b strings.Builder
	state := "running"
	if r.Stopped {
		state = "stopped"
	}
	fmt.Fprintf(&b, "Experiment %s (flow %s, %s); every arm is compared with %s.\n", r.Experiment, r.Flow, state, r.Control)
	total := 0
	for _, a := range r.Arms {
		total += a.People
	}
	srm := fmt.Sprintf("shares as declared (chi-square %.2f, p = %.3g)", r.SRM.ChiSquare, r.SRM.P)
	if r.SRM.Mismatch {
		srm = fmt.Sprintf("SAMPLE-RATIO MISMATCH: the arms did not get their declared shares (chi-square %.2f, p = %.2g < 0.001)", r.SRM.ChiSquare, r.SRM.P)
	}
	fmt.Fprintf(&b, "People: %d; %s.\n\n", total, srm)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "arm\tshare\tpeople\tobserved share\t")
	for _, a := range r.Arms {
		name := a.Name
		if a.Holdout {
			name += " (hold-out: no message)"
		}
		fmt.Fprintf(tw, "%s\t%.0f%%\t%d\t%.1f%%\t\n", name, a.Share, a.People, a.Observed)
	}
	tw.Flush()
	needed := "cannot be computed"
	if r.NeededPerArm > 0 {
		needed = fmt.Sprintf("%d people per arm", r.NeededPerArm)
	}
	fmt.Fprintf(&b, "\nTo detect a difference of %s percentage points on the primary outcome (80%% power, 5%% two-sided): %s.\n",
		strings.TrimPrefix(PP(r.SmallestEffect), "+"), needed)
	writeOutcome(&b, r, r.Primary, late)
	for _, o := range r.Secondary {
		writeOutcome(&b, r, o, late)
	}
	fmt.Fprintf(&b, "\nConclusion: %s\n", r.Conclusion)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeOutcome(b *strings.Builder, r Report, o OutcomeReport, late map[string]map[string]int) {
	kind := "Primary outcome"
	if o.Secondary {
		kind = "Secondary outcome"
	}
	fmt.Fprintf(b, "\n%s: %s within %s of the first nudge\n", kind, o.Outcome, o.Window)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "arm\tpeople\twith %s\trate (95%% CI)\tdifference vs %s, pp (95%% CI)\trelative risk (95%% CI)\tstill needed\tlate\t\n", o.Outcome, r.Control)
	for _, a := range o.Arms {
		diff, rr := "—", "—"
		if a.Difference != nil {
			diff = fmt.Sprintf("%s (%s to %s)", PP(a.Difference.Estimate), PP(a.Difference.Lower), PP(a.Difference.Upper))
		}
		if a.RelativeRisk != nil {
			rr = fmt.Sprintf("%.2f (%.2f to %.2f)", a.RelativeRisk.Estimate, a.RelativeRisk.Lower, a.RelativeRisk.Upper)
		}
		still := "—"
		if !o.Secondary {
			still = fmt.Sprint(a.StillNeeded)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s (%s to %s)\t%s\t%s\t%s\t%d\t\n", a.Arm, a.People, a.Count,
			Percent(a.Rate.Estimate), Percent(a.Rate.Lower), Percent(a.Rate.Upper), diff, rr, still, late[o.Outcome][a.Arm])
	}
	tw.Flush()
	for _, a := range o.Arms {
		if a.Verdict != VerdictControl {
			fmt.Fprintf(b, "  %s: %s.\n", a.Arm, a.Says)
		}
	}
}
