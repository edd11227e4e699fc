package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/seintje/seintje/bot/console/browsertest"
)

// startOP runs a test OpenID provider (mockoidc) on loopback: a real
// authorization-code flow with PKCE, ID tokens signed with its own key.
func startOP(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Shutdown() })
	return op
}

func oidcEnv(op *mockoidc.MockOIDC) map[string]string {
	cfg := op.Config()
	return map[string]string{
		"SEINTJE_OIDC_ISSUER":        cfg.Issuer,
		"SEINTJE_OIDC_CLIENT_ID":     cfg.ClientID,
		"SEINTJE_OIDC_CLIENT_SECRET": cfg.ClientSecret,
		"SEINTJE_OIDC_SCOPES":        "openid profile email groups",
		"SEINTJE_OIDC_ROLES":         "werkplaats=team-werkplaats,admin=seintje-beheer",
		"DEMO":                       "off",
	}
}

// Anne signs in at her organisation's provider; her group makes her
// werkplaats staff in Seintje.
func TestSignInWithOpenIDConnect(t *testing.T) {
	t.Parallel()
	op := startOP(t)
	s := newSite(t, oidcEnv(op))
	b := browsertest.New(t)

	op.QueueUser(&mockoidc.MockUser{Subject: "anne-0001", Email: "anne@gemeente.test", PreferredUsername: "anne",
		Groups: []string{"iedereen", "team-werkplaats"}})
	b.Go(s.URL + "/console/admin/audit")
	if !strings.HasPrefix(b.URL(), s.URL+"/console/login") {
		t.Fatalf("not signed in, at %s; want the sign-in page", b.URL())
	}
	if strings.Contains(b.Body(), "Demo") {
		t.Error("the demo sign-in shows without --demo")
	}
	b.AssertAccessible()
	b.AssertKeyboard()
	b.AssertReflow()
	b.ClickNav("#sso")
	if p := browsertest.Eval[string](b, "location.pathname"); p != "/console/admin/audit" {
		t.Fatalf("back from the provider at %s", p)
	}
	// She came back where she wanted to go, but it is for admins only.
	if st := b.Status(); st != http.StatusForbidden {
		t.Errorf("werkplaats opens the audit screen: %d", st)
	}
	if body := b.Body(); !strings.Contains(body, "Geen toegang") {
		t.Errorf("403 page says: %s", body)
	}
	b.AssertAccessible()
	b.Go(s.URL + "/console/")
	if body := b.Body(); !strings.Contains(body, "anne") || !strings.Contains(body, "werkplaats") {
		t.Errorf("home does not show anne (werkplaats): %s", body)
	}
	b.AssertAccessible()
	trail := s.AuditActions("")
	for _, want := range []string{"anne sign_in", "anne access_refused"} {
		if !contains(trail, want) {
			t.Errorf("audit trail %v lacks %q", trail, want)
		}
	}

	// Someone without a Seintje group signs in: no session, a clear 403.
	b2 := browsertest.New(t)
	op.QueueUser(&mockoidc.MockUser{Subject: "bert-0002", PreferredUsername: "bert", Groups: []string{"iedereen"}})
	b2.Go(s.URL + "/console/login")
	b2.ClickNav("#sso")
	if !strings.Contains(b2.Body(), "Geen rol in Seintje") {
		t.Errorf("no-role page: %s", b2.Body())
	}
	b2.AssertAccessible()
	b2.AssertKeyboard()
	b2.AssertReflow()
	b2.Go(s.URL + "/console/")
	if !strings.HasPrefix(b2.URL(), s.URL+"/console/login") {
		t.Errorf("bert without a role got in: %s", b2.URL())
	}
	if trail := s.AuditActions("actor=bert"); !contains(trail, "bert access_refused") {
		t.Errorf("refused sign-in not audited: %v", trail)
	}
}

// A callback with a state this browser did not start is refused.
func TestSignInRefusesForeignState(t *testing.T) {
	t.Parallel()
	op := startOP(t)
	s := newSite(t, oidcEnv(op))
	resp, err := http.Get(s.URL + "/console/auth/callback?code=x&state=forged")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged state: %d, want 400", resp.StatusCode)
	}
}
