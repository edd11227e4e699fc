// Package events tells a case system what happens to nudges: signed
// CloudEvents 1.0 (structured JSON) posted to each configured subscriber,
// retried with exponential backoff for 24 hours, then kept in a
// dead-letter list an admin can replay (see docs/events.md).
//
// An event never holds a phone number or a message body: the nudge id, the
// case reference, the flow and a status. Events are born in the outbox
// entry of the change that caused them (store.Work.Events, written by the
// same Lua script), so a crash between the change and the delivery task
// loses nothing: the recovery pass queues them.
package events

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/store"
)

// TypePrefix is put before every event type in the CloudEvent.
const TypePrefix = "nl.seintje."

// Event types (without TypePrefix), as subscribers list them.
const (
	MessageSent       = "message.sent"             // handed to the provider
	MessageDelivered  = "message.delivered"        // the provider reports it delivered
	MessageRead       = "message.read"             // read (WhatsApp, when the provider reports it)
	MessageFailed     = "message.failed"           // failed, undelivered, refused or suppressed (opted out)
	NudgeReplied      = "nudge.replied"            // the person replied in the conversation
	CallbackRequested = "nudge.callback_requested" // the person asked to be called
	NudgeEnded        = "nudge.ended"              // the conversation ended (status: the outcome)
	OptedOut          = "recipient.opted_out"      // the person sent STOP
	CallbackOutcome   = "callback.outcome"         // the werkplaats recorded a call's outcome
	BatchDone         = "batch.done"               // every valid row of a batch was handed over
)

// Types lists every event type, in documentation order.
func Types() []string {
	return []string{MessageSent, MessageDelivered, MessageRead, MessageFailed, NudgeReplied, CallbackRequested, CallbackOutcome,
		NudgeEnded, OptedOut, BatchDone}
}

// Known reports whether t is an event type (with or without TypePrefix).
func Known(t string) bool { return slices.Contains(Types(), strings.TrimPrefix(t, TypePrefix)) }

// TypeOfStatus is the event type of a message status ("" for statuses
// that are not told: pending, deferred, held on standby).
func TypeOfStatus(state string) string {
	switch state {
	case "accepted", "queued", "sending", "sent":
		return MessageSent
	case "delivered":
		return MessageDelivered
	case "read":
		return MessageRead
	case "failed", "undelivered", "canceled", "suppressed", "error":
		return MessageFailed
	}
	return ""
}

// CloudEvent is a CloudEvents 1.0 event in structured JSON mode.
type CloudEvent struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject,omitempty"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	Data            Data      `json:"data"`
}

// Data is the payload of every event. Only the fields that apply are set.
type Data struct {
	Nudge    string `json:"nudge,omitempty"`    // the nudge (conversation) id
	Ref      string `json:"ref,omitempty"`      // the case reference the case system gave
	Flow     string `json:"flow,omitempty"`     // flow id
	Status   string `json:"status,omitempty"`   // message status, or the nudge's outcome
	Message  string `json:"message,omitempty"`  // message id (message.* events)
	Channel  string `json:"channel,omitempty"`  // sms, telegram, whatsapp
	Code     int    `json:"code,omitempty"`     // provider error code (message.failed)
	Callback string `json:"callback,omitempty"` // werkplaats task id (nudge.callback_requested)
	Batch    string `json:"batch,omitempty"`    // batch id (batch.done)
}

// ContentType is the media type of a structured CloudEvent.
const ContentType = "application/cloudevents+json; charset=utf-8"

// Build turns a case event into a CloudEvent. ev.Type must be set.
func Build(source string, ev store.CaseEvent) CloudEvent {
	subject := ev.Nudge
	if subject == "" {
		subject = ev.Batch
	}
	return CloudEvent{SpecVersion: "1.0", ID: ev.ID, Source: source, Type: TypePrefix + ev.Type, Subject: subject,
		Time: ev.At.UTC(), DataContentType: "application/json",
		Data: Data{Nudge: ev.Nudge, Ref: ev.Ref, Flow: ev.Flow, Status: ev.State, Message: ev.Msg, Channel: ev.Channel,
			Code: ev.Code, Callback: ev.Callback, Batch: ev.Batch}}
}

// Encode returns the JSON body of e.
func (e CloudEvent) Encode() ([]byte, error) { return json.Marshal(e) }
