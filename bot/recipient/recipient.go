// Package recipient is the one model of a recipient's channels: per
// channel an address, the consent the person gave (how, when, by whom) and
// an opt-out, plus the preferred channel and the fallback order. Every
// provider (SMS, Telegram, WhatsApp) is decided on through this model; it
// holds no I/O (the store persists it).
package recipient

import (
	"slices"
	"time"

	"github.com/seintje/seintje/bot/channel"
)

// Sources of a consent.
const (
	SourceTelegramLink = "telegram_link" // the person opened a one-time link and chose Ja
	SourceSMSReply     = "sms_reply"     // the person answered JA to an SMS that asked
	SourceAPI          = "api"           // the case system recorded it (with its own source text)
)

// Consent is a recorded permission to use a channel.
type Consent struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"`           // one of the Source constants
	Detail string    `json:"detail,omitempty"` // the case system's source ("intake form 2026-11-02")
	By     string    `json:"by,omitempty"`     // API token name, when a case worker or system recorded it
}

// Channel is one channel of a recipient.
type Channel struct {
	// Address on the channel: E.164 phone for SMS and WhatsApp, chat id for
	// Telegram. "" when unknown.
	Address string
	// Consent is nil when none is recorded.
	Consent *Consent
	// OptedOut is when the person sent STOP on this channel; zero when not.
	OptedOut time.Time
}

// Channels is everything Seintje knows about how to reach one person.
type Channels struct {
	// Preferred is where a new nudge goes first (default SMS).
	Preferred channel.Name
	// Fallback is the order tried after the preferred channel when it
	// cannot be used or a message on it fails for good; SMS is always last.
	Fallback []channel.Name
	// By holds the per-channel state.
	By map[channel.Name]Channel
}

// NeedsConsent reports whether a channel may only be used with a recorded
// consent. SMS does not: the agency may text a number it was given, and
// STOP ends it.
func NeedsConsent(ch channel.Name) bool {
	return ch == channel.Telegram || ch == channel.WhatsApp
}

// Get returns the state of one channel (zero when nothing is known).
func (c Channels) Get(ch channel.Name) Channel { return c.By[ch] }

// Problem says why a channel cannot be used now; "" when it can.
func (c Channels) Problem(ch channel.Name) string {
	st := c.By[ch]
	switch {
	case !st.OptedOut.IsZero():
		return "opted_out"
	case st.Address == "":
		return "no_address"
	case NeedsConsent(ch) && st.Consent == nil:
		return "no_consent"
	}
	return ""
}

// Usable reports whether a message may go out on ch: an address, consent
// where needed, and no opt-out.
func (c Channels) Usable(ch channel.Name) bool { return c.Problem(ch) == "" }

// Order is the channels to try, best first: the preferred one, then the
// fallback order, then SMS. Only channels that are usable and configured
// (configured may be nil: all are) are listed, each once.
func (c Channels) Order(configured func(channel.Name) bool) []channel.Name {
	cand := append([]channel.Name{c.Preferred}, c.Fallback...)
	cand = append(cand, channel.SMS)
	var out []channel.Name
	for _, ch := range cand {
		if ch == "" || slices.Contains(out, ch) {
			continue
		}
		if configured != nil && !configured(ch) {
			continue
		}
		if c.Usable(ch) {
			out = append(out, ch)
		}
	}
	return out
}

// Pick returns the channel for a new nudge: the first of Order, SMS when
// none is usable (the store then refuses an opted-out recipient).
func (c Channels) Pick(configured func(channel.Name) bool) channel.Name {
	if o := c.Order(configured); len(o) > 0 {
		return o[0]
	}
	return channel.SMS
}

// Next returns the channel to fall back to after ch failed for good: the
// first usable one after ch in the order, never ch itself.
func (c Channels) Next(after channel.Name, configured func(channel.Name) bool) (channel.Name, bool) {
	cand := append([]channel.Name{c.Preferred}, c.Fallback...)
	cand = append(cand, channel.SMS)
	i := slices.Index(cand, after)
	for _, ch := range cand[i+1:] {
		if ch == after || ch == "" {
			continue
		}
		if configured != nil && !configured(ch) {
			continue
		}
		if c.Usable(ch) {
			return ch, true
		}
	}
	return "", false
}

// Opted lists the channels the person opted out of, sorted.
func (c Channels) Opted() []channel.Name {
	var out []channel.Name
	for ch, st := range c.By {
		if !st.OptedOut.IsZero() {
			out = append(out, ch)
		}
	}
	slices.Sort(out)
	return out
}

// Valid reports whether ch is a channel Seintje knows.
func Valid(ch channel.Name) bool {
	return ch == channel.SMS || ch == channel.Telegram || ch == channel.WhatsApp
}
