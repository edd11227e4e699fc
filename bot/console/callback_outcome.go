package console

import (
	"errors"
	"net/http"
	"slices"

	"github.com/seintje/seintje/bot/console/form"
	"github.com/seintje/seintje/bot/store"
)

// OutcomeForm records a call attempt.
type OutcomeForm struct {
	Outcome string `form:"outcome,required"`
	Note    string `form:"note,max=2000"`
}

// Validate checks the outcome.
func (f *OutcomeForm) Validate(errs form.Errors) {
	if f.Outcome != "" && !slices.Contains(outcomes, f.Outcome) {
		errs.Add("outcome", form.CodeInvalid, "")
	}
}

// callbackOutcome records the outcome of a call: reached and wrong number
// close the task; no answer and voicemail put it back in the queue.
func (c *Console) callbackOutcome(w http.ResponseWriter, r *http.Request, s *Session) {
	var f OutcomeForm
	if errs := form.Decode(r, &f); errs.Any() {
		c.renderCallback(w, r, s, http.StatusUnprocessableEntity, "", errs, f)
		return
	}
	id := r.PathValue("id")
	_, err := c.d.Service.CompleteCallback(r.Context(), id, s.Actor, f.Outcome, f.Note)
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	}
	if key, status := werkplaatsProblem(err); key != "" {
		c.renderCallback(w, r, s, status, key, nil, f)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.redirect(w, r, "/console/queue?flash=outcome_saved")
}
