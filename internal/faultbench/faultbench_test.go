//go:build unix

package main

// The fault bench at a small count, as CI runs it: the real `seintje
// serve` binary is SIGKILLed while 300 nudges are being accepted and must
// send every accepted nudge's first SMS (none stranded); Redis is stalled
// for 3 s while replies arrive at 20/s and every reply must be processed
// once. The full-size runs are `go run ./internal/faultbench` (figures in
// docs/reliability.md).

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/seintje/seintje/internal/redisproc"
)

func TestFaultBenchSmall(t *testing.T) {
	if raceEnabled {
		// The bench drives a separate process; the race run adds nothing
		// but another 80 s of CI.
		t.Skip("not under -race: the plain go test run covers it")
	}
	if err := redisproc.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel) // after the parallel subtests
	// CI has built the shipped static binary already (.ci/run).
	bin := os.Getenv("SEINTJE_STATIC_BINARY")
	if bin == "" {
		var err error
		if bin, err = buildSeintje(ctx, t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	b := &bench{bin: bin, work: t.TempDir(), log: t.Logf, converge: 100 * time.Second}

	check := func(t *testing.T, r result) {
		t.Helper()
		t.Logf("%s: %s; %d items, %d lost, %d doubled (max %d), webhooks %d (slowest %v, %d over 2 s, %d not 200), %v",
			r.Scenario, r.Detail, r.Items, r.Lost, r.Doubled, r.MaxDoubled, r.Webhooks.n, r.Webhooks.max, r.Webhooks.late, r.Webhooks.failed, r.Took)
		switch {
		case r.Err != nil:
			t.Fatal(r.Err)
		case r.Lost > 0:
			t.Errorf("%s: %d lost (stranded nudges or unprocessed replies)", r.Scenario, r.Lost)
		case r.Doubled > r.MaxDoubled:
			t.Errorf("%s: %d doubled, at most %d allowed", r.Scenario, r.Doubled, r.MaxDoubled)
		case r.Webhooks.late > 0 || r.Webhooks.failed > 0:
			t.Errorf("%s: %d webhooks over 2 s, %d not 200", r.Scenario, r.Webhooks.late, r.Webhooks.failed)
		}
	}
	t.Run("kill", func(t *testing.T) {
		t.Parallel()
		check(t, b.runKill(ctx, 1, 300, "accept", 1000))
	})
	t.Run("stall", func(t *testing.T) {
		t.Parallel()
		check(t, b.runOutage(ctx, 1, outage{mode: "stall", before: time.Second, length: 3 * time.Second, after: time.Second, rate: 20}))
	})
}
