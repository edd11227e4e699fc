package console

import (
	"errors"
	"net/http"
	"time"

	"github.com/seintje/seintje/bot/console/form"
	"github.com/seintje/seintje/bot/store"
)

// RescheduleForm moves a task to another moment.
type RescheduleForm struct {
	At time.Time `form:"at,required,datetime"`
}

// callbackReschedule moves a task to a chosen moment and back to the queue.
func (c *Console) callbackReschedule(w http.ResponseWriter, r *http.Request, s *Session) {
	var f RescheduleForm
	if errs := form.Decode(r, &f); errs.Any() {
		c.renderCallback(w, r, s, http.StatusUnprocessableEntity, "", errs, OutcomeForm{})
		return
	}
	id := r.PathValue("id")
	_, err := c.d.Service.RescheduleCallback(r.Context(), id, s.Actor, f.At)
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	}
	if key, status := werkplaatsProblem(err); key != "" {
		errs := form.Errors{}
		if status == http.StatusUnprocessableEntity {
			errs.Add("at", form.CodeDate, "")
			key = ""
		}
		c.renderCallback(w, r, s, status, key, errs, OutcomeForm{})
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.redirect(w, r, "/console/queue?flash=rescheduled")
}
