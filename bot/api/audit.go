package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/audit"
)

// auditTrail handles GET /v1/audit (admin): the audit trail, newest first.
//
//	?actor=anne&action=claim&from=2026-11-01&to=2026-12-01T00:00:00Z&limit=100&cursor=<next>
//
// from is inclusive, to exclusive; both take a date (Europe/Amsterdam
// midnight) or an RFC 3339 time. The answer's "next" continues the list.
func (s *Server) auditTrail(c *gin.Context) {
	q := audit.Query{Actor: c.Query("actor"), Action: c.Query("action"), Nudge: c.Query("nudge"), Task: c.Query("task"),
		Cursor: c.Query("cursor")}
	var err error
	if q.From, err = ParseAuditTime(c.Query("from")); err != nil {
		problem(c, http.StatusBadRequest, CodeInvalidField, "from must be a date (2026-11-01) or an RFC 3339 time", "from")
		return
	}
	if q.To, err = ParseAuditTime(c.Query("to")); err != nil {
		problem(c, http.StatusBadRequest, CodeInvalidField, "to must be a date (2026-12-01) or an RFC 3339 time", "to")
		return
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			problem(c, http.StatusBadRequest, CodeInvalidField, "limit must be a number from 1 to 500", "limit")
			return
		}
		q.Limit = n
	}
	page, err := s.d.Audit.Find(c.Request.Context(), q)
	if errors.Is(err, audit.ErrBadCursor) {
		problem(c, http.StatusBadRequest, CodeInvalidField, "cursor is not one this endpoint handed out", "cursor")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// ParseAuditTime reads a filter time: empty (zero), a date (midnight in
// Europe/Amsterdam) or an RFC 3339 time.
func ParseAuditTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		return time.Time{}, err
	}
	return time.ParseInLocation(time.DateOnly, v, loc)
}
