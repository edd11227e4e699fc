package batch

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// Vars is a checked row's flow variables, sorted by name. A list instead
// of a map: a map of one entry costs some 300 bytes, which across the
// 100,000 rows of a batch held during its check is 30 MB. Stored as a JSON
// object, as the map was.
type Vars []Var

// Var is one variable of a row.
type Var struct{ Name, Value string }

// varsOf returns m as Vars.
func varsOf(m map[string]string) Vars {
	if len(m) == 0 {
		return nil
	}
	out := make(Vars, 0, len(m))
	for k, v := range m {
		out = append(out, Var{k, v})
	}
	slices.SortFunc(out, func(a, b Var) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Map returns the variables as a trigger request takes them.
func (vs Vars) Map() map[string]any {
	m := make(map[string]any, len(vs))
	for _, v := range vs {
		m[v.Name] = v.Value
	}
	return m
}

// MarshalJSON writes the variables as one JSON object.
func (vs Vars) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(v.Name)
		if err != nil {
			return nil, err
		}
		val, err := json.Marshal(v.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a JSON object of strings.
func (vs *Vars) UnmarshalJSON(data []byte) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*vs = varsOf(m)
	return nil
}
