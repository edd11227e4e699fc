package flowtest_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	_ "time/tzdata"

	"github.com/goccy/go-yaml"

	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/flowtest"
	"github.com/seintje/seintje/bot/lint"
	"github.com/seintje/seintje/internal/testflows"
)

var update = flag.Bool("update", false, "rewrite flows/testdata/*.golden from the current flows and engine")

// shippedDir holds the shipped flows. The tests in this file that read it
// are generic: they hold for any wording and version a coordinator writes,
// so an edit to flows/ followed by `seintje flows test --update` keeps
// `go test ./...` green. Go tests about behaviour use the fixtures in
// internal/testflows instead.
const shippedDir = "../../flows"

// TestShippedFlowsPassCheckAndLint: every shipped flow loads without errors
// or warnings (seintje flows check) and has zero lint warnings (seintje
// flows lint), and matches flows/flow.schema.json.
func TestShippedFlowsPassCheckAndLint(t *testing.T) {
	flows, ds, err := flow.LoadDir(shippedDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		t.Errorf("seintje flows check: %s", d)
	}
	if len(flows) == 0 {
		t.Fatal("no shipped flows")
	}
	sch := compileSchema(t)
	for id, f := range flows {
		t.Run(id, func(t *testing.T) {
			for _, d := range lint.Lint(f, lint.Default()).Diagnostics {
				t.Errorf("seintje flows lint: %s", d)
			}
			var v any
			if err := yaml.Unmarshal(f.Source, &v); err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(v); err != nil {
				t.Errorf("%s does not match flow.schema.json:\n%v", f.File, err)
			}
		})
	}
}

// TestEveryShippedFlowHasAConversationTest: each flows/<name>.yaml has a
// flows/<name>.test.yaml about that flow, with at least one test.
func TestEveryShippedFlowHasAConversationTest(t *testing.T) {
	flows, _, err := flow.LoadDir(shippedDir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := flowtest.TestFiles(shippedDir)
	if err != nil {
		t.Fatal(err)
	}
	tested := map[string]int{}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var tf flowtest.File
		if err := yaml.Unmarshal(src, &tf); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		tested[tf.Flow] += len(tf.Tests)
	}
	for id, f := range flows {
		if tested[id] == 0 {
			t.Errorf("%s: flow %q has no conversation test; add %s with at least one test", f.File, id,
				strings.TrimSuffix(f.File, filepath.Ext(f.File))+".test.yaml")
		}
	}
}

// TestConversationFiles runs every flows/*.test.yaml, the same as
// `seintje flows test flows`, and compares the transcripts with
// flows/testdata/*.golden (rewrite them with -update).
func TestConversationFiles(t *testing.T) {
	flows, ds, err := flow.LoadDir(shippedDir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.HasErrors() {
		t.Fatalf("flows have errors:\n%v", ds.Err())
	}
	e, err := flowtest.Engine()
	if err != nil {
		t.Fatal(err)
	}
	files, err := flowtest.TestFiles(shippedDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no conversation test files in flows/")
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			res, err := flowtest.RunFile(e, flows, file)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range res.Failures {
				t.Errorf("%s", d)
			}
			got, err := flowtest.Golden(res, *update)
			if err != nil {
				t.Fatal(err)
			}
			if got == flowtest.GoldenChanged {
				old, _ := os.ReadFile(flowtest.GoldenPath(file))
				t.Errorf("transcript differs from %s (run seintje flows test --update and review git diff):\n%s",
					flowtest.GoldenPath(file), flowtest.GoldenDiff(string(old), res.Transcript))
			}
		})
	}
}

// A test file whose expectations fail reports file:line:col of the line.
func TestFailuresHavePositions(t *testing.T) {
	flows := testflows.Load(t)
	e, err := flowtest.Engine()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, src string
		want      []string
	}{
		{"wrong step", `flow: no-show
tests:
  - name: t
    vars: {appointment_at: "2026-11-23T09:00:00+01:00"}
    start: "2026-11-23T10:00:00+01:00"
    script:
      - say: "2"
      - expect: {step: ask}
`, []string{`x.test.yaml:8:17: t: at step "done", after the reply "2": expected step "ask", the conversation is at "done"`}},
		{"unknown flow", "flow: nope\ntests: []\n", []string{`x.test.yaml:1:7: there is no flow "nope"`}},
		{"missing var", `flow: no-show
tests:
  - name: t
    start: "2026-11-23T10:00:00+01:00"
`, []string{`x.test.yaml:3:9: t: flow no-show: vars.appointment_at: is required (an RFC 3339 date and time like 2026-11-24T10:00:00+01:00)`}},
		{"no callback", `flow: no-show
tests:
  - name: t
    vars: {appointment_at: "2026-11-23T09:00:00+01:00"}
    start: "2026-11-23T10:00:00+01:00"
    script:
      - say: "1"
      - expect: {callback: true}
`, []string{`x.test.yaml:8:17: t: at step "done", after the reply "1": expected callback task: true, got false`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := flowtest.Run(e, flows, "x.test.yaml", []byte(tc.src))
			var got []string
			for _, d := range res.Failures {
				got = append(got, d.File+":"+itoa(d.Line)+":"+itoa(d.Col)+": "+d.Message)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("got  %s\nwant %s", got[i], tc.want[i])
				}
			}
		})
	}
}

func itoa(n int) string {
	s := ""
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// TestGoldenDiffNamesThePlace: a changed text is reported with its test,
// its step, the reply that led there and the changed words marked, for
// every place that changed, not only the first line.
func TestGoldenDiffNamesThePlace(t *testing.T) {
	flows := testflows.Load(t)
	e, err := flowtest.Engine()
	if err != nil {
		t.Fatal(err)
	}
	src := `flow: no-show
tests:
  - name: callback please
    vars: {appointment_at: "2026-11-23T09:00:00+01:00"}
    start: "2026-11-23T10:00:00+01:00"
    script:
      - say: "2"
`
	res := flowtest.Run(e, flows, "x.test.yaml", []byte(src))
	if len(res.Failures) > 0 {
		t.Fatal(res.Failures)
	}
	// The golden has older wording in two places.
	golden := strings.Replace(res.Transcript, "We hebben u gemist.", "Wij hebben u gemist.", 1)
	golden = strings.Replace(golden, "Wij bellen u", "Wij bellen u graag", 1)
	if golden == res.Transcript || strings.Count(golden, "graag") == strings.Count(res.Transcript, "graag") {
		t.Fatal("fixture wording changed: adapt the test")
	}
	got := flowtest.GoldenDiff(golden, res.Transcript)
	for _, want := range []string{
		`test "callback please", step ask, after start`,
		"[-Wij-] {+We+} hebben u gemist.",
		`after say "2"`,
		"Wij bellen u [-graag-]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff does not say %q:\n%s", want, got)
		}
	}
}
