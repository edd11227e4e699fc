package batch

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
)

// MaxRows is the most people one batch may hold.
const MaxRows = 100_000

// InputError is a problem with the file or request as a whole (not one
// row): nothing is stored. Row and Column name the place when there is one
// (Row as a spreadsheet shows it: the header is row 1).
type InputError struct {
	Code    string // stable: not_a_table, empty_file, no_rows, no_phone_column, too_many_rows, unknown_column, duplicate_column, ...
	Message string
	Row     int
	Column  string
}

func (e *InputError) Error() string { return e.Message }

// Table is a spreadsheet read from CSV or XLSX: a header and the rows under it.
type Table struct {
	Format string // "csv" or "xlsx"
	Header []string
	Rows   [][]string
}

var zipMagic = []byte("PK\x03\x04")

// ReadTable reads CSV (comma, semicolon or tab separated; UTF-8 with or
// without BOM, or Windows-1252 as Dutch Excel writes it) or XLSX (the first
// sheet). It stops after MaxRows+1 rows.
func ReadTable(data []byte) (*Table, error) {
	if len(bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))) == 0 {
		return nil, &InputError{Code: "empty_file", Message: "the file is empty; send a CSV or Excel (.xlsx) file with a header row and one row per person"}
	}
	if bytes.HasPrefix(data, zipMagic) {
		return readXLSX(data)
	}
	return readCSV(data)
}

func notATable() error {
	return &InputError{Code: "not_a_table", Message: "the file is neither CSV nor Excel (.xlsx); save the spreadsheet as CSV or .xlsx and try again"}
}

func readCSV(data []byte) (*Table, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, notATable()
	}
	if !utf8.Valid(data) {
		dec, err := charmap.Windows1252.NewDecoder().Bytes(data)
		if err != nil {
			return nil, notATable()
		}
		data = dec
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = separator(data)
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	t := &Table{Format: "csv"}
	line := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			var pe *csv.ParseError
			row := line
			if errors.As(err, &pe) {
				row = pe.StartLine
			}
			return nil, &InputError{Code: "not_a_table", Row: row,
				Message: fmt.Sprintf("row %d cannot be read as CSV (%s); check the quotes in that row", row, csvReason(err))}
		}
		if err := t.add(rec); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// add takes the next record: the first non-blank one is the header; blank
// rows are skipped.
func (t *Table) add(rec []string) error {
	switch {
	case blank(rec):
	case t.Header == nil:
		t.Header = rec
	case len(t.Rows) == MaxRows:
		return tooMany()
	default:
		t.Rows = append(t.Rows, rec)
	}
	return nil
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func tooMany() error {
	return &InputError{Code: "too_many_rows", Row: MaxRows + 2,
		Message: fmt.Sprintf("the file has more than %d people; split it into several files", MaxRows)}
}

// separator picks the delimiter of the header line: Dutch Excel writes ';'.
func separator(data []byte) rune {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	best, n := ',', -1
	for _, c := range []rune{',', ';', '\t'} {
		if k := strings.Count(string(first), string(c)); k > n {
			best, n = c, k
		}
	}
	return best
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func readXLSX(data []byte) (*Table, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, notATable()
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, &InputError{Code: "empty_file", Message: "the Excel file has no sheets"}
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, notATable()
	}
	defer rows.Close()
	t := &Table{Format: "xlsx"}
	for rows.Next() {
		// Raw values: dates as serial numbers (converted per variable type),
		// numbers without a display format that may drop digits.
		rec, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, notATable()
		}
		if err := t.add(rec); err != nil {
			return nil, err
		}
	}
	if t.Header == nil {
		return nil, &InputError{Code: "empty_file", Message: "the first sheet of the Excel file is empty"}
	}
	return t, nil
}

// excelSerial converts an Excel date serial number (days since 1899-12-30,
// fraction = time of day) to a wall-clock time in loc.
func excelSerial(s string, loc *time.Location) (time.Time, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 1 || f > 2958465 {
		return time.Time{}, false
	}
	days := math.Floor(f)
	secs := math.Round((f - days) * 86400)
	d := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(days))
	sec := int(secs)
	return time.Date(d.Year(), d.Month(), d.Day(), sec/3600, sec/60%60, sec%60, 0, loc), true
}
