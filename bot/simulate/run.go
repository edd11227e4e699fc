package simulate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/flow"
)

// Help explains the commands.
const Help = `Type what the recipient sends and press Enter (STOP, HELP and START work
as they do on a phone). Commands:
  /time +2h            let time pass (90m, 2d, 1w); what falls due happens at its moment
  /time next           jump to the next timer or held message
  /time 2026-11-24 09:00   jump to a moment (or just 09:00: the next time the clock shows it)
  /state               where the conversation is and what waits
  /restart             start again: flow files read again, a fresh recipient
  /help                this text
  /quit                stop (Ctrl-D too)`

// Lines gives the lines typed or piped in; io.EOF ends the session.
type Lines interface {
	ReadLine() (string, error)
}

// ScanLines reads lines from a pipe or file.
type ScanLines struct{ sc *bufio.Scanner }

// NewScanLines reads lines from r.
func NewScanLines(r io.Reader) *ScanLines { return &ScanLines{sc: bufio.NewScanner(r)} }

// ReadLine implements Lines.
func (s *ScanLines) ReadLine() (string, error) {
	if s.sc.Scan() {
		return s.sc.Text(), nil
	}
	if err := s.sc.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

// Run plays the session from lines until they end or /quit. Comments
// (lines starting with #) and empty lines are skipped, so a conversation
// file can explain itself.
func Run(ctx context.Context, s *Session, lines Lines) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := lines.ReadLine()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		quit, err := s.Do(ctx, line)
		if err != nil {
			return err
		}
		if quit {
			return nil
		}
	}
}

// Do runs one typed line: an answer or a command. quit is true after /quit.
// Mistakes in a command are explained in the transcript, not returned.
func (s *Session) Do(ctx context.Context, line string) (quit bool, err error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return false, nil
	}
	if !strings.HasPrefix(line, "/") {
		return false, s.Say(ctx, line)
	}
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch cmd {
	case "/quit", "/q", "/exit":
		return true, nil
	case "/help", "/?":
		fmt.Fprintln(s.out, s.l.Help)
	case "/state":
		fmt.Fprintf(s.out, "%s  %s\n", s.at(s.Now()), s.l.State)
		s.lastState = ""
		s.show(ctx)
	case "/restart":
		return false, s.Restart(ctx)
	case "/next":
		return false, s.timeCommand(ctx, "next")
	case "/wait":
		return false, s.timeCommand(ctx, "+"+strings.TrimPrefix(arg, "+"))
	case "/time":
		return false, s.timeCommand(ctx, arg)
	default:
		fmt.Fprintf(s.out, s.l.Unknown+"\n%s\n", cmd, s.l.Help)
	}
	return false, nil
}

func (s *Session) timeCommand(ctx context.Context, arg string) error {
	if arg == "" {
		fmt.Fprintf(s.out, s.l.Now+"\n", s.at(s.Now()))
		return nil
	}
	if arg == "next" {
		at, ok, err := s.NextDue()
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(s.out, s.l.Nothing)
			return nil
		}
		return s.AdvanceTo(ctx, at)
	}
	at, err := s.parseWhen(arg)
	if err != nil {
		fmt.Fprintf(s.out, "(%v)\n", err)
		return nil
	}
	if at.Before(s.Now()) {
		fmt.Fprintf(s.out, s.l.Passed+"\n", s.at(at))
		return nil
	}
	return s.AdvanceTo(ctx, at)
}

// parseWhen reads "+2h", "2d", "2026-11-24 09:00", "09:00" or RFC 3339.
func (s *Session) parseWhen(arg string) (time.Time, error) {
	now := s.Now().In(s.loc)
	if d, err := flow.ParseDuration(strings.TrimPrefix(arg, "+")); err == nil {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, arg); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04", arg, s.loc); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("15:04", arg, s.loc); err == nil {
		at := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, s.loc)
		if !at.After(now) {
			at = at.AddDate(0, 0, 1)
		}
		return at, nil
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a time: write +2h, 2d, next, 09:00 or 2026-11-24 09:00", arg)
}
