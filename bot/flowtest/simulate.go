package flowtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
)

// SimulateHelp explains the commands of an interactive simulation.
const SimulateHelp = `Type what the recipient sends and press Enter. Commands:
  /wait 48h   let time pass (2d, 1w, 90m); timers that fall due fire
  /next       jump to the next timer
  /state      show where the conversation is
  /quit       stop`

// Simulate plays p interactively: every line read from in is the
// recipient's answer, or a command (SimulateHelp). Messages are printed to
// out as the phone shows them, with SMS segments and encoding.
func Simulate(ctx context.Context, p *Player, in io.Reader, out io.Writer) error {
	fmt.Fprintf(out, "%s v%d, language %s, %s\n%s\n", p.Flow.ID, p.Flow.Version, p.Conv.Lang, p.Now.Format("Mon 2006-01-02 15:04 MST"), SimulateHelp)
	t, err := p.Start()
	if err != nil {
		return err
	}
	show(out, t)
	sc := bufio.NewScanner(in)
	for {
		if p.Conv.Status == engine.Ended {
			fmt.Fprintf(out, "\n(the conversation has ended: %s)\n", p.Conv.Outcome)
			return nil
		}
		fmt.Fprint(out, "\nyou> ")
		if err := ctx.Err(); err != nil {
			return err
		}
		if !sc.Scan() {
			fmt.Fprintln(out)
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		cmd, arg, _ := strings.Cut(line, " ")
		switch {
		case line == "":
			continue
		case cmd == "/quit" || cmd == "/q":
			return nil
		case cmd == "/state":
			fmt.Fprintf(out, "(%s at step %s, outcome %q, %s)\n", p.Conv.Status, p.Conv.Step, p.Conv.Outcome, p.Now.Format("Mon 2006-01-02 15:04 MST"))
		case cmd == "/next":
			at, ok := p.NextTimer()
			if !ok {
				fmt.Fprintln(out, "(no timer is pending: only an answer moves this conversation on)")
				continue
			}
			if err := wait(out, p, at.Sub(p.Now)); err != nil {
				return err
			}
		case cmd == "/wait":
			d, err := flow.ParseDuration(strings.TrimSpace(arg))
			if err != nil {
				fmt.Fprintln(out, "(", err, ")")
				continue
			}
			if err := wait(out, p, d); err != nil {
				return err
			}
		case strings.HasPrefix(cmd, "/"):
			fmt.Fprintln(out, SimulateHelp)
		default:
			t, err := p.Say(line)
			if err != nil {
				return err
			}
			show(out, t)
		}
	}
}

func wait(out io.Writer, p *Player, dur time.Duration) error {
	turns, err := p.Wait(dur)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "(… %s later: %s)\n", dur, p.Now.Format("Mon 2006-01-02 15:04 MST"))
	if len(turns) == 0 {
		fmt.Fprintln(out, "(nothing happens)")
	}
	for _, t := range turns {
		show(out, t)
	}
	return nil
}

func show(out io.Writer, t Turn) {
	for _, s := range t.Messages() {
		fmt.Fprintf(out, "\n%s  Seintje:\n%s", t.At.Format("15:04"), Phone(s))
	}
	for _, d := range Describe(t) {
		fmt.Fprintf(out, "  (%s)\n", d)
	}
}
