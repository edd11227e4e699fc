package flowtest_test

// flows/flow.schema.json (what coordinators' editors check while typing)
// agrees with the Go loader: what one rejects the other rejects too.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/seintje/seintje/bot/flow"
)

// compileSchema compiles flows/flow.schema.json.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.Open(filepath.Join(shippedDir, "flow.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	doc, err := jsonschema.UnmarshalJSON(raw)
	if err != nil {
		t.Fatalf("flow.schema.json is not valid JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	const url = "https://seintje.nl/schemas/flow.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile flow.schema.json: %v", err)
	}
	return sch
}

// yamlValue decodes YAML into JSON-compatible values (map[string]any, []any, ...).
func yamlValue(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatalf("YAML: %v", err)
	}
	return v
}

// TestSchemaRejectsBrokenFlows makes sure the schema is not too lax: each
// document is valid YAML but breaks one rule. Where the Go loader rejects the
// same document, both must agree.
func TestSchemaRejectsBrokenFlows(t *testing.T) {
	sch := compileSchema(t)
	const base = `
id: demo
version: 1
steps:
  - id: ask
    say: {nl: "Hallo {{.FirstName}}, bel {{.CallbackNumber}}"}
    replies:
      - match: ["2"]
        goto: done
    wait: {timeout: 48h, then: done}
  - id: done
    action: end
`
	// The base document itself is valid for both.
	if err := sch.Validate(yamlValue(t, []byte(base))); err != nil {
		t.Fatalf("base document should be valid: %v", err)
	}
	if _, ds := flow.Parse("base.yaml", []byte(base)); ds.HasErrors() {
		t.Fatalf("base document should load: %v", ds.Err())
	}
	cases := []struct {
		name, from, to string
		goRejects      bool // the Go loader rejects it too
	}{
		{"unknown top-level field", "version: 1", "version: 1\nauthor: me", true},
		{"unknown step field", "action: end", "action: end\n    goto: ask", true},
		{"misspelled field", "replies:", "replys:", true},
		{"unknown action", "action: end", "action: stop", true},
		{"bad flow id", "id: demo", "id: Demo_Flow", true},
		{"bad step id", "- id: done", "- id: Done", true},
		{"version zero", "version: 1", "version: 0", true},
		{"version missing", "version: 1\n", "\n", true},
		{"no steps", "steps:", "stepz:", true},
		{"bad language key", `say: {nl: "Hallo {{.FirstName}}, bel {{.CallbackNumber}}"}`, `say: {nl: "Hallo", NL: "Hallo"}`, true},
		{"text without Dutch", `say: {nl: "Hallo {{.FirstName}}, bel {{.CallbackNumber}}"}`, `say: {en: "Hello"}`, true},
		{"duration without unit", "timeout: 48h", "timeout: 48", true},
		{"duration with bad unit", "timeout: 48h", "timeout: 2 days", true},
		{"wait without then", "wait: {timeout: 48h, then: done}", "wait: {timeout: 48h}", true},
		{"route without goto", "goto: done", "label: {nl: x}", true},
		{"empty match list", `match: ["2"]`, "match: []", true},
		{"variable with unknown type", "version: 1", "version: 1\nvariables:\n  - {name: due, type: number}", true},
		{"variable with bad name", "version: 1", "version: 1\nvariables:\n  - {name: Due-Date, type: date}", true},
		{"variable with extra field", "version: 1", "version: 1\nvariables:\n  - {name: due, type: date, default: x}", true},
		{"text is a string, not per language", `say: {nl: "Hallo {{.FirstName}}, bel {{.CallbackNumber}}"}`, `say: "Hallo"`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.from) {
				t.Fatalf("base document has no %q", tc.from)
			}
			doc := strings.Replace(base, tc.from, tc.to, 1)
			if err := sch.Validate(yamlValue(t, []byte(doc))); err == nil {
				t.Errorf("schema accepts the broken document:\n%s", doc)
			}
			if tc.goRejects {
				if _, ds := flow.Parse("broken.yaml", []byte(doc)); !ds.HasErrors() {
					t.Errorf("Go loader accepts a document the schema rejects:\n%s", doc)
				}
			}
		})
	}
}

// TestSchemaAcceptsWhatTheLoaderAccepts: documents the Go loader accepts
// must not get a red line in the editor.
func TestSchemaAcceptsWhatTheLoaderAccepts(t *testing.T) {
	sch := compileSchema(t)
	for _, tc := range []struct{ name, doc string }{
		{"durations", "2d"}, {"weeks", "1w"}, {"days and hours", "1d12h"}, {"minutes", "90m"},
		{"fraction", "1.5h"}, {"hours and minutes", "1h30m"},
	} {
		doc := `
id: demo
version: 3
description: test
variables:
  - {name: due_date, type: date, required: true, description: last day}
  - {name: at, type: datetime}
  - {name: what, type: string, required: false}
simple: {nl: "Stuur 2, dan bellen wij u.", en: "Send 2.", tr: "2"}
steps:
  - id: ask
    say: {nl: "{{date .Vars.due_date}} {{datetime .Vars.at}} {{.Vars.what}} {{.CallbackNumber}}"}
    simple: {nl: "Kort."}
    replies:
      - match: [1, "ja"]
        goto: fwd
        label: {nl: "1 Ja", en: "1 Yes"}
      - match: ["2"]
        goto: cb
    otherwise: fwd
    wait: {timeout: ` + tc.doc + `, then: done}
  - id: cb
    action: callback
    reason: test
    outcome: callback_requested
    next: done
  - id: fwd
    action: forward
    next: done
  - id: done
    action: end
`
		t.Run(tc.name, func(t *testing.T) {
			if _, ds := flow.Parse("ok.yaml", []byte(doc)); ds.HasErrors() {
				t.Fatalf("loader rejects it: %v", ds.Err())
			}
			if err := sch.Validate(yamlValue(t, []byte(doc))); err != nil {
				t.Errorf("schema rejects a document the loader accepts: %v", err)
			}
		})
	}
}
