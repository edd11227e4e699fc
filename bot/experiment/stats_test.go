package experiment

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.5f, want %.4f (±%g)", what, got, want, tol)
	}
}

// Newcombe RG (1998a). Two-sided confidence intervals for the single
// proportion: comparison of seven methods. Statistics in Medicine 17,
// 857–872; Table I, method 3 (Wilson score, no continuity correction).
func TestWilsonNewcombe1998Table(t *testing.T) {
	cases := []struct {
		x, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0.0000, 0.1611},
		{1, 29, 0.0061, 0.1718},
	}
	for _, c := range cases {
		iv := Wilson(c.x, c.n)
		near(t, "lower", iv.Lower, c.lo, 0.00005)
		near(t, "upper", iv.Upper, c.hi, 0.00005)
		if !iv.Contains(float64(c.x) / float64(c.n)) {
			t.Errorf("%d/%d: interval %v does not contain the estimate", c.x, c.n, iv)
		}
	}
}

func TestWilsonEdges(t *testing.T) {
	if iv := Wilson(0, 0); iv.Lower != 0 || iv.Upper != 1 {
		t.Errorf("Wilson(0,0) = %v, want [0,1]", iv)
	}
	if iv := Wilson(20, 20); iv.Upper != 1 || iv.Lower >= 1 {
		t.Errorf("Wilson(20,20) = %v", iv)
	}
	// Symmetry: x/n and (n−x)/n mirror each other.
	a, b := Wilson(3, 17), Wilson(14, 17)
	near(t, "mirror lower", a.Lower, 1-b.Upper, 1e-12)
	near(t, "mirror upper", a.Upper, 1-b.Lower, 1e-12)
}

// Newcombe RG (1998b). Interval estimation for the difference between
// independent proportions: comparison of eleven methods. Statistics in
// Medicine 17, 873–890; Table II, method 10 (hybrid score, no continuity
// correction), examples (a) to (h). (56/70 − 48/80 is 0.2000 with
// interval 0.0524 to 0.3339; DescTools checks the same published figures.)
func TestDifferenceNewcombe1998TableII(t *testing.T) {
	cases := []struct {
		name           string
		x1, n1, x2, n2 int
		d, lo, hi      float64
	}{
		{"a", 56, 70, 48, 80, 0.2000, 0.0524, 0.3339},
		{"b", 9, 10, 3, 10, 0.6000, 0.1705, 0.8090},
		{"c", 6, 7, 2, 7, 0.5714, 0.0582, 0.8062},
		{"d", 5, 56, 0, 29, 0.0893, -0.0381, 0.1926},
		{"e", 0, 10, 0, 20, 0.0000, -0.1611, 0.2775},
		{"f", 0, 10, 0, 10, 0.0000, -0.2775, 0.2775},
		{"g", 10, 10, 0, 20, 1.0000, 0.6791, 1.0000},
		{"h", 10, 10, 0, 10, 1.0000, 0.6075, 1.0000},
		// Also in DescTools' tests of BinomDiffCI(method = "score"), from
		// the literature: 84/101 vs 89/105.
		{"i", 84, 101, 89, 105, -0.0159, -0.1177, 0.0851},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			iv, ok := Difference(c.x1, c.n1, c.x2, c.n2)
			if !ok {
				t.Fatal("not ok")
			}
			near(t, "difference", iv.Estimate, c.d, 0.00005)
			near(t, "lower", iv.Lower, c.lo, 0.00005)
			near(t, "upper", iv.Upper, c.hi, 0.00005)
		})
	}
	if _, ok := Difference(1, 0, 1, 2); ok {
		t.Error("an empty group must not give an interval")
	}
}

