// Package outreach ties Seintje together: a case worker's trigger becomes a
// stored conversation and queued messages; a recipient's reply is stored,
// checked for keywords (STOP, HELP), routed through the pure engine and
// committed atomically; queued messages are sent through a channel.
package outreach

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/registry"
	"github.com/seintje/seintje/bot/store"
	"github.com/seintje/seintje/bot/texts"
)

// Flows gives the live flow by id and the exact version of a running one.
type Flows interface {
	Current(id string) (*flow.Flow, bool)
	Version(ctx context.Context, ref flow.Ref) (*flow.Flow, error)
}

// Queue schedules durable work (implemented with asynq in package jobs).
type Queue interface {
	// EnqueueSend queues message msgID of recipient tag, to go out at (or
	// right away when at is zero).
	EnqueueSend(ctx context.Context, tag, msgID string, at time.Time) error
	// EnqueueSendIndexed queues message msgID now and applies the index
	// entries ix (callback queue, inbox) before sending it.
	EnqueueSendIndexed(ctx context.Context, tag, msgID string, ix []store.IndexOp) error
	// EnqueueTimer fires Timeout(seq) for conversation cid at at.
	EnqueueTimer(ctx context.Context, tag, cid string, seq int, at time.Time) error
	// EnqueueTimerOf schedules a timer of a kind (reminder, expire).
	EnqueueTimerOf(ctx context.Context, tag, cid, kind string, seq, index int, at time.Time) error
}

// Service is safe for concurrent use; it holds only its dependencies.
type Service struct {
	Store   *store.Store
	Flows   Flows
	Engine  *engine.Engine
	Keyer   *phone.Keyer
	Senders map[channel.Name]channel.Sender
	Queue   Queue
	Now     func() time.Time
	Log     *slog.Logger
	// Pace blocks until the channel may send one more message.
	Pace func(ctx context.Context, ch channel.Name) error
	// Gate holds proactive messages to sending hours and the weekly limit
	// (gate.go); nil lets everything through.
	Gate *Gate
	// ClaimTTL is how long a werkplaats claim lasts (default 30 minutes).
	ClaimTTL time.Duration
	// Telegram makes the one-time links for flows that declare the
	// variable telegram_link (TelegramLinkVar); nil when Telegram is not
	// configured.
	Telegram *Telegram
	// WhatsApp configures the WhatsApp window, template retry and delivery
	// fallback (whatsapp.go).
	WhatsApp WhatsAppOptions
	// Audit records every action on a person's data (nil: no trail).
	Audit *audit.Log
	// Tally keeps the figures of batches (bot/batch); nil: no batches.
	Tally Tally
	// Events tells the case system what happens (bot/events); nil: no
	// events.
	Events Events
	// Observe counts sends, failures, delivery reports and replies for the
	// metrics; nil: not counted.
	Observe Observer
}

// audit records entries in the trail; see audit.Log.Record.
func (s *Service) audit(ctx context.Context, entries ...audit.Entry) error {
	return s.Audit.Record(ctx, entries...)
}

// TelegramLinkVar is the flow variable Seintje fills in itself: a flow
// that declares it gets a fresh one-time Telegram deep link for the
// recipient of each nudge (an SMS that invites the person to Telegram).
const TelegramLinkVar = "telegram_link"

// Errors the API maps to problem codes.
var (
	ErrUnknownFlow = registry.ErrUnknownFlow
	ErrOptedOut    = store.ErrOptedOut
)

