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
//
// Lists show a masked phone number; the full number is only in the claim
// response, to the person who will call.

// Problem codes of the werkplaats API.
const (
	CodeClaimed    = "callback_claimed"
	CodeNotClaimed = "callback_not_claimed"
	CodeDone       = "callback_done"
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

// callbackError writes the problem for a werkplaats error; false when err is nil.
func (s *Server) callbackError(c *gin.Context, cb *store.Callback, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		problem(c, http.StatusNotFound, CodeNotFound, "no callback task with this id", "")
	case errors.Is(err, outreach.ErrClaimed):
		msg := "someone else is working on this task"
		if cb != nil {
			msg = "claimed by " + cb.ClaimedBy + " until " + cb.ClaimedUntil.UTC().Format(time.RFC3339)
		}
		problem(c, http.StatusConflict, CodeClaimed, msg, "")
	case errors.Is(err, outreach.ErrNotClaimed):
		problem(c, http.StatusConflict, CodeNotClaimed, "claim the task first (POST /v1/callbacks/{id}/claim); your claim may have lapsed and been taken", "")
	case errors.Is(err, outreach.ErrTaskDone):
		problem(c, http.StatusConflict, CodeDone, "the task is already done", "")
	case errors.Is(err, outreach.ErrBadOutcome):
		problem(c, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "outcome")
	default:
		s.internal(c, err)
	}
	return true
}
