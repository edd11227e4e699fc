package batch

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/flow"
)

// Item is one person in a batch, from a spreadsheet row or a JSON item.
type Item struct {
	Row            int // as a spreadsheet shows it (CSV/XLSX header = 1); JSON: index + 1
	Ref            string
	Phone          string
	Name           string
	Language       string
	Caseworker     string
	Vars           map[string]any // JSON items; a table's rows keep cells instead
	IdempotencyKey string         // JSON items only
	// cells are a table row's variables (Items): a map per row would
	// cost some 300 bytes, 30 MB for a batch of 100,000 rows.
	cells []Var
}

// vars returns the item's variables as a trigger request takes them: a
// JSON item's map, or a table row's cells as a new map.
func (it *Item) vars() map[string]any {
	if it.cells == nil {
		return it.Vars
	}
	m := make(map[string]any, len(it.cells))
	for _, c := range it.cells {
		m[c.Name] = c.Value
	}
	return m
}

// Person fields a spreadsheet may carry besides the flow's variables.
const (
	ColRef        = "ref"
	ColPhone      = "phone"
	ColName       = "name"
	ColLanguage   = "language"
	ColCaseworker = "caseworker"
)

// aliases are the header names (lowercase, without spaces, '-' or '_')
// recognised for each person field, Dutch first.
var aliases = map[string]string{
	"ref": ColRef, "referentie": ColRef, "kenmerk": ColRef, "zaak": ColRef, "zaaknummer": ColRef, "dossier": ColRef,
	"dossiernummer": ColRef, "klantnummer": ColRef, "casereference": ColRef, "reference": ColRef,
	"phone": ColPhone, "telefoon": ColPhone, "telefoonnummer": ColPhone, "mobiel": ColPhone, "mobielnummer": ColPhone,
	"mobiel06": ColPhone, "gsm": ColPhone, "tel": ColPhone, "mobile": ColPhone, "phonenumber": ColPhone,
	"name": ColName, "naam": ColName, "voornaam": ColName, "firstname": ColName,
	"language": ColLanguage, "taal": ColLanguage, "lang": ColLanguage,
	"caseworker": ColCaseworker, "consulent": ColCaseworker, "klantmanager": ColCaseworker, "afzender": ColCaseworker,
}

func headerKey(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.NewReplacer(" ", "", "-", "", "_", "", ".", "").Replace(h)
}

// Columns maps the columns of a table to person fields and flow variables.
type Columns struct {
	// Field of each column: a person field (ColPhone, ...), "var:<name>"
	// for a flow variable, or "" for an empty column that is ignored.
	Field []string
	// Header is the column's name as the file spells it (for messages).
	Header []string
}

// Name returns the file's name for a field ("var:<name>" or a person field),
// or the field itself when the file has no such column.
func (c *Columns) Name(field string) string {
	if i := slices.Index(c.Field, field); i >= 0 {
		return c.Header[i]
	}
	return strings.TrimPrefix(field, "var:")
}

// MapColumns matches a header to the flow. mapping, when given, says which
// field a header means (the console's column-mapping step), by the header
// as written: {"Mobiel nr.": "phone", "Datum": "appointment_at"}.
func MapColumns(f *flow.Flow, header []string, mapping map[string]string, rows [][]string) (*Columns, error) {
	c := &Columns{Field: make([]string, len(header)), Header: header}
	guess := Guess(f, header)
	seen := map[string]int{}
	for i, h := range header {
		want := ""
		if m, ok := mapping[strings.TrimSpace(h)]; ok {
			want = m
		}
		key := headerKey(h)
		switch {
		case want != "":
			if isPerson(want) {
				c.Field[i] = want
			} else if f.Var(want) != nil {
				c.Field[i] = "var:" + want
			} else if want != "-" {
				return nil, &InputError{Code: "unknown_column", Row: 1, Column: h,
					Message: fmt.Sprintf("column %q is mapped to %q, which is neither a person field (%s) nor a variable of flow %q (%s)",
						h, want, strings.Join(personFields(), ", "), f.ID, strings.Join(varNames(f), ", "))}
			}
		case key == "":
			if columnEmpty(rows, i) {
				continue
			}
			return nil, &InputError{Code: "unknown_column", Row: 1, Column: ColumnLetter(i),
				Message: fmt.Sprintf("column %s has values but no name in the header row; give it a name or remove it", ColumnLetter(i))}
		case isPerson(guess[i]):
			c.Field[i] = guess[i]
		case guess[i] != "":
			c.Field[i] = "var:" + guess[i]
		default:
			return nil, &InputError{Code: "unknown_column", Row: 1, Column: h,
				Message: fmt.Sprintf("column %q (row 1, column %s) is not a person field (%s) and not a variable of flow %q (%s); rename or remove it",
					h, ColumnLetter(i), strings.Join(personFields(), ", "), f.ID, strings.Join(varNames(f), ", "))}
		}
		if c.Field[i] == "" {
			continue
		}
		if j, dup := seen[c.Field[i]]; dup {
			return nil, &InputError{Code: "duplicate_column", Row: 1, Column: h,
				Message: fmt.Sprintf("columns %q and %q (%s and %s) both mean %s; keep one", header[j], h, ColumnLetter(j), ColumnLetter(i), strings.TrimPrefix(c.Field[i], "var:"))}
		}
		seen[c.Field[i]] = i
	}
	if _, ok := seen[ColPhone]; !ok {
		return nil, &InputError{Code: "no_phone_column", Row: 1,
			Message: "the header row has no phone column; name one column \"telefoon\" (or \"phone\", \"mobiel\")"}
	}
	return c, nil
}

