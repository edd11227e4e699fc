package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/experiment"
	"github.com/seintje/seintje/internal/testflows"
)

// `seintje experiments report` asks the API with the token and prints the
// report as tables; an unknown experiment is a plain error.
func TestExperimentsReport(t *testing.T) {
	d := experiment.Design{ID: "form-text", Flow: "missing-form", Control: "holdout",
		Arms:           []experiment.Arm{{Name: "standard", Share: 80}, {Name: "holdout", Share: 20, Holdout: true}},
		Primary:        experiment.Measure{Outcome: "form_received", Window: 14 * 24 * time.Hour},
		SmallestEffect: 0.05}
	rep := experiment.Analyze(d, experiment.Counts{People: map[string]int{"standard": 80, "holdout": 20},
		Outcomes: map[string]map[string]int{"form_received": {"standard": 40, "holdout": 8}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/v1/experiments/form-text":
			_ = json.NewEncoder(w).Encode(map[string]any{"report": rep, "late_outcomes": map[string]map[string]int{}})
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":"not_found","detail":"no experiment with this id"}`))
		}
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"experiments", "report", "form-text", "--url", srv.URL, "--token", "tok"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"Experiment form-text (flow missing-form, running)", "standard  80      40", "50.0% (39.3% to 60.7%)", "Too few people to conclude yet"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"experiments", "report", "nope", "--url", srv.URL, "--token", "tok"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "no experiment with this id") {
		t.Errorf("unknown experiment: exit %d, %q", code, errOut.String())
	}
}

// `flows check` holds the hold-out arm to the setting: 20% passes by
// default, and fails when SEINTJE_EXPERIMENT_MAX_HOLDOUT is 10.
func TestFlowsCheckHoldoutCap(t *testing.T) {
	dir := testflows.ExperimentDir(t)
	var out, errb bytes.Buffer
	if rc := runFlows(context.Background(), []string{"check", dir}, &out, &errb); rc != 0 {
		t.Fatalf("rc %d: %s %s", rc, out.String(), errb.String())
	}
	t.Setenv("SEINTJE_EXPERIMENT_MAX_HOLDOUT", "10")
	out.Reset()
	if rc := runFlows(context.Background(), []string{"check", dir}, &out, &errb); rc != 1 {
		t.Fatalf("rc %d, want 1: %s", rc, out.String())
	}
	want := filepath.Join(dir, "form-exp.yaml") + `:44:14: the hold-out arm "holdout" gets 20% of the people, more than the 10% allowed`
	if !strings.HasPrefix(out.String(), want) || !strings.Contains(out.String(), "fix: give the hold-out arm at most 10%") {
		t.Errorf("got %q, want it to start with %q", out.String(), want)
	}
}
