// Package whatsapp implements channel.Sender for WhatsApp through Twilio's
// Messages API (twilio-go), on the same twilio.Client as SMS: addresses are
// "whatsapp:+31…", free text goes as Body, an approved template as
// ContentSid plus ContentVariables (JSON), and reply buttons through a
// session quick-reply Content template whose buttons carry the flow's
// labels. Inbound messages and delivery reports arrive on the Twilio
// webhooks (package twilio parses them).
package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	twapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/twilio"
)

// Prefix marks a WhatsApp address in Twilio's From and To.
const Prefix = "whatsapp:"

// Limits of WhatsApp quick replies (session messages without approval).
const (
	MaxButtons     = 3
	MaxButtonTitle = 20   // characters of a button title
	MaxButtonBody  = 1024 // characters of a quick-reply body
)

// Config configures a Sender.
type Config struct {
	// Twilio is the account part (AccountSID, AuthToken, APIURL,
	// StatusCallbackURL, HTTPClient); its From and MessagingServiceSID are
	// not used.
	Twilio twilio.Config
	// From is the WhatsApp sender number in E.164 (TWILIO_WHATSAPP_FROM),
	// without the "whatsapp:" prefix. Exactly one of From and
	// MessagingServiceSID.
	From                string
	MessagingServiceSID string
	// Buttons maps a number of buttons (1 to 3) to the SID of a session
	// twilio/quick-reply Content template laid out as: body {{1}}; button
	// i has title {{2i}} and id {{2i+1}}. A message with that many buttons
	// is sent through it, so the buttons show the flow's labels and a
	// press sends the route's reply as ButtonPayload. Without one, the text
	// goes as it is (people type the digit).
	Buttons map[int]string
}

// Sender sends WhatsApp messages. It is safe for concurrent use.
type Sender struct {
	client  *twilio.Client
	from    string
	mg      string
	buttons map[int]string
}

var _ channel.Sender = (*Sender)(nil)

// New validates cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	errs := twilio.SenderErrors(cfg.From, cfg.MessagingServiceSID, "From (TWILIO_WHATSAPP_FROM)", "MessagingServiceSID")
	for n, sid := range cfg.Buttons {
		if n < 1 || n > MaxButtons {
			errs = append(errs, fmt.Errorf("buttons: %d buttons; WhatsApp allows 1 to %d in a session message", n, MaxButtons))
		}
		if !validContentSID(sid) {
			errs = append(errs, fmt.Errorf("buttons: %q is not a Content SID (HX followed by 32 hex digits)", sid))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("whatsapp: invalid config: %w", errors.Join(errs...))
	}
	c, err := twilio.NewClient(cfg.Twilio)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: %w", err)
	}
	return &Sender{client: c, from: cfg.From, mg: cfg.MessagingServiceSID, buttons: cfg.Buttons}, nil
}

func validContentSID(s string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, "HX") {
		return false
	}
	for _, r := range s[2:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// Name returns channel.WhatsApp.
func (s *Sender) Name() channel.Name { return channel.WhatsApp }

// Send creates one WhatsApp message: the template when m.Template is set,
// else the text (with buttons when a quick-reply template fits).
func (s *Sender) Send(ctx context.Context, m channel.Message) (channel.Receipt, error) {
	to := strings.TrimPrefix(m.To, Prefix)
	if !twilio.IsE164(to) {
		return channel.Receipt{}, &channel.Error{Kind: channel.Permanent, Err: fmt.Errorf("whatsapp: send message %s: recipient is not an E.164 phone number", m.ID)}
	}
	params := &twapi.CreateMessageParams{}
	params.SetTo(Prefix + to)
	if s.mg != "" {
		params.SetMessagingServiceSid(s.mg)
	} else {
		params.SetFrom(Prefix + s.from)
	}
	switch sid, vars := s.content(m); {
	case sid != "":
		b, err := json.Marshal(vars)
		if err != nil {
			return channel.Receipt{}, &channel.Error{Kind: channel.Permanent, Err: fmt.Errorf("whatsapp: send message %s: encode variables: %w", m.ID, err)}
		}
		params.SetContentSid(sid)
		params.SetContentVariables(string(b))
	case strings.TrimSpace(m.Body) == "":
		return channel.Receipt{}, &channel.Error{Kind: channel.Permanent, Err: fmt.Errorf("whatsapp: send message %s: empty body", m.ID)}
	default:
		params.SetBody(m.Body)
	}
	return s.client.Create(ctx, m.ID, params)
}

// content returns the Content template and its variables for m, or "" to
// send m.Body as free text.
func (s *Sender) content(m channel.Message) (string, map[string]string) {
	if m.Template != nil && m.Template.SID != "" {
		vars := m.Template.Variables
		if vars == nil {
			vars = map[string]string{}
		}
		return m.Template.SID, vars
	}
	sid, ok := s.buttons[len(m.Buttons)]
	if !ok || len(m.Buttons) == 0 || utf8.RuneCountInString(m.Body) > MaxButtonBody {
		return "", nil
	}
	vars := map[string]string{"1": m.Body}
	for i, b := range m.Buttons {
		vars[strconv.Itoa(2*(i+1))] = cut(b.Label, MaxButtonTitle)
		vars[strconv.Itoa(2*(i+1)+1)] = b.Reply
	}
	return sid, vars
}

// cut shortens s to at most n characters.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n]))
}
