package graph_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/graph"
)

var update = flag.Bool("update", false, "rewrite testdata/*.mmd and *.dot")

func TestGraph(t *testing.T) {
	src := "id: t\nversion: 1\nsteps:\n  - id: ask\n    say: {nl: \"Hoi, bel {{.CallbackNumber}}\"}\n    replies:\n      - match: [\"1\", \"ja\"]\n        goto: end\n    otherwise: end\n    wait: {timeout: 48h, then: end}\n  - id: end\n    action: end\n"
	timing, err := os.ReadFile("testdata/timing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, src, format string
		want              []string
		not               []string
	}{
		{"routes mermaid", src, graph.Mermaid,
			[]string{"flowchart TD", `s_ask -->|"1 / ja"| s_end`, `s_ask -->|"anders"| s_end`, `s_ask -.->|"na 48h"| s_end`, `s_end(["end<br/>einde"])`},
			[]string{"n_expire", "n_escalate", "classDef", "herinnering"}},
		{"routes dot", src, graph.Dot,
			[]string{`digraph "t" {`, `"ask" -> "end" [label="1 / ja"];`, `"ask" -> "end" [label="na 48h", style=dashed];`},
			[]string{"_expire", "shape=note"}},
		{"timing mermaid", string(timing), graph.Mermaid, []string{
			`s_ask{{"ask<br/>wacht op antwoord<br/>herinnering 3 dagen voor due_date 10:00<br/>herinnering 1 dag voor due_date 10:00<br/>herinnering op due_date 08:30"}}`,
			`n_expire>"verloopt na 14d<br/>nog open? einde: no_response"]`,
			`n_escalate>"escalatie: terugbeltaak<br/>na 2 berichten zonder antwoord<br/>of als het eerste bericht niet aankomt<br/>prioriteit 1"]`,
			`s_ask -.->|"na 3d"| s_help`,
			`s_help -.->|"na 1 werkdag"| s_callback`,
			`class n_expire,n_escalate note`,
		}, nil},
		{"timing dot", string(timing), graph.Dot, []string{
			`"ask" [label="ask\nwacht op antwoord\nherinnering 3 dagen voor due_date 10:00\nherinnering 1 dag voor due_date 10:00\nherinnering op due_date 08:30", shape=hexagon];`,
			`"_expire" [label="verloopt na 14d\nnog open? einde: no_response", shape=note, style=dashed];`,
			`"_escalate" [label="escalatie: terugbeltaak\nna 2 berichten zonder antwoord\nof als het eerste bericht niet aankomt\nprioriteit 1", shape=note, style=dashed];`,
			`"help" -> "callback" [label="na 1 werkdag", style=dashed];`,
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, ds := flow.Parse("t.yaml", []byte(tc.src))
			if f == nil {
				t.Fatal(ds.Err())
			}
			var b strings.Builder
			if err := graph.Write(&b, f, tc.format); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("%s output lacks %q:\n%s", tc.format, w, b.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("%s output has %q:\n%s", tc.format, w, b.String())
				}
			}
		})
	}
	if err := graph.Write(&strings.Builder{}, nil, "png"); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestGolden compares whole drawings of testdata/*.yaml with
// testdata/<name>.mmd and .dot (rewrite them with -update and review them).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata flows: %v", err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, ds := flow.Parse(file, src)
		if f == nil || ds.HasErrors() {
			t.Fatalf("%s: %v", file, ds.Err())
		}
		for _, tc := range []struct{ format, ext string }{{graph.Mermaid, ".mmd"}, {graph.Dot, ".dot"}} {
			t.Run(filepath.Base(file)+tc.ext, func(t *testing.T) {
				var b strings.Builder
				if err := graph.Write(&b, f, tc.format); err != nil {
					t.Fatal(err)
				}
				golden := strings.TrimSuffix(file, ".yaml") + tc.ext
				if *update {
					if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update and review the file)", err)
				}
				if b.String() != string(want) {
					t.Errorf("%s differs from the drawing (run go test -update and review git diff):\n%s", golden, b.String())
				}
			})
		}
	}
}
