package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/flowtest"
	"github.com/seintje/seintje/bot/graph"
	"github.com/seintje/seintje/bot/lint"
)

const flowsUsage = `Usage: seintje flows <command> [flags]

  check [--whatsapp] [dir]         every error at once, as file:line:col: message; fix: hint
  lint [dir] [--price 0.08] [--tone-words file] [--max-segments 3] [--max-segments-ucs2 6] [--texts]
                                   warnings about SMS length and cost, readability, tone
  simulate FLOW [--dir flows] [--lang nl] [--var k=v ...] [--start RFC3339]
                                   play a conversation as the recipient
  test [dir] [--update]            run the conversation tests (*.test.yaml)
  graph FLOW [--dir flows] [--format mermaid|dot]
                                   draw the steps and routes

dir defaults to ./flows. Exit code 1 on errors, so the commands work in CI.
Guide: docs/flows.md`

// runFlows is the coordinators' toolbox.
func runFlows(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runFlowsIn(ctx, args, os.Stdin, stdout, stderr)
}

// runFlowsIn is runFlows reading a simulation's lines from in.
func runFlowsIn(ctx context.Context, args []string, in io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, flowsUsage)
		return 2
	}
	rest := args[1:]
	switch args[0] {
	case "check":
		return flowsCheck(rest, stdout, stderr)
	case "lint":
		return flowsLint(rest, stdout, stderr)
	case "simulate", "sim":
		return flowsSimulate(ctx, rest, in, stdout, stderr)
	case "test":
		return flowsTest(rest, stdout, stderr)
	case "graph":
		return flowsGraph(rest, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, flowsUsage)
		return 0
	}
	fmt.Fprintf(stderr, "seintje flows: unknown command %q\n\n%s\n", args[0], flowsUsage)
	return 2
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (seintje flows graph no-show --format dot).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func dirArg(pos []string) string {
	if len(pos) > 0 {
		return pos[0]
	}
	return "flows"
}

// load parses dir and prints every diagnostic; ok is false on errors.
func load(dir string, stdout, stderr io.Writer) (map[string]*flow.Flow, bool) {
	flows, ds, err := flow.LoadDir(dir)
	if err != nil {
		fmt.Fprintln(stderr, "seintje flows:", err)
		return nil, false
	}
	// The hold-out cap is a setting; check against it when it is set here.
	maxHoldout := flow.DefaultMaxHoldout
	if v, err := strconv.ParseFloat(strings.TrimSuffix(os.Getenv("SEINTJE_EXPERIMENT_MAX_HOLDOUT"), "%"), 64); err == nil {
		maxHoldout = v
	}
	for _, id := range sortedIDs(flows) {
		ds = append(ds, flow.CheckHoldout(flows[id], maxHoldout)...)
	}
	ds.Sort()
	for _, d := range ds {
		fmt.Fprintln(stdout, d)
	}
	// The summary goes to the same stream as the diagnostics, after them,
	// so the count always follows the errors it counts.
	fmt.Fprintln(stdout, summary(flows, ds))
	return flows, !ds.HasErrors()
}

// summary is the last line of check: "5 flows OK", or how many errors and
// warnings were found.
func summary(flows map[string]*flow.Flow, ds flow.Diagnostics) string {
	errs := len(ds.Errors())
	warns := len(ds) - errs
	plural := func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	if errs == 0 {
		s := plural(len(flows), "flow", "flows") + " OK"
		if warns > 0 {
			s += ", " + plural(warns, "warning", "warnings")
		}
		return s
	}
	files := map[string]bool{}
	for _, d := range ds.Errors() {
		files[d.File] = true
	}
	s := plural(errs, "error", "errors") + " in " + plural(len(files), "file", "files")
	if warns > 0 {
		s += ", " + plural(warns, "warning", "warnings")
	}
	return s
}

func flowsCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("flows check", "seintje flows check [--whatsapp] [dir]", "", stdout, stderr)
	wa := fs.Bool("whatsapp", false, "also warn about every message Seintje starts on its own that has no WhatsApp template")
	pos, code, ok := parseArgs(fs, args, stdout, true)
	if !ok {
		return code
	}
	flows, ok := load(dirArg(pos), stdout, stderr)
	if !ok {
		return 1
	}
	if *wa {
		for _, id := range sortedIDs(flows) {
			for _, d := range flow.WhatsAppGaps(flows[id]) {
				fmt.Fprintln(stdout, d)
			}
		}
	}
	return 0
}

