package console

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/seintje/seintje/bot/batch"
	"github.com/seintje/seintje/bot/outreach"
)

// batchUpload checks an uploaded spreadsheet and shows the checked batch
// (nothing is sent yet). A file that cannot be used comes back with the
// problem, naming the row and column.
func (c *Console) batchUpload(w http.ResponseWriter, r *http.Request, s *Session) {
	l := c.texts.locale(r)
	d := BatchesData{Flow: r.PostFormValue("flow"), Caseworker: strings.TrimSpace(r.PostFormValue("caseworker"))}
	fail := func(msg string) { d.Error = msg; c.renderBatches(w, r, s, http.StatusUnprocessableEntity, d) }
	f, ok := c.d.Service.Flows.Current(d.Flow)
	if !ok {
		fail(l.T("batches.err.flow"))
		return
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		fail(l.T("batches.err.nofile"))
		return
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	t, err := batch.ReadTable(data)
	var cols *batch.Columns
	if err == nil {
		cols, err = batch.MapColumns(f, t.Header, nil, t.Rows)
	}
	var res *batch.Created
	if err == nil {
		res, err = c.d.Batches.Create(r.Context(), batch.NewRequest{Flow: f.ID, Source: t.Format, Items: batch.Items(f, t, cols, c.loc),
			Names: cols.Name, Caseworker: d.Caseworker, By: s.Actor})
	}
	var ie *batch.InputError
	var nv *batch.NoValidRows
	var fe *outreach.FieldError
	switch {
	case errors.As(err, &ie):
		fail(l.T("batches.err.file", ie.Message))
		return
	case errors.As(err, &nv):
		msgs := []string{nv.Error()}
		for _, rj := range nv.Rejected[:min(5, len(nv.Rejected))] {
			msgs = append(msgs, l.T("batches.err.row", rj.Row, rj.Field, rj.Message))
		}
		fail(strings.Join(msgs, " "))
		return
	case errors.As(err, &fe):
		fail(fe.Message)
		return
	case err != nil:
		c.serverError(w, r, err)
		return
	}
	to := "/console/batches/" + res.Batch.ID
	if res.Existing {
		to += "?flash=batch_existing"
	}
	c.redirect(w, r, to)
}
