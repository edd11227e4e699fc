package console

import (
	"errors"
	"net/http"

	"github.com/seintje/seintje/bot/console/form"
	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/store"
)

// NudgeData is the nudge page.
type NudgeData struct {
	T         *Transcript
	Phone     string // masked
	OptedOut  bool
	Waiting   bool
	Callbacks []store.Callback
	// Outcomes reported for the nudge (by the case system or by Seintje).
	Outcomes []store.OutcomeRecord
	Errors   form.Errors
	Note     string
}

// nudgeShow shows one nudge as a chat with the delivery status of every
// message, notes, callback tasks, the flow and its version, the experiment
// arm it is in and its outcomes.
func (c *Console) nudgeShow(w http.ResponseWriter, r *http.Request, s *Session) {
	c.renderNudge(w, r, http.StatusOK, nil, "")
}

func (c *Console) renderNudge(w http.ResponseWriter, r *http.Request, status int, errs form.Errors, note string) {
	ctx := r.Context()
	t, err := c.transcript(ctx, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	d := NudgeData{T: t, Waiting: t.Nudge.Status == engine.Waiting, Errors: errs, Note: note}
	if rcp, err := c.d.Store.Recipient(ctx, t.Nudge.Tag); err == nil {
		d.Phone, d.OptedOut = phone.Mask(rcp.Phone), rcp.OptedOut(t.Nudge.Channel)
	}
	if d.Outcomes, err = c.d.Store.Outcomes(ctx, t.Nudge.Tag, t.Nudge.ID); err != nil {
		c.serverError(w, r, err)
		return
	}
	for _, id := range t.Nudge.CallbackIDs {
		if cb, err := c.d.Store.Callback(ctx, id); err == nil {
			d.Callbacks = append(d.Callbacks, *cb)
		}
	}
	p := c.page(r, "nudge.title", d)
	p.Title = c.texts.locale(r).T("nudge.title_for", t.Nudge.Name, t.Nudge.Flow.ID)
	p.Active = "/console/search"
	c.html(w, r, status, "nudge", p)
}
