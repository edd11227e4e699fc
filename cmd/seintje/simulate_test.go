package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/flowtest"
	"github.com/seintje/seintje/bot/simulate"
	"github.com/seintje/seintje/internal/testflows"
)

// TestFlowsSimulateCorpus pipes each shared conversation
// (bot/simulate/testdata/*.txt) into `seintje flows simulate` as a
// coordinator would, and expects the transcript that the simulator and
// the live service both give (bot/simulate's TestCorpusSimulateEqualsLive
// checks those two against each other and writes the .golden files).
func TestFlowsSimulateCorpus(t *testing.T) {
	files, err := filepath.Glob("../../bot/simulate/testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conversations: %v", err)
	}
	// Only the script's settings count, not the developer's environment.
	for _, k := range []string{"SEINTJE_CONFIG", "SEINTJE_QUIET_HOURS", "SEINTJE_WEEKLY_LIMIT", "SEINTJE_CALLBACK_NUMBER",
		"SEINTJE_CALLBACK_HOURS", "SEINTJE_AGENCY", "SEINTJE_HOLIDAY_GOOD_FRIDAY", "SEINTJE_HOLIDAY_LIBERATION_DAY"} {
		t.Setenv(k, "")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := simulate.ParseScript(string(b))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range sc.Env {
				t.Setenv(k, v)
			}
			want, err := os.ReadFile(strings.TrimSuffix(file, ".txt") + ".golden")
			if err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			args := append([]string{"simulate", "--dir", testflows.Dir(t)}, sc.Args()...)
			// The file goes in as it is: its # headers are comments.
			if rc := runFlowsIn(context.Background(), args, bytes.NewReader(b), &out, &errb); rc != 0 {
				t.Fatalf("rc %d: %s\n%s", rc, errb.String(), out.String())
			}
			_, got, ok := strings.Cut(out.String(), "flows OK\n")
			if !ok {
				t.Fatalf("no check summary before the transcript:\n%s", out.String())
			}
			if got != string(want) {
				t.Errorf("flows simulate differs from the shared transcript (- shared, + simulate):\n%s", flowtest.GoldenDiff(string(want), got))
			}
		})
	}
}
