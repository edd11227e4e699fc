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
		fl, ds := flow.Parse("fuzz.yaml", src)
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
		for _, s := range fl.Steps {
			_, _, _ = fl.Render(s.ID, "say", "nl", d)
			_, _, _ = fl.Render(s.ID, "simple", "en", d)
		}
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
		c, err := flow.CompileText("fuzz", flow.Text{"nl": text})
		if err != nil {
			return
		}
		var v any = value
		if ts, err := time.Parse(time.RFC3339, value); err == nil {
			v = ts
		}
		_, _ = c.Render("nl", flow.Data{Vars: map[string]any{"appointment_at": v, "activity": value}})
	})
}
