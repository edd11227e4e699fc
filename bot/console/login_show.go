package console

import (
	"net/http"

	"github.com/seintje/seintje/bot/console/form"
)

// LoginData is the sign-in page.
type LoginData struct {
	OIDC   bool   // sign in with the organisation's account
	Demo   bool   // the demo sign-in form
	Next   string // where to go after signing in
	Roles  []string
	Form   DemoLoginForm
	Errors form.Errors
}

// loginCSRFCookie protects the demo sign-in form (there is no session yet):
// the form must send back the value of this cookie (double submit).
const loginCSRFCookie = "seintje_login"

// loginShow shows the sign-in page.
func (c *Console) loginShow(w http.ResponseWriter, r *http.Request) {
	if s, err := c.currentSession(r); err == nil && s != nil {
		c.redirect(w, r, safeNext(r.URL.Query().Get("next")))
		return
	}
	c.renderLogin(w, r, http.StatusOK, DemoLoginForm{Role: RoleCaseworker}, nil)
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, f DemoLoginForm, errs form.Errors) {
	p := c.page(r, "login.title", LoginData{OIDC: c.d.Config.OIDC.Configured(), Demo: c.d.Demo,
		Next: safeNext(r.FormValue("next")), Roles: allRoles, Form: f, Errors: errs})
	if c.d.Demo {
		tok := randomToken()
		http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/console/login", MaxAge: 3600,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
		p.CSRF = tok
	}
	c.html(w, r, status, "login", p)
}

var allRoles = []string{RoleCaseworker, RoleWerkplaats, RoleCoordinator, RoleAdmin}
