package console

import (
	"net/http"
	"strconv"

	"github.com/seintje/seintje/bot/store"
)

// OptOutsData is the admin's list of opt-outs.
type OptOutsData struct {
	Rows []store.OptOut
	Page int
	More bool
}

// optOutsShow lists who opted out on which channel, and when (admin).
func (c *Console) optOutsShow(w http.ResponseWriter, r *http.Request, s *Session) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(0, min(page, 10000))
	rows, more, err := c.d.Store.OptOuts(r.Context(), int64(page*50), 50)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.html(w, r, http.StatusOK, "optouts", c.page(r, "optouts.title", OptOutsData{Rows: rows, Page: page, More: more}))
}
