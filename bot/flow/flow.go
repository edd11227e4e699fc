// Package flow reads, checks and renders the coordinators' conversation flow
// files (flows/*.yaml). It knows nothing of Redis or channels: the engine
// package walks a *Flow, this package only describes one.
package flow

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/seintje/seintje/bot/lang"
)

// Variable types a flow may declare.
const (
	TypeString   = "string"
	TypeDate     = "date"     // 2026-11-24
	TypeDatetime = "datetime" // RFC 3339: 2026-11-24T10:00:00+01:00
)

// Step actions.
const (
	ActionCallback = "callback" // ask the werkplaats to call the recipient back
	ActionForward  = "forward"  // forward the recipient's last reply to the case worker
	ActionEnd      = "end"      // close the conversation with Outcome
)

// DefaultLang is the language every text must have; others fall back to it.
const DefaultLang = "nl"

// Flow is one parsed and checked flow file.
type Flow struct {
	ID          string     `yaml:"id"`
	Version     int        `yaml:"version"`
	Description string     `yaml:"description"`
	Variables   []Variable `yaml:"variables"`
	// Simple is the flow-wide simpler (A2) text for "?", "snap ik niet",
	// "te moeilijk"; a step's own Simple wins.
	Simple Text   `yaml:"simple"`
	Steps  []Step `yaml:"steps"`
	// Expire closes a still-open conversation after a while (timing.go).
	Expire *Expire `yaml:"expire"`
	// Escalate asks the werkplaats to call when messages do not work.
	Escalate *Escalate `yaml:"escalate"`
	// Callbacks is the werkplaats policy for callback tasks of this flow.
	Callbacks *CallbackPolicy `yaml:"callbacks"`
	// Outcomes the case system can report for a nudge (experiment.go).
	Outcomes []Outcome `yaml:"outcomes"`
	// Experiment compares variants of this flow (experiment.go).
	Experiment *Experiment `yaml:"experiment"`

	// Set by Parse.
	File   string `yaml:"-"`
	Digest string `yaml:"-"` // sha256 of the source, hex, first 12 chars
	Source []byte `yaml:"-"`

	steps     map[string]*Step
	templates map[tmplKey]*template.Template
}

// Variable is a value the case system passes when it triggers the flow.
type Variable struct {
	Name        string `yaml:"name"`
	Type        string `yaml:"type"`
	Required    bool   `yaml:"required"`
	Description string `yaml:"description"`
}

// Text is one message in several languages: language code → Go template.
type Text map[string]string

// Step is one named point in a conversation.
type Step struct {
	ID string `yaml:"id"`
	// Say is sent when the conversation enters the step.
	Say Text `yaml:"say"`
	// Simple replaces the flow's Simple text for this step.
	Simple Text `yaml:"simple"`
	// Replies route the recipient's answer; the first matching route wins.
	Replies []Route `yaml:"replies"`
	// Otherwise is the step for any answer no route matches. Without it an
	// unmatched answer is forwarded to the case worker with a kind
	// acknowledgement and the conversation keeps waiting here.
	Otherwise string `yaml:"otherwise"`
	// Wait bounds how long the step waits for an answer.
	Wait *Wait `yaml:"wait"`
	// Action is done after Say: callback, forward or end.
	Action string `yaml:"action"`
	// Reason is shown to the werkplaats for a callback request.
	Reason string `yaml:"reason"`
	// Outcome is recorded when the conversation ends here.
	Outcome string `yaml:"outcome"`
	// Next moves on at once, without waiting for an answer.
	Next string `yaml:"next"`
	// Reminders are sent while the conversation waits at this step, at a
	// time relative to a date variable (timing.go).
	Reminders []Reminder `yaml:"reminders"`
	// Priority of the callback task this step creates (1 high … 3 low).
	Priority int `yaml:"priority"`
	// Preferred is the recipient's preferred moment for the callback task:
	// morning, afternoon, self (they call us) or none (no preference given).
	Preferred string `yaml:"preferred"`
	// WhatsApp is the approved template per language for this step's
	// message outside WhatsApp's 24-hour window (whatsapp.go).
	WhatsApp map[string]ContentTemplate `yaml:"whatsapp"`
}

// Route sends answers that match one of Match to step Goto.
type Route struct {
	// Match lists digits, words and short phrases. Case, accents and small
	// typos are tolerated.
	Match []string `yaml:"match"`
	Goto  string   `yaml:"goto"`
	// Label is the button text on channels with buttons (Telegram); the
	// first Match entry is sent when the button is pressed.
	Label Text `yaml:"label"`
}

// Wait is how long a step waits, and where to go when nobody answers.
type Wait struct {
	Timeout Duration `yaml:"timeout"`
	// WorkingDays waits this many working days (Monday to Friday, not on
	// public holidays) instead of Timeout.
	WorkingDays int    `yaml:"working_days"`
	Then        string `yaml:"then"`
}

// Duration is a YAML duration that also accepts days and weeks: "48h",
// "2d", "1w", "1d12h", "30m".
type Duration struct{ time.Duration }

// UnmarshalYAML implements yaml.BytesUnmarshaler.
func (d *Duration) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// ParseDuration parses Go durations plus "d" (24h) and "w" (7d) units.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration: write for example 48h, 2d or 1w")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		if i == 0 || i == len(rest) {
			break
		}
		unit := rest[i]
		if unit != 'd' && unit != 'w' {
			break
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		mult := 24 * time.Hour
		if unit == 'w' {
			mult *= 7
		}
		total += time.Duration(n) * mult
		rest = rest[i+1:]
	}
	if rest != "" {
		v, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("duration %q is not valid: write for example 48h, 2d, 1w or 90m", s)
		}
		total += v
	}
	return total, nil
}

// Step returns the step with id, or nil.
func (f *Flow) Step(id string) *Step { return f.steps[id] }

// Start returns the first step.
func (f *Flow) Start() *Step { return &f.Steps[0] }

// Var returns the declared variable, or nil.
func (f *Flow) Var(name string) *Variable {
	for i := range f.Variables {
		if f.Variables[i].Name == name {
			return &f.Variables[i]
		}
	}
	return nil
}

// Ref identifies the exact version of a flow a conversation runs on.
func (f *Flow) Ref() Ref { return Ref{ID: f.ID, Version: f.Version, Digest: f.Digest} }

// Languages returns every language any text of the flow is written in.
func (f *Flow) Languages() []string {
	seen := map[string]bool{}
	var out []string
	add := func(t Text) {
		for l := range t {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	add(f.Simple)
	for _, s := range f.Steps {
		add(s.Say)
		add(s.Simple)
		for _, r := range s.Reminders {
			add(r.Say)
		}
	}
	slices.Sort(out)
	return out
}

// Lang returns the language a conversation requested in code is held in:
// code's base language ("ar" for "ar-MA") when the flow is written in it,
// else Dutch.
func (f *Flow) Lang(code string) string {
	if base := lang.Base(code); base != "" && slices.Contains(f.Languages(), base) {
		return base
	}
	return DefaultLang
}

// Waits reports whether the step waits for an answer.
func (s *Step) Waits() bool {
	return len(s.Replies) > 0 || s.Otherwise != "" || s.Wait != nil
}

// Ends reports whether the conversation ends at this step.
func (s *Step) Ends() bool { return s.Action == ActionEnd || (!s.Waits() && s.Next == "") }

// Ref pins a flow version.
type Ref struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Digest  string `json:"digest"`
}

func (r Ref) String() string { return fmt.Sprintf("%s v%d (%s)", r.ID, r.Version, r.Digest) }
