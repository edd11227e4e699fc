package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/store"
)

type nudgeRequest struct {
	Flow      string `json:"flow"`
	Recipient struct {
		Ref      string `json:"ref"`
		Phone    string `json:"phone"`
		Name     string `json:"name"`
		Language string `json:"language"`
		// WhatsAppOptIn records the opt-in the person gave the case system.
		WhatsAppOptIn *optInRequest `json:"whatsapp_opt_in"`
	} `json:"recipient"`
	// Channel asks for one channel; empty: the recipient's preferred one.
	Channel    string         `json:"channel"`
	Vars       map[string]any `json:"vars"`
	Caseworker struct {
		Name string `json:"name"`
	} `json:"caseworker"`
}

func (s *Server) createNudge(c *gin.Context) {
	var req nudgeRequest
	if !decodeJSON(c, &req) {
		return
	}
	field := func(f, msg string) { problem(c, http.StatusUnprocessableEntity, CodeInvalidField, msg, f) }
	switch {
	case strings.TrimSpace(req.Flow) == "":
		field("flow", "flow is required, e.g. \"no-show\"")
		return
	case strings.TrimSpace(req.Recipient.Ref) == "":
		field("recipient.ref", "recipient.ref is required: the case system's reference for this person")
		return
	case len(req.Recipient.Ref) > 64:
		field("recipient.ref", "recipient.ref is longer than 64 characters")
		return
	case strings.TrimSpace(req.Recipient.Phone) == "":
		field("recipient.phone", "recipient.phone is required, e.g. 06 12345678 or +31612345678")
		return
	case strings.TrimSpace(req.Recipient.Name) == "":
		field("recipient.name", "recipient.name is required: the first name is used in the message")
		return
	case len(req.Recipient.Name) > 100:
		field("recipient.name", "recipient.name is longer than 100 characters")
		return
	case strings.TrimSpace(req.Caseworker.Name) == "":
		field("caseworker.name", "caseworker.name is required: messages are signed with it")
		return
	case len(req.Caseworker.Name) > 100:
		field("caseworker.name", "caseworker.name is longer than 100 characters")
		return
	}
	// Any well-formed language code is taken; a flow without that
	// language sends Dutch and says so in a note on the nudge.
	language := lang.Canon(req.Recipient.Language)
	if language != "" && !lang.Valid(language) {
		field("recipient.language", "recipient.language must be a language code such as nl, en, tr, pl, uk or ar (ISO 639, optionally with a region: ar-MA)")
		return
	}
	idem := c.GetHeader("Idempotency-Key")
	if len(idem) > 200 {
		problem(c, http.StatusBadRequest, CodeMalformed, "Idempotency-Key is longer than 200 characters", "Idempotency-Key")
		return
	}
	res, err := s.d.Service.Trigger(c.Request.Context(), outreach.TriggerRequest{
		Flow: req.Flow, Ref: req.Recipient.Ref, Phone: req.Recipient.Phone, Name: strings.TrimSpace(req.Recipient.Name), Lang: language,
		Vars: req.Vars, Caseworker: strings.TrimSpace(req.Caseworker.Name), TriggeredBy: Caller(c), IdempotencyKey: idem,
		Channel: req.Channel, WhatsAppOptIn: req.Recipient.WhatsAppOptIn.update(),
	})
	var fe *outreach.FieldError
	switch {
	case err == nil && res.Existing:
		s.d.Metrics.Nudge(req.Flow, "existing")
	case err == nil:
		s.d.Metrics.Nudge(req.Flow, "created")
	case errors.As(err, &fe):
		s.d.Metrics.Nudge("(invalid)", "invalid")
	case errors.Is(err, outreach.ErrOptedOut):
		s.d.Metrics.Nudge(req.Flow, "opted_out")
	}
	switch {
	case errors.As(err, &fe):
		code := CodeInvalidField
		switch fe.Code {
		case "unknown_flow":
			code = CodeUnknownFlow
		case "invalid_var":
			code = CodeInvalidVar
		case "invalid_phone":
			code = CodeInvalidPhone
		case "not_mobile":
			code = CodeNotMobile
		case "telegram_not_configured":
			code = CodeTelegramOff
		case "whatsapp_not_configured":
			code = CodeWhatsAppOff
		}
		problem(c, http.StatusUnprocessableEntity, code, fe.Message, fe.Field)
		return
	case errors.Is(err, outreach.ErrOptedOut):
		problem(c, http.StatusConflict, CodeOptedOut, "the recipient opted out (STOP) on this channel; nothing was sent", "")
		return
	case errors.Is(err, outreach.ErrNoOptIn):
		problem(c, http.StatusConflict, CodeNoOptIn, "the recipient has no recorded WhatsApp opt-in; nothing was sent. Record it with recipient.whatsapp_opt_in or PUT /v1/recipients/{ref}/channels", "channel")
		return
	case errors.Is(err, outreach.ErrNotLinked):
		problem(c, http.StatusConflict, CodeNotLinked, "the recipient has not linked Telegram; nothing was sent", "channel")
		return
	case err != nil:
		s.internal(c, err)
		return
	}
	c.Header("Location", "/v1/nudges/"+res.ID)
	body := gin.H{"id": res.ID, "status": res.Status, "existing": res.Existing}
	if res.Lang != "" {
		body["language"] = res.Lang
	}
	if len(res.Notes) > 0 {
		body["notes"] = res.Notes
	}
	if res.Arm != "" {
		body["arm"] = res.Arm
	}
	c.JSON(http.StatusAccepted, body)
}

