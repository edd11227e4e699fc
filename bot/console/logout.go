package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/config"
)

// logout ends the session (POST with the CSRF token). The session in
// Redis is deleted first, so the person is signed out of Seintje whatever
// happens next; then, after an OpenID sign-in, the browser goes on to the
// provider's end_session_endpoint (RP-initiated logout) with the ID token
// as id_token_hint, and the provider sends it back to /console/signed-out.
// When the provider cannot be reached, the person is still signed out of
// Seintje (and the log says the provider's session may live on).
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := c.sessions.destroy(r.Context(), s.id); err != nil {
		c.serverError(w, r, err)
		return
	}
	if err := c.d.Audit.Record(r.Context(), audit.Entry{Action: audit.ActionSignOut}); err != nil {
		c.d.Log.WarnContext(r.Context(), "audit sign-out", "err", err)
	}
	http.SetCookie(w, sessionCookie("", -1))
	to, err := c.endSessionURL(r.Context(), s)
	if err != nil {
		// Signed out here; the provider's session may live on.
		c.d.Log.WarnContext(r.Context(), "oidc logout at the provider skipped", "err", err)
	}
	if to == "" {
		c.redirect(w, r, "/console/login?flash=signed_out")
		return
	}
	// Not a redirect: the CSP's form-action 'self' would block a form's
	// redirect to the provider. A page that goes on at once (and says so,
	// with a link) leaves the CSP strict.
	r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, (*Session)(nil)))
	p := c.page(r, "signedout.title", nil)
	p.Refresh = to
	c.html(w, r, http.StatusOK, "signedout", p)
}

// endSessionURL is where to sign out at the provider: "" after a demo
// sign-in, without OpenID, or when the provider offers no
// end_session_endpoint.
func (c *Console) endSessionURL(ctx context.Context, s *Session) (string, error) {
	if s.Demo || s.IDToken == "" || !c.d.Config.OIDC.Configured() {
		return "", nil
	}
	p, err := c.provider(ctx)
	if err != nil {
		return "", err
	}
	if p.endSession == "" {
		return "", nil
	}
	u, err := url.Parse(p.endSession)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("end_session_endpoint %q is not a URL", p.endSession)
	}
	q := u.Query()
	q.Set("id_token_hint", s.IDToken)
	q.Set("client_id", c.d.Config.OIDC.ClientID)
	q.Set("post_logout_redirect_uri", c.d.PublicURL+config.ConsoleSignedOutPath)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
