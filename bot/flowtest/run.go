package flowtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/texts"
)

// File is one conversation test file, flows/<name>.test.yaml.
type File struct {
	Flow  string `yaml:"flow"`
	Tests []Case `yaml:"tests"`
}

// Case is one conversation.
type Case struct {
	Name       string         `yaml:"name"`
	Lang       string         `yaml:"lang"`       // default nl
	FirstName  string         `yaml:"first_name"` // default Samira
	Caseworker string         `yaml:"caseworker"` // default Anouk de Vries
	Vars       map[string]any `yaml:"vars"`
	Start      string         `yaml:"start"` // RFC 3339 clock at the first message
	Script     []Line         `yaml:"script"`
}

// Line is one script line: exactly one of Say, Wait, Expect.
type Line struct {
	Say    *string `yaml:"say"`
	Wait   string  `yaml:"wait"`
	Expect *Expect `yaml:"expect"`
}

// Expect checks the last turn (everything since the last say or wait).
type Expect struct {
	Step        string   `yaml:"step"`
	State       string   `yaml:"state"` // waiting, ended
	Outcome     string   `yaml:"outcome"`
	Contains    []string `yaml:"contains"`
	NotContains []string `yaml:"not_contains"`
	Callback    *bool    `yaml:"callback"`
	// Preferred is the preferred moment of the callback task made in the
	// turn: morning, afternoon, self or none.
	Preferred   string `yaml:"preferred"`
	Forward     *bool  `yaml:"forward"`
	Messages    *int   `yaml:"messages"`
	MaxSegments int    `yaml:"max_segments"`
}

// Result of running one test file.
type Result struct {
	File       string
	Failures   []flow.Diagnostic // file:line:col of the failing line
	Transcript string
}

// Engine returns the engine the tests run on: the shipped system texts and
// a fixed example contact, so transcripts do not depend on configuration.
func Engine() (*engine.Engine, error) {
	cat, err := texts.Default()
	if err != nil {
		return nil, fmt.Errorf("system texts: %w", err)
	}
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		return nil, fmt.Errorf("time zone: %w", err)
	}
	return &engine.Engine{Contact: engine.Contact{Agency: "gemeente Utrecht", Number: "088 123 45 67",
		Hours: texts.ExampleHours()},
		Texts: cat, Location: loc}, nil
}

// TestFiles lists the *.test.yaml files in dir.
func TestFiles(dir string) ([]string, error) {
	var out []string
	for _, pat := range []string{"*.test.yaml", "*.test.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, fmt.Errorf("list test files: %w", err)
		}
		out = append(out, m...)
	}
	sort.Strings(out)
	return out, nil
}

// GoldenPath is where the transcript of a test file is kept:
// flows/testdata/<name>.golden.
func GoldenPath(testFile string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(testFile), ".yaml"), ".yml")
	base = strings.TrimSuffix(base, ".test")
	return filepath.Join(filepath.Dir(testFile), "testdata", base+".golden")
}

// RunFile runs one test file against flows.
func RunFile(e *engine.Engine, flows map[string]*flow.Flow, path string) (Result, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Result{}, fmt.Errorf("read test file: %w", err)
	}
	return Run(e, flows, path, src), nil
}

// Run runs the test file src (named path).
func Run(e *engine.Engine, flows map[string]*flow.Flow, path string, src []byte) Result {
	res := Result{File: path}
	at := flow.Locator(src)
	fail := func(msg string, p ...any) {
		l, c := at(p...)
		res.Failures = append(res.Failures, flow.Diagnostic{Severity: flow.Error, File: path, Line: l, Col: c, Code: "test", Message: msg})
	}
	var tf File
	if err := yaml.UnmarshalWithOptions(src, &tf, yaml.DisallowUnknownField()); err != nil {
		fail("test file: " + strings.TrimSpace(strings.SplitN(err.Error(), "\n", 2)[0]))
		return res
	}
	f := flows[tf.Flow]
	if f == nil {
		fail(fmt.Sprintf("there is no flow %q", tf.Flow), "flow")
		return res
	}
	var tr bytes.Buffer
	fmt.Fprintf(&tr, "flow: %s v%d\n", f.ID, f.Version)
	for i, c := range tf.Tests {
		fmt.Fprintf(&tr, "\n### %s\n", c.Name)
		runCase(e, f, c, &tr, func(msg string, p ...any) {
			fail(fmt.Sprintf("%s: %s", c.Name, msg), append([]any{"tests", i}, p...)...)
		})
	}
	res.Transcript = tr.String()
	return res
}

