package engine_test

// Checks on the shipped flow files (flows/*.yaml): they load without
// diagnostics, match flows/flow.schema.json, follow the reply convention
// and the tone rules of /work/shared/DOMAIN.md, and their first messages fit
// in three GSM-7 SMS segments.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/sms"
)

func TestFlowsLoadWithoutDiagnostics(t *testing.T) {
	flows := loadFlows(t)
	for _, id := range []string{"no-show", "missing-form", "hobby-income"} {
		if flows[id] == nil {
			t.Errorf("flow %q is missing from %s", id, flowsDir)
		}
	}
}

// compileSchema compiles flows/flow.schema.json.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.Open(filepath.Join(flowsDir, "flow.schema.json"))
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

func TestSchemaAcceptsShippedFlows(t *testing.T) {
	sch := compileSchema(t)
	files, err := filepath.Glob(filepath.Join(flowsDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no flow files")
	}
	for _, path := range files {
		if strings.HasSuffix(path, ".test.yaml") {
			continue // conversation tests (bot/flowtest), not flows
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(src), "# yaml-language-server: $schema=./flow.schema.json\n") {
				t.Errorf("%s does not start with the yaml-language-server schema comment", path)
			}
			if err := sch.Validate(yamlValue(t, src)); err != nil {
				t.Errorf("%s does not match flow.schema.json:\n%v", path, err)
			}
		})
	}
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
    say: {nl: "Hallo {{.FirstName}}"}
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
		{"bad language key", `say: {nl: "Hallo {{.FirstName}}"}`, `say: {nl: "Hallo", NL: "Hallo"}`, true},
		{"text without Dutch", `say: {nl: "Hallo {{.FirstName}}"}`, `say: {en: "Hello"}`, true},
		{"duration without unit", "timeout: 48h", "timeout: 48", true},
		{"duration with bad unit", "timeout: 48h", "timeout: 2 days", true},
		{"wait without then", "wait: {timeout: 48h, then: done}", "wait: {timeout: 48h}", true},
		{"route without goto", "goto: done", "label: {nl: x}", true},
		{"empty match list", `match: ["2"]`, "match: []", true},
		{"variable with unknown type", "version: 1", "version: 1\nvariables:\n  - {name: due, type: number}", true},
		{"variable with bad name", "version: 1", "version: 1\nvariables:\n  - {name: Due-Date, type: date}", true},
		{"variable with extra field", "version: 1", "version: 1\nvariables:\n  - {name: due, type: date, default: x}", true},
		{"text is a string, not per language", `say: {nl: "Hallo {{.FirstName}}"}`, `say: "Hallo"`, true},
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

// forbidden are words that must never appear in a nudge (DOMAIN.md: tone,
// lines never crossed). Matched as substrings of the lower-cased text.
var forbidden = []string{
	"fraude", "fraudeur", "boete", "sanctie", "overtreding", "controle", "handhaving",
	"uitkering", "bijstand", "terugvordering", "vordering", "bsn", "burgerservicenummer",
	"fraud", "fine", "penalty", "sanction", "benefit", "enforcement", "euro",
}

// eachText calls fn for every text of a flow, with a path for messages.
func eachText(f *flow.Flow, fn func(path string, t flow.Text)) {
	fn("simple", f.Simple)
	for _, s := range f.Steps {
		fn(s.ID+"/say", s.Say)
		fn(s.ID+"/simple", s.Simple)
		for i, r := range s.Replies {
			fn(fmt.Sprintf("%s/replies[%d]/label", s.ID, i), r.Label)
		}
	}
}

var wordRe = regexp.MustCompile(`\pL+`)

func TestFlowTextsFollowTheHouseRules(t *testing.T) {
	for id, f := range loadFlows(t) {
		t.Run(id, func(t *testing.T) {
			if len(f.Simple) == 0 {
				t.Errorf("no flow-level simple (A2) text")
			}
			if !strings.Contains(f.Simple["nl"], "Stuur 2, dan bellen wij u") {
				t.Errorf("simple/nl does not offer %q", "Stuur 2, dan bellen wij u")
			}
			eachText(f, func(path string, txt flow.Text) {
				if len(txt) == 0 {
					return
				}
				for _, lang := range []string{"nl", "en"} {
					if strings.TrimSpace(txt[lang]) == "" {
						t.Errorf("%s has no %s text", path, lang)
					}
				}
				for lang, s := range txt {
					for _, w := range wordRe.FindAllString(strings.ToLower(s), -1) {
						for _, bad := range forbidden {
							if w == bad || (len(bad) > 4 && strings.Contains(w, bad)) {
								t.Errorf("%s/%s uses the word %q (%q): see DOMAIN.md, never in a nudge", path, lang, w, bad)
							}
						}
					}
					if strings.ContainsAny(s, "€") {
						t.Errorf("%s/%s mentions an amount", path, lang)
					}
					if info := sms.Analyze(s); info.Encoding != sms.GSM7 {
						t.Errorf("%s/%s needs %s because of %q: use plain letters", path, lang, info.Encoding, string(info.Offending))
					}
				}
			})
		})
	}
}

