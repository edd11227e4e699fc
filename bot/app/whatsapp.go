package app

import (
	"fmt"

	"github.com/seintje/seintje/bot/channel/twilio"
	"github.com/seintje/seintje/bot/channel/whatsapp"
	"github.com/seintje/seintje/bot/config"
)

// newWhatsApp returns the WhatsApp sender on the Twilio account of SMS.
func newWhatsApp(cfg *config.Config, o Options) (*whatsapp.Sender, error) {
	s, err := whatsapp.New(whatsapp.Config{
		Twilio: twilio.Config{AccountSID: cfg.Twilio.AccountSID, AuthToken: cfg.Twilio.AuthToken, APIURL: cfg.Twilio.APIURL,
			StatusCallbackURL: cfg.PublicURL + "/webhooks/twilio/status", HTTPClient: o.HTTPClient},
		From: cfg.WhatsApp.From, MessagingServiceSID: cfg.WhatsApp.MessagingServiceSID, Buttons: cfg.WhatsApp.Buttons,
	})
	if err != nil {
		return nil, fmt.Errorf("whatsapp: %w", err)
	}
	return s, nil
}
