package recipient

import (
	"slices"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/channel"
)

func TestOrderAndFallback(t *testing.T) {
	consent := &Consent{At: time.Unix(0, 0), Source: SourceAPI}
	stop := time.Unix(100, 0)
	all := func(channel.Name) bool { return true }
	noWA := func(ch channel.Name) bool { return ch != channel.WhatsApp }
	cases := []struct {
		name       string
		c          Channels
		configured func(channel.Name) bool
		order      []channel.Name
		nextAfter  channel.Name
		next       channel.Name // "" = none
	}{
		{"new recipient: sms only when it has a number",
			Channels{Preferred: channel.SMS, By: map[channel.Name]Channel{channel.SMS: {Address: "+31612345678"}}}, all,
			[]channel.Name{channel.SMS}, channel.SMS, ""},
		{"whatsapp preferred with opt-in, sms after",
			Channels{Preferred: channel.WhatsApp, By: map[channel.Name]Channel{
				channel.SMS: {Address: "+31612345678"}, channel.WhatsApp: {Address: "+31612345678", Consent: consent}}}, all,
			[]channel.Name{channel.WhatsApp, channel.SMS}, channel.WhatsApp, channel.SMS},
		{"whatsapp preferred without opt-in is skipped",
			Channels{Preferred: channel.WhatsApp, By: map[channel.Name]Channel{
				channel.SMS: {Address: "+31612345678"}, channel.WhatsApp: {Address: "+31612345678"}}}, all,
			[]channel.Name{channel.SMS}, channel.WhatsApp, channel.SMS},
		{"whatsapp not configured",
			Channels{Preferred: channel.WhatsApp, By: map[channel.Name]Channel{
				channel.SMS: {Address: "+31612345678"}, channel.WhatsApp: {Address: "+31612345678", Consent: consent}}}, noWA,
			[]channel.Name{channel.SMS}, channel.WhatsApp, channel.SMS},
		{"stop on whatsapp leaves sms",
			Channels{Preferred: channel.WhatsApp, By: map[channel.Name]Channel{
				channel.SMS: {Address: "+31612345678"}, channel.WhatsApp: {Address: "+31612345678", Consent: consent, OptedOut: stop}}}, all,
			[]channel.Name{channel.SMS}, channel.WhatsApp, channel.SMS},
		{"telegram then whatsapp then sms",
			Channels{Preferred: channel.Telegram, Fallback: []channel.Name{channel.WhatsApp}, By: map[channel.Name]Channel{
				channel.SMS: {Address: "+31612345678"}, channel.WhatsApp: {Address: "+31612345678", Consent: consent},
				channel.Telegram: {Address: "555", Consent: consent}}}, all,
			[]channel.Name{channel.Telegram, channel.WhatsApp, channel.SMS}, channel.Telegram, channel.WhatsApp},
		{"stop on sms: no fallback",
			Channels{Preferred: channel.WhatsApp, By: map[channel.Name]Channel{
				channel.SMS: {Address: "+31612345678", OptedOut: stop}, channel.WhatsApp: {Address: "+31612345678", Consent: consent}}}, all,
			[]channel.Name{channel.WhatsApp}, channel.WhatsApp, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Order(tc.configured); !slices.Equal(got, tc.order) {
				t.Errorf("Order = %v, want %v", got, tc.order)
			}
			want := channel.SMS
			if len(tc.order) > 0 {
				want = tc.order[0]
			}
			if got := tc.c.Pick(tc.configured); got != want {
				t.Errorf("Pick = %v, want %v", got, want)
			}
			got, ok := tc.c.Next(tc.nextAfter, tc.configured)
			if (tc.next == "") == ok || got != tc.next {
				t.Errorf("Next(%s) = %v %v, want %q", tc.nextAfter, got, ok, tc.next)
			}
		})
	}
}