func runCase(e *engine.Engine, f *flow.Flow, c Case, tr *bytes.Buffer, fail func(string, ...any)) {
	lang := cmp(c.Lang, flow.DefaultLang)
	start, err := time.Parse(time.RFC3339, c.Start)
	if err != nil {
		fail("start must be an RFC 3339 time like 2026-11-23T10:00:00+01:00", "start")
		return
	}
	start = start.In(e.Location)
	p, err := NewPlayer(e, f, lang, cmp(c.FirstName, "Samira"), cmp(c.Caseworker, "Anouk de Vries"), c.Vars, start)
	if err != nil {
		fail(err.Error(), "vars")
		return
	}
	fmt.Fprintf(tr, "recipient: %s, lang %s, case worker %s\n", p.Conv.FirstName, lang, p.Conv.Caseworker)
	turn, err := p.Start()
	if err != nil {
		fail(err.Error(), "start")
		return
	}
	writeTurn(tr, turn)
	last := []Turn{turn}
	for j, l := range c.Script {
		path := []any{"script", j}
		switch {
		case l.Say != nil:
			turn, err := p.Say(*l.Say)
			if err != nil {
				fail(err.Error(), path...)
				return
			}
			writeTurn(tr, turn)
			last = []Turn{turn}
		case l.Wait != "":
			d, err := flow.ParseDuration(l.Wait)
			if err != nil {
				fail(err.Error(), append(path, "wait")...)
				return
			}
			turns, err := p.Wait(d)
			if err != nil {
				fail(err.Error(), path...)
				return
			}
			fmt.Fprintf(tr, "\n== wait %s → %s\n", l.Wait, p.Now.Format("Mon 2006-01-02 15:04 MST"))
			for _, t := range turns {
				writeTurn(tr, t)
			}
			if len(turns) == 0 {
				tr.WriteString("(nothing happens)\n")
			}
			last = turns
		case l.Expect != nil:
			for _, msg := range check(*l.Expect, p, last) {
				fail(msg, append(path, "expect")...)
			}
		default:
			fail("a script line needs say, wait or expect", path...)
		}
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func check(x Expect, p *Player, turns []Turn) []string {
	var msgs []engine.Send
	var all Turn
	for _, t := range turns {
		msgs = append(msgs, t.Messages()...)
		all.Effects = append(all.Effects, t.Effects...)
	}
	var text strings.Builder
	for _, m := range msgs {
		text.WriteString(m.Text + "\n")
	}
	var out []string
	if x.Step != "" && p.Conv.Step != x.Step {
		out = append(out, fmt.Sprintf("expected step %q, the conversation is at %q", x.Step, p.Conv.Step))
	}
	if x.State != "" && string(p.Conv.Status) != x.State {
		out = append(out, fmt.Sprintf("expected state %s, got %s", x.State, p.Conv.Status))
	}
	if x.Outcome != "" && p.Conv.Outcome != x.Outcome {
		out = append(out, fmt.Sprintf("expected outcome %q, got %q", x.Outcome, p.Conv.Outcome))
	}
	for _, s := range x.Contains {
		if !strings.Contains(text.String(), s) {
			out = append(out, fmt.Sprintf("expected a message containing %q; got:\n%s", s, indent(text.String())))
		}
	}
	for _, s := range x.NotContains {
		if strings.Contains(text.String(), s) {
			out = append(out, fmt.Sprintf("expected no message containing %q", s))
		}
	}
	if x.Callback != nil && all.Has(engine.Callback{}) != *x.Callback {
		out = append(out, fmt.Sprintf("expected callback task: %v, got %v", *x.Callback, !*x.Callback))
	}
	if x.Preferred != "" {
		var got []string
		for _, e := range all.Effects {
			if cb, ok := e.(engine.Callback); ok {
				got = append(got, cmp(cb.Preferred, "(not set)"))
			}
		}
		if !slices.Contains(got, x.Preferred) {
			out = append(out, fmt.Sprintf("expected a callback task with preferred moment %q, got %v", x.Preferred, got))
		}
	}
	if x.Forward != nil && all.Has(engine.Forward{}) != *x.Forward {
		out = append(out, fmt.Sprintf("expected forward to the case worker: %v, got %v", *x.Forward, !*x.Forward))
	}
	if x.Messages != nil && len(msgs) != *x.Messages {
		out = append(out, fmt.Sprintf("expected %d messages, got %d", *x.Messages, len(msgs)))
	}
	if x.MaxSegments > 0 {
		for _, m := range msgs {
			if n := analyze(m.Text); n > x.MaxSegments {
				out = append(out, fmt.Sprintf("a message takes %d SMS segments, more than %d", n, x.MaxSegments))
			}
		}
	}
	return out
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = "    " + lines[i]
	}
	return strings.Join(lines, "\n")
}

func writeTurn(tr *bytes.Buffer, t Turn) {
	fmt.Fprintf(tr, "\n== %s @ %s\n", t.Event, t.At.Format("Mon 2006-01-02 15:04 MST"))
	if t.Matched != "" {
		fmt.Fprintf(tr, "matched: %s\n", t.Matched)
	}
	for _, e := range t.Effects {
		if s, ok := e.(engine.Send); ok {
			kind := "reply"
			if s.Proactive {
				kind = "proactive"
			}
			fmt.Fprintf(tr, "seintje (%s, %s, step %s):\n%s", s.Kind, kind, s.Step, Phone(s))
		}
	}
	for _, d := range Describe(t) {
		tr.WriteString(d + "\n")
	}
	fmt.Fprintf(tr, "state: %s at %s", t.State, t.Step)
	if t.Outcome != "" {
		fmt.Fprintf(tr, ", outcome %s", t.Outcome)
	}
	tr.WriteString("\n")
}

// Outcome of comparing a transcript with its golden file.
const (
	GoldenSame    = "same"
	GoldenChanged = "changed"
	GoldenWritten = "written"
)

// Golden compares (or with update, rewrites) the golden transcript of res.
func Golden(res Result, update bool) (string, error) {
	path := GoldenPath(res.File)
	old, err := os.ReadFile(path)
	if err == nil && bytes.Equal(old, []byte(res.Transcript)) {
		return GoldenSame, nil
	}
	if !update {
		if os.IsNotExist(err) {
			return GoldenChanged, fmt.Errorf("no golden transcript %s: run with -update and review it", path)
		}
		return GoldenChanged, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("create testdata: %w", err)
	}
	if err := os.WriteFile(path, []byte(res.Transcript), 0o644); err != nil {
		return "", fmt.Errorf("write golden transcript: %w", err)
	}
	return GoldenWritten, nil
}

// Diff returns the first differing lines of two transcripts, for a failure
// message.
func Diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n  golden: %s\n  now:    %s", i+1, a, b)
		}
	}
	return ""
}
