package flowtest_test

// Generic checks that every shipped flow speaks the six languages of
// lang.Shipped the same way. They hold for any wording a coordinator
// writes: they compare the languages with each other, never with a text.

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/flowtest"
	"github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/lint"
	"github.com/seintje/seintje/bot/sms"
)

// flowTexts lists every text of a flow with a path for messages.
func flowTexts(f *flow.Flow) map[string]flow.Text {
	out := map[string]flow.Text{"simple": f.Simple}
	for _, s := range f.Steps {
		out[s.ID+"/say"] = s.Say
		out[s.ID+"/simple"] = s.Simple
		for i, r := range s.Reminders {
			out[fmt.Sprintf("%s/reminders[%d]", s.ID, i)] = r.Say
		}
		for i, r := range s.Replies {
			out[fmt.Sprintf("%s/replies[%d]/label", s.ID, i)] = r.Label
		}
	}
	return out
}

var (
	actionRe = regexp.MustCompile(`\{\{[^}]*\}\}`)
	digitRe  = regexp.MustCompile(`(^|[^0-9])([0-9])([^0-9]|$)`)
)

// actions returns the distinct template actions of s ({{.FirstName}},
// {{if .Vars.x}}, ...), sorted.
func actions(s string) []string {
	a := actionRe.FindAllString(s, -1)
	slices.Sort(a)
	return slices.Compact(a)
}

// TestShippedFlowsHaveAllLanguages: every text of every shipped flow is
// written in all six languages, with the same template parts as the Dutch
// ({{.CallbackNumber}}, {{.Vars.x}}, {{if}}...), and every button label
// starts with the digit its route answers to.
func TestShippedFlowsHaveAllLanguages(t *testing.T) {
	flows, _, err := flow.LoadDir(shippedDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) == 0 {
		t.Fatal("no shipped flows")
	}
	for id, f := range flows {
		t.Run(id, func(t *testing.T) {
			for path, txt := range flowTexts(f) {
				if len(txt) == 0 {
					continue
				}
				want := actions(txt[flow.DefaultLang])
				for _, l := range lang.Shipped() {
					s := txt[l]
					if strings.TrimSpace(s) == "" {
						t.Errorf("%s: %s has no %s (%s) text", f.File, path, l, lang.Name(l))
						continue
					}
					if got := actions(s); !slices.Equal(got, want) {
						t.Errorf("%s: %s/%s uses %v, the Dutch uses %v: keep the same {{ }} parts in every language", f.File, path, l, got, want)
					}
				}
			}
			for _, s := range f.Steps {
				for i, r := range s.Replies {
					for _, l := range lang.Shipped() {
						if lb := r.Label[l]; lb != "" && !strings.HasPrefix(lb, r.Match[0]+" ") {
							t.Errorf("%s: step %q route %d label/%s %q does not start with %q, the answer its button sends", f.File, s.ID, i+1, l, lb, r.Match[0])
						}
					}
				}
			}
		})
	}
}

