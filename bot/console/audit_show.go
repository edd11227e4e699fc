package console

import (
	"errors"
	"net/http"
	"time"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/console/form"
)

// AuditFilter is the audit screen's filter form (a GET form).
type AuditFilter struct {
	Actor  string    `form:"actor,max=100"`
	Action string    `form:"action,max=40"`
	From   time.Time `form:"from,date"`
	To     time.Time `form:"to,date"`
	Cursor string    `form:"cursor,max=60"`
}

// AuditData is the audit screen.
type AuditData struct {
	Filter  AuditFilter
	FromStr string
	ToStr   string
	Errors  form.Errors
	Actions []string
	Page    audit.Page
	NextURL string
}

// auditActions are offered in the filter.
var auditActions = []string{audit.ActionTrigger, audit.ActionClaim, audit.ActionViewPhone, audit.ActionOutcome,
	audit.ActionRelease, audit.ActionReschedule, audit.ActionNote, audit.ActionEnd, audit.ActionInboxHandled,
	audit.ActionErase, audit.ActionOptOut, audit.ActionOptIn, audit.ActionSetChannel, audit.ActionTelegramLink,
	audit.ActionSignIn, audit.ActionSignOut, audit.ActionSearch, audit.ActionAccessRefused}

// auditShow lists the audit trail, newest first, 50 a page (admin).
func (c *Console) auditShow(w http.ResponseWriter, r *http.Request, s *Session) {
	var f AuditFilter
	errs := form.Decode(r, &f)
	d := AuditData{Filter: f, Errors: errs, Actions: auditActions, FromStr: r.FormValue("from"), ToStr: r.FormValue("to")}
	if !errs.Any() {
		q := audit.Query{Actor: f.Actor, Action: f.Action, From: f.From, Cursor: f.Cursor, Limit: 50}
		if !f.To.IsZero() {
			q.To = f.To.AddDate(0, 0, 1) // the whole "to" day
		}
		page, err := c.d.Audit.Find(r.Context(), q)
		switch {
		case errors.Is(err, audit.ErrBadCursor):
			errs.Add("cursor", form.CodeInvalid, "")
		case err != nil:
			c.serverError(w, r, err)
			return
		}
		d.Page = page
		if page.Next != "" {
			v := r.URL.Query()
			v.Set("cursor", page.Next)
			d.NextURL = "/console/admin/audit?" + v.Encode()
		}
	}
	c.html(w, r, http.StatusOK, "audit", c.page(r, "audit.title", d))
}
