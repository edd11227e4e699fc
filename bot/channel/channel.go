// Package channel defines the one small interface every messaging provider
// (SMS through Twilio, Telegram, the demo console) implements, and the typed
// errors a sender returns so the caller can decide whether to retry.
package channel

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Name identifies a channel ("sms", "telegram", "whatsapp", "console").
type Name string

const (
	SMS      Name = "sms"
	Telegram Name = "telegram"
	WhatsApp Name = "whatsapp"
)

// Button is a reply choice a channel may show (Telegram inline keyboard).
// Channels without buttons ignore them; typed replies always keep working.
type Button struct {
	Label string // what the person sees, e.g. "1 Nieuwe afspraak"
	Reply string // the text the engine receives when pressed, e.g. "1"
}

// Message is one outbound text.
type Message struct {
	ID      string   // Seintje's message id, unique; providers may use it for tracing
	To      string   // address on the channel: E.164 phone for SMS, chat id for Telegram
	Body    string   // rendered text
	Buttons []Button // optional reply choices
	// Template, when set, asks the provider to send an approved template
	// instead of Body (WhatsApp outside the 24-hour window). Body stays the
	// rendered text, for the transcript.
	Template *Template
}

// Template is a provider-approved message template (a Twilio Content
// template): its id and the values of its numbered variables.
type Template struct {
	SID       string            // ContentSid, "HX..."
	Variables map[string]string // "1" → value, "2" → value, ...
}

// Receipt is what a provider returns for an accepted message.
type Receipt struct {
	ProviderID string // Twilio MessageSid, Telegram message id
	Status     string // provider status at acceptance ("queued", "sent", ...)
}

// Sender sends one message on one channel. Implementations must honour ctx.
type Sender interface {
	Name() Name
	Send(ctx context.Context, m Message) (Receipt, error)
}

// Inbound is one message received from a recipient.
type Inbound struct {
	Channel    Name
	ProviderID string // MessageSid / update id: used to deduplicate
	From       string // E.164 phone for SMS, chat id for Telegram
	Body       string
	ReceivedAt time.Time
}

// Error is a send failure classified for the caller.
type Error struct {
	Kind Kind
	// Code is the provider's error code when it gave one (Twilio 21610, HTTP 403, ...).
	Code int
	// RetryAfter is how long the provider asked us to wait (HTTP 429), zero when unknown.
	RetryAfter time.Duration
	Err        error
}

// Kind tells the caller what to do with a failed send.
type Kind int

const (
	// Temporary: network error, 429, 5xx. Retry with backoff.
	Temporary Kind = iota + 1
	// Permanent: the request itself is wrong (4xx). Never retry.
	Permanent
	// OptedOut: the recipient blocked or unsubscribed (Twilio 21610, Telegram 403).
	// Never retry; record the opt-out for this channel.
	OptedOut
)

func (k Kind) String() string {
	switch k {
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	case OptedOut:
		return "opted_out"
	}
	return "unknown"
}

func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("%s send error (code %d): %v", e.Kind, e.Code, e.Err)
	}
	return fmt.Sprintf("%s send error: %v", e.Kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, Temporary for unclassified errors
// (an unknown failure is safer retried than dropped).
func KindOf(err error) Kind {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return Temporary
}
