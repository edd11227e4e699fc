package console

import (
	"errors"
	"net/http"

	"github.com/seintje/seintje/bot/console/form"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/store"
)

// CallbackData is one werkplaats task.
type CallbackData struct {
	Task       TaskRow
	Transcript *Transcript
	Phone      string // full number: only for the holder, and every view is audited
	Outcomes   []string
	Errors     form.Errors
	Problem    string // why an action was refused (translated)
	Form       OutcomeForm
}

var outcomes = []string{outreach.OutcomeReached, outreach.OutcomeNoAnswer, outreach.OutcomeVoicemail, outreach.OutcomeWrongNumber}

// callbackShow shows a task: reason, person, preferred moment, the whole
// conversation, earlier attempts. The holder sees the number as a tel:
// link (an audited view) and the outcome, release and reschedule forms.
func (c *Console) callbackShow(w http.ResponseWriter, r *http.Request, s *Session) {
	c.renderCallback(w, r, s, http.StatusOK, "", nil, OutcomeForm{})
}

func (c *Console) renderCallback(w http.ResponseWriter, r *http.Request, s *Session, status int, problemKey string, errs form.Errors, f OutcomeForm) {
	ctx := r.Context()
	id := r.PathValue("id")
	cb, err := c.d.Store.Callback(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	now := c.d.Now()
	eff := cb.EffectiveStatus(now)
	d := CallbackData{Task: TaskRow{Callback: *cb, Effective: eff, Mine: eff == store.CallbackClaimed && cb.ClaimedBy == s.Actor,
		Overdue: eff != store.CallbackDone && cb.Due.Before(now)}, Outcomes: outcomes, Errors: errs, Form: f}
	if problemKey != "" {
		d.Problem = c.texts.locale(r).T(problemKey)
	}
	if cb.NudgeID != "" {
		if d.Transcript, err = c.transcript(ctx, cb.NudgeID); err != nil && !errors.Is(err, store.ErrNotFound) {
			c.serverError(w, r, err)
			return
		}
	}
	if d.Task.Mine {
		if d.Phone, err = c.d.Service.ViewPhone(ctx, id, s.Actor); err != nil {
			c.serverError(w, r, err)
			return
		}
	}
	p := c.page(r, "task.title", d)
	p.Title = c.texts.locale(r).T("task.title_for", cb.Name)
	p.Active = "/console/queue"
	c.html(w, r, status, "callback", p)
}

// werkplaatsProblem maps a service error to a text key and a status, by
// the same classification as the API's problem codes
// (outreach.WerkplaatsProblem).
func werkplaatsProblem(err error) (string, int) {
	code, status := outreach.WerkplaatsProblem(err)
	switch code {
	case outreach.CodeCallbackClaimed:
		return "task.problem.claimed", status
	case outreach.CodeCallbackNotClaimed:
		return "task.problem.not_claimed", status
	case outreach.CodeCallbackDone:
		return "task.problem.done", status
	case outreach.CodeCallbackMoment:
		return "task.problem.moment", status
	}
	return "", 0
}
