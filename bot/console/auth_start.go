package console

import (
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// oidcStateCookie binds a started sign-in to this browser.
const oidcStateCookie = "seintje_oidc"

// authStart sends the browser to the provider: authorization code flow
// with PKCE (S256), a state bound to this browser and a nonce.
func (c *Console) authStart(w http.ResponseWriter, r *http.Request) {
	if !c.d.Config.OIDC.Configured() {
		c.notFound(w, r)
		return
	}
	p, ok := c.providerOrError(w, r)
	if !ok {
		return
	}
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	if err := c.saveFlow(r.Context(), state, oidcFlow{Nonce: nonce, Verifier: verifier, Next: safeNext(r.URL.Query().Get("next"))}); err != nil {
		c.serverError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: state, Path: "/console/auth", MaxAge: int(oidcFlowTTL.Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, p.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}