// FieldError is an invalid request field (422).
type FieldError struct {
	Field   string
	Code    string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// TriggerRequest is a case worker's request for a nudge.
type TriggerRequest struct {
	Flow           string
	Ref            string
	Phone          string
	Name           string
	Lang           string
	Vars           map[string]any
	Caseworker     string
	TriggeredBy    string // API token name
	IdempotencyKey string
	// Channel asks for one channel ("sms", "telegram", "whatsapp"); empty:
	// the recipient's preferred channel.
	Channel string
	// WhatsAppOptIn records the person's WhatsApp opt-in given to the case
	// system (source and date) before the nudge is sent.
	WhatsAppOptIn *ConsentUpdate
	Batch         string // the batch this nudge belongs to, if any
}

// TriggerResult is the nudge created (or found again).
type TriggerResult struct {
	ID       string
	Status   string
	Existing bool // the same event had already created it
	// Arm is the person's arm when the flow runs an experiment.
	Arm string
	// HeldOut: the person is in the experiment's hold-out arm, so the
	// nudge ended at once without a message.
	HeldOut bool
	// Lang is the language the messages are written in: the requested one,
	// or Dutch when the flow does not have it (then Notes says so).
	Lang  string
	Notes []store.Note
}

// CodeLanguageFallback notes that the flow has no text in the requested
// language, so the recipient gets Dutch.
const CodeLanguageFallback = "language_fallback"

// languageNote is the note for a nudge whose flow lacks the requested
// language, or nil.
func languageNote(f *flow.Flow, requested, used string, now time.Time) *store.Note {
	if lang.Base(requested) == used {
		return nil
	}
	name := requested
	if n := lang.Name(requested); n != requested {
		name = n + " (" + requested + ")"
	}
	return &store.Note{At: now, Code: CodeLanguageFallback,
		Text: fmt.Sprintf("Flow %s has no texts in %s, so the messages are in Dutch. The flow has: %s.",
			f.ID, name, strings.Join(f.Languages(), ", "))}
}

// tagFor returns the recipient tag of an E.164 phone number.
func (s *Service) tagFor(e164 string) string { return s.Keyer.Hash("phone", e164) }

// Trigger validates a request and starts a nudge. Nothing is stored when it
// fails.
func (s *Service) Trigger(ctx context.Context, req TriggerRequest) (TriggerResult, error) {
	v, err := s.Validate(req)
	if err != nil {
		return TriggerResult{}, err
	}
	f, vars, e164 := v.Flow, v.Vars, v.E164
	wantsLink := f.Var(TelegramLinkVar) != nil
	now := s.Now()
	tag := v.Tag
	rcp := recipientOf(v, req)
	ch, err := s.triggerChannel(ctx, tag, req, now)
	if err != nil {
		return TriggerResult{}, err
	}
	created := false // a new nudge was stored
	if wantsLink {
		// The token is stored before the nudge, so the message never
		// carries a link that does not work; it is given back unless this
		// trigger stores a new nudge (not on errors, opt-out or a repeated
		// event, whose nudge has its own link).
		link, token, err := s.Telegram.reserveLink(ctx, tag)
		if err != nil {
			return TriggerResult{}, err
		}
		defer func() {
			if !created {
				s.Telegram.releaseLink(ctx, token)
			}
		}()
		vars[TelegramLinkVar] = link.URL
	}

	arm, err := s.armFor(ctx, f, tag, req.Ref) // experiments.go; "" when the flow runs none
	if err != nil {
		return TriggerResult{}, err
	}
	for attempt := 0; attempt < 4; attempt++ {
		it, err := s.newNudge(v, req, rcp, ch, arm, now)
		if err != nil {
			return TriggerResult{}, err
		}
		n, ob, w, cid := it.Nudge, it.Outbox, it.Work, it.Nudge.ID
		// The case reference is indexed in the same round trip.
		cr, err := s.Store.CreateIndexed(ctx, it.Recipient, n, it.Messages, ob, w, it.RefHash)
		if errors.Is(err, store.ErrOptedOut) {
			return TriggerResult{}, ErrOptedOut
		}
		if err != nil {
			return TriggerResult{}, err
		}
		switch {
		case cr.Existing != "":
			st, prevArm, heldOut := "unknown", arm, false
			if prev, err := s.Store.Nudge(ctx, cr.Existing); err == nil {
				st, prevArm, heldOut = string(prev.Status), prev.Arm, prev.Outcome == engine.OutcomeHeldOut
			}
			// A retry after a failed enrolment finds the same event: enrol now.
			if err := s.enroll(ctx, f, tag, prevArm, cr.Existing, now); err != nil {
				return TriggerResult{}, err
			}
			// The same event again: if its messages or timers were never
			// queued (a crash right after it was stored), queue them now.
			if err := s.requeue(ctx, tag, cr.Existing); err != nil {
				return TriggerResult{}, err
			}
			if err := s.audit(ctx, audit.Entry{Action: audit.ActionTrigger, Nudge: cr.Existing, Subject: tag, Channel: string(ch),
				Detail: f.ID + " (same event: existing nudge)"}); err != nil {
				return TriggerResult{}, err
			}
			return TriggerResult{ID: cr.Existing, Status: st, Existing: true, Arm: prevArm, HeldOut: heldOut}, nil
		case cr.Active != "":
			// A new event for a flow that is still waiting: the new nudge
			// replaces the old one (one active conversation per flow).
			if err := s.supersede(ctx, cr.Active, now); err != nil {
				return TriggerResult{}, err
			}
			continue
		}
		created = true
		s.Log.InfoContext(ctx, "nudge created", "nudge", cid, "flow", f.Ref().String(), "by", req.TriggeredBy, "to", phone.Mask(e164))
		if wantsLink {
			s.logLinkCreated(ctx, tag, f.ID, req.TriggeredBy, now)
		}
		// The work is queued while the trail is written (two round trips
		// at once): both come after the nudge and its work are stored, and
		// a failed queueing stays in the outbox for the recovery pass.
		queued := make(chan struct{})
		go func() {
			defer close(queued)
			s.queueCommitted(ctx, ob, w)
		}()
		err = s.enroll(ctx, f, tag, arm, cid, now)
		if err == nil {
			// A failed trail write answers an error, and the caller's
			// retry finds the same event again and records it then.
			err = s.audit(ctx, audit.Entry{Action: audit.ActionTrigger, Nudge: cid, Subject: tag, Channel: string(ch),
				Detail: f.Ref().String()})
		}
		<-queued
		if err != nil {
			return TriggerResult{}, err
		}
		return TriggerResult{ID: cid, Status: string(n.Status), Lang: n.Lang, Notes: n.Notes, Arm: arm,
			HeldOut: n.Outcome == engine.OutcomeHeldOut}, nil
	}
	return TriggerResult{}, fmt.Errorf("trigger: %w", store.ErrConflict)
}

// recipientOf is the recipient record a valid request stores. The
// recipient keeps the language asked for (Seintje's own texts, such as the
// STOP confirmation, may have it); the conversation gets the flow's
// language (engine.Start).
func recipientOf(v Valid, req TriggerRequest) store.Recipient {
	return store.Recipient{Tag: v.Tag, Phone: v.E164, Ref: req.Ref, Name: req.Name, Lang: v.Lang}
}

// newNudge starts the flow for a valid request on channel ch and returns
// what creating the nudge stores: the nudge, its first messages and the
// work it queues.
func (s *Service) newNudge(v Valid, req TriggerRequest, rcp store.Recipient, ch channel.Name, arm string, now time.Time) (store.CreateItem, error) {
	f := v.Flow
	cid := store.NewScopedID(v.Tag, now)
	conv := engine.Conversation{ID: cid, Lang: v.Lang, FirstName: rcp.FirstName(), Caseworker: req.Caseworker, Vars: v.Vars, Arm: arm}
	res, err := s.Engine.Start(f, conv, now)
	if err != nil {
		return store.CreateItem{}, fmt.Errorf("start flow %s: %w", f.ID, err)
	}
	n := &store.Nudge{Conversation: res.Conv, Tag: v.Tag, Ref: req.Ref, Name: req.Name, Channel: string(ch),
		TriggeredBy: req.TriggeredBy, EventKey: v.Event, Batch: req.Batch}
	if note := languageNote(f, v.Lang, res.Conv.Lang, now); note != nil {
		n.Notes = append(n.Notes, *note)
	}
	msgs, cbs := s.effects(n, res.Effects, nil, now)
	for i := range msgs {
		msgs[i].Batch = req.Batch // the first messages count in the batch's figures
	}
	if len(cbs) > 0 {
		return store.CreateItem{}, fmt.Errorf("flow %s requests a callback in its first step; not supported at start", f.ID)
	}
	it := store.CreateItem{Recipient: rcp, Nudge: n, Messages: msgs, Outbox: store.NewOutbox(v.Tag, now), Work: s.workOf(n, res.Effects, msgs)}
	if req.Ref != "" {
		it.RefHash = s.refHash(req.Ref)
	}
	return it, nil
}

// eventKey identifies "the same event": the Idempotency-Key when given,
// else the flow and its variables.
func eventKey(flowID string, vars map[string]string, idem string) string {
	h := sha256.New()
	if idem != "" {
		h.Write([]byte("idem\x00" + idem))
	} else {
		keys := make([]string, 0, len(vars))
		for k := range vars {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		h.Write([]byte("flow\x00" + flowID))
		for _, k := range keys {
			h.Write([]byte("\x00" + k + "=" + vars[k]))
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// supersede ends a waiting nudge because a newer one of the same flow starts.
func (s *Service) supersede(ctx context.Context, id string, now time.Time) error {
	return s.endNudge(ctx, id, "superseded", "superseded", "a newer nudge of the same flow replaced this one", now)
}

// endNudge ends a waiting nudge with outcome and a note for the case
// worker, and counts it for its batch.
func (s *Service) endNudge(ctx context.Context, id, outcome, code, text string, now time.Time) error {
	var ended *store.Nudge
	err := s.updateNudge(ctx, id, func(n *store.Nudge) bool {
		if n.Status != engine.Waiting {
			return false
		}
		n.Status = engine.Ended
		n.Outcome = outcome
		n.UpdatedAt = now
		n.Deadline = time.Time{}
		n.Notes = append(n.Notes, store.Note{At: now, Code: code, Text: text})
		ended = n
		return true
	})
	if err != nil || ended == nil {
		return err
	}
	return s.tallyNudge(ctx, ended, ConvEvent{At: now}, nil)
}

// updateNudge loads nudge id, lets change edit it (false: nothing to do)
// and commits it, reloading on a concurrent change. A nudge that is gone
// (expired, erased) is not an error.
func (s *Service) updateNudge(ctx context.Context, id string, change func(n *store.Nudge) bool) error {
	for attempt := 0; attempt < 5; attempt++ {
		n, err := s.Store.Nudge(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		prev := *n
		if !change(n) {
			return nil
		}
		evs := s.nudgeEvents(&prev, n, nil, false)
		if len(evs) == 0 {
			err = s.Store.Commit(ctx, n, nil, nil)
		} else {
			ob := store.NewOutbox(n.Tag, s.Now())
			w := &store.Work{Conv: n.ID, Events: evs}
			if err = s.Store.CommitWork(ctx, n, nil, nil, ob, w, ""); err == nil {
				s.queueCommitted(ctx, ob, w)
			}
		}
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return err
	}
	return store.ErrConflict
}

// effects turns engine effects into messages to store and callbacks to
// create. in is the inbound message that caused the transition, if any.
func (s *Service) effects(n *store.Nudge, effs []engine.Effect, in *store.Message, now time.Time) ([]store.Message, []store.Callback) {
	var msgs []store.Message
	var cbs []store.Callback
	if in != nil {
		msgs = append(msgs, *in)
	}
	for _, e := range effs {
		switch e := e.(type) {
		case engine.Send:
			m := store.Message{ID: store.NewID(now), Tag: n.Tag, Conv: n.ID, Dir: "out", Channel: n.Channel, At: now,
				Body: e.Text, Kind: e.Kind, Step: e.Step, Proactive: e.Proactive}
			for _, b := range e.Buttons {
				m.Buttons = append(m.Buttons, store.Button{Label: b.Label, Reply: b.Reply})
			}
			msgs = append(msgs, m)
		case engine.Callback:
			cbs = append(cbs, s.newCallback(n, e, now))
		}
	}
	return msgs, cbs
}

// workOf lists the work a committed transition queues: its outgoing
// messages, its timers, and forwarded replies for the case workers' inbox
// (callback queue entries are added by store.CommitWork).
func (s *Service) workOf(n *store.Nudge, effs []engine.Effect, msgs []store.Message) *store.Work {
	w := &store.Work{Conv: n.ID}
	for _, e := range effs {
		switch e := e.(type) {
		case engine.Forward:
			for _, m := range msgs {
				if m.Dir == "in" {
					w.Ix = append(w.Ix, store.InboxIndexOp(n.Tag, m.ID, m.At))
				}
			}
		case engine.Timer:
			w.Timers = append(w.Timers, store.TimerWork{Kind: e.Kind, Seq: e.Seq, Index: e.Index, At: e.At})
		}
	}
	for _, m := range msgs {
		if m.Dir == "out" {
			w.Sends = append(w.Sends, m.ID)
		}
	}
	return w
}

// queueWork queues the work of outbox entry ob and then removes the entry.
// Queueing is idempotent (task ids come from message and timer ids), so
// running it again after a crash half-way is harmless. The index entries
// ride on the first send task when there is one (one round trip fewer).
func (s *Service) queueWork(ctx context.Context, ob store.Outbox, w *store.Work) error {
	if err := s.enqueueWork(ctx, ob, w); err != nil {
		return err
	}
	return s.Store.OutboxDone(ctx, ob)
}

// enqueueWork queues the work of outbox entry ob (see queueWork).
func (s *Service) enqueueWork(ctx context.Context, ob store.Outbox, w *store.Work) error {
	if !w.Empty() {
		var errs []error
		ix, sends := w.Ix, w.Sends
		if g, ok := s.Queue.(sendGrouper); ok && w.Group != "" && len(sends) > 0 {
			// Queued with other nudges' messages (queueAll): what the
			// group's task carries while it lives, it sends, with the
			// index entries that travel with the first message.
			has, err := g.GroupHas(ctx, w.Group, sends)
			if err != nil {
				return fmt.Errorf("queue work: %w", err)
			}
			if has[0] {
				ix = nil
			}
			sends = nil
			for i, id := range w.Sends {
				if !has[i] {
					sends = append(sends, id)
				}
			}
		}
		for _, id := range sends {
			if len(ix) > 0 {
				errs = append(errs, s.Queue.EnqueueSendIndexed(ctx, ob.Tag, id, ix))
				ix = nil
				continue
			}
			errs = append(errs, s.Queue.EnqueueSend(ctx, ob.Tag, id, time.Time{}))
		}
		if len(ix) > 0 {
			errs = append(errs, s.Store.ApplyIndex(ctx, ix))
		}
		errs = append(errs, s.enqueueTimers(ctx, ob.Tag, w))
		if len(w.Events) > 0 && s.Events != nil {
			errs = append(errs, s.Events.Enqueue(ctx, w.Events))
		}
		if w.Status != nil {
			errs = append(errs, s.statusFollowUp(ctx, ob.Tag, *w.Status))
		}
		if w.Link != nil {
			errs = append(errs, s.Store.FinishLink(ctx, ob.Tag, *w.Link))
		}
		if len(w.Audit) > 0 {
			errs = append(errs, s.audit(ctx, w.Audit...))
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("queue work: %w", err)
		}
	}
	return nil
}

// timerBatcher is a Queue that schedules the timers of one change in one
// round trip (jobs.Queue with the store's timer sets).
type timerBatcher interface {
	EnqueueTimers(ctx context.Context, tag, cid string, ts []store.TimerWork) error
}

// enqueueTimers schedules the timers of w, unless the change wrote them
// itself (store.Work.TimersWritten).
func (s *Service) enqueueTimers(ctx context.Context, tag string, w *store.Work) error {
	if len(w.Timers) == 0 || w.TimersWritten {
		return nil
	}
	if b, ok := s.Queue.(timerBatcher); ok {
		return b.EnqueueTimers(ctx, tag, w.Conv, w.Timers)
	}
	var errs []error
	for _, t := range w.Timers {
		errs = append(errs, s.Queue.EnqueueTimerOf(ctx, tag, w.Conv, t.Kind, t.Seq, t.Index, t.At))
	}
	return errors.Join(errs...)
}

// queueCommitted queues the work of a change that is already committed.
// A failure is logged, not returned: the work is durable in the outbox and
// the recovery pass (Recover) queues it. The outbox entry is removed
// without a round trip of its own (store.OutboxDoneSoon).
func (s *Service) queueCommitted(ctx context.Context, ob store.Outbox, w *store.Work) {
	if err := s.enqueueWork(ctx, ob, w); err != nil {
		s.Log.WarnContext(ctx, "work stays in the outbox for the recovery pass", "outbox", ob.ID, "err", err)
		return
	}
	s.Store.OutboxDoneSoon(ob)
}

// requeue queues any outbox entry of conversation cid that was never
// queued.
func (s *Service) requeue(ctx context.Context, tag, cid string) error {
	entries, err := s.Store.OutboxOf(ctx, tag, cid)
	if err != nil {
		return err
	}
	for ob, w := range entries {
		s.Log.InfoContext(ctx, "queueing stranded work", "nudge", cid, "outbox", ob.ID)
		if err := s.queueWork(ctx, ob, &w); err != nil {
			return err
		}
	}
	return nil
}

// ApplyIndex writes index entries carried by a send task (jobs.Handler).
func (s *Service) ApplyIndex(ctx context.Context, ops []store.IndexOp) error {
	return s.Store.ApplyIndex(ctx, ops)
}

// systemData is the template data for system texts.
func (s *Service) systemData(lang, caseworker string) flow.Data {
	return engine.Data(s.Engine.Contact, nil, engine.Conversation{Lang: lang, Caseworker: caseworker}, s.Engine.Location)
}

// system renders a system text, falling back to the key name on error
// (a shipped text always renders; tests guard that).
func (s *Service) system(k texts.Key, lang, caseworker string) string {
	out, err := s.Engine.Texts.Render(k, lang, s.systemData(lang, caseworker))
	if err != nil {
		s.Log.Error("render system text", "key", string(k), "err", err)
		return string(k)
	}
	return out
}
