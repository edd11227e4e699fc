package console_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/console/browsertest"
)

// The demo sign-in, the menu by role, language, logout.
func TestDemoSignInRolesAndLogout(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	b := browsertest.New(t)
	b.Go(s.URL + "/console/")
	if !strings.Contains(b.Body(), "Demo: dit is geen echte omgeving") {
		t.Error("the demo is not clearly marked")
	}
	b.AssertAccessible()
	b.Screenshot("../../docs/console/login-desktop.png", browsertest.DesktopWidth)
	b.Screenshot("../../docs/console/login-phone.png", browsertest.PhoneWidth)

	// A form without a name comes back with the error next to the field.
	b.ClickNav("#demo-submit")
	if got := b.Text("#name-error"); !strings.Contains(got, "Vul dit veld in") {
		t.Errorf("name error: %q", got)
	}
	b.AssertAccessible()

	b.SignInDemo(s.URL, "Ahmed", "admin")
	if body := b.Body(); !strings.Contains(body, "Welkom, Ahmed") || !strings.Contains(body, "beheerder") {
		t.Errorf("home: %s", body)
	}
	b.Go(s.URL + "/console/admin/audit")
	if st := b.Status(); st != http.StatusOK {
		t.Fatalf("admin opens audit: %d", st)
	}
	if !strings.Contains(b.Text("#audit-table"), "demo:Ahmed") {
		t.Errorf("audit table lacks Ahmed's sign-in: %s", b.Text("#audit-table"))
	}
	b.AssertAccessible()
	b.Screenshot("../../docs/console/audit-desktop.png", browsertest.DesktopWidth)
	b.Screenshot("../../docs/console/audit-phone.png", browsertest.PhoneWidth)
	b.Viewport(browsertest.PhoneWidth, 800)
	b.AssertNoHorizontalScroll()
	b.Viewport(browsertest.DesktopWidth, 900)

	// English, and back.
	b.ClickNav(`a[hreflang="en"]`)
	if lang := browsertest.Eval[string](b, "document.documentElement.lang"); lang != "en" {
		t.Errorf("lang %q after choosing English", lang)
	}
	if !strings.Contains(b.Body(), "Who did what") && !strings.Contains(b.Body(), "Every action on a person") {
		t.Errorf("not in English: %s", b.Body())
	}
	b.ClickNav(`a[hreflang="nl"]`)

	// Sign out: back at the sign-in page; the session is gone.
	b.ClickNav(`form[action="/console/logout"] button`)
	if !strings.Contains(b.Body(), "U bent uitgelogd") {
		t.Errorf("after logout: %s", b.Body())
	}
	b.Go(s.URL + "/console/admin/audit")
	if !strings.HasPrefix(b.URL(), s.URL+"/console/login") {
		t.Errorf("after logout at %s", b.URL())
	}
	if trail := s.AuditActions("actor=demo:Ahmed"); strings.Join(trail, ",") != "demo:Ahmed sign_in,demo:Ahmed sign_out" {
		t.Errorf("trail %v", trail)
	}
}

// A case worker may not open the admin screens.
func TestRoleForbidden(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Sanne", "caseworker")
	if strings.Contains(b.Body(), "Audit") {
		t.Error("the menu offers a case worker the audit screen")
	}
	b.Go(s.URL + "/console/admin/audit")
	if st := b.Status(); st != http.StatusForbidden {
		t.Errorf("caseworker opens audit: %d", st)
	}
	b.AssertAccessible()
	b.Screenshot("../../docs/console/forbidden-desktop.png", browsertest.DesktopWidth)
}

// A state change without the CSRF token is refused and changes nothing.
func TestCSRFRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Sanne", "caseworker")
	if st := b.PostWithoutCSRF("/console/logout", map[string]string{}); st != http.StatusForbidden {
		t.Errorf("logout without token: %d, want 403", st)
	}
	if st := b.PostWithoutCSRF("/console/logout", map[string]string{"csrf": "guess"}); st != http.StatusForbidden {
		t.Errorf("logout with a wrong token: %d, want 403", st)
	}
	b.Go(s.URL + "/console/")
	if !strings.Contains(b.Body(), "Welkom, Sanne") {
		t.Errorf("the session ended after a refused request: %s", b.URL())
	}
	if trail := s.AuditActions("action=sign_out"); len(trail) != 0 {
		t.Errorf("signed out anyway: %v", trail)
	}
}

// Cookies: opaque id, HttpOnly, Secure, SameSite=Lax; idle and absolute
// timeouts; headers: strict CSP.
func TestSessionCookieAndTimeouts(t *testing.T) {
	t.Parallel()
	s := newSite(t, map[string]string{"SEINTJE_CONSOLE_IDLE": "30m", "SEINTJE_CONSOLE_MAX_AGE": "10h"})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.URL + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	var loginTok string
	for _, ck := range resp.Cookies() {
		if ck.Name == "seintje_login" {
			loginTok = ck.Value
		}
	}
	// Secure cookies are not sent back over http by Go's jar: send them.
	post := func(path string, form url.Values, cookies ...*http.Cookie) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r
	}
	resp = post("/console/login/demo", url.Values{"csrf": {loginTok}, "name": {"Iris"}, "role": {"admin"}},
		&http.Cookie{Name: "seintje_login", Value: loginTok})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("demo sign-in: %d", resp.StatusCode)
	}
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "seintje_session" {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || !sess.Secure || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/console" {
		t.Fatalf("session cookie %+v", sess)
	}
	if len(sess.Value) < 40 || strings.Contains(sess.Value, "Iris") {
		t.Errorf("session id %q is not opaque", sess.Value)
	}
	keys, _ := s.Redis.Keys(t.Context(), s.Prefix+":console:sess:*").Result()
	if len(keys) != 1 || strings.Contains(keys[0], sess.Value) {
		t.Errorf("session keys %v: want one, not holding the cookie value", keys)
	}
	get := func() int {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/console/", nil)
		req.AddCookie(sess)
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if st := get(); st != http.StatusOK {
		t.Fatalf("signed in: %d", st)
	}
	// Active every 20 minutes: the idle timeout never strikes...
	for range 5 {
		s.Clock.Advance(20 * time.Minute)
		if st := get(); st != http.StatusOK {
			t.Fatalf("active session ended early: %d", st)
		}
	}
	// ...until 10 hours after sign-in.
	for range 27 {
		s.Clock.Advance(20 * time.Minute)
		get()
	}
	if st := get(); st != http.StatusSeeOther {
		t.Errorf("after 10h: %d, want a redirect to sign in", st)
	}
	// A new session left alone for 31 minutes ends too.
	resp = post("/console/login/demo", url.Values{"csrf": {loginTok}, "name": {"Iris"}, "role": {"admin"}},
		&http.Cookie{Name: "seintje_login", Value: loginTok})
	for _, ck := range resp.Cookies() {
		if ck.Name == "seintje_session" {
			sess = ck
		}
	}
	if st := get(); st != http.StatusOK {
		t.Fatalf("new session: %d", st)
	}
	s.Clock.Advance(31 * time.Minute)
	if st := get(); st != http.StatusSeeOther {
		t.Errorf("idle 31 min: %d, want a redirect to sign in", st)
	}
}
