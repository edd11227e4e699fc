package api

import (
	"errors"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/outreach"
)

// listExperiments handles GET /v1/experiments.
func (s *Server) listExperiments(c *gin.Context) {
	ids, err := s.d.Service.Experiments(c.Request.Context())
	if err != nil {
		s.internal(c, err)
		return
	}
	sort.Strings(ids)
	c.JSON(http.StatusOK, gin.H{"experiments": ids})
}

// getExperiment handles GET /v1/experiments/{id}: the report.
func (s *Server) getExperiment(c *gin.Context) {
	r, late, err := s.d.Service.ExperimentReport(c.Request.Context(), c.Param("id"))
	if errors.Is(err, outreach.ErrUnknownExperiment) {
		problem(c, http.StatusNotFound, CodeNotFound, "no experiment with this id: no live flow declares it and nobody was assigned to it", "")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"report": r, "late_outcomes": late})
}
