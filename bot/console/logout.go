package console

import (
	"net/http"

	"github.com/seintje/seintje/bot/audit"
)

// logout ends the session (POST with the CSRF token, from the header).
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := c.sessions.destroy(r.Context(), s.id); err != nil {
		c.serverError(w, r, err)
		return
	}
	if err := c.d.Audit.Record(r.Context(), audit.Entry{Action: audit.ActionSignOut}); err != nil {
		c.d.Log.WarnContext(r.Context(), "audit sign-out", "err", err)
	}
	http.SetCookie(w, sessionCookie("", -1))
	c.redirect(w, r, "/console/login?flash=signed_out")
}
