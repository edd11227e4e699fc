package engine_test

// Checks on the fixture flows (internal/testflows, frozen copies of the
// shipped flows): they load without diagnostics, follow the reply
// convention and the tone rules of DOMAIN.md, and their first messages fit
// in three GSM-7 SMS segments. The shipped flows themselves are checked generically in
// bot/flowtest (check, lint, conversation tests, schema).

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/sms"
)

func TestFlowsLoadWithoutDiagnostics(t *testing.T) {
	flows := loadFlows(t)
	for _, id := range []string{"no-show", "missing-form", "hobby-income"} {
		if flows[id] == nil {
			t.Errorf("flow %q is missing from the fixtures", id)
		}
	}
}

// forbidden are words that must never appear in a nudge (DOMAIN.md: tone,
// lines never crossed). Matched as substrings of the lower-cased text.
var forbidden = []string{
	"fraude", "fraudeur", "boete", "sanctie", "overtreding", "controle", "handhaving",
	"uitkering", "bijstand", "terugvordering", "vordering", "bsn", "burgerservicenummer",
	"fraud", "fine", "penalty", "sanction", "benefit", "enforcement", "euro",
}

// eachText calls fn for every text of a flow, with a path for messages.
func eachText(f *flow.Flow, fn func(path string, t flow.Text)) {
	fn("simple", f.Simple)
	for _, s := range f.Steps {
		fn(s.ID+"/say", s.Say)
		fn(s.ID+"/simple", s.Simple)
		for i, r := range s.Replies {
			fn(fmt.Sprintf("%s/replies[%d]/label", s.ID, i), r.Label)
		}
	}
}

var wordRe = regexp.MustCompile(`\pL+`)

func TestFlowTextsFollowTheHouseRules(t *testing.T) {
	for id, f := range loadFlows(t) {
		t.Run(id, func(t *testing.T) {
			if len(f.Simple) == 0 {
				t.Errorf("no flow-level simple (A2) text")
			}
			if !strings.Contains(f.Simple["nl"], "Stuur 2, dan bellen wij u") {
				t.Errorf("simple/nl does not offer %q", "Stuur 2, dan bellen wij u")
			}
			eachText(f, func(path string, txt flow.Text) {
				if len(txt) == 0 {
					return
				}
				for _, lang := range []string{"nl", "en"} {
					if strings.TrimSpace(txt[lang]) == "" {
						t.Errorf("%s has no %s text", path, lang)
					}
				}
				for lang, s := range txt {
					for _, w := range wordRe.FindAllString(strings.ToLower(s), -1) {
						for _, bad := range forbidden {
							if w == bad || (len(bad) > 4 && strings.Contains(w, bad)) {
								t.Errorf("%s/%s uses the word %q (%q): see DOMAIN.md, never in a nudge", path, lang, w, bad)
							}
						}
					}
					if strings.ContainsAny(s, "€") {
						t.Errorf("%s/%s mentions an amount", path, lang)
					}
					if info := sms.Analyze(s); info.Encoding != sms.GSM7 {
						t.Errorf("%s/%s needs %s because of %q: use plain letters", path, lang, info.Encoding, string(info.Offending))
					}
				}
			})
		})
	}
}

