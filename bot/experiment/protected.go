package experiment

import (
	"fmt"

	"github.com/seintje/seintje/bot/flow"
)

// CheckProtected refuses an experiment whose name, arms or measured
// outcomes refer to a protected characteristic (origin, nationality,
// ethnicity, religion, country of birth, ...): an experiment compares
// texts and timing, it never selects or splits people on who they are
// (DOMAIN.md, after the toeslagenaffaire). Call it before an experiment
// is stored or started.
func (d Design) CheckProtected() error {
	check := func(what, name string) error {
		if p := flow.ProtectedTerm(name); p != "" {
			return fmt.Errorf("%s %q refers to %s, a protected characteristic: an experiment may not select or compare people on it", what, name, p)
		}
		return nil
	}
	if err := check("experiment", d.ID); err != nil {
		return err
	}
	for _, a := range d.Arms {
		if err := check("arm", a.Name); err != nil {
			return err
		}
	}
	for _, m := range d.Measures() {
		if err := check("measure", m.Outcome); err != nil {
			return err
		}
	}
	return nil
}
