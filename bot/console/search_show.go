package console

import (
	"net/http"
	"strings"

	"github.com/seintje/seintje/bot/store"
)

// SearchData is the search screen.
type SearchData struct {
	Q       string
	Done    bool
	Results []*store.Nudge
}

// searchShow finds a person by case reference or phone number (exact,
// through the keyed hash; every search is in the audit trail).
func (c *Console) searchShow(w http.ResponseWriter, r *http.Request, s *Session) {
	d := SearchData{Q: strings.TrimSpace(r.URL.Query().Get("q"))}
	if d.Q != "" && len(d.Q) <= 64 {
		res, err := c.d.Service.Search(r.Context(), d.Q, 50)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		d.Results, d.Done = res, true
	}
	p := c.page(r, "search.title", d)
	c.html(w, r, http.StatusOK, "search", p)
}
