package console

import (
	"net/http"

	"github.com/seintje/seintje/bot/batch"
)

// BatchesData is the batches screen: the upload form and the batches so far.
type BatchesData struct {
	Flows      []string
	Flow       string
	Caseworker string
	Error      string // a problem with the file, naming row and column
	Batches    []*batch.Batch
}

// batchList shows the upload form and the latest batches.
func (c *Console) batchList(w http.ResponseWriter, r *http.Request, s *Session) {
	c.renderBatches(w, r, s, http.StatusOK, BatchesData{Caseworker: s.Name})
}

func (c *Console) renderBatches(w http.ResponseWriter, r *http.Request, s *Session, status int, d BatchesData) {
	for _, f := range c.d.Registry.List() {
		d.Flows = append(d.Flows, f.ID)
	}
	bs, err := c.d.Batches.List(r.Context(), 50)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	d.Batches = bs
	c.html(w, r, status, "batches", c.page(r, "batches.title", d))
}
