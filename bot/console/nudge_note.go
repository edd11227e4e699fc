package console

import (
	"errors"
	"net/http"

	"github.com/seintje/seintje/bot/console/form"
	"github.com/seintje/seintje/bot/store"
)

// NoteForm is a case worker's note on a nudge.
type NoteForm struct {
	Text string `form:"text,required,max=2000"`
}

// nudgeNote adds a note to the nudge.
func (c *Console) nudgeNote(w http.ResponseWriter, r *http.Request, s *Session) {
	var f NoteForm
	if errs := form.Decode(r, &f); errs.Any() {
		c.renderNudge(w, r, http.StatusUnprocessableEntity, errs, f.Text)
		return
	}
	id := r.PathValue("id")
	err := c.d.Service.CaseworkerNote(r.Context(), id, s.Name, f.Text)
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.redirect(w, r, "/console/nudges/"+id+"?flash=note_added")
}
