package config

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// WhatsApp holds the WhatsApp settings. WhatsApp goes through the Twilio
// account of SMS (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN) with its own
// sender.
type WhatsApp struct {
	From                string // TWILIO_WHATSAPP_FROM, E.164 without "whatsapp:"
	MessagingServiceSID string // TWILIO_WHATSAPP_MESSAGING_SERVICE_SID; exactly one of From and this
	// Buttons maps a number of buttons (1 to 3) to a session quick-reply
	// Content template: TWILIO_WHATSAPP_BUTTONS "2:HX…,3:HX…".
	Buttons map[int]string
	// RetryAsTemplate: SEINTJE_WHATSAPP_ON_REFUSED "template" (default)
	// sends a refused free text (63016) again as the step's template;
	// "sms" falls back to SMS at once.
	RetryAsTemplate bool
	// DeliveryTimeout: SEINTJE_WHATSAPP_DELIVERY_TIMEOUT (default 30m; "off"):
	// a WhatsApp message not delivered by then goes again by SMS.
	DeliveryTimeout time.Duration
}

// DefaultWhatsAppDeliveryTimeout is how long a WhatsApp message may take
// to be delivered before it is sent again by SMS.
const DefaultWhatsAppDeliveryTimeout = 30 * time.Minute

// Configured reports whether WhatsApp can be sent.
func (w WhatsApp) Configured() bool { return w.From != "" || w.MessagingServiceSID != "" }

type fileWhatsApp struct {
	From                string `yaml:"from"`
	MessagingServiceSID string `yaml:"messaging_service_sid"`
	Buttons             string `yaml:"buttons"`
	OnRefused           string `yaml:"on_refused"`
	DeliveryTimeout     string `yaml:"delivery_timeout"`
}

var contentSIDRE = regexp.MustCompile(`^HX[0-9a-fA-F]{32}$`)

func (l *loader) whatsapp(tw Twilio) WhatsApp {
	f := l.f.WhatsApp
	w := WhatsApp{RetryAsTemplate: true, DeliveryTimeout: DefaultWhatsAppDeliveryTimeout}
	var fromSrc, msSrc string
	w.From, fromSrc = l.value("TWILIO_WHATSAPP_FROM", "whatsapp.from", f.From)
	w.From = strings.TrimPrefix(w.From, "whatsapp:")
	w.MessagingServiceSID, msSrc = l.value("TWILIO_WHATSAPP_MESSAGING_SERVICE_SID", "whatsapp.messaging_service_sid", f.MessagingServiceSID)
	buttons, btnSrc := l.value("TWILIO_WHATSAPP_BUTTONS", "whatsapp.buttons", f.Buttons)
	onRefused, refSrc := l.value("SEINTJE_WHATSAPP_ON_REFUSED", "whatsapp.on_refused", f.OnRefused)
	timeout, toSrc := l.value("SEINTJE_WHATSAPP_DELIVERY_TIMEOUT", "whatsapp.delivery_timeout", f.DeliveryTimeout)
	if !w.Configured() {
		return w
	}
	switch {
	case w.From != "" && w.MessagingServiceSID != "":
		l.failf("both TWILIO_WHATSAPP_FROM and TWILIO_WHATSAPP_MESSAGING_SERVICE_SID are set: set only one")
	case w.From != "" && !e164RE.MatchString(w.From):
		l.failf("%s %q is not an E.164 phone number: use the WhatsApp sender number with + and the country code, e.g. +3197010000000", fromSrc, w.From)
	case w.MessagingServiceSID != "" && !serviceSIDRE.MatchString(w.MessagingServiceSID):
		l.failf("%s %q is not a Messaging Service SID: it starts with MG and is 34 characters long", msSrc, w.MessagingServiceSID)
	}
	if tw.AccountSID == "" || tw.AuthToken == "" {
		l.failf("WhatsApp goes through your Twilio account: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN too")
	}
	for _, part := range strings.Split(buttons, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		n, sid, ok := strings.Cut(part, ":")
		k, err := strconv.Atoi(strings.TrimSpace(n))
		if !ok || err != nil || k < 1 || k > 3 || !contentSIDRE.MatchString(strings.TrimSpace(sid)) {
			l.failf("%s %q: list number:ContentSid pairs, e.g. 2:HX0123…,3:HX4567… (1 to 3 buttons)", btnSrc, part)
			continue
		}
		if w.Buttons == nil {
			w.Buttons = map[int]string{}
		}
		w.Buttons[k] = strings.TrimSpace(sid)
	}
	switch strings.ToLower(strings.TrimSpace(onRefused)) {
	case "", "template":
	case "sms":
		w.RetryAsTemplate = false
	default:
		l.failf("%s %q must be template (send the step's approved template, then SMS) or sms (SMS at once)", refSrc, onRefused)
	}
	switch t := strings.ToLower(strings.TrimSpace(timeout)); t {
	case "":
	case "off", "0":
		w.DeliveryTimeout = 0
	default:
		d, err := parseDuration(t)
		if err != nil || d < time.Second || d > 24*time.Hour {
			l.failf("%s %q must be a duration from 1s to 24h (e.g. 30m), or off", toSrc, timeout)
		} else {
			w.DeliveryTimeout = d
		}
	}
	return w
}
