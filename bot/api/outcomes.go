package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/outreach"
)

// CodeUnknownOutcome: the outcome is not declared by the nudge's flow.
const CodeUnknownOutcome = "unknown_outcome"

type outcomeRequest struct {
	Flow    string `json:"flow"` // only by case reference
	Outcome string `json:"outcome"`
	At      string `json:"at"`
}

// postNudgeOutcome handles POST /v1/nudges/{id}/outcomes.
func (s *Server) postNudgeOutcome(c *gin.Context) {
	s.postOutcome(c, outreach.OutcomeRequest{Nudge: c.Param("id")}, false)
}

// postRecipientOutcome handles POST /v1/recipients/{ref}/outcomes: the
// outcome belongs to the newest nudge of `flow` for that case reference
// that started before it happened.
func (s *Server) postRecipientOutcome(c *gin.Context) {
	s.postOutcome(c, outreach.OutcomeRequest{Ref: c.Param("ref")}, true)
}

func (s *Server) postOutcome(c *gin.Context, req outreach.OutcomeRequest, byRef bool) {
	var body outcomeRequest
	if !decodeJSON(c, &body) {
		return
	}
	field := func(f, msg string) { problem(c, http.StatusUnprocessableEntity, CodeInvalidField, msg, f) }
	body.Outcome = strings.TrimSpace(body.Outcome)
	switch {
	case byRef && strings.TrimSpace(body.Flow) == "":
		field("flow", "flow is required: the outcome belongs to the newest nudge of this flow for the person")
		return
	case !byRef && body.Flow != "":
		field("flow", "leave flow out: the nudge id already names it")
		return
	case body.Outcome == "":
		field("outcome", "outcome is required, e.g. \"form_received\"; GET /v1/flows lists each flow's outcomes")
		return
	case body.At == "":
		field("at", "at is required: when it happened, RFC 3339, e.g. 2026-11-24T10:00:00+01:00")
		return
	}
	at, err := time.Parse(time.RFC3339, body.At)
	if err != nil {
		field("at", "at is not an RFC 3339 time, e.g. 2026-11-24T10:00:00+01:00")
		return
	}
	req.Flow, req.Outcome, req.At, req.By = strings.TrimSpace(body.Flow), body.Outcome, at, Caller(c)
	res, err := s.d.Service.RecordOutcome(c.Request.Context(), req)
	var fe *outreach.FieldError
	switch {
	case errors.Is(err, outreach.ErrUnknownNudge):
		msg := "no nudge with this id (it may have expired after the retention period)"
		if byRef {
			msg = "no nudge of flow " + req.Flow + " for this case reference (or the data already expired)"
		}
		problem(c, http.StatusNotFound, CodeNotFound, msg, "")
		return
	case errors.As(err, &fe):
		code := CodeInvalidField
		if fe.Code == "unknown_outcome" {
			code = CodeUnknownOutcome
		}
		problem(c, http.StatusUnprocessableEntity, code, fe.Message, fe.Field)
		return
	case err != nil:
		s.internal(c, err)
		return
	}
	status := http.StatusCreated
	if res.Existing {
		status = http.StatusOK
	}
	c.Header("Location", "/v1/nudges/"+res.Nudge.ID)
	c.JSON(status, gin.H{"nudge": res.Nudge.ID, "outcome": res.Record, "existing": res.Existing,
		"experiment": res.Nudge.Experiment, "arm": res.Nudge.Arm})
}
