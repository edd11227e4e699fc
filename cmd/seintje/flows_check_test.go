package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seintje/seintje/internal/testflows"
)

// TestFlowsCheckSummary: check prints every diagnostic, then one summary
// line on the same stream, whose count matches the errors above it.
func TestFlowsCheckSummary(t *testing.T) {
	dir := testflows.Dir(t)
	var out, errb bytes.Buffer
	if rc := runFlows(context.Background(), []string{"check", dir}, &out, &errb); rc != 0 {
		t.Fatalf("rc %d: %s %s", rc, out.String(), errb.String())
	}
	if got := strings.TrimSpace(out.String()); got != "5 flows OK" {
		t.Errorf("check on good flows printed %q, want \"5 flows OK\"", got)
	}

	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "id: a\nversion: 1.5\nsteps:\n  - id: s\n    action: end\n")
	write("b.yaml", "id: b\nversion: twee\nstepz:\n  - id: s\n")
	out.Reset()
	if rc := runFlows(context.Background(), []string{"check", dir}, &out, &errb); rc != 1 {
		t.Fatalf("rc %d, want 1", rc)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		filepath.Join(dir, "a.yaml") + ":2:10: `version` must be a whole number, not 1.5; fix: write a whole number without a decimal point, e.g. `version: 3` (raise it by one on every change)",
		filepath.Join(dir, "b.yaml") + ":2:10: `version` must be a whole number, not \"twee\"; fix: write a whole number, e.g. `version: 3` (raise it by one on every change)",
		filepath.Join(dir, "b.yaml") + ":3:1: `stepz` is not a known key here; fix: did you mean `steps`?",
		"3 errors in 2 files",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestFlowsCheckWhatsApp: `flows check --whatsapp` reports every message
// Seintje starts on its own that has no WhatsApp template (on WhatsApp it
// would go by SMS outside the 24-hour window), as a warning with its
// place; without the flag, flows that declare no template are quiet.
func TestFlowsCheckWhatsApp(t *testing.T) {
	dir := testflows.Dir(t)
	for _, tc := range []struct {
		args []string
		want bool
	}{{[]string{"check", dir}, false}, {[]string{"check", "--whatsapp", dir}, true}} {
		var out, errb bytes.Buffer
		if rc := runFlows(context.Background(), tc.args, &out, &errb); rc != 0 {
			t.Fatalf("%v: rc %d: %s %s", tc.args, rc, out.String(), errb.String())
		}
		wantLine := filepath.Join(dir, "no-show.yaml") + ":"
		var found bool
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, wantLine) && strings.Contains(l, `warning: step "ask" starts a message on its own, but has no WhatsApp template; fix: `) {
				found = true
			}
		}
		if found != tc.want {
			t.Errorf("%v: no-show's first step reported %v, want %v:\n%s", tc.args, found, tc.want, out.String())
		}
	}
}
