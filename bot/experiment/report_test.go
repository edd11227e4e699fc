package experiment

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func design() Design {
	return Design{ID: "form-text", Flow: "missing-form", Control: "holdout",
		Arms:           []Arm{{Name: "standard", Share: 40}, {Name: "short", Share: 40}, {Name: "holdout", Share: 20, Holdout: true}},
		Primary:        Measure{Outcome: "form_received", Window: 14 * 24 * time.Hour},
		Secondary:      []Measure{{Outcome: "replied", Window: 14 * 24 * time.Hour}},
		SmallestEffect: 0.05}
}

func TestAnalyze(t *testing.T) {
	cases := []struct {
		name       string
		people     map[string]int
		outcomes   map[string]int
		verdicts   []string // standard, short, holdout
		conclusion string
	}{
		{"nobody yet", map[string]int{}, map[string]int{}, []string{VerdictTooFew, VerdictTooFew, VerdictControl}, "Nobody has been assigned yet."},
		{"too few people, even with a big gap", map[string]int{"standard": 40, "short": 40, "holdout": 20},
			map[string]int{"standard": 30, "short": 20, "holdout": 2},
			[]string{VerdictTooFew, VerdictTooFew, VerdictControl}, "Too few people to conclude yet"},
		{"enough people: the short text does better, the standard one no differently",
			map[string]int{"standard": 4000, "short": 4000, "holdout": 2000},
			map[string]int{"standard": 1220, "short": 1600, "holdout": 600},
			[]string{VerdictNoDifference, VerdictHigher, VerdictControl}, "short: more often form_received than in holdout: +10.0 percentage points"},
		{"shares off: do not trust it", map[string]int{"standard": 4000, "short": 4000, "holdout": 1500},
			map[string]int{"standard": 1200, "short": 1600, "holdout": 450},
			[]string{VerdictNoDifference, VerdictHigher, VerdictControl}, "Do not trust this comparison"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Analyze(design(), Counts{People: c.people, Outcomes: map[string]map[string]int{"form_received": c.outcomes}})
			for i, a := range r.Primary.Arms {
				if a.Verdict != c.verdicts[i] {
					t.Errorf("arm %s: verdict %s (%s), want %s", a.Arm, a.Verdict, a.Says, c.verdicts[i])
				}
				if a.Verdict == VerdictHigher && strings.Contains(r.Conclusion, "Too few") {
					t.Error("a winner and too few people at once")
				}
			}
			if !strings.Contains(r.Conclusion, c.conclusion) {
				t.Errorf("conclusion %q, want it to contain %q", r.Conclusion, c.conclusion)
			}
			if len(r.Secondary) != 1 || !r.Secondary[0].Secondary || r.Secondary[0].Outcome != "replied" {
				t.Errorf("secondary outcomes: %+v", r.Secondary)
			}
		})
	}
}

func TestAnalyzeFigures(t *testing.T) {
	d := design()
	d.Control = "standard"
	r := Analyze(d, Counts{People: map[string]int{"standard": 80, "short": 70, "holdout": 40},
		Outcomes: map[string]map[string]int{"form_received": {"standard": 48, "short": 56, "holdout": 10}}})
	short := r.Primary.Arms[1]
	// Newcombe (1998b) example (a) again, now through the report.
	near(t, "difference", short.Difference.Estimate, 0.2, 1e-12)
	near(t, "lower", short.Difference.Lower, 0.0524, 0.00005)
	near(t, "upper", short.Difference.Upper, 0.3339, 0.00005)
	near(t, "relative risk", short.RelativeRisk.Estimate, 4.0/3, 1e-12)
	near(t, "rate", short.Rate.Estimate, 0.8, 1e-12)
	// Baseline 60%, +5 points: Fleiss with continuity correction.
	if want := SampleSize(0.60, 0.65, 0.05, 0.80); r.NeededPerArm != want || want < 1000 {
		t.Errorf("needed per arm %d, want %d", r.NeededPerArm, want)
	}
	if short.StillNeeded != r.NeededPerArm-70 {
		t.Errorf("still needed %d, want %d", short.StillNeeded, r.NeededPerArm-70)
	}
	if short.Verdict != VerdictTooFew || !strings.Contains(short.Says, "too few people to conclude") {
		t.Errorf("verdict %s: %s", short.Verdict, short.Says)
	}
	if r.Arms[2].Share != 20 || r.Arms[2].People != 40 {
		t.Errorf("hold-out arm: %+v", r.Arms[2])
	}
}

func TestDesignRoundTrip(t *testing.T) {
	d := design()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"within":"14d","within_seconds":1209600`) {
		t.Errorf("json: %s", b)
	}
	var back Design
	if err := json.Unmarshal(b, &back); err != nil || back.Primary != d.Primary || back.Secondary[0] != d.Secondary[0] || back.SmallestEffect != d.SmallestEffect {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}
