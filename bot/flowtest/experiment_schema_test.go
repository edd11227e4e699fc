package flowtest_test

import (
	"testing"

	"github.com/seintje/seintje/bot/flow"
)

// The experiment block and declared outcomes get no red line in the
// coordinator's editor: the schema accepts what the loader accepts.
func TestSchemaAcceptsExperiment(t *testing.T) {
	const doc = `
id: inline
version: 1
outcomes: [{name: form_received, description: the form came in}]
steps:
  - id: ask
    say: {nl: "Hallo {{.FirstName}}, wij missen nog een formulier. Bel {{.CallbackNumber}}."}
    replies:
      - match: ["1"]
        goto: done
    wait: {timeout: 48h, then: done}
  - id: other
    say: {nl: "Hallo {{.FirstName}}, wij bellen u binnenkort. Bel {{.CallbackNumber}}."}
    next: done
  - id: done
    action: end
experiment:
  id: inline-exp
  arms:
    - {name: standard, share: 30}
    - {name: short, share: 30, say: {ask: {nl: "Hallo {{.FirstName}}, stuur het formulier? Bel {{.CallbackNumber}}."}}}
    - {name: call, share: 20, start: other}
    - {name: holdout, share: 20, holdout: true}
  control: standard
  primary: {outcome: form_received, within: 14d}
  secondary: [{outcome: replied}, {outcome: opted_out, within: 7d}]
  smallest_effect: 5pp
  stopped: false
`
	if _, ds := flow.Parse("ok.yaml", []byte(doc)); ds.HasErrors() {
		t.Fatalf("loader rejects it: %v", ds.Err())
	}
	if err := compileSchema(t).Validate(yamlValue(t, []byte(doc))); err != nil {
		t.Errorf("schema rejects a document the loader accepts: %v", err)
	}
}
