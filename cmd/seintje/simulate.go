package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/simulate"
)

// flowsSimulate plays a conversation on the live code path: a complete
// Seintje on an embedded Redis with the console channel (as the demo),
// on a simulated clock. Typed at a terminal it has line editing and
// history; piped in, it reads one line at a time (a conversation file).
func flowsSimulate(ctx context.Context, args []string, in io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("flows simulate", "seintje flows simulate FLOW [flags] [< conversation.txt]",
		"Plays a conversation as the recipient, on the same code path as the service: keywords (STOP, HELP, START),\n"+
			"sending hours, the weekly limit, reminders, timeouts and expiry, on a simulated clock.\n"+
			"Sending hours and limits come from the settings (SEINTJE_QUIET_HOURS, SEINTJE_WEEKLY_LIMIT, --config).\n\n"+simulate.Help, stdout, stderr)
	dir := fs.String("dir", "flows", "flows directory")
	cfgPath := fs.String("config", "", "YAML config file (default: $SEINTJE_CONFIG); only its sending and callback settings are used")
	lang := fs.String("lang", flow.DefaultLang, "the recipient's language")
	name := fs.String("name", "Samira", "the recipient's name")
	cw := fs.String("caseworker", "Anouk de Vries", "the case worker's name")
	start := fs.String("start", "", "clock at the first message, RFC 3339 (default: now)")
	verbose := fs.Bool("v", false, "show the service's log")
	vars := varFlags{}
	fs.Var(vars, "var", "a flow variable, name=value (repeatable)")
	pos, code, ok := parseArgs(fs, args, stdout, true)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "Usage: seintje flows simulate FLOW [--lang nl] [--var name=value ...]")
		return 2
	}
	flows, ok := load(*dir, stdout, stderr)
	if !ok {
		return 1
	}
	f := flows[pos[0]]
	if f == nil {
		fmt.Fprintf(stderr, "seintje flows simulate: no flow %q in %s (have: %s)\n", pos[0], *dir, strings.Join(sortedIDs(flows), ", "))
		return 1
	}
	if _, err := f.CheckVars(vars); err != nil {
		fmt.Fprintf(stderr, "seintje flows simulate: flow %s: %v\n", f.ID, err)
		for _, v := range f.Variables {
			fmt.Fprintf(stderr, "  --var %s=...  (%s%s) %s\n", v.Name, v.Type, map[bool]string{true: ", required"}[v.Required], strings.TrimSpace(v.Description))
		}
		return 2
	}
	cfg, err := config.Load(config.Options{Demo: true, Path: *cfgPath})
	if err != nil {
		fmt.Fprintln(stderr, "seintje flows simulate: settings:", err)
		return 1
	}
	cfg.FlowsDir = *dir
	now := time.Now().Truncate(time.Minute)
	if *start != "" {
		if now, err = time.Parse(time.RFC3339, *start); err != nil {
			fmt.Fprintln(stderr, "seintje flows simulate: --start must look like 2026-11-23T10:00:00+01:00")
			return 2
		}
	}
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = newLogger(stderr, "info", true)
	}

	lines, out, restore, err := simulateTerminal(in, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "seintje flows simulate:", err)
		return 1
	}
	defer restore()
	if _, interactive := lines.(*term.Terminal); interactive {
		fmt.Fprintln(out, simulate.Help)
	}
	s, err := simulate.New(ctx, simulate.NewSandbox(cfg, log), simulate.Options{Flow: f.ID, Lang: *lang, Name: *name,
		Caseworker: *cw, Vars: vars, Start: now}, out)
	if err != nil {
		restore()
		fmt.Fprintln(stderr, "seintje flows simulate:", err)
		return 1
	}
	defer s.Close()
	if err := simulate.Run(ctx, s, lines); err != nil {
		restore()
		fmt.Fprintln(stderr, "seintje flows simulate:", err)
		return 1
	}
	return 0
}

// simulateTerminal gives line editing with history (golang.org/x/term)
// when in and out are a terminal, and plain line reading otherwise.
// restore puts the terminal back; it may be called more than once.
func simulateTerminal(in io.Reader, out io.Writer) (simulate.Lines, io.Writer, func(), error) {
	fin, ok1 := in.(*os.File)
	fout, ok2 := out.(*os.File)
	if !ok1 || !ok2 || !term.IsTerminal(int(fin.Fd())) || !term.IsTerminal(int(fout.Fd())) {
		return simulate.NewScanLines(in), out, func() {}, nil
	}
	old, err := term.MakeRaw(int(fin.Fd()))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("terminal: %w", err)
	}
	done := false
	restore := func() {
		if !done {
			_ = term.Restore(int(fin.Fd()), old)
			done = true
		}
	}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{fin, fout}, "you> ")
	if w, h, err := term.GetSize(int(fout.Fd())); err == nil && w > 0 && h > 0 {
		_ = t.SetSize(w, h)
	}
	return t, t, restore, nil
}
