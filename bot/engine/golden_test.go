package engine_test

// Golden conversation tests.
//
// Every testdata/<name>.conv is a small script: a header that says which
// flow, language, names and variables to use, then one event per line. The
// test plays the script through the engine and writes a readable transcript
// to testdata/<name>.golden; the test fails when the transcript differs.
// After an intended change (new texts, new steps) run
//
//	go test ./bot/engine/ -run TestGolden -update
//
// and review the changed .golden files with `git diff` before committing.
//
// Script format (lines starting with # are comments, blank lines are ignored):
//
//	flow: no-show                        header: flow id (required)
//	lang: nl                             header: recipient language (default nl)
//	name: Samira                         header: first name (default Samira)
//	caseworker: Anouk de Vries           header: case worker (default Anouk de Vries)
//	var: appointment_at=2026-11-23T09:00:00+01:00   header, repeatable
//	now: 2026-11-23T10:00:00+01:00       header: clock at the first event
//
//	start                 start a (new) conversation
//	say: bel mij trug     the recipient sends a text
//	wait: 2h              move the clock on, nothing else
//	after: 48h            move the clock on, then fire the current timer
//	timeout: 1            fire the timer with sequence 1 now (e.g. a stale one)

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/texts"
	"github.com/seintje/seintje/internal/testflows"
)

var update = flag.Bool("update", false, "rewrite bot/engine/testdata/*.golden from the fixture flows and the engine")

// loadFlows loads the fixture flows (internal/testflows, frozen copies of
// the shipped flows: an edit to flows/ never changes these tests) and fails
// on any diagnostic (errors and warnings).
func loadFlows(t *testing.T) map[string]*flow.Flow {
	t.Helper()
	return testflows.Load(t)
}

