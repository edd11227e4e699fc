package outreach

import (
	"context"
	"fmt"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/sms"
	"github.com/seintje/seintje/bot/store"
)

// PricePerSegment is the estimated price of one SMS segment in euro (about
// Twilio's list price for the Netherlands), for the preview's cost.
const PricePerSegment = 0.08

// Preview is the first message of a nudge exactly as the person would get
// it, without storing or sending anything.
type Preview struct {
	Text      string
	Lang      string // the language the text is in (the flow may lack the one asked for)
	Channel   string
	Encoding  string // GSM-7 or UCS-2
	Chars     int    // septets (GSM-7) or UTF-16 units (UCS-2)
	Offending string // the letters that force UCS-2
	Segments  int
	Cost      float64 // euro, estimated
	// LinkPlaceholder: the flow sends a one-time Telegram link, made only
	// when the nudge is really sent; the preview shows a placeholder.
	LinkPlaceholder bool
}

// Preview renders the first message of req with the same checks and the
// same engine as Trigger (and the person's experiment arm, when the flow
// runs one); nothing is stored and nothing is sent.
func (s *Service) Preview(ctx context.Context, req TriggerRequest) (Preview, error) {
	v, err := s.Validate(req)
	if err != nil {
		return Preview{}, err
	}
	f, vars, requested, tag := v.Flow, v.Vars, v.Lang, v.Tag
	now := s.Now()
	var p Preview
	if f.Var(TelegramLinkVar) != nil {
		vars[TelegramLinkVar] = "https://t.me/…"
		p.LinkPlaceholder = true
	}
	arm, err := s.armFor(ctx, f, tag, req.Ref)
	if err != nil {
		return Preview{}, err
	}
	rcp := store.Recipient{Name: req.Name}
	conv := engine.Conversation{ID: "preview", Lang: requested, FirstName: rcp.FirstName(), Caseworker: req.Caseworker, Vars: vars, Arm: arm}
	res, err := s.Engine.Start(f, conv, now)
	if err != nil {
		return Preview{}, fmt.Errorf("start flow %s: %w", f.ID, err)
	}
	for _, e := range res.Effects {
		if send, ok := e.(engine.Send); ok {
			p.Text, p.Lang = send.Text, send.Lang
			break
		}
	}
	p.Channel = string(s.channelFor(ctx, tag))
	info := sms.Analyze(p.Text)
	p.Encoding, p.Chars, p.Segments, p.Offending = string(info.Encoding), info.Units, info.Segments, string(info.Offending)
	p.Cost = float64(p.Segments) * PricePerSegment
	return p, nil
}
