package console_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp/kb"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/seintje/seintje/bot/console/browsertest"
	"github.com/seintje/seintje/bot/console/consoletest"
)

// endSession is the test provider's end_session_endpoint (mockoidc has
// none): a loopback server named in the provider's discovery document that
// records each logout request and, as a provider does, sends the browser
// back to post_logout_redirect_uri.
type endSession struct {
	URL string
	mu  sync.Mutex
	// stay makes the next request answer 204 No Content: the browser stays
	// on the page that sent it there (so that page can be looked at).
	stay bool
	got  []endSessionCall
}

type endSessionCall struct {
	Query url.Values
	// Sessions is how many console sessions Redis still held when the
	// provider was asked: the local one must be gone first.
	Sessions int
}

func (e *endSession) calls() []endSessionCall {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]endSessionCall(nil), e.got...)
}

// startOPWithLogout runs mockoidc with an end_session_endpoint in its
// discovery document. sessions counts the console's sessions in Redis.
func startOPWithLogout(t *testing.T, sessions func() int) (*mockoidc.MockOIDC, *endSession) {
	t.Helper()
	es := &endSession{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		es.mu.Lock()
		if es.stay {
			es.stay = false
			es.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return
		}
		es.got = append(es.got, endSessionCall{Query: r.URL.Query(), Sessions: sessions()})
		es.mu.Unlock()
		http.Redirect(w, r, r.URL.Query().Get("post_logout_redirect_uri"), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	es.URL = srv.URL + "/oidc/logout"
	op, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Add end_session_endpoint to the discovery document.
	if err := op.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			doc := map[string]any{}
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			doc["end_session_endpoint"] = es.URL
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(doc)
		})
	}); err != nil {
		t.Fatal(err)
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Shutdown() })
	return op, es
}

// consoleSessions counts the console sessions of a site in Redis.
func consoleSessions(s *consoletest.Site) int {
	keys, _ := s.Redis.Keys(context.Background(), s.Prefix+":console:sess:*").Result()
	return len(keys)
}

// jwtClaims decodes the payload of a JWT (the signature is the
// provider's business; here it is about which token came back).
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token_hint %q is not a JWT", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Anne signs out. Seintje forgets her session first, then sends her
// browser to her organisation's provider to end the session there too
// (with her ID token as the hint), and the provider sends her back to
// Seintje's sign-in page, which says she is signed out.
func TestSignOutAtTheProvider(t *testing.T) {
	t.Parallel()
	var site *consoletest.Site
	op, es := startOPWithLogout(t, func() int { return consoleSessions(site) })
	site = newSite(t, oidcEnv(op))
	s := site
	b := browsertest.New(t)

	op.QueueUser(&mockoidc.MockUser{Subject: "anne-0001", Email: "anne@gemeente.test", PreferredUsername: "anne",
		Groups: []string{"team-werkplaats"}})
	b.Go(s.URL + "/console/login")
	b.ClickNav("#sso")
	if n := consoleSessions(s); n != 1 {
		t.Fatalf("%d sessions after sign-in, want 1", n)
	}
	es.mu.Lock()
	es.stay = true
	es.mu.Unlock()
	b.ClickNav(`form[action="/console/logout"] button`)
	// On the way: Seintje's page says she is signed out here and is going
	// to the provider, with a link in case the browser does not go on
	// (as here: the provider's first answer is 204). She takes the link
	// with the keyboard.
	if !strings.Contains(b.Body(), "U bent uitgelogd bij Seintje") || !strings.HasPrefix(browsertest.Eval[string](b, `document.getElementById("end-session").href`), es.URL+"?") {
		t.Errorf("the page before the provider: %s", b.Body())
	}
	if n := consoleSessions(s); n != 0 {
		t.Errorf("%d sessions left before going to the provider", n)
	}
	b.AssertAccessible()
	b.TabTo("#end-session", 20)
	b.KeyNav(kb.Enter)
	b.WaitFor("back at the sign-in page", `location.pathname === "/console/login" && document.readyState === "complete"`, b.Timeout)
	if !strings.Contains(b.Body(), "U bent uitgelogd") {
		t.Errorf("sign-in page after logout: %s", b.Body())
	}

	calls := es.calls()
	if len(calls) != 1 {
		t.Fatalf("%d logout requests at the provider, want 1", len(calls))
	}
	q := calls[0].Query
	if calls[0].Sessions != 0 {
		t.Errorf("the provider was asked while Seintje still held %d sessions; the local session must go first", calls[0].Sessions)
	}
	if got := q.Get("post_logout_redirect_uri"); got != s.URL+"/console/signed-out" {
		t.Errorf("post_logout_redirect_uri %q", got)
	}
	if got := q.Get("client_id"); got != op.Config().ClientID {
		t.Errorf("client_id %q", got)
	}
	hint := jwtClaims(t, q.Get("id_token_hint"))
	aud := jsonString(hint["aud"]) // a string or a list
	if hint["sub"] != "anne-0001" || !strings.Contains(aud, `"`+op.Config().ClientID+`"`) {
		t.Errorf("id_token_hint is not Anne's ID token for Seintje: %v", hint)
	}
	// Signed out for real: the console asks to sign in again.
	b.Go(s.URL + "/console/queue")
	if !strings.HasPrefix(b.URL(), s.URL+"/console/login") {
		t.Errorf("after logout /console/queue is at %s", b.URL())
	}
	if trail := s.AuditActions("actor=anne"); !contains(trail, "anne sign_out") {
		t.Errorf("sign-out not audited: %v", trail)
	}
}

// A provider without an end_session_endpoint: Seintje signs out locally
// and shows its own sign-in page; a demo sign-in never goes to a provider.
func TestSignOutWithoutEndSessionEndpoint(t *testing.T) {
	t.Parallel()
	op := startOP(t)
	s := newSite(t, oidcEnv(op))
	b := browsertest.New(t)
	op.QueueUser(&mockoidc.MockUser{Subject: "bert-0002", PreferredUsername: "bert", Groups: []string{"team-werkplaats"}})
	b.Go(s.URL + "/console/login")
	b.ClickNav("#sso")
	b.ClickNav(`form[action="/console/logout"] button`)
	if p := browsertest.Eval[string](b, "location.pathname"); p != "/console/login" || !strings.Contains(b.Body(), "U bent uitgelogd") {
		t.Errorf("after logout at %s: %s", p, b.Body())
	}
	if n := consoleSessions(s); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
