package graph_test

import (
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/graph"
)

func TestGraph(t *testing.T) {
	src := "id: t\nversion: 1\nsteps:\n  - id: ask\n    say: {nl: \"Hoi\"}\n    replies:\n      - match: [\"1\", \"ja\"]\n        goto: end\n    otherwise: end\n    wait: {timeout: 48h, then: end}\n  - id: end\n    action: end\n"
	f, ds := flow.Parse("t.yaml", []byte(src))
	if f == nil {
		t.Fatal(ds.Err())
	}
	tests := []struct {
		format string
		want   []string
	}{
		{graph.Mermaid, []string{"flowchart TD", `s_ask -->|"1 / ja"| s_end`, `s_ask -->|"anders"| s_end`, `s_ask -.->|"na 48h"| s_end`, `s_end(["end<br/>einde"])`}},
		{graph.Dot, []string{`digraph "t" {`, `"ask" -> "end" [label="1 / ja"];`, `"ask" -> "end" [label="na 48h", style=dashed];`}},
	}
	for _, tc := range tests {
		var b strings.Builder
		if err := graph.Write(&b, f, tc.format); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s output lacks %q:\n%s", tc.format, w, b.String())
			}
		}
	}
	if err := graph.Write(&strings.Builder{}, f, "png"); err == nil {
		t.Error("unknown format accepted")
	}
}
