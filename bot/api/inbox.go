package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/store"
)

// inboxHandled handles POST /v1/inbox/{id}/handled: a case worker dealt
// with a question or reply. Recorded in the audit trail; repeating it
// changes nothing.
func (s *Server) inboxHandled(c *gin.Context) {
	it, err := s.d.Service.MarkHandled(c.Request.Context(), c.Param("id"), Caller(c))
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, CodeNotFound, "no inbox item with this id (it may have expired after the retention period)", "")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": it.ID, "handled": true, "handled_by": it.HandledBy, "handled_at": it.HandledAt})
}
