package experiment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/seintje/seintje/bot/phone"
)

func testKeyer(t testing.TB) *phone.Keyer {
	t.Helper()
	k, err := phone.NewKeyer([]byte("experiment-test-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAssignIsStableAndKeyed(t *testing.T) {
	k := testKeyer(t)
	other, _ := phone.NewKeyer([]byte("another-key-for-the-same-people-0123456"))
	shares := []float64{40, 40, 20}
	moved, differs := 0, 0
	for i := range 1000 {
		ref := fmt.Sprintf("C-%d", i)
		a := Assign(k, "exp-1", ref, shares)
		if b := Assign(k, "exp-1", ref, shares); a != b {
			t.Fatalf("%s: arm %d, then %d: assignment must be stable", ref, a, b)
		}
		if a < 0 || a > 2 {
			t.Fatalf("arm %d out of range", a)
		}
		if Assign(k, "exp-2", ref, shares) != a {
			moved++
		}
		if Assign(other, "exp-1", ref, shares) != a {
			differs++
		}
	}
	// Another experiment (or another key) draws again, independently:
	// about 1 − (0.4² + 0.4² + 0.2²) = 64% land elsewhere.
	for what, n := range map[string]int{"another experiment": moved, "another key": differs} {
		if n < 550 || n > 730 {
			t.Errorf("%s: %d of 1000 changed arm, want about 640", what, n)
		}
	}
}

func TestPick(t *testing.T) {
	cases := []struct {
		u      float64
		shares []float64
		want   int
	}{
		{0, []float64{50, 50}, 0},
		{0.4999, []float64{50, 50}, 0},
		{0.5, []float64{50, 50}, 1},
		{0.9999999, []float64{50, 50}, 1},
		{0.1, []float64{0, 80, 20}, 1},
		{0.85, []float64{0, 80, 20}, 2},
		{0.5, []float64{0, 0}, -1},
		{0.3, []float64{0.4, 0.4, 0.2}, 0},
		{0.7, []float64{0.4, 0.4, 0.2}, 1},
		{0.95, []float64{0.4, 0.4, 0.2}, 2},
	}
	for _, c := range cases {
		if got := Pick(c.u, c.shares); got != c.want {
			t.Errorf("Pick(%v, %v) = %d, want %d", c.u, c.shares, got, c.want)
		}
	}
}

// TestSimulation plays many experiments with synthetic people whose true
// rates are known: control 30%, variant 36%, hold-out 25%. People are
// assigned by the keyed hash exactly as in production. Over the repeats,
// the 95% Newcombe interval must cover the true difference in 93–97% of
// them, the Wilson intervals likewise, and the assignment must pass the
// sample-ratio check about as often as its 0.1% level says.
func TestSimulation(t *testing.T) {
	k := testKeyer(t)
	arms := []Arm{{Name: "control", Share: 40}, {Name: "short", Share: 40}, {Name: "holdout", Share: 20, Holdout: true}}
	truth := []float64{0.30, 0.36, 0.25}
	shares := []float64{40, 40, 20}
	const repeats, people = 1000, 300
	rng := rand.New(rand.NewPCG(2026, 11))
	coveredDiff, coveredHold, coveredWilson, srmFlags := 0, 0, 0, 0
	totals := make([]int, len(arms))
	for r := range repeats {
		n := make([]int, len(arms))
		x := make([]int, len(arms))
		for i := range people {
			a := Assign(k, fmt.Sprintf("sim-%d", r), fmt.Sprintf("C-%d", i), shares)
			n[a]++
			if rng.Float64() < truth[a] {
				x[a]++
			}
		}
		for i := range n {
			totals[i] += n[i]
		}
		if d, _ := Difference(x[1], n[1], x[0], n[0]); d.Contains(truth[1] - truth[0]) {
			coveredDiff++
		}
		if d, _ := Difference(x[0], n[0], x[2], n[2]); d.Contains(truth[0] - truth[2]) {
			coveredHold++
		}
		if Wilson(x[1], n[1]).Contains(truth[1]) {
			coveredWilson++
		}
		if SampleRatio(n, shares).Mismatch {
			srmFlags++
		}
	}
	for what, c := range map[string]int{"difference variant − control": coveredDiff,
		"difference control − hold-out": coveredHold, "Wilson rate of the variant": coveredWilson} {
		cov := float64(c) / repeats
		t.Logf("%s: covered in %.1f%% of %d repeats", what, 100*cov, repeats)
		if cov < 0.93 || cov > 0.97 {
			t.Errorf("%s: 95%% interval covered the truth in %.1f%% of repeats, want 93–97%%", what, 100*cov)
		}
	}
	// At p < 0.001 a fair assignment is flagged about once in 1000 runs.
	if srmFlags > 5 {
		t.Errorf("sample-ratio mismatch flagged in %d of %d fair runs", srmFlags, repeats)
	}
	all := SampleRatio(totals, shares)
	t.Logf("all %d people: %v, chi² %.2f, p %.3f", repeats*people, totals, all.ChiSquare, all.P)
	if all.Mismatch {
		t.Errorf("all people together: shares %v fail the sample-ratio check (p = %g)", totals, all.P)
	}
	for i, s := range shares {
		got := float64(totals[i]) / float64(repeats*people) * 100
		if math.Abs(got-s) > 0.5 {
			t.Errorf("arm %s got %.2f%%, want %.0f%%", arms[i].Name, got, s)
		}
	}
}
