package flow_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/flow"
)

const base = `id: t
version: 1
variables:
  - name: due_date
    type: date
steps:
  - id: ask
    say:
      nl: "Hallo {{.FirstName}}, voor {{date .Vars.due_date}}. Bel {{.CallbackNumber}}."
    replies:
      - match: ["1"]
        goto: done
    wait:
      timeout: 48h
      then: done
  - id: done
    action: end
`

// TestChecks: every check reports its code at the expected file:line:col.
func TestChecks(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           string // "line:col code"
	}{
		{"unknown step", "goto: done", "goto: dne", "12:15 unknown-step"},
		{"unreachable step", "  - id: done\n    action: end\n", "  - id: done\n    action: end\n  - id: lost\n    action: end\n", "18:9 unreachable-step"},
		{"undefined variable", "{{date .Vars.due_date}}", "{{date .Vars.due}}", "9:11 undefined-variable"},
		{"unused variable", "{{date .Vars.due_date}}", "morgen", "4:11 unused-variable"},
		{"template syntax", "{{.FirstName}}", "{{.FirstName}", "9:11 template"},
		{"missing Dutch", "      nl: \"Hallo", "      en: \"Hallo", "9:9 missing-dutch"},
		{"never matches", `match: ["1"]`, `match: ["!!"]`, "11:17 empty-match"},
		{"protected variable", "name: due_date", "name: nationaliteit", "4:11 protected-variable"},
		{"protected variable en", "name: due_date", "name: country_of_birth", "4:11 protected-variable"},
		{"no way out", "      then: done\n  - id: done", "      then: stuck\n  - id: stuck\n    say: {nl: \"Nog iets?\"}\n    otherwise: stuck\n    wait: {timeout: 1h, then: stuck}\n  - id: done", "16:9 no-way-out"},
		{"no timeout", "    wait:\n      timeout: 48h\n      then: done\n", "", "7:7 no-timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.old) {
				t.Fatalf("base has no %q", tc.old)
			}
			src := strings.Replace(base, tc.old, tc.new, 1)
			_, ds := flow.Parse("t.yaml", []byte(src))
			var got []string
			for _, d := range ds {
				got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Col, d.Code))
				if d.File != "t.yaml" || d.Hint == "" {
					t.Errorf("diagnostic without file or hint: %s", d)
				}
			}
			if !slices.Contains(got, tc.want) {
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
}

func TestBaseIsClean(t *testing.T) {
	if _, ds := flow.Parse("t.yaml", []byte(base)); len(ds) > 0 {
		t.Fatalf("base flow has diagnostics: %v", ds)
	}
}

func TestProtectedTerm(t *testing.T) {
	tests := []struct{ name, want string }{
		{"nationaliteit", "nationality"}, {"tweede_nationaliteit", "nationality"}, {"afkomst", "origin"},
		{"geboorteland", "origin"}, {"etniciteit", "ethnicity"}, {"religie", "religion"}, {"geloof", "religion"},
		{"ras", "race"}, {"race", "race"}, {"due_date", ""}, {"grasmaaier", ""}, {"appointment_at", ""},
		{"form", ""}, {"activity", ""},
	}
	for _, tc := range tests {
		if got := flow.ProtectedTerm(tc.name); got != tc.want {
			t.Errorf("ProtectedTerm(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
