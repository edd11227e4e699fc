package console

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/seintje/seintje/bot/batch"
	"github.com/seintje/seintje/bot/flow"
)

// ColumnRow is one column of an uploaded file in the mapping step.
type ColumnRow struct {
	Index   int
	Letter  string // A, B, ... as the spreadsheet shows it
	Header  string // as the file writes it
	Example string // the first value under it, shortened
	Chosen  string // person field, variable, "-" (not used) or "" (not chosen yet)
	Unknown bool   // the name alone says nothing Seintje knows
	Missing bool   // submitted without a choice
}

// BatchColumnsData is the column-mapping step of an upload.
type BatchColumnsData struct {
	ID      string
	Flow    string
	Columns []ColumnRow
	Targets []batch.Target
	Missing bool   // some column has no choice
	Problem string // the mapping does not work yet (no phone column, a field twice, ...)
}

// batchColumnsShow asks what each column of an uploaded file means, when
// its header row does not match the flow: the columns Seintje recognises
// come preselected, the others wait for a choice.
func (c *Console) batchColumnsShow(w http.ResponseWriter, r *http.Request, s *Session) {
	p, f, ok := c.pendingOrGone(w, r, s)
	if !ok {
		return
	}
	d, err := columnsData(r.PathValue("id"), p, f, nil)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.renderColumns(w, r, http.StatusOK, d)
}

// pendingOrGone loads the upload of the request's id with its flow, or
// answers with the upload page saying it is gone.
func (c *Console) pendingOrGone(w http.ResponseWriter, r *http.Request, s *Session) (*pendingUpload, *flow.Flow, bool) {
	p, err := c.loadPending(r.Context(), r.PathValue("id"), s.Actor)
	if err != nil && !errors.Is(err, errNoPending) {
		c.serverError(w, r, err)
		return nil, nil, false
	}
	var f *flow.Flow
	if err == nil {
		f, _ = c.d.Service.Flows.Current(p.Flow)
	}
	if f == nil {
		c.renderBatches(w, r, s, http.StatusNotFound, BatchesData{Caseworker: s.Name, Error: c.texts.locale(r).T("columns.err.expired")})
		return nil, nil, false
	}
	return p, f, true
}

// columnsData lists the columns of the upload; chosen holds the choices of
// a submitted form (nil: the guesses by name).
func columnsData(id string, p *pendingUpload, f *flow.Flow, chosen func(header string) (string, bool)) (*BatchColumnsData, error) {
	t, err := batch.ReadTable(p.Data)
	if err != nil {
		return nil, err
	}
	d := &BatchColumnsData{ID: id, Flow: f.ID, Targets: batch.Targets(f)}
	for i, guess := range batch.Guess(f, t.Header) {
		col := ColumnRow{Index: i, Letter: batch.ColumnLetter(i), Header: t.Header[i], Chosen: guess, Unknown: guess == ""}
		for _, row := range t.Rows {
			if i < len(row) && strings.TrimSpace(row[i]) != "" {
				col.Example = shorten(strings.TrimSpace(row[i]), 40)
				break
			}
		}
		if chosen != nil {
			col.Chosen, _ = chosen(t.Header[i])
			col.Missing = col.Chosen == ""
			d.Missing = d.Missing || col.Missing
		}
		d.Columns = append(d.Columns, col)
	}
	return d, nil
}

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func (c *Console) renderColumns(w http.ResponseWriter, r *http.Request, status int, d *BatchColumnsData) {
	p := c.page(r, "columns.title", d)
	p.Active = "/console/batches"
	c.html(w, r, status, "batchcolumns", p)
}
