package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/twilio"
	"github.com/seintje/seintje/bot/outreach"
)

// twilioSMS receives an inbound SMS. The signature is checked against the
// public URL Twilio called; a forged request gets 403 and changes nothing.
// The message is stored durably before we answer (in Redis, deduplicated
// by MessageSid, or in the local spool when Redis does not answer within
// the intake's deadline), and the answer is empty TwiML: replies go out
// through the queue.
func (s *Server) twilioSMS(c *gin.Context) {
	form, err := s.d.Twilio.Validate(c.Request, s.d.PublicURL+"/webhooks/twilio/sms")
	if err != nil {
		s.d.Metrics.Rejected("sms")
		problem(c, http.StatusForbidden, CodeForbidden, "the X-Twilio-Signature does not match", "")
		return
	}
	in, err := twilio.ParseInbound(form, s.d.Service.Now())
	if err != nil {
		problem(c, http.StatusBadRequest, CodeMalformed, err.Error(), "")
		return
	}
	s.d.Metrics.Inbound(string(in.Channel))
	if !accept(c, s.d.Intake, func(ctx context.Context) error { return s.d.Service.HandleInbound(ctx, in) }, RecordSMS, in) {
		return
	}
	c.Data(http.StatusOK, "text/xml; charset=utf-8", []byte(twilio.EmptyTwiML))
}

// twilioStatus receives a delivery status callback.
func (s *Server) twilioStatus(c *gin.Context) {
	form, err := s.d.Twilio.Validate(c.Request, s.d.PublicURL+"/webhooks/twilio/status")
	if err != nil {
		s.d.Metrics.Rejected("status")
		problem(c, http.StatusForbidden, CodeForbidden, "the X-Twilio-Signature does not match", "")
		return
	}
	u, err := twilio.ParseStatus(form)
	if err != nil {
		problem(c, http.StatusBadRequest, CodeMalformed, err.Error(), "")
		return
	}
	st := statusRecord{Update: outreach.StatusUpdate{Channel: u.Channel, ProviderID: u.MessageSid,
		To: u.To, State: u.Status, Code: u.ErrorCode, Reason: u.Reason}, OptOut: twilio.IsOptOutCode(u.ErrorCode)}
	if !accept(c, s.d.Intake, func(ctx context.Context) error { return s.d.Service.HandleStatus(ctx, st.Update, st.OptOut) }, RecordStatus, st) {
		return
	}
	c.Status(http.StatusNoContent)
}

// consoleReply lets the demo answer as a recipient:
// seintje reply +31612345678 2
func (s *Server) consoleReply(c *gin.Context) {
	var req struct {
		From string `json:"from"`
		Body string `json:"body"`
		ID   string `json:"id"`
	}
	if !decodeJSON(c, &req) {
		return
	}
	if strings.TrimSpace(req.From) == "" {
		problem(c, http.StatusUnprocessableEntity, CodeInvalidField, "from is required", "from")
		return
	}
	if req.ID == "" {
		req.ID = "console-" + s.d.Service.Now().Format("20060102T150405.000000000")
	}
	err := s.d.Service.HandleInbound(c.Request.Context(), channel.Inbound{Channel: channel.SMS, ProviderID: req.ID,
		From: req.From, Body: req.Body, ReceivedAt: s.d.Service.Now()})
	if err != nil {
		s.internal(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "received"})
}
