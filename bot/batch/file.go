package batch

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/flow"
)

// MappingPrefix starts a column-mapping parameter,
// column.<header as the file writes it>=<field or variable, or "-" to
// ignore the column>: in the API's query (POST /v1/batches?flow=x&column.Mobiel%20nr.=phone)
// and in the console's column-mapping form alike.
const MappingPrefix = "column."

// MappingFrom reads the column-mapping parameters of a query or a form.
func MappingFrom(v url.Values) map[string]string {
	m := map[string]string{}
	for k, vs := range v {
		if h, ok := strings.CutPrefix(k, MappingPrefix); ok && len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
			m[strings.TrimSpace(h)] = strings.TrimSpace(vs[0])
		}
	}
	return m
}

// File is a spreadsheet read for a flow: its table, what its columns
// mean, and one item per row.
type File struct {
	Table   *Table
	Columns *Columns
	Items   []Item
}

// ReadFile reads a CSV or Excel file for flow f, mapping its columns by
// name and by mapping (which may be nil); dates are read in loc.
func ReadFile(f *flow.Flow, data []byte, mapping map[string]string, loc *time.Location) (*File, error) {
	t, err := ReadTable(data)
	if err != nil {
		return nil, err
	}
	cols, err := MapColumns(f, t.Header, mapping, t.Rows)
	if err != nil {
		return nil, err
	}
	return &File{Table: t, Columns: cols, Items: Items(f, t, cols, loc)}, nil
}

// HeaderProblem reports whether err is about what the header row's
// columns mean (an unknown or doubled column, no phone column): the kind a
// column mapping can fix.
func HeaderProblem(err error) bool {
	var ie *InputError
	return errors.As(err, &ie) && slices.Contains([]string{"unknown_column", "duplicate_column", "no_phone_column"}, ie.Code)
}

// Target is a field a column can be mapped to.
type Target struct {
	Field       string // a person field (ColPhone, ...) or a flow variable's name
	Var         bool   // a flow variable
	Description string // the variable's description from the flow file
}

// Targets lists what a column of a file for flow f can mean: the person
// fields, then the flow's variables.
func Targets(f *flow.Flow) []Target {
	var out []Target
	for _, p := range personFields() {
		out = append(out, Target{Field: p})
	}
	for _, v := range f.Variables {
		if v.Name != "telegram_link" {
			out = append(out, Target{Field: v.Name, Var: true, Description: v.Description})
		}
	}
	return out
}

// Guess is what each column of header means by its name alone (a person
// field or a variable name, as a mapping writes it), "" when unknown.
func Guess(f *flow.Flow, header []string) []string {
	vars := map[string]string{}
	for _, v := range f.Variables {
		vars[headerKey(v.Name)] = v.Name
	}
	out := make([]string, len(header))
	for i, h := range header {
		key := headerKey(h)
		switch {
		case key == "":
		case aliases[key] != "":
			out[i] = aliases[key]
		case vars[key] != "":
			out[i] = vars[key]
		}
	}
	return out
}
