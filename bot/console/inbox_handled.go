package console

import (
	"errors"
	"net/http"

	"github.com/seintje/seintje/bot/store"
)

// inboxHandled marks an inbox item as handled.
func (c *Console) inboxHandled(w http.ResponseWriter, r *http.Request, s *Session) {
	_, err := c.d.Service.MarkHandled(r.Context(), r.PathValue("id"), s.Actor)
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.redirect(w, r, "/console/inbox?flash=handled")
}