func amsterdam(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// testEngine is the engine every golden conversation runs on.
func testEngine(t *testing.T) *engine.Engine {
	t.Helper()
	cat, err := texts.Default()
	if err != nil {
		t.Fatal(err)
	}
	return &engine.Engine{
		Contact: engine.Contact{
			Agency: "gemeente Utrecht",
			Number: "088 123 45 67",
			Hours: map[string]string{
				"nl": "maandag tot en met vrijdag van 9 tot 17 uur",
				"en": "Monday to Friday, 9am to 5pm",
			},
		},
		Texts:    cat,
		Location: amsterdam(t),
	}
}

// script is a parsed .conv file.
type script struct {
	flow       string
	lang       string
	name       string
	caseworker string
	vars       map[string]any
	varOrder   []string
	now        time.Time
	events     []event
}

type event struct {
	line int
	kind string // start, say, wait, after, timeout
	arg  string
}

func parseScript(path string) (*script, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := &script{lang: "nl", name: "Samira", caseworker: "Anouk de Vries", vars: map[string]any{}}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, hasColon := strings.Cut(line, ":")
		key = strings.TrimSpace(key)
		val = strings.TrimSpace(val)
		bad := func(msg string) error { return fmt.Errorf("%s:%d: %s", path, n, msg) }
		switch {
		case key == "start" && !hasColon:
			s.events = append(s.events, event{line: n, kind: "start"})
		case key == "say" || key == "wait" || key == "after" || key == "timeout":
			if len(s.events) == 0 {
				return nil, bad(key + " before the first start")
			}
			if key != "say" && val == "" {
				return nil, bad(key + " needs a value")
			}
			s.events = append(s.events, event{line: n, kind: key, arg: val})
		case len(s.events) > 0:
			return nil, bad(fmt.Sprintf("header %q after the first event; put headers at the top", key))
		case key == "flow":
			s.flow = val
		case key == "lang":
			s.lang = val
		case key == "name":
			s.name = val
		case key == "caseworker":
			s.caseworker = val
		case key == "var":
			k, v, ok := strings.Cut(val, "=")
			if !ok {
				return nil, bad("write var: name=value")
			}
			k = strings.TrimSpace(k)
			s.vars[k] = strings.TrimSpace(v)
			s.varOrder = append(s.varOrder, k)
		case key == "now":
			t, err := time.Parse(time.RFC3339, val)
			if err != nil {
				return nil, bad("now: " + err.Error())
			}
			s.now = t
		default:
			return nil, bad(fmt.Sprintf("unknown line %q", line))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	switch {
	case s.flow == "":
		return nil, fmt.Errorf("%s: no `flow:` header", path)
	case s.now.IsZero():
		return nil, fmt.Errorf("%s: no `now:` header", path)
	case len(s.events) == 0 || s.events[0].kind != "start":
		return nil, fmt.Errorf("%s: the first event must be `start`", path)
	}
	return s, nil
}

// parseDur accepts the flow durations (48h, 2d, 1w).
func parseDur(s string) (time.Duration, error) { return flow.ParseDuration(s) }

// play runs the script and returns the transcript.
func play(t *testing.T, e *engine.Engine, flows map[string]*flow.Flow, s *script) string {
	t.Helper()
	f := flows[s.flow]
	if f == nil {
		t.Fatalf("no flow %q in the fixtures (internal/testflows)", s.flow)
	}
	loc := e.Location
	var b strings.Builder
	fmt.Fprintf(&b, "flow: %s v%d\n", f.ID, f.Version)
	fmt.Fprintf(&b, "recipient: %s, lang %s, case worker %s\n", s.name, s.lang, s.caseworker)
	for _, k := range s.varOrder {
		fmt.Fprintf(&b, "var: %s=%v\n", k, s.vars[k])
	}

	now := s.now
	var conv engine.Conversation
	started := false
	convN := 0
	for _, ev := range s.events {
		var (
			res engine.Result
			err error
		)
		if ev.kind != "start" && ev.kind != "wait" && !started {
			t.Fatalf("line %d: %s without a started conversation", ev.line, ev.kind)
		}
		b.WriteString("\n")
		switch ev.kind {
		case "start":
			convN++
			fmt.Fprintf(&b, "== start @ %s\n", stamp(now, loc))
			vars, verr := f.CheckVars(s.vars)
			if verr != nil {
				fmt.Fprintf(&b, "error: %v\n", verr)
				started = false
				continue
			}
			res, err = e.Start(f, engine.Conversation{
				ID:         fmt.Sprintf("conv-%d", convN),
				Lang:       s.lang,
				FirstName:  s.name,
				Caseworker: s.caseworker,
				Vars:       vars,
			}, now)
		case "say":
			fmt.Fprintf(&b, "== say %q @ %s\n", ev.arg, stamp(now, loc))
			res, err = e.Reply(f, conv, ev.arg, now)
		case "wait":
			d, derr := parseDur(ev.arg)
			if derr != nil {
				t.Fatalf("line %d: %v", ev.line, derr)
			}
			now = now.Add(d)
			fmt.Fprintf(&b, "== wait %s -> %s\n", ev.arg, stamp(now, loc))
			continue
		case "after":
			d, derr := parseDur(ev.arg)
			if derr != nil {
				t.Fatalf("line %d: %v", ev.line, derr)
			}
			now = now.Add(d)
			fmt.Fprintf(&b, "== after %s: timer seq=%d fires @ %s\n", ev.arg, conv.TimerSeq, stamp(now, loc))
			res, err = e.Timeout(f, conv, conv.TimerSeq, now)
		case "timeout":
			seq, serr := strconv.Atoi(ev.arg)
			if serr != nil {
				t.Fatalf("line %d: timeout needs a sequence number: %v", ev.line, serr)
			}
			fmt.Fprintf(&b, "== timer seq=%d fires @ %s\n", seq, stamp(now, loc))
			res, err = e.Timeout(f, conv, seq, now)
		}
		if err != nil {
			fmt.Fprintf(&b, "error: %s\n", errName(err))
			writeState(&b, conv, loc)
			continue
		}
		started = true
		conv = res.Conv
		if res.Matched != "" {
			fmt.Fprintf(&b, "matched: %s\n", res.Matched)
		}
		for _, eff := range res.Effects {
			writeEffect(&b, eff, loc)
		}
		writeState(&b, conv, loc)
	}
	return b.String()
}

// errName names the engine's sentinel errors, so goldens show which one.
func errName(err error) string {
	for _, s := range []struct {
		err  error
		name string
	}{{engine.ErrEnded, "ErrEnded"}, {engine.ErrStaleTimer, "ErrStaleTimer"}, {engine.ErrWrongFlow, "ErrWrongFlow"}} {
		if errors.Is(err, s.err) {
			return fmt.Sprintf("%s (%v)", s.name, err)
		}
	}
	return err.Error()
}

func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("Mon 2006-01-02 15:04 MST")
}

func writeEffect(b *strings.Builder, eff engine.Effect, loc *time.Location) {
	switch v := eff.(type) {
	case engine.Send:
		who := "reply"
		if v.Proactive {
			who = "proactive"
		}
		fmt.Fprintf(b, "send %s step=%s %s lang=%s\n", v.Kind, v.Step, who, v.Lang)
		for _, l := range strings.Split(v.Text, "\n") {
			fmt.Fprintf(b, "  | %s\n", l)
		}
		for _, c := range v.Buttons {
			fmt.Fprintf(b, "  [%s] sends %q\n", c.Label, c.Reply)
		}
	case engine.Callback:
		fmt.Fprintf(b, "callback step=%s reason=%q kind=%s priority=%d preferred=%q\n", v.Step, v.Reason, v.Kind, v.Priority, v.Preferred)
	case engine.Forward:
		fmt.Fprintf(b, "forward to case worker step=%s\n", v.Step)
	case engine.Timer:
		switch v.Kind {
		case engine.TimerWait:
			fmt.Fprintf(b, "timer seq=%d at %s step=%s\n", v.Seq, stamp(v.At, loc), v.Step)
		case engine.TimerReminder:
			fmt.Fprintf(b, "timer reminder[%d] seq=%d at %s step=%s\n", v.Index, v.Seq, stamp(v.At, loc), v.Step)
		default:
			fmt.Fprintf(b, "timer %s at %s\n", v.Kind, stamp(v.At, loc))
		}
	case engine.End:
		fmt.Fprintf(b, "end outcome=%s\n", v.Outcome)
	default:
		fmt.Fprintf(b, "effect %T %+v\n", v, v)
	}
}

func writeState(b *strings.Builder, c engine.Conversation, loc *time.Location) {
	outcome := c.Outcome
	if outcome == "" {
		outcome = "-"
	}
	fmt.Fprintf(b, "state: %s step=%s outcome=%s timer=%d deadline=%s unanswered=%d confused=%d\n",
		c.Status, c.Step, outcome, c.TimerSeq, stamp(c.Deadline, loc), c.Unanswered, c.Confused)
}

func TestGolden(t *testing.T) {
	flows := loadFlows(t)
	e := testEngine(t)
	convs, err := filepath.Glob("testdata/*.conv")
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) == 0 {
		t.Fatal("no testdata/*.conv files")
	}
	covered := map[string]bool{}
	for _, path := range convs {
		name := strings.TrimSuffix(filepath.Base(path), ".conv")
		t.Run(name, func(t *testing.T) {
			s, err := parseScript(path)
			if err != nil {
				t.Fatal(err)
			}
			covered[s.flow] = true
			got := play(t, e, flows, s)
			goldenPath := strings.TrimSuffix(path, ".conv") + ".golden"
			if *update {
				if err := os.WriteFile(goldenPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run `go test ./bot/engine/ -run TestGolden -update` to create it)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (run with -update after an intended change):\n%s", goldenPath, lineDiff(string(want), got))
			}
		})
	}
	// Every shipped flow has at least one golden conversation.
	for id := range flows {
		if !covered[id] {
			t.Errorf("flow %q has no golden conversation in testdata/*.conv", id)
		}
	}
	// No orphaned goldens.
	goldens, _ := filepath.Glob("testdata/*.golden")
	for _, g := range goldens {
		if _, err := os.Stat(strings.TrimSuffix(g, ".golden") + ".conv"); err != nil {
			t.Errorf("%s has no .conv script; remove it", g)
		}
	}
}

// lineDiff shows the lines that differ, with line numbers (small and
// dependency-free; good enough for transcripts).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  - %s\n  + %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}
