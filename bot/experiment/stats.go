// Package experiment provides the statistics and the arm assignment for
// Seintje's experiments (text variants and hold-out groups). It is pure: no
// I/O, no clock, no randomness of its own; the caller passes counts in and
// gets intervals, tests and plain-word verdicts out.
package experiment

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// Z95 is the standard normal quantile for a two-sided 95% interval.
var z95 = normalQuantile(0.975)

// normalQuantile is the standard normal quantile function (probit).
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// chiSquaredSurvival is P(X > x) for X chi-squared with k degrees of
// freedom: the regularized upper incomplete gamma function Q(k/2, x/2).
// (gonum's mathext, not its stat package, which links a whole
// linear-algebra library into the binary.)
func chiSquaredSurvival(k int, x float64) float64 {
	if x <= 0 {
		return 1
	}
	return mathext.GammaIncRegComp(float64(k)/2, x/2)
}

// Interval is a confidence interval [Lower, Upper] around Estimate.
type Interval struct {
	Estimate float64 `json:"estimate"`
	Lower    float64 `json:"lower"`
	Upper    float64 `json:"upper"`
}

// Contains reports whether v lies inside the interval (bounds included).
func (iv Interval) Contains(v float64) bool { return iv.Lower <= v && v <= iv.Upper }

// Wilson returns the Wilson score interval (without continuity correction)
// for x successes out of n at confidence level 1-alpha, with z the normal
// quantile: Wilson (1927), method 3 in Newcombe (1998a). For n = 0 it
// returns the whole range [0, 1] with estimate 0.
//
//	centre = (x + z²/2) / (n + z²)
//	half   = z·√(x(n−x)/n + z²/4) / (n + z²)
func Wilson(x, n int) Interval { return wilsonZ(x, n, z95) }

func wilsonZ(x, n int, z float64) Interval {
	if n <= 0 {
		return Interval{Estimate: 0, Lower: 0, Upper: 1}
	}
	fx, fn := float64(x), float64(n)
	z2 := z * z
	centre := (fx + z2/2) / (fn + z2)
	half := z * math.Sqrt(fx*(fn-fx)/fn+z2/4) / (fn + z2)
	lo, hi := centre-half, centre+half
	// Exact bounds at the edges (rounding can leave 1e-17).
	if x == 0 {
		lo = 0
	}
	if x == n {
		hi = 1
	}
	return Interval{Estimate: fx / fn, Lower: math.Max(0, lo), Upper: math.Min(1, hi)}
}

// Difference returns p1 − p2 = x1/n1 − x2/n2 with Newcombe's hybrid score
// interval (method 10 of Newcombe 1998b), built from the two Wilson
// intervals (l1, u1) and (l2, u2):
//
//	lower = d − √((p1 − l1)² + (u2 − p2)²)
//	upper = d + √((u1 − p1)² + (p2 − l2)²)
//
// It behaves well for small samples and for proportions near 0 or 1, where
// the simple Wald interval does not. ok is false when a group is empty.
func Difference(x1, n1, x2, n2 int) (iv Interval, ok bool) {
	if n1 <= 0 || n2 <= 0 {
		return Interval{Lower: -1, Upper: 1}, false
	}
	w1, w2 := Wilson(x1, n1), Wilson(x2, n2)
	p1, p2 := w1.Estimate, w2.Estimate
	d := p1 - p2
	lo := d - math.Sqrt(sq(p1-w1.Lower)+sq(w2.Upper-p2))
	hi := d + math.Sqrt(sq(w1.Upper-p1)+sq(p2-w2.Lower))
	return Interval{Estimate: d, Lower: lo, Upper: hi}, true
}

