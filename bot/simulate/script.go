package simulate

import (
	"fmt"
	"strings"
	"time"
)

// Script is a conversation file (testdata/*.txt): the lines typed into a
// simulation, with its settings in comment headers, so the same file can
// be piped into `seintje flows simulate` as it is:
//
//	# flow: no-show
//	# lang: en                      (default nl)
//	# start: 2026-11-23T05:11:00+01:00
//	# var: appointment_at=2026-11-20T10:00:00+01:00
//	# env: SEINTJE_WEEKLY_LIMIT=2   (a setting, as the service reads it)
//	2
//	/time +2h
type Script struct {
	Options
	Env   map[string]string
	Lines []string
}

// ParseScript reads a conversation file.
func ParseScript(text string) (Script, error) {
	s := Script{Options: Options{Lang: "nl", Name: "Samira", Caseworker: "Anouk de Vries", Vars: map[string]any{}}, Env: map[string]string{}}
	for i, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			k, v, ok := strings.Cut(rest, ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch strings.TrimSpace(k) {
			case "flow":
				s.Flow = v
			case "lang":
				s.Lang = v
			case "start":
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					return s, fmt.Errorf("line %d: start must look like 2026-11-23T10:00:00+01:00", i+1)
				}
				s.Start = t
			case "var", "env":
				name, val, ok := strings.Cut(v, "=")
				if !ok {
					return s, fmt.Errorf("line %d: write %s: name=value", i+1, k)
				}
				if k == "var" {
					s.Vars[strings.TrimSpace(name)] = strings.TrimSpace(val)
				} else {
					s.Env[strings.TrimSpace(name)] = strings.TrimSpace(val)
				}
			}
			continue
		}
		s.Lines = append(s.Lines, line)
	}
	if s.Flow == "" {
		return s, fmt.Errorf("no '# flow: id' line")
	}
	if s.Start.IsZero() {
		return s, fmt.Errorf("no '# start: 2026-11-23T10:00:00+01:00' line: a script needs a fixed clock")
	}
	return s, nil
}

// Args are the `seintje flows simulate` arguments that play the script.
func (s Script) Args() []string {
	args := []string{s.Flow, "--lang", s.Lang, "--name", s.Name, "--caseworker", s.Caseworker, "--start", s.Start.Format(time.RFC3339)}
	for k, v := range s.Vars {
		args = append(args, "--var", fmt.Sprintf("%s=%v", k, v))
	}
	return args
}
