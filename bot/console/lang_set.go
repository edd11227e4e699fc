package console

import "net/http"

// langSet switches the console's language (a preference in a cookie; it
// changes nothing on the server) and goes back to where the person was.
func (c *Console) langSet(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != LangNL && lang != LangEN {
		c.notFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/console", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	c.redirect(w, r, safeNext(r.URL.Query().Get("next")))
}
