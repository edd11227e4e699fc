package console

import "net/http"

// homeShow is the start page: what this person can do here.
func (c *Console) homeShow(w http.ResponseWriter, r *http.Request, s *Session) {
	c.html(w, r, http.StatusOK, "home", c.page(r, "home.title", nil))
}

// homeRedirect sends /console to /console/.
func (c *Console) homeRedirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
}