// The log-method interval, computed by hand for 56/70 vs 48/80:
// RR = 0.8/0.6 = 1.3333; SE = √(1/56 − 1/70 + 1/48 − 1/80) = 0.10911;
// exp(ln 1.3333 ± 1.95996·0.10911) = 1.0766 … 1.6512.
func TestRelativeRisk(t *testing.T) {
	iv, ok := RelativeRisk(56, 70, 48, 80)
	if !ok {
		t.Fatal("not ok")
	}
	near(t, "rr", iv.Estimate, 1.3333, 0.00005)
	near(t, "lower", iv.Lower, 1.0766, 0.00005)
	near(t, "upper", iv.Upper, 1.6512, 0.00005)
	for _, c := range [][4]int{{0, 10, 3, 10}, {3, 10, 0, 10}, {1, 0, 1, 1}} {
		if _, ok := RelativeRisk(c[0], c[1], c[2], c[3]); ok {
			t.Errorf("RelativeRisk%v must not be defined", c)
		}
	}
}

func TestSampleRatio(t *testing.T) {
	cases := []struct {
		name     string
		obs      []int
		shares   []float64
		chi, p   float64
		mismatch bool
	}{
		// 1000 vs 1000 at 50/50: a perfect fit.
		{"even", []int{1000, 1000}, []float64{0.5, 0.5}, 0, 1, false},
		// χ² = (1100−1000)²/1000·2 = 20, df 1: p = 7.744e-6.
		{"skewed", []int{1100, 900}, []float64{0.5, 0.5}, 20, 7.744216e-6, true},
		// χ² = 4, df 1: p = 0.0455003 (2·(1 − Φ(2))), not flagged at 0.001.
		{"5100 vs 4900", []int{5100, 4900}, []float64{1, 1}, 4, 0.04550026, false},
		// 40/40/20 with 410/395/195: χ² = 0.25+0.0625+0.125=0.4375, df 2: p = e^(−χ²/2).
		{"three arms", []int{410, 395, 195}, []float64{40, 40, 20}, 0.4375, math.Exp(-0.4375 / 2), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := SampleRatio(c.obs, c.shares)
			near(t, "chi²", got.ChiSquare, c.chi, 1e-9)
			if math.Abs(got.P-c.p) > 1e-9*math.Max(1, c.p) && math.Abs(got.P-c.p)/c.p > 1e-5 {
				t.Errorf("p = %g, want %g", got.P, c.p)
			}
			if got.Mismatch != c.mismatch {
				t.Errorf("mismatch = %v, want %v", got.Mismatch, c.mismatch)
			}
		})
	}
	s := SampleRatio([]int{0, 0}, []float64{1, 1})
	if s.P != 1 {
		t.Errorf("no people: p = %v, want 1", s.P)
	}
}

// Reference values. Fleiss, Levin & Paik (2003), Statistical Methods for
// Rates and Proportions, 3rd ed., Table A.4 (α = 0.05 two-sided, power
// 0.80, with continuity correction): p1 = 0.05, p2 = 0.10 → 474 per group.
// Without the correction the same formula gives 434.4 (R's
// power.prop.test(p1 = .05, p2 = .10, power = .8) gives n = 434.4).
func TestSampleSize(t *testing.T) {
	near(t, "raw 5% vs 10%", SampleSizeRaw(0.05, 0.10, 0.05, 0.80), 434.43, 0.01)
	if n := SampleSize(0.05, 0.10, 0.05, 0.80); n != 474 {
		t.Errorf("SampleSize(0.05, 0.10) = %d, want 474 (Fleiss Table A.4)", n)
	}
	// p1 = 0.50, p2 = 0.75, power 0.90: the formula gives 76.7 per group;
	// R's power.prop.test solves the power equation exactly and gives 76.65.
	near(t, "raw 50% vs 75% at 90%", SampleSizeRaw(0.50, 0.75, 0.05, 0.90), 76.65, 0.1)
	// Symmetric in p1, p2.
	if SampleSize(0.30, 0.20, 0.05, 0.8) != SampleSize(0.20, 0.30, 0.05, 0.8) {
		t.Error("sample size is not symmetric")
	}
	if SampleSize(0.3, 0.3, 0.05, 0.8) != -1 {
		t.Error("no difference must give -1")
	}
}
