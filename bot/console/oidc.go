package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/seintje/seintje/bot/config"
)

// oidcClient is the discovered provider and the OAuth2 client settings.
type oidcClient struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
	// endSession is the provider's end_session_endpoint (RP-initiated
	// logout), "" when discovery names none.
	endSession string
}

// oidcFlowTTL is how long a started sign-in may take at the provider.
const oidcFlowTTL = 10 * time.Minute

// oidcFlow is kept in Redis between the redirect to the provider and the
// way back: the PKCE verifier never leaves the server.
type oidcFlow struct {
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
}

// provider discovers the provider on first use (so Seintje starts while
// the provider is down) and keeps it.
func (c *Console) provider(ctx context.Context) (*oidcClient, error) {
	c.oidcMu.Lock()
	defer c.oidcMu.Unlock()
	if c.oidc != nil {
		return c.oidc, nil
	}
	cfg := c.d.Config.OIDC
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.d.HTTPClient), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc discovery at %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc discovery at %s: %w", cfg.Issuer, err)
	}
	c.oidc = &oidcClient{
		endSession: meta.EndSession,
		provider:   p,
		verifier:   p.VerifierContext(oidc.ClientContext(context.WithoutCancel(ctx), c.d.HTTPClient), &oidc.Config{ClientID: cfg.ClientID, Now: c.d.Now}),
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: c.d.PublicURL + config.ConsoleCallbackPath, Scopes: cfg.Scopes},
	}
	return c.oidc, nil
}

// providerOrError returns the provider, or answers 502 with a plain page.
func (c *Console) providerOrError(w http.ResponseWriter, r *http.Request) (*oidcClient, bool) {
	p, err := c.provider(r.Context())
	if err != nil {
		c.d.Log.ErrorContext(r.Context(), "oidc provider", "err", err)
		c.errorPage(w, r, http.StatusBadGateway, "error.oidc.title", "error.oidc.unreachable")
		return nil, false
	}
	return p, true
}

func (c *Console) flowKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return c.d.Prefix + ":console:oidc:" + hex.EncodeToString(sum[:16])
}

func (c *Console) saveFlow(ctx context.Context, state string, f oidcFlow) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := c.d.Redis.Set(ctx, c.flowKey(state), b, oidcFlowTTL).Err(); err != nil {
		return fmt.Errorf("save sign-in: %w", err)
	}
	return nil
}

var errNoFlow = errors.New("no such sign-in")

// takeFlow returns and deletes the flow of state: a code is used once.
func (c *Console) takeFlow(ctx context.Context, state string) (oidcFlow, error) {
	var f oidcFlow
	b, err := c.d.Redis.GetDel(ctx, c.flowKey(state)).Bytes()
	if err != nil {
		return f, errNoFlow
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("decode sign-in: %w", err)
	}
	return f, nil
}

// rolesFrom maps the configured claim (a string or a list of strings) to
// Seintje roles. Without a mapping, a value equal to a role name is that
// role.
func rolesFrom(claims map[string]any, cfg config.OIDC) []string {
	var values []string
	switch v := claims[cfg.RoleClaim].(type) {
	case string:
		values = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				values = append(values, s)
			}
		}
	}
	var roles []string
	for _, v := range values {
		role := ""
		if len(cfg.Roles) > 0 {
			role = cfg.Roles[v]
		} else if slices.Contains(allRoles, v) {
			role = v
		}
		if role != "" && !slices.Contains(roles, role) {
			roles = append(roles, role)
		}
	}
	// A stable order: the most powerful first (the audit trail names one).
	slices.SortFunc(roles, func(a, b string) int { return slices.Index(rolePower, a) - slices.Index(rolePower, b) })
	return roles
}

var rolePower = []string{RoleAdmin, RoleCoordinator, RoleCaseworker, RoleWerkplaats}

func claimString(claims map[string]any, names ...string) string {
	for _, n := range names {
		if s, ok := claims[n].(string); ok && s != "" {
			return s
		}
	}
	return ""
}