// RelativeRisk returns (x1/n1) / (x2/n2) with the 95% interval of the log
// method (Katz et al. 1978):
//
//	exp(ln RR ± z·√(1/x1 − 1/n1 + 1/x2 − 1/n2))
//
// ok is false when either group is empty or has no events (the ratio or its
// interval is then not defined).
func RelativeRisk(x1, n1, x2, n2 int) (iv Interval, ok bool) {
	if n1 <= 0 || n2 <= 0 || x1 <= 0 || x2 <= 0 {
		return Interval{}, false
	}
	rr := (float64(x1) / float64(n1)) / (float64(x2) / float64(n2))
	se := math.Sqrt(1/float64(x1) - 1/float64(n1) + 1/float64(x2) - 1/float64(n2))
	l := math.Log(rr)
	return Interval{Estimate: rr, Lower: math.Exp(l - z95*se), Upper: math.Exp(l + z95*se)}, true
}

// SRMAlpha is the p-value below which a sample-ratio mismatch is flagged.
const SRMAlpha = 0.001

// SRM is the result of a sample-ratio-mismatch check.
type SRM struct {
	ChiSquare float64 `json:"chi_square"`
	DF        int     `json:"df"`
	P         float64 `json:"p"`
	// Mismatch is true when P < SRMAlpha: the arms did not get the shares
	// they were declared to get, so the comparison cannot be trusted.
	Mismatch bool `json:"mismatch"`
}

// SampleRatio tests whether observed counts per arm fit the declared
// shares (Pearson's chi-square goodness of fit, k−1 degrees of freedom).
// Shares need not sum to 1; they are normalised. With no people, or fewer
// than two arms with a positive share, it returns P = 1.
func SampleRatio(observed []int, shares []float64) SRM {
	total, sumShare := 0, 0.0
	k := 0
	for i := range observed {
		total += observed[i]
		if shares[i] > 0 {
			sumShare += shares[i]
			k++
		}
	}
	if total == 0 || k < 2 {
		return SRM{P: 1, DF: max(k-1, 0)}
	}
	chi := 0.0
	for i, o := range observed {
		if shares[i] <= 0 {
			continue
		}
		e := float64(total) * shares[i] / sumShare
		chi += sq(float64(o)-e) / e
	}
	df := k - 1
	p := chiSquaredSurvival(df, chi)
	return SRM{ChiSquare: chi, DF: df, P: p, Mismatch: p < SRMAlpha}
}

// Power is the power Seintje plans for; Alpha its two-sided significance.
const (
	Power = 0.80
	Alpha = 0.05
)

// SampleSizeRaw is the number of people needed per arm to detect the
// difference between proportions p1 and p2 with a two-sided test at level
// alpha and the given power, equal arms, without continuity correction
// (Fleiss, Levin & Paik 2003, eq. 4.14):
//
//	n = [z_{1−α/2}·√(2·p̄·q̄) + z_{1−β}·√(p1·q1 + p2·q2)]² / (p1 − p2)²
//
// with p̄ = (p1 + p2)/2 and q = 1 − p. It returns +Inf when p1 = p2.
func SampleSizeRaw(p1, p2, alpha, power float64) float64 {
	d := math.Abs(p1 - p2)
	if d == 0 {
		return math.Inf(1)
	}
	za := normalQuantile(1 - alpha/2)
	zb := normalQuantile(power)
	pb := (p1 + p2) / 2
	a := za*math.Sqrt(2*pb*(1-pb)) + zb*math.Sqrt(p1*(1-p1)+p2*(1-p2))
	return a * a / (d * d)
}

// SampleSize is SampleSizeRaw with Fleiss's continuity correction
// (Fleiss, Tytun & Ury 1980; eq. 4.19 in Fleiss, Levin & Paik 2003),
// rounded up: the figure in Fleiss's tables.
//
//	n' = n/4 · (1 + √(1 + 4/(n·|p1 − p2|)))²
//
// It returns -1 when p1 = p2 (no sample is large enough).
func SampleSize(p1, p2, alpha, power float64) int {
	n := SampleSizeRaw(p1, p2, alpha, power)
	if math.IsInf(n, 0) {
		return -1
	}
	d := math.Abs(p1 - p2)
	nc := n / 4 * sq(1+math.Sqrt(1+4/(n*d)))
	return int(math.Ceil(nc - 1e-9))
}

func sq(x float64) float64 { return x * x }
