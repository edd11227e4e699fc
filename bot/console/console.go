// Package console is Seintje's web console under /console: server-rendered
// screens (html/template, go:embed, htmx) for werkplaats staff, case
// workers and admins, with OpenID Connect sign-in, sessions in Redis, CSRF
// protection on every state change and a strict Content-Security-Policy.
//
// One handler per file, named for the screen and the action
// (queue_show.go, callback_claim.go); routes.go says which routes are
// public and which roles may use the others; docs/console.md explains how
// a new screen plugs in.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/batch"
	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/events"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/registry"
	"github.com/seintje/seintje/bot/store"
)

//go:embed templates i18n static
var files embed.FS

// Roles (the same names as API token roles).
const (
	RoleCaseworker  = config.RoleCaseworker
	RoleWerkplaats  = config.RoleWerkplaats
	RoleCoordinator = config.RoleCoordinator
	RoleAdmin       = config.RoleAdmin
)

// Deps are what the console needs.
type Deps struct {
	Service  *outreach.Service
	Store    *store.Store
	Registry *registry.Registry
	Audit    *audit.Log
	// Batches serves the batch screens (nil: not offered).
	Batches *batch.Service
	// Events lists and replays undelivered events to the case system
	// (nil: no subscriber configured).
	Events *events.Dispatcher
	Redis  redis.UniversalClient
	Prefix string // Redis key prefix
	Config config.Console
	// PublicURL is where browsers reach Seintje (the OIDC redirect URL is
	// PublicURL + /console/auth/callback).
	PublicURL string
	// Demo offers the demo sign-in (pick a role, no provider).
	Demo bool
	Log  *slog.Logger
	Now  func() time.Time
	// HTTPClient talks to the OIDC provider (default http.DefaultClient).
	HTTPClient *http.Client
	// Simulator plays conversations on the flow page on the same code path
	// as the service (bot/simulate.Pool); nil: the page has none.
	Simulator Simulator
}

// Simulator plays a flow as a recipient would, on a simulated clock, in a
// sandbox of its own (bot/simulate.Pool). Only the owner who started a
// simulation may use it.
type Simulator interface {
	Start(ctx context.Context, owner, flow, lang string, vars map[string]any, start time.Time, dutch bool) (string, error)
	Do(ctx context.Context, owner, id, line string) error
	Transcript(owner, id string) (string, error)
}

// Console is the http.Handler for /console. It holds no mutable state but
// the OIDC provider's discovered configuration (fetched on first use).
type Console struct {
	d        Deps
	mux      *http.ServeMux
	views    views
	texts    catalog
	sessions *sessions
	loc      *time.Location
	static   http.Handler

	oidcMu sync.Mutex
	oidc   *oidcClient
}

// New builds the console.
func New(d Deps) (*Console, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.HTTPClient == nil {
		d.HTTPClient = http.DefaultClient
	}
	if d.Prefix == "" {
		d.Prefix = "sj"
	}
	idle, maxAge := d.Config.IdleTimeout, d.Config.MaxAge
	if idle <= 0 {
		idle = config.DefaultConsoleIdle
	}
	if maxAge <= 0 {
		maxAge = config.DefaultConsoleMaxAge
	}
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		return nil, fmt.Errorf("console: time zone: %w", err)
	}
	c := &Console{d: d, loc: loc, sessions: &sessions{rdb: d.Redis, prefix: d.Prefix, idle: idle, maxAge: maxAge, now: d.Now}}
	if c.texts, err = loadCatalog(files); err != nil {
		return nil, err
	}
	if c.views, err = parseViews(files, loc); err != nil {
		return nil, err
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	c.static = http.StripPrefix("/console/static", newStaticFiles(static))
	c.mux = http.NewServeMux()
	c.routes()
	return c, nil
}

// Mount adds the console to the API's gin engine (app.Options.Mounts).
func (c *Console) Mount(r *gin.Engine, _ func(roles ...string) gin.HandlerFunc) {
	h := gin.WrapH(c)
	r.Any("/console", h)
	r.Any("/console/*path", h)
}

// ServeHTTP sets the security headers and routes the request.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	c.mux.ServeHTTP(w, r)
}

// ContentSecurityPolicy allows nothing inline and nothing from elsewhere.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// handler is a console handler behind requireSession.
type handler func(w http.ResponseWriter, r *http.Request, s *Session)

// public serves a route anyone may open.
func (c *Console) public(pattern string, h http.HandlerFunc) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h(w, r)
	})
}

// private serves a route for signed-in people with one of roles (any role
// when none is given). State-changing methods need the CSRF token.
func (c *Console) private(pattern string, roles []string, h handler) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		s, err := c.currentSession(r)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		if s == nil {
			if r.Header.Get("HX-Request") == "true" {
				// An htmx request after the session ended: reload the page,
				// which then goes to the sign-in page.
				w.Header().Set("HX-Refresh", "true")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if r.Method != http.MethodGet {
				c.errorPage(w, r, http.StatusUnauthorized, "error.signedout.title", "error.signedout.body")
				return
			}
			c.redirect(w, r, "/console/login?next="+urlQueryEscape(r.URL.RequestURI()))
			return
		}
		ctx := context.WithValue(r.Context(), sessionKey{}, s)
		ctx = audit.WithActor(ctx, audit.Actor{Name: s.Actor, Role: s.Role(), Via: "console"})
		r = r.WithContext(ctx)
		if len(roles) > 0 && !s.Has(roles...) {
			if err := c.d.Audit.Record(ctx, audit.Entry{Action: audit.ActionAccessRefused, Detail: r.Method + " " + r.Pattern}); err != nil {
				c.d.Log.WarnContext(ctx, "audit access refused", "err", err)
			}
			c.forbidden(w, r)
			return
		}
		if !safeMethod(r.Method) && !c.checkCSRF(r, s) {
			c.errorPage(w, r, http.StatusForbidden, "error.csrf.title", "error.csrf.body")
			return
		}
		h(w, r, s)
	})
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// checkCSRF accepts a state change only with the session's token (form
// field csrf or header X-CSRF-Token) and not from another site.
func (c *Console) checkCSRF(r *http.Request, s *Session) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.PostFormValue("csrf")
	}
	return validCSRF(s, tok)
}

func (c *Console) currentSession(r *http.Request) (*Session, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil, nil
	}
	s, err := c.sessions.load(r.Context(), ck.Value)
	if err != nil && !errors.Is(err, errSessionOver) {
		return nil, err
	}
	return s, nil
}
