package config

import (
	"strings"
	"time"
)

// Console settings: sign-in with OpenID Connect and session lifetimes.
const (
	DefaultConsoleIdle   = 30 * time.Minute
	DefaultConsoleMaxAge = 10 * time.Hour
	DefaultOIDCRoleClaim = "groups"
	DefaultOIDCScopes    = "openid profile email"
	ConsoleCallbackPath  = "/console/auth/callback"
	// ConsoleSignedOutPath is where the provider sends the browser back
	// after RP-initiated logout (post_logout_redirect_uri).
	ConsoleSignedOutPath  = "/console/signed-out"
	consoleRolesExample   = "caseworker=seintje-consulenten,werkplaats=seintje-werkplaats,coordinator=seintje-coordinatoren,admin=seintje-beheer"
	consoleMaxIdleAllowed = 24 * time.Hour
)

// Console configures the web console under /console.
type Console struct {
	// IdleTimeout ends a session after this long without a request
	// (SEINTJE_CONSOLE_IDLE, yaml console.idle_timeout; default 30m).
	IdleTimeout time.Duration
	// MaxAge ends a session this long after sign-in, active or not
	// (SEINTJE_CONSOLE_MAX_AGE, yaml console.max_age; default 10h).
	MaxAge time.Duration
	OIDC   OIDC
}

// OIDC is the OpenID Connect provider the console signs people in with
// (Entra ID, ADFS, Keycloak, ...). Off when Issuer is empty.
type OIDC struct {
	Issuer       string // SEINTJE_OIDC_ISSUER, yaml console.oidc.issuer
	ClientID     string // SEINTJE_OIDC_CLIENT_ID, yaml console.oidc.client_id
	ClientSecret string // SEINTJE_OIDC_CLIENT_SECRET(_FILE), yaml console.oidc.client_secret_file (secret)
	// RoleClaim is the ID-token claim holding groups or roles
	// (SEINTJE_OIDC_ROLE_CLAIM; default "groups"); a string or a list.
	RoleClaim string
	// Roles maps a claim value to a Seintje role (SEINTJE_OIDC_ROLES,
	// "caseworker=group-a,admin=group-b"; several groups per role may be
	// given by repeating the role). Without it, values equal to a role
	// name (caseworker, werkplaats, coordinator, admin) are that role.
	Roles map[string]string
	// Scopes requested (SEINTJE_OIDC_SCOPES, space separated; default
	// "openid profile email"; add "groups" when your provider wants it).
	Scopes []string
}

// Configured reports whether OIDC sign-in is set up.
func (o OIDC) Configured() bool { return o.Issuer != "" }

// LogValue never shows the client secret.
func (o OIDC) String() string {
	if !o.Configured() {
		return "off"
	}
	return o.Issuer + " client " + o.ClientID
}

type consoleFile struct {
	IdleTimeout string `yaml:"idle_timeout"`
	MaxAge      string `yaml:"max_age"`
	OIDC        struct {
		Issuer           string `yaml:"issuer"`
		ClientID         string `yaml:"client_id"`
		ClientSecretFile string `yaml:"client_secret_file"`
		RoleClaim        string `yaml:"role_claim"`
		Roles            string `yaml:"roles"`
		Scopes           string `yaml:"scopes"`
	} `yaml:"oidc"`
}

func (l *loader) console() Console {
	f := l.f.Console
	c := Console{
		IdleTimeout: l.duration("SEINTJE_CONSOLE_IDLE", "console.idle_timeout", f.IdleTimeout, DefaultConsoleIdle),
		MaxAge:      l.duration("SEINTJE_CONSOLE_MAX_AGE", "console.max_age", f.MaxAge, DefaultConsoleMaxAge),
	}
	if c.IdleTimeout > consoleMaxIdleAllowed {
		l.failf("SEINTJE_CONSOLE_IDLE %s is longer than 24h; sessions must end when nobody uses them (default 30m)", c.IdleTimeout)
	}
	if c.MaxAge < c.IdleTimeout {
		c.MaxAge = c.IdleTimeout
	}
	o := &c.OIDC
	var src string
	o.Issuer, src = l.value("SEINTJE_OIDC_ISSUER", "console.oidc.issuer", f.OIDC.Issuer)
	if o.Issuer == "" {
		return c
	}
	if u, ok := l.baseURL(src, o.Issuer, "https://login.microsoftonline.com/<tenant>/v2.0"); ok {
		o.Issuer = u
	}
	o.ClientID, _ = l.value("SEINTJE_OIDC_CLIENT_ID", "console.oidc.client_id", f.OIDC.ClientID)
	if o.ClientID == "" {
		l.failf("SEINTJE_OIDC_CLIENT_ID is required with SEINTJE_OIDC_ISSUER: the client id Seintje has at your identity provider")
	}
	if sec, _, ok := l.secret("SEINTJE_OIDC_CLIENT_SECRET", "console.oidc.client_secret_file", f.OIDC.ClientSecretFile); ok {
		o.ClientSecret = strings.TrimSpace(string(sec))
	}
	o.RoleClaim, _ = l.value("SEINTJE_OIDC_ROLE_CLAIM", "console.oidc.role_claim", f.OIDC.RoleClaim)
	if o.RoleClaim == "" {
		o.RoleClaim = DefaultOIDCRoleClaim
	}
	scopes, _ := l.value("SEINTJE_OIDC_SCOPES", "console.oidc.scopes", f.OIDC.Scopes)
	if scopes == "" {
		scopes = DefaultOIDCScopes
	}
	o.Scopes = strings.Fields(scopes)
	if !strings.Contains(" "+scopes+" ", " openid ") {
		o.Scopes = append([]string{"openid"}, o.Scopes...)
	}
	roles, rsrc := l.value("SEINTJE_OIDC_ROLES", "console.oidc.roles", f.OIDC.Roles)
	o.Roles = map[string]string{}
	for part := range strings.SplitSeq(roles, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		role, group, ok := strings.Cut(part, "=")
		role, group = strings.TrimSpace(role), strings.TrimSpace(group)
		valid := false
		for _, r := range Roles() {
			valid = valid || r == role
		}
		if !ok || !valid || group == "" {
			l.failf("%s entry %q is not role=group: use e.g. %s", rsrc, part, consoleRolesExample)
			continue
		}
		o.Roles[group] = role
	}
	return c
}
