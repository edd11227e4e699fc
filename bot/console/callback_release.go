package console

import (
	"errors"
	"net/http"

	"github.com/seintje/seintje/bot/store"
)

// callbackRelease gives a claimed task back to the queue.
func (c *Console) callbackRelease(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	_, err := c.d.Service.ReleaseCallback(r.Context(), id, s.Actor)
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	}
	if key, status := werkplaatsProblem(err); key != "" {
		c.renderCallback(w, r, s, status, key, nil, OutcomeForm{})
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.redirect(w, r, "/console/queue?flash=released")
}
