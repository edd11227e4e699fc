// Package lint gives coordinators warnings about the words in a flow file:
// SMS length, encoding and cost of a realistic rendering, Dutch
// readability, distrustful tone in a first contact, a first message
// without the callback number and languages missing in some steps.
//
// Lints are warnings; `flow.Parse` reports the errors (including variables
// about protected characteristics). Every text is rendered with realistic,
// rather long sample values (see Sample) so segment counts are honest.
package lint

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	language "github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/sms"
	"github.com/seintje/seintje/bot/texts"
)

// DefaultToneWords sound distrustful (flow.DistrustfulWords, in every
// language of the shipped flows). In a message Seintje sends on its own
// they are an error of flow.Parse; the lint warns about them in the other
// texts (answers to the recipient), where they are rarely right either.
var DefaultToneWords = flow.AllDistrustfulWords()

// DefaultPricePerSegment is an example price per SMS segment in euro (about
// Twilio's list price for the Netherlands); set your own contract price.
const DefaultPricePerSegment = 0.08

// Config tunes the lints.
type Config struct {
	// PricePerSegment in euro, for the cost shown per text.
	PricePerSegment float64
	// ToneWords are words that must not appear in a first message.
	ToneWords []string
	// MaxSegments: warn when a rendered GSM-7 text needs more SMS segments.
	MaxSegments int
	// MaxSegmentsUCS2: the same for a text in a language whose letters
	// need UCS-2 (Turkish, Polish, Ukrainian, Arabic: 67 characters per
	// part instead of 153), so the same message fits (docs/flows.md).
	MaxSegmentsUCS2 int
	// MaxSentenceWords: warn about longer sentences (B1: at most 15).
	MaxSentenceWords int
	// MaxWordLetters: warn about longer words.
	MaxWordLetters int
	// MinReadingEase: warn when the Dutch Flesch-Douma score is lower.
	MinReadingEase float64
	// Sample is the data texts are rendered with.
	Sample Sample
}

// Sample holds the realistic values used to render texts for the lints.
type Sample struct {
	Contact    engine.Contact
	FirstName  string
	Caseworker string
	// When is used for every date and datetime variable.
	When time.Time
	// String is used for string variables without an example in their
	// description.
	String string
}

// Default returns the shipped configuration.
func Default() Config {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		loc = time.UTC
	}
	return Config{
		PricePerSegment:  DefaultPricePerSegment,
		ToneWords:        DefaultToneWords,
		MaxSegments:      3,
		MaxSegmentsUCS2:  6,
		MaxSentenceWords: 15,
		MaxWordLetters:   20,
		MinReadingEase:   60,
		Sample: Sample{
			Contact: engine.Contact{
				Agency: "gemeente Alphen aan den Rijn",
				Number: "088 123 45 67",
				Hours:  texts.ExampleHours(),
			},
			FirstName:  "Annemarieke",
			Caseworker: "Mohammed El Amrani",
			// A Thursday in September at 10:30: the longest Dutch day and month names.
			When:   time.Date(2026, 9, 24, 10, 30, 0, 0, loc),
			String: "Lieke van den Berg",
		},
	}
}

// Text is one rendered text of a flow, as the phone would get it.
type Text struct {
	File string
	Line int
	Col  int
	Step string // "" for the flow-wide simple text
	Kind string // say, simple, reminder
	// Reminder is the number (from 1) of the step's reminder, for Kind reminder.
	Reminder int
	Lang     string
	First    bool // part of the first message
	Text     string
	SMS      sms.Info
	Cost     float64 // euro
	Reading  Readability
}

// Result of linting one flow.
type Result struct {
	Texts       []Text
	Diagnostics flow.Diagnostics
}

