package simulate_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"golang.org/x/term"

	"github.com/seintje/seintje/bot/simulate"
	"github.com/seintje/seintje/internal/testflows"
)

// keys is what a person types at the terminal, then end of input.
type keys struct {
	in  *strings.Reader
	out bytes.Buffer
}

func (k *keys) Read(p []byte) (int, error) {
	// One key at a time, as a terminal delivers them.
	if k.in.Len() == 0 {
		return 0, io.EOF
	}
	return k.in.Read(p[:1])
}
func (k *keys) Write(p []byte) (int, error) { return k.out.Write(p) }

// At a terminal, flows simulate reads lines through golang.org/x/term:
// line editing (backspace, arrows) and history. Samira types "HELPP",
// corrects it with backspace, sends it, then recalls it with the up arrow
// and sends it again: Seintje answers HELP twice.
func TestSimulateLineEditing(t *testing.T) {
	sc, err := simulate.ParseScript("# flow: no-show\n# start: 2026-11-23T10:00:00+01:00\n# var: appointment_at=2026-11-20T10:00:00+01:00\n")
	if err != nil {
		t.Fatal(err)
	}
	k := &keys{in: strings.NewReader("HELPP\x7f\r\x1b[A\r")}
	tty := term.NewTerminal(k, "you> ")
	var out bytes.Buffer
	ctx := context.Background()
	s, err := simulate.New(ctx, simulate.NewSandbox(loadConfig(t, sc, testflows.Dir(t), nil), nil), sc.Options, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := simulate.Run(ctx, s, tty); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "+31612345678 → Seintje: HELP\n"); n != 2 {
		t.Errorf("HELP sent %d times, want 2 (typed, then from history):\n%s", n, out.String())
	}
	if n := strings.Count(out.String(), "Stoppen? Stuur STOP."); n != 2 {
		t.Errorf("the HELP answer came %d times, want 2:\n%s", n, out.String())
	}
}
