package console

import (
	"net/http"

	"github.com/seintje/seintje/bot/batch"
)

// batchColumnsSave takes the case worker's column choices (the API's
// column.<header>=<field> parameters, as form fields), checks the file
// with them and goes on to the checked batch: its rejected rows and the
// preview. Nothing is sent. A column without a choice, or a mapping that
// still does not work (no phone column, a field twice), comes back here.
func (c *Console) batchColumnsSave(w http.ResponseWriter, r *http.Request, s *Session) {
	p, f, ok := c.pendingOrGone(w, r, s)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		c.errorPage(w, r, http.StatusBadRequest, "error.badrequest.title", "error.badrequest.body")
		return
	}
	id := r.PathValue("id")
	d, err := columnsData(id, p, f, func(header string) (string, bool) {
		v, ok := r.PostForm[batch.MappingPrefix+header]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	})
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	if d.Missing {
		c.renderColumns(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	res, err := c.createBatch(r, s, f, p.Data, batch.MappingFrom(r.PostForm), p.Caseworker)
	if msg, ok := batchFileProblem(c.texts.locale(r), err); ok {
		d.Problem = msg
		c.renderColumns(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	if err := c.dropPending(r.Context(), id); err != nil {
		c.d.Log.WarnContext(r.Context(), "delete mapped upload", "err", err)
	}
	c.redirectToBatch(w, r, res)
}