// Lint renders every text of f in every language it is written in and
// returns the rendered texts and the warnings.
func Lint(f *flow.Flow, cfg Config) Result {
	at := flow.Locator(f.Source)
	var res Result
	warn := func(line, col int, code, msg, hint string) {
		res.Diagnostics = append(res.Diagnostics, flow.Diagnostic{Severity: flow.Warning, File: f.File,
			Line: line, Col: col, Code: code, Message: msg, Hint: hint})
	}
	first := firstSteps(f)
	proactive := map[string]bool{}
	for _, id := range f.ProactiveSteps() {
		proactive[id] = true
	}

	type textRef struct {
		step, kind string
		reminder   int // from 1, for kind reminder
		t          flow.Text
		path       []any
	}
	var refs []textRef
	if len(f.Simple) > 0 {
		refs = append(refs, textRef{step: "", kind: "simple", t: f.Simple, path: []any{"simple"}})
	}
	for i, s := range f.Steps {
		if len(s.Say) > 0 {
			refs = append(refs, textRef{step: s.ID, kind: "say", t: s.Say, path: []any{"steps", i, "say"}})
		}
		if len(s.Simple) > 0 {
			refs = append(refs, textRef{step: s.ID, kind: "simple", t: s.Simple, path: []any{"steps", i, "simple"}})
		}
		for j, r := range s.Reminders {
			if len(r.Say) > 0 {
				refs = append(refs, textRef{step: s.ID, kind: kindReminder, reminder: j + 1, t: r.Say, path: []any{"steps", i, "reminders", j, "say"}})
			}
		}
	}

	langs := f.Languages()
	for _, r := range refs {
		for _, lang := range langs {
			path := append(slices.Clone(r.path), lang)
			where := describe(r.step, r.kind, r.reminder)
			if _, ok := r.t[lang]; !ok {
				if r.kind == "say" || r.kind == kindReminder {
					l, c := at(r.path...)
					warn(l, c, "missing-language", fmt.Sprintf("[%s] %s has no %s text, although other steps have one; %s readers get Dutch here", lang, where, lang, lang),
						fmt.Sprintf("add `%s:` to this text, or remove %s from the other steps", lang, lang))
				}
				continue
			}
			l, c := at(path...)
			kind := r.kind
			if r.kind == kindReminder {
				kind = flow.ReminderKind(r.reminder - 1)
			}
			rendered, used, err := f.Render(r.step, kind, lang, SampleData(f, cfg.Sample, lang))
			if err != nil || used != lang {
				warn(l, c, "render", fmt.Sprintf("[%s] the text cannot be rendered with sample values: %v", lang, err), "check the {{ }} parts")
				continue
			}
			info := sms.Analyze(rendered)
			t := Text{File: f.File, Line: l, Col: c, Step: r.step, Kind: r.kind, Reminder: r.reminder, Lang: lang, First: r.kind == "say" && first[r.step],
				Text: rendered, SMS: info, Cost: float64(info.Segments) * cfg.PricePerSegment}
			if lang == "nl" {
				t.Reading = Dutch(rendered)
			} else {
				t.Reading = Sentences(rendered)
			}
			res.Texts = append(res.Texts, t)

			if info.Encoding == sms.UCS2 && !language.NeedsUCS2(lang) {
				warn(l, c, "sms-ucs2", fmt.Sprintf("[%s] %s: %s switches the whole text to UCS-2 (70 characters per SMS, 67 per part): %s, €%.2f",
					lang, where, quoteRunes(info.Offending), info, t.Cost),
					"write e instead of ë, i instead of ï, and leave out emoji and curly quotes, if the text allows it")
			}
			if max := cfg.segmentCap(info.Encoding); max > 0 && info.Segments > max {
				warn(l, c, "sms-length", fmt.Sprintf("[%s] %s takes %d SMS segments (%s), €%.2f per message; more than %d",
					lang, where, info.Segments, info, t.Cost, max),
					"cut the text into smaller parts (a step per part) or shorten it")
			}
			for _, s := range t.Reading.LongSentences(cfg.MaxSentenceWords) {
				warn(l, c, "long-sentence", fmt.Sprintf("[%s] %s: sentence of %d words (B1: at most %d): %q", lang, where, wordCount(s), cfg.MaxSentenceWords, clip(s, 60)),
					"split it into two sentences")
			}
			if lang == "nl" {
				for _, w := range t.Reading.LongWords(cfg.MaxWordLetters) {
					warn(l, c, "long-word", fmt.Sprintf("[nl] %s: long word %q (%d letters)", where, w, len([]rune(w))),
						"use a shorter, more common word, or say it in more words")
				}
				if t.Reading.Words >= 10 && t.Reading.Ease < cfg.MinReadingEase {
					warn(l, c, "readability", fmt.Sprintf("[nl] %s: Flesch-Douma reading ease %.0f, below %.0f (%d words, %.1f words per sentence, %.2f syllables per word)",
						where, t.Reading.Ease, cfg.MinReadingEase, t.Reading.Words, t.Reading.WordsPerSentence(), t.Reading.SyllablesPerWord()),
						"use shorter sentences and shorter words (B1)")
				}
			}
			// Messages Seintje sends on its own are checked by flow.Parse
			// (an error); here the answers to what the recipient said.
			if !proactive[r.step] || r.kind == "simple" {
				if w := ToneWord(rendered, cfg.ToneWords); w != "" {
					warn(l, c, "tone", fmt.Sprintf("[%s] %s uses %q, which sounds distrustful", lang, where, w),
						"say what you want to help with instead; see the tone rules in docs/flows.md")
				}
			}
		}
	}

	res.Diagnostics.Sort()
	return res
}

