// Package console is the demo channel: instead of calling Twilio it prints
// each SMS to a terminal, the way a phone would show it, with its segment
// count. It stands in for the "sms" channel in demo mode.
package console

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/sms"
)

// Sender prints messages to W.
type Sender struct {
	mu sync.Mutex
	w  io.Writer
	fn func(channel.Message)
	n  int
}

// New returns a console sender writing to w.
func New(w io.Writer) *Sender { return &Sender{w: w} }

// NewFunc returns a console sender that hands each message to fn instead
// of printing it: `seintje flows simulate` and the console's simulator
// show it in their own transcript.
func NewFunc(fn func(channel.Message)) *Sender { return &Sender{fn: fn} }

// Name implements channel.Sender; the console replaces SMS in the demo.
func (s *Sender) Name() channel.Name { return channel.SMS }

// Send prints m.
func (s *Sender) Send(ctx context.Context, m channel.Message) (channel.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return channel.Receipt{}, &channel.Error{Kind: channel.Temporary, Err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if s.fn != nil {
		s.fn(m)
		return channel.Receipt{ProviderID: fmt.Sprintf("console-%d", s.n), Status: "delivered"}, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n┌─ SMS to %s (%s)\n", m.To, sms.Analyze(m.Body))
	for _, line := range strings.Split(m.Body, "\n") {
		fmt.Fprintf(&b, "│ %s\n", line)
	}
	if len(m.Buttons) > 0 {
		labels := make([]string, len(m.Buttons))
		for i, bt := range m.Buttons {
			labels[i] = "[" + bt.Label + "]"
		}
		fmt.Fprintf(&b, "│ %s\n", strings.Join(labels, " "))
	}
	fmt.Fprintf(&b, "└─ answer with: seintje reply %s <text>\n", m.To)
	if _, err := io.WriteString(s.w, b.String()); err != nil {
		return channel.Receipt{}, &channel.Error{Kind: channel.Temporary, Err: err}
	}
	return channel.Receipt{ProviderID: fmt.Sprintf("console-%d", s.n), Status: "delivered"}, nil
}
