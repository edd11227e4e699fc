package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/events"
)

// Problem codes of the events endpoints.
const (
	CodeSubscriberGone = "subscriber_not_configured"
)

// deadLetters handles GET /v1/events/dead-letters (admin): event
// deliveries that failed for their whole retry period, newest first.
//
//	?limit=100 (1..500)
func (s *Server) deadLetters(c *gin.Context) {
	limit := int64(100)
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			problem(c, http.StatusBadRequest, CodeInvalidField, "limit must be a number from 1 to 500", "limit")
			return
		}
		limit = int64(n)
	}
	list, err := s.d.Events.DeadLetters(c.Request.Context(), limit)
	if err != nil {
		s.internal(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"dead_letters": list})
}

// replayDeadLetter handles POST /v1/events/dead-letters/{id}/replay
// (admin): the delivery is queued again with a fresh retry period and
// leaves the list; the replay is recorded in the audit trail.
func (s *Server) replayDeadLetter(c *gin.Context) {
	ctx := c.Request.Context()
	dl, err := s.d.Events.Replay(ctx, c.Param("id"))
	switch {
	case errors.Is(err, events.ErrNotFound):
		problem(c, http.StatusNotFound, CodeNotFound, "there is no dead letter with this id (replayed already, or older than the retention)", "")
		return
	case errors.Is(err, events.ErrNoSubscriber):
		problem(c, http.StatusConflict, CodeSubscriberGone, err.Error()+"; configure it again or leave the dead letter", "")
		return
	case err != nil:
		s.internal(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"id": dl.ID, "event_id": dl.EventID, "subscriber": dl.Subscriber, "type": dl.Type, "status": "queued"})
}