// firstSteps are the steps whose say texts are sent as the first message:
// the first step and the steps it moves on to at once with `next`.
func firstSteps(f *flow.Flow) map[string]bool {
	out := map[string]bool{}
	for s := f.Start(); s != nil && !out[s.ID]; s = f.Step(s.Next) {
		out[s.ID] = true
		if s.Next == "" {
			break
		}
	}
	return out
}

// SampleData is the template data the lints render with in lang:
// realistic and rather long values.
func SampleData(f *flow.Flow, s Sample, lang string) flow.Data {
	vars := map[string]string{}
	for _, v := range f.Variables {
		switch v.Type {
		case flow.TypeDate:
			vars[v.Name] = s.When.Format(time.DateOnly)
		case flow.TypeDatetime:
			vars[v.Name] = s.When.Format(time.RFC3339)
		default:
			vars[v.Name] = sampleString(v.Description, s.String)
		}
	}
	c := engine.Conversation{Lang: lang, FirstName: s.FirstName, Caseworker: s.Caseworker, Vars: vars}
	return engine.Data(s.Contact, f, c, s.When.Location())
}

// sampleString takes the longest quoted example from a variable's
// description (e.g. "taarten bakken"), or def.
func sampleString(desc, def string) string {
	best := ""
	parts := strings.Split(desc, `"`)
	for i := 1; i < len(parts); i += 2 {
		if p := strings.TrimSpace(parts[i]); len(p) > len(best) && !strings.Contains(p, "<") {
			best = p
		}
	}
	if best == "" {
		return def
	}
	return best
}

// kindReminder is Text.Kind of a step's reminder text.
const kindReminder = "reminder"

func describe(step, kind string, reminder int) string {
	switch {
	case step == "":
		return "the flow's simple text"
	case kind == "simple":
		return fmt.Sprintf("step %q simple text", step)
	case kind == kindReminder:
		return fmt.Sprintf("step %q reminder %d", step, reminder)
	}
	return fmt.Sprintf("step %q", step)
}

func quoteRunes(rs []rune) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%q", r)
	}
	return strings.Join(parts, ", ")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// ToneWord returns the first word of text that starts with one of words
// (flow.DistrustfulWord), or "".
func ToneWord(text string, words []string) string {
	w, _ := flow.DistrustfulWord(text, words)
	return w
}

// segmentCap is the most SMS segments a text in encoding enc may take.
func (cfg Config) segmentCap(enc sms.Encoding) int {
	if enc == sms.UCS2 && cfg.MaxSegmentsUCS2 > 0 {
		return cfg.MaxSegmentsUCS2
	}
	return cfg.MaxSegments
}
