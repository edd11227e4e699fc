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