// TestShippedFlowsOfferTheSameChoices: rendered with sample values, a text
// names the same choice digits (1, 2, 3) in every language as in Dutch, so
// "Stuur 2" is "2 gönderin", never another number; and the first message of
// every language fits the lint caps (3 GSM-7 or 6 UCS-2 segments) with the
// optional variables left out too.
func TestShippedFlowsOfferTheSameChoices(t *testing.T) {
	flows, _, err := flow.LoadDir(shippedDir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := flowtest.Engine()
	if err != nil {
		t.Fatal(err)
	}
	cfg := lint.Default()
	for id, f := range flows {
		t.Run(id, func(t *testing.T) {
			choices := func(s string) []string {
				var out []string
				for _, m := range digitRe.FindAllStringSubmatch(s, -1) {
					out = append(out, m[2])
				}
				slices.Sort(out)
				return slices.Compact(out)
			}
			for _, s := range f.Steps {
				if len(s.Replies) == 0 {
					continue
				}
				for _, kind := range []string{"say", "simple"} {
					nl, _, err := f.Render(s.ID, kind, flow.DefaultLang, lint.SampleData(f, cfg.Sample, flow.DefaultLang))
					if err != nil || nl == "" {
						continue
					}
					want := choices(stripContact(nl, cfg))
					for _, l := range lang.Shipped() {
						got, used, err := f.Render(s.ID, kind, l, lint.SampleData(f, cfg.Sample, l))
						if err != nil || used != l {
							t.Errorf("%s: step %q %s/%s does not render: %v", f.File, s.ID, kind, l, err)
							continue
						}
						if g := choices(stripContact(got, cfg)); !slices.Equal(g, want) {
							t.Errorf("%s: step %q %s/%s offers the choices %v, the Dutch offers %v", f.File, s.ID, kind, l, g, want)
						}
					}
				}
			}
			// The first message without the optional variables.
			vars := map[string]any{}
			for _, v := range f.Variables {
				if !v.Required {
					continue
				}
				switch v.Type {
				case flow.TypeDate:
					vars[v.Name] = cfg.Sample.When.Format(time.DateOnly)
				case flow.TypeDatetime:
					vars[v.Name] = cfg.Sample.When.Format(time.RFC3339)
				default:
					vars[v.Name] = cfg.Sample.String
				}
			}
			checked, verr := f.CheckVars(vars)
			if verr != nil {
				t.Fatalf("sample variables: %v", verr)
			}
			for _, l := range lang.Shipped() {
				res, err := e.Start(f, engine.Conversation{ID: "x", Lang: l, FirstName: cfg.Sample.FirstName,
					Caseworker: cfg.Sample.Caseworker, Vars: checked}, cfg.Sample.When)
				if err != nil {
					t.Fatalf("%s: %v", l, err)
				}
				if res.Conv.Lang != l {
					t.Errorf("%s: a conversation in %s runs in %s", f.File, l, res.Conv.Lang)
				}
				for _, eff := range res.Effects {
					send, ok := eff.(engine.Send)
					if !ok {
						continue
					}
					info := sms.Analyze(send.Text)
					max := cfg.MaxSegments
					if info.Encoding == sms.UCS2 {
						max = cfg.MaxSegmentsUCS2
					}
					if info.Segments > max {
						t.Errorf("%s: first message in %s without the optional variables takes %s; at most %d", f.File, l, info, max)
					}
					if lang.NeedsUCS2(l) == (info.Encoding == sms.GSM7) {
						t.Errorf("%s: first message in %s is %s", f.File, l, info.Encoding)
					}
				}
			}
		})
	}
}

// stripContact removes the parts of a rendered text that are not choices:
// the callback number, the hours and the dates and times of the sample.
func stripContact(s string, cfg lint.Config) string {
	s = strings.ReplaceAll(s, cfg.Sample.Contact.Number, "")
	for _, h := range cfg.Sample.Contact.Hours {
		s = strings.ReplaceAll(s, h, "")
	}
	return regexp.MustCompile(`[0-9]+[:.][0-9]+|\b[0-9]{2,}\b|\b(2[0-9]|1[0-9]|[4-9])\b`).ReplaceAllString(s, "")
}

// TestEveryLanguageHasAConversationTest: each shipped flow's test file has
// at least one conversation in each of the six languages.
func TestEveryLanguageHasAConversationTest(t *testing.T) {
	files, err := flowtest.TestFiles(shippedDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var tf flowtest.File
		if err := yaml.Unmarshal(src, &tf); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		seen := map[string]bool{}
		for _, c := range tf.Tests {
			l := c.Lang
			if l == "" {
				l = flow.DefaultLang
			}
			seen[lang.Base(l)] = true
		}
		for _, l := range lang.Shipped() {
			if !seen[l] {
				t.Errorf("%s: no conversation test in %s (%s); add one with `lang: %s`", file, lang.Name(l), l, l)
			}
		}
	}
}

// TestShippedFlowsUnderstandEveryLanguage: a route that takes a Dutch
// "ja", "nee" or "bel mij" takes the usual answer in every shipped
// language too, and a route answered by a digit takes that digit written
// in Arabic-Indic and Persian (Eastern Arabic-Indic) digits. The answer
// per language is what people write, so a flow that forgets a language's
// words fails here rather than with a confused recipient.
func TestShippedFlowsUnderstandEveryLanguage(t *testing.T) {
	flows, _, err := flow.LoadDir(shippedDir)
	if err != nil {
		t.Fatal(err)
	}
	answers := []struct {
		dutch string // a route that matches this Dutch word ...
		each  map[string]string
	}{
		{"ja", map[string]string{"nl": "ja", "en": "yes", "tr": "evet", "pl": "tak", "uk": "так", "ar": "نعم"}},
		{"nee", map[string]string{"nl": "nee", "en": "no", "tr": "hayır", "pl": "nie", "uk": "ні", "ar": "لا"}},
		{"bel mij", map[string]string{"nl": "bel mij terug", "en": "call me back", "tr": "beni arayın", "pl": "proszę zadzwonić",
			"uk": "зателефонуйте мені", "ar": "اتصلوا بي"}},
	}
	for id, f := range flows {
		t.Run(id, func(t *testing.T) {
			for _, s := range f.Steps {
				for i, r := range s.Replies {
					probe := func(what, text string) {
						if got := flow.MatchRoute(s.Replies, text); got != i {
							took := "no route"
							if got >= 0 {
								took = fmt.Sprintf("route %d (goto %s)", got+1, s.Replies[got].Goto)
							}
							t.Errorf("%s: step %q: %s %q takes %s, want route %d (goto %s)", f.File, s.ID, what, text, took, i+1, r.Goto)
						}
					}
					for _, a := range answers {
						if !slices.Contains(r.Match, a.dutch) {
							continue
						}
						for _, l := range lang.Shipped() {
							w, ok := a.each[l]
							if !ok {
								t.Fatalf("no %s answer for %q in this test", l, a.dutch)
							}
							probe(lang.Name(l), w)
						}
					}
					if d := r.Match[0]; len(d) == 1 && d[0] >= '0' && d[0] <= '9' {
						probe("Arabic-Indic digit", string(rune('٠'+rune(d[0]-'0'))))
						probe("Persian digit", string(rune('۰'+rune(d[0]-'0'))))
					}
				}
			}
		})
	}
}
