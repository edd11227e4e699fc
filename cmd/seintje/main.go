// Command seintje runs Seintje, the friendly heads-up service for benefit
// recipients.
//
//	seintje serve [--demo] [--config file]   run the webhook service and workers
//	seintje reply <phone> <text...>          answer as a recipient (demo)
//	seintje flows check|lint|simulate|test|graph   coordinators' tools
//	seintje telegram set-webhook             register the Telegram webhook
//	seintje healthcheck [--ready]            probe the local service (containers)
//	seintje version                          print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Europe/Amsterdam on machines without zoneinfo
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the webhook service and workers (--demo: embedded Redis, console SMS)", runServe},
		{"reply", "answer as a recipient in the demo: seintje reply +31612345678 2", runReply},
		{"flows", "check, lint, simulate, test and draw flow files", runFlows},
		{"telegram", "telegram set-webhook: register the webhook with Telegram", runTelegram},
		{"healthcheck", "exit 0 when the local Seintje answers /healthz (container health checks)", runHealthcheck},
		{"version", "print the version of this binary", func(_ context.Context, args []string, stdout, stderr io.Writer) int {
			return runVersion(args, stdout, stderr)
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		args[0] = "version"
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "seintje: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: seintje <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every command takes --help.")
	fmt.Fprintln(w, "Try it: go run ./cmd/seintje serve --demo")
}
