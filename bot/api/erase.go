package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/outreach"
)

// eraseRecipient handles DELETE /v1/recipients/{ref}: the right to erasure.
// Everything Seintje keeps about the person is deleted at once.
func (s *Server) eraseRecipient(c *gin.Context) {
	n, err := s.d.Service.EraseRecipient(c.Request.Context(), c.Param("ref"), Caller(c))
	if errors.Is(err, outreach.ErrUnknownRecipient) {
		problem(c, http.StatusNotFound, CodeNotFound, "no recipient with this reference (or the data already expired)", "")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"erased": true, "keys": n})
}

// recipientNudges handles GET /v1/recipients/{ref}/nudges: what Seintje did
// for this person, newest first (for a case system that lost an id).
func (s *Server) recipientNudges(c *gin.Context) {
	ns, err := s.d.Service.NudgesOf(c.Request.Context(), c.Param("ref"), 100)
	if errors.Is(err, outreach.ErrUnknownRecipient) {
		problem(c, http.StatusNotFound, CodeNotFound, "no recipient with this reference (or the data already expired)", "")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	out := make([]gin.H, 0, len(ns))
	for _, n := range ns {
		out = append(out, gin.H{"id": n.ID, "flow": n.Flow.ID, "flow_version": n.Flow.Version, "state": n.Status,
			"step": n.Step, "outcome": n.Outcome, "channel": n.Channel, "triggered_by": n.TriggeredBy,
			"created_at": n.StartedAt, "updated_at": n.UpdatedAt, "experiment": n.Experiment, "arm": n.Arm})
	}
	c.JSON(http.StatusOK, gin.H{"ref": c.Param("ref"), "nudges": out})
}
