package console

import "net/http"

// signedOut is where the provider sends the browser back after signing
// out there (post_logout_redirect_uri): the sign-in page, saying so.
func (c *Console) signedOut(w http.ResponseWriter, r *http.Request) {
	c.redirect(w, r, "/console/login?flash=signed_out")
}
