package console

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/seintje/seintje/bot/batch"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/outreach"
)

// batchUpload checks an uploaded spreadsheet and shows the checked batch
// (nothing is sent yet). When the header row does not match the flow (an
// unknown column, no phone column), the file is kept for a moment and the
// column-mapping step asks what each column means. A file that cannot be
// used comes back with the problem, naming the row and column.
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
	res, err := c.createBatch(r, s, f, data, nil, d.Caseworker)
	if batch.HeaderProblem(err) {
		id, err := c.savePending(r.Context(), pendingUpload{Actor: s.Actor, Flow: f.ID, Caseworker: d.Caseworker, Data: data})
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		c.redirect(w, r, "/console/uploads/"+id+"/columns")
		return
	}
	if msg, ok := batchFileProblem(l, err); ok {
		fail(msg)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.redirectToBatch(w, r, res)
}

// createBatch reads a file for flow f with a column mapping (nil: by the
// column names alone; the same column.<header>=<field> mapping the API
// takes in its query) and makes the checked batch.
func (c *Console) createBatch(r *http.Request, s *Session, f *flow.Flow, data []byte, mapping map[string]string, caseworker string) (*batch.Created, error) {
	file, err := batch.ReadFile(f, data, mapping, c.loc)
	if err != nil {
		return nil, err
	}
	return c.d.Batches.Create(r.Context(), batch.NewRequest{Flow: f.ID, Source: file.Table.Format, Items: file.Items,
		Names: file.Columns.Name, Caseworker: caseworker, By: s.Actor})
}

// batchFileProblem is the message for a file that cannot be used (false
// for other errors).
func batchFileProblem(l Locale, err error) (string, bool) {
	var ie *batch.InputError
	var nv *batch.NoValidRows
	var fe *outreach.FieldError
	switch {
	case errors.As(err, &ie):
		return l.T("batches.err.file", ie.Message), true
	case errors.As(err, &nv):
		msgs := []string{nv.Error()}
		for _, rj := range nv.Rejected[:min(5, len(nv.Rejected))] {
			msgs = append(msgs, l.T("batches.err.row", rj.Row, rj.Field, rj.Message))
		}
		return strings.Join(msgs, " "), true
	case errors.As(err, &fe):
		return fe.Message, true
	}
	return "", false
}

// redirectToBatch shows the checked batch: its rejected rows and preview.
func (c *Console) redirectToBatch(w http.ResponseWriter, r *http.Request, res *batch.Created) {
	to := "/console/batches/" + res.Batch.ID
	if res.Existing {
		to += "?flash=batch_existing"
	}
	c.redirect(w, r, to)
}
