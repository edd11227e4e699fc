// Package api is Seintje's HTTP surface: the case-worker JSON API under
// /v1, the provider webhooks under /webhooks, and health checks. Every
// error is an RFC 9457 application/problem+json body with a stable code.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/batch"
	"github.com/seintje/seintje/bot/events"
	"github.com/seintje/seintje/bot/metrics"

	"github.com/seintje/seintje/bot/channel/twilio"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/registry"
	"github.com/seintje/seintje/bot/spool"
	"github.com/seintje/seintje/bot/store"
)

// Roles.
const (
	RoleCaseworker  = "caseworker"
	RoleCoordinator = "coordinator"
	RoleAdmin       = "admin"
	RoleWerkplaats  = "werkplaats"
)

// Token is an API bearer token.
type Token struct{ Name, Role, Secret string }

// Deps are what the API needs.
type Deps struct {
	Service   *outreach.Service
	Store     *store.Store
	Registry  *registry.Registry
	Tokens    []Token
	PublicURL string // e.g. https://seintje.gemeente.nl (no trailing slash)
	// Twilio validates webhook signatures; nil disables the Twilio webhooks.
	Twilio *twilio.Validator
	// Demo enables POST /webhooks/console (answer as a recipient).
	Demo bool
	Log  *slog.Logger
	// Metrics, when set, are served at /metrics and fed by every request.
	Metrics *metrics.Metrics
	// Intake stores webhook requests durably within a deadline (Redis or
	// the local spool); nil handles them directly.
	Intake *spool.Intake
	// Batches serves /v1/batches (nil: not served).
	Batches *batch.Service
	// Audit is the audit trail behind GET /v1/audit (nil: not served).
	Audit *audit.Log
	// Events serves the dead-letter list of events to the case system
	// (nil: not served).
	Events *events.Dispatcher
	// Extra mounts more routes (Telegram webhook, werkplaats API).
	Extra []func(r *gin.Engine, auth func(roles ...string) gin.HandlerFunc)
}

// Server is the HTTP handler.
type Server struct {
	d      Deps
	tokens []hashedToken
}

type hashedToken struct {
	name, role string
	sum        [32]byte
}

const maxBody = 64 << 10

// releaseMode puts gin in release mode once per process: gin keeps its
// mode in package variables that v1.10 writes and reads without
// synchronisation, so several servers built at once (tests, the simulator)
// must not each set it.
var releaseMode sync.Once

