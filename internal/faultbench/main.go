//go:build unix

// Command faultbench reproduces the fault scenarios of issue #8 against
// the real `seintje serve` binary, a private redis-server (never the
// shared one) and a loopback fake Twilio, and checks that nothing is lost:
//
//	go run ./internal/faultbench kill     [-n 5000] [-runs 10]  # SIGKILL of seintje serve during a batch
//	go run ./internal/faultbench kill -phase batch               # the same, the nudges uploaded as one batch
//	go run ./internal/faultbench stall    [-outage 25s]          # Redis stalled (SIGSTOP), replies at 20/s
//	go run ./internal/faultbench down     [-outage 25s]          # Redis killed, restarted after the outage
//	go run ./internal/faultbench failover [-n 200]               # Sentinel failover under load
//	go run ./internal/faultbench all
//
// It prints a summary table and exits 1 when anything was lost, doubled
// beyond the at-least-once window, or a webhook answered late or not 200.
// Figures and commands are in docs/reliability.md. Unix only (signals).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/seintje/seintje/internal/redisproc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command's flags.
type options struct {
	scenario  string
	n, runs   int
	phase     string
	outage    time.Duration
	rate      float64
	smsRate   float64
	bin, keep string
	converge  time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("faultbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.n, "n", 0, "nudges per run (kill: 5000, failover: 200)")
	fs.IntVar(&o.runs, "runs", 0, "runs (kill: 10, others: 1)")
	fs.StringVar(&o.phase, "phase", "alternate", "kill: when to kill: accept (while nudges are accepted), send (while they are sent), alternate, batch (while a started batch is sent)")
	fs.DurationVar(&o.outage, "outage", 25*time.Second, "stall/down: how long Redis is stalled or down")
	fs.Float64Var(&o.rate, "rate", 20, "stall/down: replies per second")
	fs.Float64Var(&o.smsRate, "sms-rate", 100, "kill: SEINTJE_SMS_RATE of seintje serve")
	fs.StringVar(&o.bin, "bin", "", "seintje binary to run (default: go build ./cmd/seintje)")
	fs.StringVar(&o.keep, "work", "", "work directory to keep (Redis data, spools, seintje.log); default a temporary one, removed")
	fs.DurationVar(&o.converge, "converge", 2*time.Minute, "how long to wait for Seintje to catch up after a fault")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./internal/faultbench kill|stall|down|failover|all [flags]")
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return 2
	}
	o.scenario = args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	switch o.scenario {
	case "kill", "stall", "down", "failover", "all":
	default:
		fs.Usage()
		return 2
	}
	results, err := runScenarios(ctx, o, stderr)
	printTable(stdout, results)
	if err != nil {
		fmt.Fprintln(stderr, "faultbench:", err)
		return 1
	}
	for _, r := range results {
		if !r.ok() {
			return 1
		}
	}
	return 0
}

func runScenarios(ctx context.Context, o options, stderr io.Writer) ([]result, error) {
	if err := redisproc.Available(); err != nil {
		return nil, err
	}
	var err error
	work := o.keep
	if work == "" {
		if work, err = os.MkdirTemp("", "faultbench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(work)
	} else if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	b := &bench{work: work, bin: o.bin, converge: o.converge,
		log: func(f string, a ...any) { fmt.Fprintf(stderr, time.Now().Format("15:04:05 ")+f+"\n", a...) }}
	if b.bin == "" {
		b.log("building ./cmd/seintje")
		if b.bin, err = buildSeintje(ctx, work); err != nil {
			return nil, err
		}
	}
	var out []result
	add := func(r result) {
		if r.Err != nil {
			b.log("%s run %d: %v", r.Scenario, r.Run, r.Err)
		}
		out = append(out, r)
	}
	want := func(s string) bool { return o.scenario == s || o.scenario == "all" }
	if want("kill") {
		n, runs := orDefault(o.n, 5000), orDefault(o.runs, 10)
		for r := 1; r <= runs && ctx.Err() == nil; r++ {
			phase := o.phase
			if phase == "alternate" {
				phase = map[bool]string{true: "accept", false: "send"}[r%2 == 1]
			}
			add(b.runKill(ctx, r, n, phase, o.smsRate))
		}
	}
	for _, mode := range []string{"stall", "down"} {
		if want(mode) {
			for r := 1; r <= orDefault(o.runs, 1) && ctx.Err() == nil; r++ {
				add(b.runOutage(ctx, r, outage{mode: mode, before: 5 * time.Second, length: o.outage, after: 5 * time.Second, rate: o.rate}))
			}
		}
	}
	if want("failover") {
		for r := 1; r <= orDefault(o.runs, 1) && ctx.Err() == nil; r++ {
			add(b.runFailover(ctx, r, orDefault(o.n, 200)))
		}
	}
	if ctx.Err() != nil {
		return out, errors.New("interrupted")
	}
	return out, nil
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// printTable writes the summary.
func printTable(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\trun\tfault\titems\tlost\tdoubled (max)\twebhooks\tslowest\t>2s\tnot 200\ttook\tresult")
	for _, r := range results {
		verdict := "ok"
		if !r.ok() {
			verdict = "FAIL"
			if r.Err != nil {
				verdict += ": " + r.Err.Error()
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d (%d)\t%d\t%v\t%d\t%d\t%v\t%s\n", r.Scenario, r.Run, r.Detail, r.Items, r.Lost,
			r.Doubled, r.MaxDoubled, r.Webhooks.n, r.Webhooks.max.Round(time.Millisecond), r.Webhooks.late, r.Webhooks.failed,
			r.Took.Round(100*time.Millisecond), verdict)
	}
	tw.Flush()
}
