package console

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/batch"
)

// batchStart sends a checked batch now, or at the date and time given.
func (c *Console) batchStart(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	at := time.Time{}
	if day := strings.TrimSpace(r.PostFormValue("date")); day != "" {
		clock := strings.TrimSpace(r.PostFormValue("time"))
		if clock == "" {
			clock = "09:00"
		}
		t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+clock, c.loc)
		if err != nil {
			c.badRequest(w, r)
			return
		}
		at = t
	}
	c.afterBatchAction(w, r, id, c.d.Batches.Start(r.Context(), id, at), "batch_started")
}

// afterBatchAction answers a start or cancel: back to the batch with a
// line saying what happened.
func (c *Console) afterBatchAction(w http.ResponseWriter, r *http.Request, id string, err error, flash string) {
	switch {
	case errors.Is(err, batch.ErrNotFound):
		c.notFound(w, r)
	case errors.Is(err, batch.ErrState):
		c.redirect(w, r, "/console/batches/"+id+"?flash=batch_state")
	case err != nil:
		c.serverError(w, r, err)
	default:
		c.redirect(w, r, "/console/batches/"+id+"?flash="+flash)
	}
}

// batchCancel stops a batch: what has not gone out is not sent.
func (c *Console) batchCancel(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	c.afterBatchAction(w, r, id, c.d.Batches.Cancel(r.Context(), id), "batch_cancelled")
}

// batchResults downloads the results per person, for Dutch Excel
// (semicolons, UTF-8 with BOM).
func (c *Console) batchResults(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	if _, err := c.d.Batches.Get(r.Context(), id); errors.Is(err, batch.ErrNotFound) {
		c.notFound(w, r)
		return
	} else if err != nil {
		c.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="seintje-batch-`+id+`.csv"`)
	_, _ = w.Write([]byte("\xef\xbb\xbf"))
	if err := c.d.Batches.WriteResults(r.Context(), id, w, ';'); err != nil {
		c.d.Log.ErrorContext(r.Context(), "write batch results", "batch", id, "err", err)
	}
}