// New builds the router.
func New(d Deps) http.Handler {
	releaseMode.Do(func() { gin.SetMode(gin.ReleaseMode) })
	s := &Server{d: d}
	for _, t := range d.Tokens {
		s.tokens = append(s.tokens, hashedToken{name: t.Name, role: t.Role, sum: sha256.Sum256([]byte(t.Secret))})
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(s.recover, s.logRequests, limitBody)
	r.NoRoute(func(c *gin.Context) { problem(c, http.StatusNotFound, CodeNotFound, "no such endpoint", "") })
	r.NoMethod(func(c *gin.Context) {
		problem(c, http.StatusMethodNotAllowed, CodeMethodNotAllow, "method not allowed on this endpoint", "")
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.ready)
	r.GET("/openapi.json", serveOpenAPI())
	if d.Metrics != nil {
		r.GET("/metrics", gin.WrapH(d.Metrics.Handler()))
	}

	v1 := r.Group("/v1")
	v1.POST("/nudges", s.auth(RoleCaseworker, RoleAdmin), s.createNudge)
	v1.GET("/nudges/:id", s.auth(RoleCaseworker, RoleAdmin), s.getNudge)
	v1.GET("/callbacks", s.auth(RoleCaseworker, RoleWerkplaats, RoleAdmin), s.callbackQueue)
	v1.GET("/callbacks/:id", s.auth(RoleCaseworker, RoleWerkplaats, RoleAdmin), s.getCallback)
	v1.POST("/callbacks/:id/claim", s.auth(RoleWerkplaats, RoleAdmin), s.claimCallback)
	v1.POST("/callbacks/:id/complete", s.auth(RoleWerkplaats, RoleAdmin), s.completeCallback)
	v1.POST("/callbacks/:id/release", s.auth(RoleWerkplaats, RoleAdmin), s.releaseCallback)
	v1.POST("/callbacks/:id/reschedule", s.auth(RoleWerkplaats, RoleAdmin), s.rescheduleCallback)
	v1.GET("/inbox", s.auth(RoleCaseworker, RoleAdmin), s.inbox)
	v1.POST("/inbox/:id/handled", s.auth(RoleCaseworker, RoleAdmin), s.inboxHandled)
	v1.GET("/flows", s.auth(RoleCoordinator, RoleAdmin), s.listFlows)
	v1.DELETE("/recipients/:ref", s.auth(RoleAdmin), s.eraseRecipient)
	v1.GET("/recipients/:ref/nudges", s.auth(RoleCaseworker, RoleAdmin), s.recipientNudges)
	v1.POST("/nudges/:id/outcomes", s.auth(RoleCaseworker, RoleAdmin), s.postNudgeOutcome)
	v1.POST("/recipients/:ref/outcomes", s.auth(RoleCaseworker, RoleAdmin), s.postRecipientOutcome)
	v1.GET("/experiments", s.auth(RoleCoordinator, RoleCaseworker, RoleAdmin), s.listExperiments)
	v1.GET("/experiments/:id", s.auth(RoleCoordinator, RoleCaseworker, RoleAdmin), s.getExperiment)
	v1.GET("/recipients/:ref/channels", s.auth(RoleCaseworker, RoleAdmin), s.getChannels)
	v1.PUT("/recipients/:ref/channels", s.auth(RoleCaseworker, RoleAdmin), s.putChannels)
	v1.GET("/recipients/:ref/channel", s.auth(RoleCaseworker, RoleAdmin), s.getChannel)
	v1.PUT("/recipients/:ref/channel", s.auth(RoleCaseworker, RoleAdmin), s.putChannel)
	if d.Batches != nil {
		v1.POST("/batches", s.auth(RoleCaseworker, RoleAdmin), s.createBatch)
		v1.GET("/batches", s.auth(RoleCaseworker, RoleAdmin), s.listBatches)
		v1.GET("/batches/:id", s.auth(RoleCaseworker, RoleAdmin), s.getBatch)
		v1.POST("/batches/:id/start", s.auth(RoleCaseworker, RoleAdmin), s.startBatch)
		v1.POST("/batches/:id/cancel", s.auth(RoleCaseworker, RoleAdmin), s.cancelBatch)
		v1.GET("/batches/:id/results.csv", s.auth(RoleCaseworker, RoleAdmin), s.batchResults)
	}
	if d.Audit != nil {
		v1.GET("/audit", s.auth(RoleAdmin), s.auditTrail)
	}
	if d.Events != nil {
		v1.GET("/events/dead-letters", s.auth(RoleAdmin), s.deadLetters)
		v1.POST("/events/dead-letters/:id/replay", s.auth(RoleAdmin), s.replayDeadLetter)
	}

	if d.Twilio != nil {
		r.POST("/webhooks/twilio/sms", s.twilioSMS)
		r.POST("/webhooks/twilio/status", s.twilioStatus)
	}
	if d.Demo {
		r.POST("/webhooks/console", s.auth(RoleCaseworker, RoleAdmin), s.consoleReply)
	}
	for _, mount := range d.Extra {
		mount(r, s.auth)
	}
	return r
}

func limitBody(c *gin.Context) {
	limit := int64(maxBody)
	if c.Request.Method == http.MethodPost && (c.Request.URL.Path == "/v1/batches" || c.Request.URL.Path == "/console/batches") {
		limit = MaxBatchBody // a spreadsheet of up to 100,000 people
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	c.Next()
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			s.d.Log.ErrorContext(c.Request.Context(), "panic in handler", "route", c.FullPath(), "panic", v)
			problem(c, http.StatusInternalServerError, CodeInternal, "internal error", "")
		}
	}()
	c.Next()
}

// logRequests logs method, route pattern (never the raw path's personal
// data: routes hold only ids), status and latency. Bodies are never logged.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "(no route)"
	}
	s.d.Metrics.ObserveRequest(route, c.Request.Method, c.Writer.Status(), time.Since(start))
	s.d.Log.LogAttrs(c.Request.Context(), slog.LevelDebug, "http", slog.String("method", c.Request.Method),
		slog.String("route", route), slog.Int("status", c.Writer.Status()), slog.Duration("latency", time.Since(start)))
}