// TestReplyConvention: in every step, a route matching "2" goes to a
// callback step; the first step has 1 and 2 with Telegram labels that start
// with the digit; anything else goes to a step that forwards to the case
// worker.
func TestReplyConvention(t *testing.T) {
	for id, f := range loadFlows(t) {
		t.Run(id, func(t *testing.T) {
			start := f.Start()
			for _, digit := range []string{"1", "2"} {
				i := flow.MatchRoute(start.Replies, digit)
				if i < 0 {
					t.Errorf("first step %q has no route for %q", start.ID, digit)
					continue
				}
				for _, lang := range []string{"nl", "en"} {
					if !strings.HasPrefix(start.Replies[i].Label[lang], digit+" ") {
						t.Errorf("label/%s of route %q should start with %q, got %q", lang, digit, digit+" ", start.Replies[i].Label[lang])
					}
				}
			}
			for _, s := range f.Steps {
				for i, r := range s.Replies {
					if len(r.Label) == 0 {
						t.Errorf("step %q route %d has no label (Telegram button)", s.ID, i+1)
					}
					if r.Match[0] != strings.Fields(r.Label["nl"])[0] {
						t.Errorf("step %q route %d: a button sends %q but its label starts with %q", s.ID, i+1, r.Match[0], r.Label["nl"])
					}
				}
				if i := flow.MatchRoute(s.Replies, "2"); i >= 0 {
					if to := f.Step(s.Replies[i].Goto); to.Action != flow.ActionCallback {
						t.Errorf("step %q: 2 goes to %q, which is not a callback", s.ID, to.ID)
					}
				}
				if s.Waits() {
					if s.Otherwise == "" || f.Step(s.Otherwise).Action != flow.ActionForward {
						t.Errorf("step %q: other answers should go to a step with action forward", s.ID)
					}
					if s.Wait == nil {
						t.Errorf("step %q waits without a timeout", s.ID)
					}
				}
			}
		})
	}
}

// firstMessageCases are the data first messages are measured with: the
// golden-test contact, and a long case worker name and long dates.
func firstMessageCases() map[string][]map[string]any {
	return map[string][]map[string]any{
		"no-show": {
			{"appointment_at": "2026-11-26T10:00:00+01:00"}, // donderdag 26 november om 10:00
		},
		"missing-form": {
			{"form": "het formulier Wijzigingen doorgeven", "due_date": "2026-09-30"}, // woensdag 30 september
		},
		"hobby-income": {
			{},
			{"activity": "spullen online verkopen"},
		},
		"telegram-invite": {
			// A bot username of Telegram's maximum length (32).
			{"telegram_link": "https://t.me/GemeenteUtrechtSeintjeBerichtBot?start=NwdJhY4f4Qj7qyHEaNE7KChF54CDGj9qyi8CRvLs9bM"},
		},
	}
}

// TestFirstMessagesFitInThreeSMS renders every first message in nl and en and
// checks it is GSM-7 and at most 3 segments. Run with -v for the numbers.
func TestFirstMessagesFitInThreeSMS(t *testing.T) {
	flows := loadFlows(t)
	e := testEngine(t)
	now := time.Date(2026, 9, 1, 10, 0, 0, 0, e.Location)
	for id, cases := range firstMessageCases() {
		f := flows[id]
		if f == nil {
			t.Errorf("no flow %q", id)
			continue
		}
		for _, in := range cases {
			vars, verr := f.CheckVars(in)
			if verr != nil {
				t.Fatalf("%s: %v", id, verr)
			}
			for _, lang := range []string{"nl", "en"} {
				for _, cw := range []string{"Anouk de Vries", "Mohammed van den Heuvel-Bakker"} {
					res, err := e.Start(f, engine.Conversation{ID: "x", Lang: lang, FirstName: "Samira", Caseworker: cw, Vars: vars}, now)
					if err != nil {
						t.Fatalf("%s/%s: %v", id, lang, err)
					}
					send := res.Effects[0].(engine.Send)
					info := sms.Analyze(send.Text)
					t.Logf("%-12s %s vars=%v cw=%q: %d chars, %s", id, lang, in, cw, len([]rune(send.Text)), info)
					if info.Encoding != sms.GSM7 || info.Segments > 3 {
						t.Errorf("%s/%s first message is %s; keep it within 3 GSM-7 segments:\n%s", id, lang, info, send.Text)
					}
					for _, must := range []string{"Samira", cw, "088 123 45 67", e.Contact.Hours[lang]} {
						if !strings.Contains(send.Text, must) {
							t.Errorf("%s/%s first message lacks %q", id, lang, must)
						}
					}
					sign := map[string]string{"nl": "Groet, " + cw, "en": "Kind regards, " + cw}[lang]
					if !strings.HasSuffix(send.Text, sign) {
						t.Errorf("%s/%s first message is not signed %q", id, lang, sign)
					}
					if !slices.ContainsFunc(send.Buttons, func(c engine.Choice) bool { return c.Reply == "2" }) {
						t.Errorf("%s/%s first message has no button for 2", id, lang)
					}
				}
			}
		}
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
    say: {nl: "{{date .Vars.due_date}} {{datetime .Vars.at}} {{.Vars.what}}"}
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
