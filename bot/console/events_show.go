package console

import (
	"net/http"

	"github.com/seintje/seintje/bot/events"
)

// EventsData is the admin's list of events the case system did not take.
type EventsData struct {
	Configured bool // a subscriber is set up
	Letters    []events.DeadLetter
}

// eventsShow lists the dead letters of events to the case system (admin).
func (c *Console) eventsShow(w http.ResponseWriter, r *http.Request, s *Session) {
	d := EventsData{Configured: c.d.Events != nil}
	if d.Configured {
		var err error
		if d.Letters, err = c.d.Events.DeadLetters(r.Context(), 200); err != nil {
			c.serverError(w, r, err)
			return
		}
	}
	c.html(w, r, http.StatusOK, "events", c.page(r, "events.title", d))
}