// auth checks the bearer token (as SHA-256 hashes, in constant time, over
// every configured token) and the role.
func (s *Server) auth(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || secret == "" {
			c.Header("WWW-Authenticate", `Bearer realm="seintje"`)
			problem(c, http.StatusUnauthorized, CodeUnauthorized, "send an Authorization: Bearer <token> header", "")
			return
		}
		sum := sha256.Sum256([]byte(secret))
		var match *hashedToken
		for i := range s.tokens {
			if subtle.ConstantTimeCompare(sum[:], s.tokens[i].sum[:]) == 1 {
				match = &s.tokens[i]
			}
		}
		if match == nil {
			c.Header("WWW-Authenticate", `Bearer realm="seintje", error="invalid_token"`)
			problem(c, http.StatusUnauthorized, CodeUnauthorized, "the token is not valid", "")
			return
		}
		allowed := false
		for _, r := range roles {
			if match.role == r {
				allowed = true
			}
		}
		if !allowed {
			problem(c, http.StatusForbidden, CodeForbidden, "role "+match.role+" may not use this endpoint; it needs one of: "+strings.Join(roles, ", "), "")
			return
		}
		c.Set("token", match.name)
		c.Set("role", match.role)
		c.Request = c.Request.WithContext(audit.WithActor(c.Request.Context(), audit.Actor{Name: match.name, Role: match.role, Via: "api"}))
		c.Next()
	}
}

// Caller returns the name of the token that authenticated the request.
func Caller(c *gin.Context) string { return c.GetString("token") }

func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	var sp *spool.Status
	if s.d.Intake != nil {
		st := s.d.Intake.Status()
		sp = &st
	}
	if err := s.d.Store.Ping(ctx); err != nil {
		detail := "redis is not reachable"
		if sp != nil {
			detail += fmt.Sprintf("; inbound spool %s with %d of %d records (webhooks are still acknowledged while it has room)", sp.State, sp.Records, sp.Max)
		}
		problem(c, http.StatusServiceUnavailable, CodeUnavailable, detail, "")
		return
	}
	if s.d.Registry.Len() == 0 {
		problem(c, http.StatusServiceUnavailable, CodeUnavailable, "no flows loaded", "")
		return
	}
	out := gin.H{"status": "ready", "flows": s.d.Registry.Len()}
	if sp != nil {
		out["spool"] = sp
	}
	c.JSON(http.StatusOK, out)
}

// decodeJSON reads a JSON body strictly; it writes the problem itself.
func decodeJSON(c *gin.Context, v any) bool {
	ct := c.ContentType()
	if ct != "application/json" && ct != "" {
		problem(c, http.StatusUnsupportedMediaType, CodeUnsupportedType, "send Content-Type: application/json", "")
		return false
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			problem(c, http.StatusRequestEntityTooLarge, CodeTooLarge, "the body is larger than 64 KiB", "")
		case errors.Is(err, io.EOF):
			problem(c, http.StatusBadRequest, CodeMalformed, "the body is empty; send a JSON object", "")
		default:
			problem(c, http.StatusBadRequest, CodeMalformed, "the body is not valid JSON for this endpoint: "+err.Error(), jsonField(err))
		}
		return false
	}
	if dec.More() {
		problem(c, http.StatusBadRequest, CodeMalformed, "send exactly one JSON object", "")
		return false
	}
	return true
}

// jsonField extracts the field name from a decoding error, when there is one.
func jsonField(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return ute.Field
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
	}
	return ""
}

// internal logs err and answers 500 (or 503 when Redis is down).
func (s *Server) internal(c *gin.Context, err error) {
	s.d.Log.ErrorContext(c.Request.Context(), "request failed", "route", c.FullPath(), "err", err)
	problem(c, http.StatusInternalServerError, CodeInternal, "internal error; nothing was changed unless the response said so", "")
}
