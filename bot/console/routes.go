package console

import (
	"net/http"
	"net/url"

	"github.com/seintje/seintje/bot/config"
)

// routes lists every console route: first the public ones, then those
// that need a session, with the roles that may use them. Keep this file
// the one place to review who may open what.
func (c *Console) routes() {
	// Public: assets, sign-in, language.
	c.mux.Handle("GET /console/static/", c.static)
	c.public("GET /console/login", c.loginShow)
	c.public("POST /console/login/demo", c.loginDemo)
	c.public("GET /console/auth/start", c.authStart)
	c.public("GET /console/auth/callback", c.authCallback)
	c.public("GET "+config.ConsoleSignedOutPath, c.signedOut)
	c.public("GET /console/lang/{lang}", c.langSet)
	c.public("GET /console", c.homeRedirect)

	// Any signed-in person.
	any := []string(nil)
	c.private("GET /console/{$}", any, c.homeShow)
	c.private("POST /console/logout", any, c.logout)

	// Flows: coordinators and admins (the mermaid script is a static
	// asset, stored compressed: see staticFiles).
	co := []string{RoleCoordinator, RoleAdmin}
	c.private("GET /console/flows", co, c.flowsList)
	c.private("GET /console/flows/{id}", co, c.flowShow)
	c.private("POST /console/flows/{id}/sim", co, c.flowSimStart)
	c.private("POST /console/flows/{id}/sim/{sim}", co, c.flowSimReply)

	// Experiments: coordinators, case workers and admins.
	exp := []string{RoleCoordinator, RoleCaseworker, RoleAdmin}
	c.private("GET /console/experiments", exp, c.experimentsList)
	c.private("GET /console/experiments/{id}", exp, c.experimentShow)

	// Werkplaats: the callback queue.
	wp := []string{RoleWerkplaats, RoleAdmin}
	c.private("GET /console/queue", wp, c.queueShow)
	c.private("GET /console/queue/list", wp, c.queueList)
	c.private("GET /console/queue/{id}", wp, c.callbackShow)
	c.private("POST /console/queue/{id}/claim", wp, c.callbackClaim)
	c.private("POST /console/queue/{id}/outcome", wp, c.callbackOutcome)
	c.private("POST /console/queue/{id}/release", wp, c.callbackRelease)
	c.private("POST /console/queue/{id}/reschedule", wp, c.callbackReschedule)

	// Case workers: batches (a spreadsheet of people at once).
	cw := []string{RoleCaseworker, RoleAdmin}
	c.private("GET /console/batches", cw, c.batchList)
	c.private("POST /console/batches", cw, c.batchUpload)
	c.private("GET /console/batches/template", cw, c.batchTemplate)
	c.private("GET /console/uploads/{id}/columns", cw, c.batchColumnsShow)
	c.private("POST /console/uploads/{id}/columns", cw, c.batchColumnsSave)
	c.private("GET /console/batches/{id}", cw, c.batchShow)
	c.private("GET /console/batches/{id}/progress", cw, c.batchProgress)
	c.private("POST /console/batches/{id}/start", cw, c.batchStart)
	c.private("POST /console/batches/{id}/cancel", cw, c.batchCancel)
	c.private("GET /console/batches/{id}/results.csv", cw, c.batchResults)

	// Case workers: send a nudge.
	c.private("GET /console/send", cw, c.sendShow)
	c.private("POST /console/send/preview", cw, c.sendPreview)
	c.private("POST /console/send", cw, c.sendSubmit)
	c.private("GET /console/inbox", cw, c.inboxShow)
	c.private("POST /console/inbox/{id}/handled", cw, c.inboxHandled)
	c.private("GET /console/nudges/{id}", cw, c.nudgeShow)
	c.private("POST /console/nudges/{id}/notes", cw, c.nudgeNote)
	c.private("POST /console/nudges/{id}/end", cw, c.nudgeEnd)

	// Search: case workers, werkplaats, admins.
	c.private("GET /console/search", []string{RoleCaseworker, RoleWerkplaats, RoleAdmin}, c.searchShow)

	// Admin.
	admin := []string{RoleAdmin}
	c.private("GET /console/admin/audit", admin, c.auditShow)
	c.private("GET /console/admin/optouts", admin, c.optOutsShow)
	c.private("GET /console/admin/events", admin, c.eventsShow)
	c.private("POST /console/admin/events/{id}/replay", admin, c.eventReplay)

	// Everything else under /console: not found (behind a session, so
	// nobody learns which screens exist without signing in).
	c.private("/console/", any, func(w http.ResponseWriter, r *http.Request, _ *Session) { c.notFound(w, r) })
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