func flowsLint(args []string, stdout, stderr io.Writer) int {
	cfg := lint.Default()
	fs := newFlagSet("flows lint", "seintje flows lint [dir] [flags]", "", stdout, stderr)
	fs.Float64Var(&cfg.PricePerSegment, "price", cfg.PricePerSegment, "price per SMS segment in euro (default is an example: about Twilio's NL list price)")
	toneFile := fs.String("tone-words", "", "file with words to avoid in a first message, one a line (# comments); replaces the default list")
	fs.IntVar(&cfg.MaxSegments, "max-segments", cfg.MaxSegments, "warn when a GSM-7 text takes more SMS segments")
	fs.IntVar(&cfg.MaxSegmentsUCS2, "max-segments-ucs2", cfg.MaxSegmentsUCS2, "warn when a UCS-2 text (Turkish, Polish, Ukrainian, Arabic) takes more SMS segments")
	fs.Float64Var(&cfg.MinReadingEase, "min-ease", cfg.MinReadingEase, "warn below this Flesch-Douma reading ease (Dutch)")
	fs.IntVar(&cfg.MaxSentenceWords, "max-sentence-words", cfg.MaxSentenceWords, "warn about longer sentences")
	fs.StringVar(&cfg.Sample.Contact.Number, "callback-number", cfg.Sample.Contact.Number, "callback number used to render the texts")
	showTexts := fs.Bool("texts", false, "also print every rendered text as the phone shows it")
	werror := fs.Bool("werror", false, "exit 1 on warnings too")
	pos, code, ok := parseArgs(fs, args, stdout, true)
	if !ok {
		return code
	}
	if *toneFile != "" {
		words, err := readWordList(*toneFile)
		if err != nil {
			fmt.Fprintln(stderr, "seintje flows lint:", err)
			return 2
		}
		cfg.ToneWords = words
	}
	flows, ok := load(dirArg(pos), stdout, stderr)
	if !ok {
		return 1
	}
	warnings := 0
	for _, id := range sortedIDs(flows) {
		res := lint.Lint(flows[id], cfg)
		for _, d := range res.Diagnostics {
			fmt.Fprintln(stdout, d)
		}
		warnings += len(res.Diagnostics)
		fmt.Fprintf(stdout, "\n%s v%d: texts rendered with sample values (price €%.3f per segment)\n", id, flows[id].Version, cfg.PricePerSegment)
		for _, t := range res.Texts {
			name := t.Step
			if name == "" {
				name = "(flow)"
			}
			first := ""
			if t.First {
				first = " first"
			}
			ease := ""
			if t.Lang == flow.DefaultLang {
				ease = fmt.Sprintf(", Flesch-Douma %.0f", t.Reading.Ease)
			}
			kind := t.Kind
			if t.Reminder > 0 {
				kind = fmt.Sprintf("%s %d", t.Kind, t.Reminder)
			}
			fmt.Fprintf(stdout, "  %-16s %-10s %s%s  %s, €%.2f%s\n", name, kind, t.Lang, first, t.SMS, t.Cost, ease)
			if *showTexts {
				for _, l := range strings.Split(t.Text, "\n") {
					fmt.Fprintf(stdout, "      │ %s\n", l)
				}
			}
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "%d warning(s)\n", warnings)
	if *werror && warnings > 0 {
		return 1
	}
	return 0
}

func readWordList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tone words: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, strings.ToLower(l))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tone words: %w", err)
	}
	return out, nil
}

// varFlags collects repeated --var k=v.
type varFlags map[string]any

func (v varFlags) String() string { return "" }
func (v varFlags) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("write --var name=value")
	}
	v[strings.TrimSpace(k)] = strings.TrimSpace(val)
	return nil
}

func flowsTest(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("flows test", "seintje flows test [dir] [--update] [-v]", "", stdout, stderr)
	update := fs.Bool("update", false, "rewrite the golden transcripts (testdata/*.golden); review them with git diff")
	verbose := fs.Bool("v", false, "print the transcripts")
	pos, code, ok := parseArgs(fs, args, stdout, true)
	if !ok {
		return code
	}
	dir := dirArg(pos)
	flows, ok := load(dir, stdout, stderr)
	if !ok {
		return 1
	}
	e, err := flowtest.Engine()
	if err != nil {
		fmt.Fprintln(stderr, "seintje flows test:", err)
		return 1
	}
	files, err := flowtest.TestFiles(dir)
	if err != nil {
		fmt.Fprintln(stderr, "seintje flows test:", err)
		return 1
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "seintje flows test: no *.test.yaml files in %s\n", dir)
		return 1
	}
	failed := 0
	for _, file := range files {
		res, err := flowtest.RunFile(e, flows, file)
		if err != nil {
			fmt.Fprintln(stderr, "seintje flows test:", err)
			return 1
		}
		for _, d := range res.Failures {
			fmt.Fprintln(stdout, d)
		}
		status := "ok"
		if len(res.Failures) > 0 {
			status = "FAIL"
			failed++
		}
		if *verbose {
			fmt.Fprint(stdout, res.Transcript)
		}
		if len(res.Failures) == 0 {
			g, err := flowtest.Golden(res, *update)
			switch {
			case err != nil:
				fmt.Fprintln(stdout, err)
				status = "FAIL"
				failed++
			case g == flowtest.GoldenChanged:
				old, _ := os.ReadFile(flowtest.GoldenPath(file))
				fmt.Fprintf(stdout, "%s: transcript differs from %s:\n%s\n  (intended? run seintje flows test --update and review git diff)\n",
					file, flowtest.GoldenPath(file), indentLines(flowtest.GoldenDiff(string(old), res.Transcript), "  "))
				status = "FAIL"
				failed++
			case g == flowtest.GoldenWritten:
				status = "ok (golden rewritten)"
			}
		}
		fmt.Fprintf(stdout, "%-6s %s\n", status, filepath.ToSlash(file))
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func flowsGraph(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("flows graph", "seintje flows graph FLOW [--dir flows] [--format mermaid|dot]", "", stdout, stderr)
	dir := fs.String("dir", "flows", "flows directory")
	format := fs.String("format", graph.Mermaid, "mermaid or dot")
	pos, code, ok := parseArgs(fs, args, stdout, true)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "Usage: seintje flows graph FLOW [--format mermaid|dot]")
		return 2
	}
	flows, ok := load(*dir, io.Discard, stderr)
	if !ok {
		fmt.Fprintln(stderr, "run seintje flows check first")
		return 1
	}
	f := flows[pos[0]]
	if f == nil {
		fmt.Fprintf(stderr, "seintje flows graph: no flow %q in %s\n", pos[0], *dir)
		return 1
	}
	if err := graph.Write(stdout, f, *format); err != nil {
		fmt.Fprintln(stderr, "seintje flows graph:", err)
		return 2
	}
	return 0
}

func sortedIDs(flows map[string]*flow.Flow) []string {
	ids := make([]string, 0, len(flows))
	for id := range flows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func indentLines(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}
