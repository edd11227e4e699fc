package console

import (
	"errors"
	"net/http"

	"github.com/seintje/seintje/bot/events"
)

// eventReplay sends a dead letter to the case system again (admin; audited
// by events.Dispatcher.Replay).
func (c *Console) eventReplay(w http.ResponseWriter, r *http.Request, s *Session) {
	if c.d.Events == nil {
		c.notFound(w, r)
		return
	}
	_, err := c.d.Events.Replay(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, events.ErrNotFound):
		c.notFound(w, r)
	case errors.Is(err, events.ErrNoSubscriber):
		c.errorPage(w, r, http.StatusConflict, "events.title", "events.gone")
	case err != nil:
		c.serverError(w, r, err)
	default:
		c.redirect(w, r, "/console/admin/events?flash=event_replayed")
	}
}