// TestReplyConvention: in every step, a route matching "2" goes to a
// callback step; the first step has 1 and 2 with Telegram labels that start
// with the digit; anything else goes to a step that forwards to the case
// worker.
func TestReplyConvention(t *testing.T) {
	for id, f := range loadFlows(t) {
		t.Run(id, func(t *testing.T) {
			start := f.Start()
			for _, digit := range []string{"1", "2"} {
				i := flow.MatchRoute(start.Replies, digit)
				if i < 0 {
					t.Errorf("first step %q has no route for %q", start.ID, digit)
					continue
				}
				for _, lang := range []string{"nl", "en"} {
					if !strings.HasPrefix(start.Replies[i].Label[lang], digit+" ") {
						t.Errorf("label/%s of route %q should start with %q, got %q", lang, digit, digit+" ", start.Replies[i].Label[lang])
					}
				}
			}
			for _, s := range f.Steps {
				for i, r := range s.Replies {
					if len(r.Label) == 0 {
						t.Errorf("step %q route %d has no label (Telegram button)", s.ID, i+1)
					}
					if r.Match[0] != strings.Fields(r.Label["nl"])[0] {
						t.Errorf("step %q route %d: a button sends %q but its label starts with %q", s.ID, i+1, r.Match[0], r.Label["nl"])
					}
				}
				if i := flow.MatchRoute(s.Replies, "2"); i >= 0 {
					if to := f.Step(s.Replies[i].Goto); to.Action != flow.ActionCallback {
						t.Errorf("step %q: 2 goes to %q, which is not a callback", s.ID, to.ID)
					}
				}
				if s.Waits() {
					if s.Otherwise == "" || f.Step(s.Otherwise).Action != flow.ActionForward {
						t.Errorf("step %q: other answers should go to a step with action forward", s.ID)
					}
					if s.Wait == nil {
						t.Errorf("step %q waits without a timeout", s.ID)
					}
				}
			}
		})
	}
}

// firstMessageCases are the data first messages are measured with: the
// golden-test contact, and a long case worker name and long dates.
func firstMessageCases() map[string][]map[string]any {
	return map[string][]map[string]any{
		"no-show": {
			{"appointment_at": "2026-11-26T10:00:00+01:00"}, // donderdag 26 november om 10:00
		},
		"missing-form": {
			{"form": "het formulier Wijzigingen doorgeven", "due_date": "2026-09-30"}, // woensdag 30 september
		},
		"hobby-income": {
			{},
			{"activity": "spullen online verkopen"},
		},
		"telegram-invite": {
			// A bot username of Telegram's maximum length (32).
			{"telegram_link": "https://t.me/GemeenteUtrechtSeintjeBerichtBot?start=NwdJhY4f4Qj7qyHEaNE7KChF54CDGj9qyi8CRvLs9bM"},
		},
	}
}

// TestFirstMessagesFitInThreeSMS renders every first message in nl and en and
// checks it is GSM-7 and at most 3 segments. Run with -v for the numbers.
func TestFirstMessagesFitInThreeSMS(t *testing.T) {
	flows := loadFlows(t)
	e := testEngine(t)
	now := time.Date(2026, 9, 1, 10, 0, 0, 0, e.Location)
	for id, cases := range firstMessageCases() {
		f := flows[id]
		if f == nil {
			t.Errorf("no flow %q", id)
			continue
		}
		for _, in := range cases {
			vars, verr := f.CheckVars(in)
			if verr != nil {
				t.Fatalf("%s: %v", id, verr)
			}
			for _, lang := range []string{"nl", "en"} {
				for _, cw := range []string{"Anouk de Vries", "Mohammed van den Heuvel-Bakker"} {
					res, err := e.Start(f, engine.Conversation{ID: "x", Lang: lang, FirstName: "Samira", Caseworker: cw, Vars: vars}, now)
					if err != nil {
						t.Fatalf("%s/%s: %v", id, lang, err)
					}
					send := res.Effects[0].(engine.Send)
					info := sms.Analyze(send.Text)
					t.Logf("%-12s %s vars=%v cw=%q: %d chars, %s", id, lang, in, cw, len([]rune(send.Text)), info)
					if info.Encoding != sms.GSM7 || info.Segments > 3 {
						t.Errorf("%s/%s first message is %s; keep it within 3 GSM-7 segments:\n%s", id, lang, info, send.Text)
					}
					for _, must := range []string{"Samira", cw, "088 123 45 67", e.Contact.Hours[lang]} {
						if !strings.Contains(send.Text, must) {
							t.Errorf("%s/%s first message lacks %q", id, lang, must)
						}
					}
					sign := map[string]string{"nl": "Groet, " + cw, "en": "Kind regards, " + cw}[lang]
					if !strings.HasSuffix(send.Text, sign) {
						t.Errorf("%s/%s first message is not signed %q", id, lang, sign)
					}
					if !slices.ContainsFunc(send.Buttons, func(c engine.Choice) bool { return c.Reply == "2" }) {
						t.Errorf("%s/%s first message has no button for 2", id, lang)
					}
				}
			}
		}
	}
}
