// Package texts holds Seintje's own messages to recipients (STOP
// confirmation, HELP, the acknowledgement of a question, ...), in plain
// Dutch at B1 level with English translations. Flow texts live in flows/;
// these are the few messages that do not belong to one flow.
//
// Every text avoids ë and ï (they force an SMS into UCS-2) and names the
// callback number, so a person can always reach a human.
package texts

import (
	"fmt"

	"github.com/seintje/seintje/bot/flow"
)

// Key names one system text.
type Key string

const (
	// StopConfirm answers STOP: the one and only message after an opt-out.
	StopConfirm Key = "stop_confirm"
	// StartConfirm answers START after an opt-out.
	StartConfirm Key = "start_confirm"
	// Help answers HELP / HULP / INFO: who we are and how to reach a person.
	Help Key = "help"
	// UnknownSender answers a text from a number Seintje does not know.
	UnknownSender Key = "unknown_sender"
	// Ack answers a question that is forwarded to the case worker.
	Ack Key = "ack"
	// Simple is the fallback simpler text when a flow has none.
	Simple Key = "simple"
)

// defaults are the shipped texts. English translations are sent to
// recipients whose language is "en"; every other language falls back to
// Dutch.
var defaults = map[Key]flow.Text{
	StopConfirm: {
		// You will get no more text messages from us. Want them again? Send START.
		// Questions? Call <number> (<hours>).
		"nl": "U krijgt geen berichten meer van ons via dit kanaal. Wilt u ze toch weer? Stuur dan START. Vragen? Bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "You will get no more messages from us on this channel. Want them again? Send START. Questions? Call {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	StartConfirm: {
		"nl": "Welkom terug. U krijgt weer berichten van ons. Stoppen? Stuur STOP.",
		"en": "Welcome back. You will get messages from us again. To stop, send STOP.",
	},
	Help: {
		"nl": "Dit bericht komt van {{.Agency}}. Wij sturen u soms een korte tip of vraag. Wilt u iemand spreken? Bel {{.CallbackNumber}} ({{.CallbackHours}}). Of stuur 2, dan bellen wij u. Stoppen? Stuur STOP.",
		"en": "This message is from {{.Agency}}. We sometimes send you a short tip or question. Want to talk to someone? Call {{.CallbackNumber}} ({{.CallbackHours}}). Or send 2 and we call you. To stop, send STOP.",
	},
	UnknownSender: {
		"nl": "Dank u voor uw bericht. We weten nog niet wie u bent. Wilt u ons bellen? Bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "Thank you for your message. We do not know who you are yet. Please call us on {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	Ack: {
		"nl": "Dank u voor uw bericht. {{if .Caseworker}}{{.Caseworker}}{{else}}Uw consulent{{end}} leest het en neemt contact met u op. Liever nu bellen? Bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "Thank you for your message. {{if .Caseworker}}{{.Caseworker}}{{else}}Your case worker{{end}} will read it and contact you. Rather call now? Call {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	Simple: {
		"nl": "Sorry, dat was niet duidelijk. Wilt u dat wij u bellen? Stuur 2. Of bel zelf: {{.CallbackNumber}}.",
		"en": "Sorry, that was not clear. Do you want us to call you? Send 2. Or call us: {{.CallbackNumber}}.",
	},
}

// Catalog is the compiled set of system texts.
type Catalog struct {
	texts map[Key]*flow.Compiled
}

// Default compiles the shipped texts.
func Default() (*Catalog, error) {
	c := &Catalog{texts: map[Key]*flow.Compiled{}}
	for k, t := range defaults {
		ct, err := flow.CompileText(string(k), t)
		if err != nil {
			return nil, fmt.Errorf("system text %s: %w", k, err)
		}
		c.texts[k] = ct
	}
	return c, nil
}

// Render renders text k in lang (falling back to Dutch).
func (c *Catalog) Render(k Key, lang string, d flow.Data) (string, error) {
	t, ok := c.texts[k]
	if !ok {
		return "", fmt.Errorf("no system text %q", k)
	}
	return t.Render(lang, d)
}

// Keys lists every system text, for lints and docs.
func Keys() []Key {
	return []Key{StopConfirm, StartConfirm, Help, UnknownSender, Ack, Simple}
}

// Source returns the uncompiled text, for lints and docs.
func Source(k Key) flow.Text { return defaults[k] }