type messageView struct {
	ID         string     `json:"id"`
	Direction  string     `json:"direction"`
	Channel    string     `json:"channel"`
	At         time.Time  `json:"at"`
	Body       string     `json:"body"`
	Kind       string     `json:"kind"`
	Step       string     `json:"step,omitempty"`
	Proactive  bool       `json:"proactive,omitempty"`
	Route      string     `json:"route,omitempty"`
	Status     string     `json:"status,omitempty"`
	StatusAt   *time.Time `json:"status_at,omitempty"`
	ErrorCode  int        `json:"error_code,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	ProviderID string     `json:"provider_id,omitempty"`
}

func viewMessage(m store.Message) messageView {
	v := messageView{ID: m.ID, Direction: m.Dir, Channel: m.Channel, At: m.At, Body: m.Body, Kind: m.Kind, Step: m.Step,
		Proactive: m.Proactive, Route: m.Route, ProviderID: m.ProviderID}
	if m.Dir == "out" {
		v.Status = "pending"
	}
	if m.Status != nil {
		v.Status, v.ErrorCode, v.Reason = m.Status.State, m.Status.Code, m.Status.Reason
		at := m.Status.At
		v.StatusAt = &at
	}
	if m.Dir == "in" {
		v.Status = "received"
	}
	return v
}

func (s *Server) getNudge(c *gin.Context) {
	ctx := c.Request.Context()
	n, err := s.d.Store.Nudge(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		problem(c, http.StatusNotFound, CodeNotFound, "no nudge with this id (it may have expired after the retention period)", "")
		return
	}
	if err != nil {
		s.internal(c, err)
		return
	}
	msgs, err := s.d.Store.Transcript(ctx, n.Tag, n.ID)
	if err != nil {
		s.internal(c, err)
		return
	}
	rcp, err := s.d.Store.Recipient(ctx, n.Tag)
	if err != nil {
		s.internal(c, err)
		return
	}
	views := make([]messageView, 0, len(msgs))
	for _, m := range msgs {
		views = append(views, viewMessage(m))
	}
	var cbs []store.Callback
	for _, id := range n.CallbackIDs {
		cb, err := s.d.Store.Callback(ctx, id)
		if err == nil {
			cbs = append(cbs, *cb)
		}
	}
	out := gin.H{
		"id":           n.ID,
		"flow":         n.Flow.ID,
		"flow_version": n.Flow.Version,
		"flow_digest":  n.Flow.Digest,
		"state":        n.Status,
		"step":         n.Step,
		"outcome":      n.Outcome,
		"recipient": gin.H{"ref": n.Ref, "name": n.Name, "phone": phone.Mask(rcp.Phone), "language": n.Lang,
			"opted_out": rcp.OptedOut(n.Channel)},
		"caseworker":   gin.H{"name": n.Caseworker},
		"triggered_by": n.TriggeredBy,
		"channel":      n.Channel,
		"vars":         n.Vars,
		"created_at":   n.StartedAt,
		"updated_at":   n.UpdatedAt,
		"messages":     views,
		"callbacks":    cbs,
		"notes":        n.Notes,
	}
	if len(cbs) > 0 {
		out["callback"] = cbs[len(cbs)-1]
	}
	if n.Experiment != "" {
		out["experiment"], out["arm"] = n.Experiment, n.Arm
	}
	outcomes, err := s.d.Store.Outcomes(ctx, n.Tag, n.ID)
	if err != nil {
		s.internal(c, err)
		return
	}
	out["outcomes"] = outcomes
	if !n.Deadline.IsZero() {
		out["wait_until"] = n.Deadline
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) inbox(c *gin.Context) {
	items, err := s.d.Store.InboxItems(c.Request.Context(), 200)
	if err != nil {
		s.internal(c, err)
		return
	}
	type item struct {
		messageView
		InboxID   string     `json:"inbox_id"` // for POST /v1/inbox/{inbox_id}/handled
		Handled   bool       `json:"handled"`
		HandledBy string     `json:"handled_by,omitempty"`
		HandledAt *time.Time `json:"handled_at,omitempty"`
		Nudge     string     `json:"nudge,omitempty"`
		Ref       string     `json:"ref,omitempty"`
		Name      string     `json:"name,omitempty"`
	}
	unhandled := c.Query("handled") == "false"
	out := make([]item, 0, len(items))
	for _, in := range items {
		if unhandled && in.Handled() {
			continue
		}
		m := in.Message
		it := item{messageView: viewMessage(m), Nudge: m.Conv, InboxID: in.ID, Handled: in.Handled(), HandledBy: in.HandledBy}
		if in.Handled() {
			at := in.HandledAt
			it.HandledAt = &at
		}
		if rcp, err := s.d.Store.Recipient(c.Request.Context(), m.Tag); err == nil {
			it.Ref, it.Name = rcp.Ref, rcp.Name
		}
		out = append(out, it)
	}
	// Suggestions for the case worker (consider a home visit) are listed
	// beside the messages: the inbox is where case workers look for what
	// needs them, and clients that only read "messages" are unaffected.
	sug, err := s.d.Service.Suggestions(c.Request.Context(), 200)
	if err != nil {
		s.internal(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"messages": out, "suggestions": sug})
}

func (s *Server) listFlows(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"flows": s.d.Registry.List()})
}
