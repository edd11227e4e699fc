package console

import (
	"crypto/subtle"
	"net/http"
	"slices"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/console/form"
)

// DemoLoginForm is the demo sign-in: a name and a role, no password.
type DemoLoginForm struct {
	Name string `form:"name,required,max=60"`
	Role string `form:"role,required"`
}

// Validate checks the role.
func (f *DemoLoginForm) Validate(errs form.Errors) {
	if f.Role != "" && !slices.Contains(allRoles, f.Role) {
		errs.Add("role", "invalid_field", "")
	}
}

// loginDemo signs in without a provider; only with serve --demo.
func (c *Console) loginDemo(w http.ResponseWriter, r *http.Request) {
	if !c.d.Demo {
		c.notFound(w, r)
		return
	}
	ck, err := r.Cookie(loginCSRFCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		c.errorPage(w, r, http.StatusForbidden, "error.csrf.title", "error.csrf.body")
		return
	}
	var f DemoLoginForm
	if errs := form.Decode(r, &f); errs.Any() {
		c.renderLogin(w, r, http.StatusUnprocessableEntity, f, errs)
		return
	}
	c.signIn(w, r, Session{Subject: "demo:" + f.Name, Actor: "demo:" + f.Name, Name: f.Name, Roles: []string{f.Role}, Demo: true})
}

// signIn starts a session, records it and goes on to next.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request, s Session) {
	sess, err := c.sessions.create(r.Context(), s)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	ctx := audit.WithActor(r.Context(), audit.Actor{Name: sess.Actor, Role: sess.Role(), Via: "console"})
	detail := "oidc"
	if sess.Demo {
		detail = "demo"
	}
	if err := c.d.Audit.Record(ctx, audit.Entry{Action: audit.ActionSignIn, Detail: detail}); err != nil {
		_ = c.sessions.destroy(r.Context(), sess.id)
		c.serverError(w, r, err)
		return
	}
	http.SetCookie(w, sessionCookie(sess.id, 0))
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Path: "/console/login", MaxAge: -1, HttpOnly: true, Secure: true})
	c.redirect(w, r, safeNext(r.FormValue("next")))
}