func isPerson(f string) bool { return slices.Contains(personFields(), f) }

func personFields() []string { return []string{ColRef, ColPhone, ColName, ColLanguage, ColCaseworker} }

func varNames(f *flow.Flow) []string {
	out := make([]string, 0, len(f.Variables))
	for _, v := range f.Variables {
		if v.Name != "telegram_link" {
			out = append(out, v.Name)
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

func columnEmpty(rows [][]string, i int) bool {
	for _, r := range rows {
		if i < len(r) && strings.TrimSpace(r[i]) != "" {
			return false
		}
	}
	return true
}

// ColumnLetter is the spreadsheet name of column i (0 → A, 26 → AA).
func ColumnLetter(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// Items turns the rows of a table into items, with dates in the formats
// Dutch spreadsheets use converted to the flow's formats.
func Items(f *flow.Flow, t *Table, c *Columns, loc *time.Location) []Item {
	out := make([]Item, 0, len(t.Rows))
	for r, rec := range t.Rows {
		it := Item{Row: r + 2, cells: []Var{}} // not nil: a table row (no allocation)
		for i, field := range c.Field {
			if field == "" || i >= len(rec) {
				continue
			}
			v := strings.TrimSpace(rec[i])
			switch field {
			case ColRef:
				it.Ref = v
			case ColPhone:
				it.Phone = v
			case ColName:
				it.Name = v
			case ColLanguage:
				it.Language = v
			case ColCaseworker:
				it.Caseworker = v
			default:
				name := strings.TrimPrefix(field, "var:")
				if v != "" {
					it.cells = append(it.cells, Var{name, normalizeVar(f.Var(name), v, t.Format, loc)})
				}
			}
		}
		out = append(out, it)
	}
	return out
}

var (
	dutchDate     = regexp.MustCompile(`^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$`)
	dutchDateTime = regexp.MustCompile(`^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})[ T]+(\d{1,2})[:.](\d{2})$`)
	isoDateTime   = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(:\d{2})?$`)
)

// normalizeVar converts the date and time forms of a Dutch spreadsheet
// (24-11-2026, 24-11-2026 10:00, an Excel date cell) to the flow's formats.
// Anything else is passed on unchanged, for the flow's own check to judge.
func normalizeVar(v *flow.Variable, s, format string, loc *time.Location) string {
	if v == nil {
		return s
	}
	switch v.Type {
	case flow.TypeDate:
		if m := dutchDate.FindStringSubmatch(s); m != nil {
			return fmt.Sprintf("%s-%02s-%02s", m[3], m[2], m[1])
		}
		if format == "xlsx" {
			if t, ok := excelSerial(s, loc); ok {
				return t.Format(time.DateOnly)
			}
		}
	case flow.TypeDatetime:
		var t time.Time
		ok := false
		if m := dutchDateTime.FindStringSubmatch(s); m != nil {
			t, ok = wall(m[3], m[2], m[1], m[4], m[5], loc)
		} else if m := isoDateTime.FindStringSubmatch(s); m != nil {
			t, ok = wall(m[1], m[2], m[3], m[4], m[5], loc)
		} else if format == "xlsx" {
			t, ok = excelSerial(s, loc)
		}
		if ok {
			return t.Format(time.RFC3339)
		}
	}
	return s
}

func wall(y, mo, d, h, mi string, loc *time.Location) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-1-2 15:04", fmt.Sprintf("%s-%s-%s %s:%s", y, mo, d, h, mi), loc)
	return t, err == nil
}
