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
		{"undefined variable", "{{date .Vars.due_date}}", "{{date .Vars.due}}", "9:51 undefined-variable"},
		{"unused variable", "{{date .Vars.due_date}}", "morgen", "4:11 unused-variable"},
		{"template syntax", "{{.FirstName}}", "{{.FirstName}", "9:18 template"},
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

// TestNoWayOut: every exit counts (routes, otherwise, next, a wait's then
// after a timeout or working days, the flow's expiry), so a trap is found
// and nothing else is reported.
func TestNoWayOut(t *testing.T) {
	const head = "id: t\nversion: 1\n"
	const trap = `steps:
  - id: ask
    say: {nl: "Hallo"}
    replies:
      - match: ["1"]
        goto: loop
    otherwise: ask
    WAIT
  - id: loop
    say: {nl: "Nog iets?"}
    next: ask
  - id: done
    action: end
`
	tests := []struct {
		name, src string
		want      []string // "line:col code" of no-way-out, no-timeout and unknown-step
	}{
		{"every route loops", head + strings.Replace(trap, "WAIT", "wait: {timeout: 48h, then: ask}", 1),
			[]string{"4:9 no-way-out", "11:9 no-way-out", "14:9 unreachable-step"}},
		{"timeout leads to the end", head + strings.Replace(trap, "WAIT", "wait: {timeout: 48h, then: done}", 1), nil},
		{"working days lead to the end", head + strings.Replace(trap, "WAIT", "wait: {working_days: 2, then: done}", 1), nil},
		{"working days lead back", head + strings.Replace(trap, "WAIT", "wait: {working_days: 2, then: loop}", 1),
			[]string{"4:9 no-way-out", "11:9 no-way-out", "14:9 unreachable-step"}},
		{"no wait at all", head + strings.Replace(trap, "    WAIT\n", "", 1),
			[]string{"4:7 no-timeout", "4:9 no-way-out", "10:9 no-way-out", "13:9 unreachable-step"}},
		{"expire is a way out", head + "expire: {after: 14d}\n" + strings.Replace(trap, "    WAIT\n", "", 1),
			[]string{"14:9 unreachable-step"}},
		{"expire with a wait that loops", head + "expire: {after: 14d, outcome: no_response}\n" + strings.Replace(trap, "WAIT", "wait: {working_days: 2, then: ask}", 1),
			[]string{"15:9 unreachable-step"}},
		{"a reply route is the way out", head + strings.Replace(strings.Replace(trap, "goto: loop", "goto: done", 1), "WAIT", "wait: {timeout: 1h, then: loop}", 1), nil},
		{"a trap next to another error", head + strings.Replace(strings.Replace(trap, "WAIT", "wait: {timeout: 48h, then: ask}", 1), `"Nog iets?"`, `"{{.Nope}}"`, 1),
			[]string{"4:9 no-way-out", "11:9 no-way-out"}},
		{"unknown target: one error", head + strings.Replace(trap, "WAIT", "wait: {timeout: 48h, then: dne}", 1),
			[]string{"10:32 unknown-step"}},
	}
	codes := []string{"no-way-out", "no-timeout", "unknown-step", "unreachable-step"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := flow.Parse("t.yaml", []byte(tc.src))
			var got []string
			for _, d := range ds {
				if slices.Contains(codes, d.Code) {
					got = append(got, fmt.Sprintf("%d:%d %s", d.Line, d.Col, d.Code))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v\n%v", got, tc.want, ds)
			}
		})
	}
}
