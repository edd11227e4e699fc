package console

import (
	"errors"
	"net/http"

	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/store"
)

// nudgeEnd ends a waiting conversation.
func (c *Console) nudgeEnd(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	err := c.d.Service.EndNudge(r.Context(), id, s.Actor)
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.notFound(w, r)
		return
	case errors.Is(err, outreach.ErrNotWaiting):
		c.redirect(w, r, "/console/nudges/"+id+"?flash=already_ended")
		return
	case err != nil:
		c.serverError(w, r, err)
		return
	}
	c.redirect(w, r, "/console/nudges/"+id+"?flash=ended")
}
