package experiment_test

import (
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/experiment"
)

func TestCheckProtected(t *testing.T) {
	ok := experiment.Design{ID: "no-show-short-text", Arms: []experiment.Arm{{Name: "control"}, {Name: "short"}}, Primary: experiment.Measure{Outcome: "attended"}}
	if err := ok.CheckProtected(); err != nil {
		t.Fatalf("ordinary experiment refused: %v", err)
	}
	for _, tc := range []struct {
		d    experiment.Design
		want string
	}{
		{experiment.Design{ID: "by-nationality"}, "nationality"},
		{experiment.Design{ID: "x", Arms: []experiment.Arm{{Name: "niet-westers"}}}, "origin"},
		{experiment.Design{ID: "x", Arms: []experiment.Arm{{Name: "countryOfBirth"}}}, "origin"},
		{experiment.Design{ID: "x", Primary: experiment.Measure{Outcome: "religie"}}, "religion"},
	} {
		err := tc.d.CheckProtected()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error about %s", tc.d, err, tc.want)
		}
	}
}
