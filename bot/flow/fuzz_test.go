package flow_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/flow"
)

// FuzzParse: the parser never panics, and a flow it accepts can render
// every text. Run: go test -run=^$ -fuzz=FuzzParse -fuzztime=20s ./bot/flow
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../internal/testflows/testdata/*.yaml")
	for _, p := range files {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("id: x\nversion: 1\nsteps:\n  - id: a\n    say: {nl: \"{{.Vars.q}}\"}\n"))
	f.Add([]byte("steps: [{id: a, next: a}]"))
	f.Fuzz(func(t *testing.T, src []byte) {
		var fl *flow.Flow
		var ds flow.Diagnostics
		within(t, func() { fl, ds = flow.Parse("fuzz.yaml", src) })
		if fl == nil {
			if !ds.HasErrors() {
				t.Fatal("no flow and no error")
			}
			return
		}
		d := flow.Data{FirstName: "A", Vars: map[string]any{}}
		for _, v := range fl.Variables {
			d.Vars[v.Name] = time.Time{}
			if v.Type == flow.TypeString {
				d.Vars[v.Name] = "x"
			}
		}
		within(t, func() {
			for _, s := range fl.Steps {
				_, _, _ = fl.Render(s.ID, "say", "nl", d)
				_, _, _ = fl.Render(s.ID, "simple", "en", d)
			}
		})
	})
}

// FuzzRender: any template text either fails to compile or renders
// without a panic.
func FuzzRender(f *testing.F) {
	f.Add("Hallo {{.FirstName}}, bel {{.CallbackNumber}}.", "2026-11-24T10:00:00+01:00")
	f.Add("{{datetime .Vars.appointment_at}} {{time .Vars.appointment_at}}", "x")
	f.Add("{{if .Vars.activity}}{{.Vars.activity}}{{else}}-{{end}}", "")
	f.Add("{{range .Vars}}{{.}}{{end}}{{template \"x\"}}", "")
	f.Fuzz(func(t *testing.T, text, value string) {
		var c *flow.Compiled
		var err error
		within(t, func() { c, err = flow.CompileText("fuzz", flow.Text{"nl": text}) })
		if err != nil {
			return
		}
		var v any = value
		if ts, err := time.Parse(time.RFC3339, value); err == nil {
			v = ts
		}
		within(t, func() {
			_, _ = c.Render("nl", flow.Data{Vars: map[string]any{"appointment_at": v, "activity": value}})
		})
	})
}

// maxInputTime bounds the work on one fuzz input (issue 8: no input may
// take over 1 s, so none can stall flows check, serve or a hot reload).
const maxInputTime = time.Second

// within fails the fuzz input when fn takes longer than maxInputTime; the
// fuzzer then keeps the input in testdata/fuzz as a regression test.
func within(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(maxInputTime):
		t.Fatalf("one input took over %s", maxInputTime)
	}
}
