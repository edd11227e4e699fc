package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/store"
)

// The werkplaats queue: callback tasks ("call this person").
//
//	GET  /v1/callbacks?status=open|claimed|done   (werkplaats, caseworker, admin)
//	GET  /v1/callbacks/{id}                        (werkplaats, caseworker, admin)
//	POST /v1/callbacks/{id}/claim                  (werkplaats, admin)
//	POST /v1/callbacks/{id}/complete               (werkplaats, admin)
//	POST /v1/callbacks/{id}/release                (werkplaats, admin)
//	POST /v1/callbacks/{id}/reschedule             (werkplaats, admin)
//
// Lists show a masked phone number; the full number is only in the claim
// response, to the person who will call.

// Problem codes of the werkplaats API (shared with the console).
const (
	CodeClaimed    = outreach.CodeCallbackClaimed
	CodeNotClaimed = outreach.CodeCallbackNotClaimed
	CodeDone       = outreach.CodeCallbackDone
	CodeBadMoment  = outreach.CodeCallbackMoment
)

type callbackView struct {
	store.Callback
	Status string `json:"status"` // effective: a lapsed claim is open
	Phone  string `json:"phone"`  // masked in lists, full only on claim
}

func (s *Server) viewCallback(c *gin.Context, cb store.Callback, full string) callbackView {
	v := callbackView{Callback: cb, Status: cb.EffectiveStatus(s.d.Service.Now())}
	if v.Status == store.CallbackOpen {
		v.ClaimedBy, v.ClaimedUntil = "", time.Time{}
	}
	if full != "" {
		v.Phone = full
		return v
	}
	if tag, ok := store.TagOf(cb.ID); ok {
		if rcp, err := s.d.Store.Recipient(c.Request.Context(), tag); err == nil {
			v.Phone = phone.Mask(rcp.Phone)
		}
	}
	return v
}

func (s *Server) callbackQueue(c *gin.Context) {
	status := c.DefaultQuery("status", store.CallbackOpen)
	switch status {
	case store.CallbackOpen, store.CallbackClaimed, store.CallbackDone:
	default:
		problem(c, http.StatusBadRequest, CodeInvalidField, "status must be open, claimed or done", "status")
		return
	}
	cbs, err := s.d.Store.CallbackQueue(c.Request.Context(), status, s.d.Service.Now(), 500)
	if err != nil {
		s.internal(c, err)
		return
	}
	out := make([]callbackView, 0, len(cbs))
	for _, cb := range cbs {
		out = append(out, s.viewCallback(c, cb, ""))
	}
	c.JSON(http.StatusOK, gin.H{"callbacks": out})
}

func (s *Server) getCallback(c *gin.Context) {
	cb, err := s.d.Store.Callback(c.Request.Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, CodeNotFound, "no callback task with this id", "")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	c.JSON(http.StatusOK, s.viewCallback(c, *cb, ""))
}

func (s *Server) claimCallback(c *gin.Context) {
	cb, full, err := s.d.Service.ClaimCallback(c.Request.Context(), c.Param("id"), Caller(c))
	if s.callbackError(c, cb, err) {
		return
	}
	c.JSON(http.StatusOK, s.viewCallback(c, *cb, full))
}

type completeRequest struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

func (s *Server) completeCallback(c *gin.Context) {
	var req completeRequest
	if !decodeJSON(c, &req) {
		return
	}
	if len(req.Note) > 2000 {
		problem(c, http.StatusUnprocessableEntity, CodeInvalidField, "note is longer than 2000 characters", "note")
		return
	}
	cb, err := s.d.Service.CompleteCallback(c.Request.Context(), c.Param("id"), Caller(c), strings.TrimSpace(req.Outcome), strings.TrimSpace(req.Note))
	if s.callbackError(c, cb, err) {
		return
	}
	c.JSON(http.StatusOK, s.viewCallback(c, *cb, ""))
}

// releaseCallback gives a task the caller holds back to the queue, as the
// console's "Teruggeven" does (same service call, same audit entry).
func (s *Server) releaseCallback(c *gin.Context) {
	cb, err := s.d.Service.ReleaseCallback(c.Request.Context(), c.Param("id"), Caller(c))
	if s.callbackError(c, cb, err) {
		return
	}
	c.JSON(http.StatusOK, s.viewCallback(c, *cb, ""))
}

type rescheduleRequest struct {
	At string `json:"at"` // RFC 3339, with an offset
}

// rescheduleCallback moves a task (held by the caller, or open) to
// another moment and puts it back in the queue, as the console's
// "Ander moment" does.
func (s *Server) rescheduleCallback(c *gin.Context) {
	var req rescheduleRequest
	if !decodeJSON(c, &req) {
		return
	}
	at, err := time.Parse(time.RFC3339, strings.TrimSpace(req.At))
	if err != nil {
		problem(c, http.StatusUnprocessableEntity, CodeInvalidField, "at must be a moment like 2026-12-03T10:00:00+01:00 (RFC 3339)", "at")
		return
	}
	cb, err := s.d.Service.RescheduleCallback(c.Request.Context(), c.Param("id"), Caller(c), at)
	if s.callbackError(c, cb, err) {
		return
	}
	c.JSON(http.StatusOK, s.viewCallback(c, *cb, ""))
}

// callbackError writes the problem for a werkplaats error; false when err is nil.
func (s *Server) callbackError(c *gin.Context, cb *store.Callback, err error) bool {
	if err == nil {
		return false
	}
	code, status := outreach.WerkplaatsProblem(err)
	detail, field := err.Error(), ""
	switch {
	case errors.Is(err, store.ErrNotFound):
		status, code, detail = http.StatusNotFound, CodeNotFound, "no callback task with this id"
	case errors.Is(err, outreach.ErrBadOutcome):
		status, code, field = http.StatusUnprocessableEntity, CodeInvalidField, "outcome"
	case code == CodeClaimed:
		detail = "someone else is working on this task"
		if cb != nil {
			detail = "claimed by " + cb.ClaimedBy + " until " + cb.ClaimedUntil.UTC().Format(time.RFC3339)
		}
	case code == CodeNotClaimed:
		detail = "claim the task first (POST /v1/callbacks/{id}/claim); your claim may have lapsed and been taken"
	case code == CodeDone:
		detail = "the task is already done"
	case code == CodeBadMoment:
		field = "at"
	case code == "":
		s.internal(c, err)
		return true
	}
	problem(c, status, code, detail, field)
	return true
}
