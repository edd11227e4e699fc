package flow

import (
	"fmt"
	"sort"
	"time"
)

// VarError is one invalid trigger variable.
type VarError struct {
	Name    string
	Message string
}

func (e *VarError) Error() string { return fmt.Sprintf("vars.%s: %s", e.Name, e.Message) }

// CheckVars validates the variables a case system sends for this flow and
// returns them in canonical string form (dates as 2006-01-02, datetimes as
// RFC 3339 in UTC). Unknown, missing and ill-typed variables are errors.
func (f *Flow) CheckVars(in map[string]any) (map[string]string, *VarError) {
	out := map[string]string{}
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if f.Var(k) == nil {
			return nil, &VarError{Name: k, Message: fmt.Sprintf("flow %q has no variable %q", f.ID, k)}
		}
	}
	for _, v := range f.Variables {
		raw, ok := in[v.Name]
		if !ok || raw == nil || raw == "" {
			if v.Required {
				return nil, &VarError{Name: v.Name, Message: fmt.Sprintf("is required (%s)", describeType(v.Type))}
			}
			continue
		}
		s, ok := raw.(string)
		if !ok {
			return nil, &VarError{Name: v.Name, Message: fmt.Sprintf("must be a string (%s)", describeType(v.Type))}
		}
		switch v.Type {
		case TypeDate:
			t, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return nil, &VarError{Name: v.Name, Message: "must be a date like 2026-11-24"}
			}
			out[v.Name] = t.Format(time.DateOnly)
		case TypeDatetime:
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return nil, &VarError{Name: v.Name, Message: "must be an RFC 3339 date and time like 2026-11-24T10:00:00+01:00"}
			}
			out[v.Name] = t.UTC().Format(time.RFC3339)
		default:
			if len(s) > 200 {
				return nil, &VarError{Name: v.Name, Message: "is longer than 200 characters"}
			}
			out[v.Name] = s
		}
	}
	return out, nil
}

func describeType(t string) string {
	switch t {
	case TypeDate:
		return "a date like 2026-11-24"
	case TypeDatetime:
		return "an RFC 3339 date and time like 2026-11-24T10:00:00+01:00"
	}
	return "a text"
}

// TypedVars turns canonical string variables into template values: dates
// and datetimes become time.Time (dates at midnight Europe/Amsterdam is
// not needed: only the civil date is printed), optional missing variables
// become "".
func (f *Flow) TypedVars(vars map[string]string, loc *time.Location) map[string]any {
	if loc == nil {
		loc = time.UTC // only the civil date is printed
	}
	out := make(map[string]any, len(f.Variables))
	for _, v := range f.Variables {
		s, ok := vars[v.Name]
		switch v.Type {
		case TypeDate:
			if t, err := time.ParseInLocation(time.DateOnly, s, loc); ok && err == nil {
				out[v.Name] = t
			} else {
				out[v.Name] = nil // false in {{if}}; date/datetime/time print ""
			}
		case TypeDatetime:
			if t, err := time.Parse(time.RFC3339, s); ok && err == nil {
				out[v.Name] = t
			} else {
				out[v.Name] = nil // false in {{if}}; date/datetime/time print ""
			}
		default:
			out[v.Name] = s
		}
	}
	return out
}
