package console

import (
	"errors"
	"net/http"

	"github.com/seintje/seintje/bot/store"
)

// callbackClaim claims a task for the signed-in person, then shows it
// with the number to call (the task page reads the number and records
// that view; the claim itself does not read it).
func (c *Console) callbackClaim(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	_, err := c.d.Service.ClaimCallbackOnly(r.Context(), id, s.Actor)
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
	c.redirect(w, r, "/console/queue/"+id+"?flash=claimed")
}
