package outreach

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/store"
)

// Call outcomes the werkplaats records.
const (
	OutcomeReached     = "reached"
	OutcomeNoAnswer    = "no_answer"
	OutcomeVoicemail   = "voicemail"
	OutcomeWrongNumber = "wrong_number"
)

// DefaultClaimTTL is how long a claim lasts when Service.ClaimTTL is zero.
const DefaultClaimTTL = 30 * time.Minute

// Werkplaats errors.
var (
	ErrClaimed    = errors.New("the task is claimed by someone else")
	ErrNotClaimed = errors.New("claim the task before completing it")
	ErrTaskDone   = errors.New("the task is done")
	ErrBadOutcome = errors.New("outcome must be reached, no_answer, voicemail or wrong_number")
)

// ClaimCallback lets one werkplaats member work a task. It returns the task
// and the recipient's full phone number (only ever shown to the claimer;
// the view is on the audit trail with the claim). Claiming a task you
// already hold extends the claim.
func (s *Service) ClaimCallback(ctx context.Context, id, by string) (*store.Callback, string, error) {
	return s.claimCallback(ctx, id, by, true)
}

// ClaimCallbackOnly claims a task as ClaimCallback does but without the
// number: for the console, whose task page shows the number next and
// records that view itself (ViewPhone). One Redis round trip and one
// audit entry fewer, and the trail holds one view per view.
func (s *Service) ClaimCallbackOnly(ctx context.Context, id, by string) (*store.Callback, error) {
	cb, _, err := s.claimCallback(ctx, id, by, false)
	return cb, err
}

func (s *Service) claimCallback(ctx context.Context, id, by string, withNumber bool) (*store.Callback, string, error) {
	ttl := s.ClaimTTL
	if ttl <= 0 {
		ttl = DefaultClaimTTL
	}
	for attempt := 0; attempt < 8; attempt++ {
		cb, err := s.Store.Callback(ctx, id)
		if err != nil {
			return nil, "", err
		}
		now := s.Now()
		switch cb.EffectiveStatus(now) {
		case store.CallbackDone:
			return cb, "", ErrTaskDone
		case store.CallbackClaimed:
			if cb.ClaimedBy != by {
				return cb, "", ErrClaimed
			}
		}
		old := cb.Status
		action := "claimed"
		if old == store.CallbackClaimed && cb.ClaimedBy != by {
			action = "claimed (previous claim by " + cb.ClaimedBy + " lapsed)"
		}
		cb.Status, cb.ClaimedBy, cb.ClaimedUntil = store.CallbackClaimed, by, now.Add(ttl)
		cb.Events = append(cb.Events, store.Event{At: now, By: by, Action: action})
		err = s.Store.UpdateCallback(ctx, cb, old)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		tag, _ := store.TagOf(id)
		entries := []audit.Entry{{Action: audit.ActionClaim, Task: id, Nudge: cb.NudgeID, Subject: tag}}
		var number string
		if withNumber {
			rcp, err := s.Store.Recipient(ctx, tag)
			if err != nil {
				return nil, "", err
			}
			number = rcp.Phone
			// The number is only shown once the view is on the trail.
			entries = append(entries, audit.Entry{Action: audit.ActionViewPhone, Task: id, Nudge: cb.NudgeID, Subject: tag})
		}
		if err := s.audit(ctx, entries...); err != nil {
			return nil, "", err
		}
		s.Log.InfoContext(ctx, "callback claimed", "callback", id, "by", by)
		return cb, number, nil
	}
	return nil, "", ErrClaimed
}

// CompleteCallback records a call attempt on a task the caller claimed.
// reached and wrong_number close the task; no_answer and voicemail put it
// back in the queue after the flow's retry_after, until max_attempts calls
// without contact: then the task closes and suggests to the case worker to
// consider a home visit.
func (s *Service) CompleteCallback(ctx context.Context, id, by, outcome, note string) (*store.Callback, error) {
	switch outcome {
	case OutcomeReached, OutcomeNoAnswer, OutcomeVoicemail, OutcomeWrongNumber:
	default:
		return nil, ErrBadOutcome
	}
	for attempt := 0; attempt < 8; attempt++ {
		cb, err := s.Store.Callback(ctx, id)
		if err != nil {
			return nil, err
		}
		now := s.Now()
		switch {
		case cb.Status == store.CallbackDone:
			return cb, ErrTaskDone
		case cb.EffectiveStatus(now) != store.CallbackClaimed || cb.ClaimedBy != by:
			// A lapsed claim may still be completed by its holder when
			// nobody else took the task meanwhile.
			if !(cb.Status == store.CallbackClaimed && cb.ClaimedBy == by) {
				return cb, ErrNotClaimed
			}
		}
		old := cb.Status
		cb.Attempts = append(cb.Attempts, store.Attempt{At: now, By: by, Outcome: outcome, Note: note})
		cb.ClaimedBy, cb.ClaimedUntil = "", time.Time{}
		var nudgeNote *store.Note
		switch outcome {
		case OutcomeReached, OutcomeWrongNumber:
			cb.Status, cb.Outcome = store.CallbackDone, outcome
			if outcome == OutcomeWrongNumber {
				nudgeNote = &store.Note{At: now, Code: "wrong_number", Text: "The werkplaats called a wrong number; please check the phone number in the case system."}
			}
		default:
			failed := 0
			for _, a := range cb.Attempts {
				if a.Outcome == OutcomeNoAnswer || a.Outcome == OutcomeVoicemail {
					failed++
				}
			}
			maxAttempts := cb.MaxAttempts
			if maxAttempts <= 0 {
				maxAttempts = flow.DefaultMaxAttempts
			}
			retry := cb.RetryAfter
			if retry <= 0 {
				retry = flow.DefaultRetryAfter
			}
			if failed >= maxAttempts {
				cb.Status, cb.Outcome, cb.HomeVisitSuggested = store.CallbackDone, "unreachable", true
				nudgeNote = &store.Note{At: now, Code: CodeConsiderHomeVisit, Text: homeVisitReason(failed)}
			} else {
				cb.Status, cb.Due = store.CallbackOpen, now.Add(retry)
			}
		}
		cb.Events = append(cb.Events, store.Event{At: now, By: by, Action: "completed: " + outcome, Note: note})
		if cb.HomeVisitSuggested {
			cb.Events = append(cb.Events, store.Event{At: now, By: "seintje", Action: "home visit suggested to the case worker"})
		}
		ob := store.NewOutbox(tagOfCallback(cb.ID), now)
		var w *store.Work
		if evs := s.callbackEvents(cb, outcome, now); len(evs) > 0 {
			w = &store.Work{Conv: cb.NudgeID, Events: evs}
		}
		err = s.Store.UpdateCallbackWork(ctx, cb, old, ob, w)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if w != nil {
			s.queueCommitted(ctx, ob, w)
		}
		if cb.HomeVisitSuggested {
			if err := s.Store.AddSuggestion(ctx, cb.ID, now); err != nil {
				return cb, err
			}
		}
		if nudgeNote != nil && cb.NudgeID != "" {
			if err := s.Store.AddNote(ctx, cb.NudgeID, *nudgeNote); err != nil && !errors.Is(err, store.ErrNotFound) {
				return cb, err
			}
		}
		tag, _ := store.TagOf(id)
		if err := s.audit(ctx, audit.Entry{Action: audit.ActionOutcome, Task: id, Nudge: cb.NudgeID, Subject: tag,
			Detail: outcome + " (task " + cb.Status + ")"}); err != nil {
			return cb, err
		}
		s.Log.InfoContext(ctx, "callback completed", "callback", id, "by", by, "outcome", outcome, "status", cb.Status)
		if outcome == OutcomeReached {
			s.systemOutcomeOf(ctx, cb.NudgeID, flow.OutcomeReached, now)
		}
		return cb, nil
	}
	return nil, store.ErrConflict
}

// CodeConsiderHomeVisit marks the suggestion to consider a home visit, on
// the nudge's notes and in the case workers' inbox.
const CodeConsiderHomeVisit = "consider_home_visit"

func homeVisitReason(failed int) string {
	return fmt.Sprintf("The werkplaats called %d times without contact. Consider a home visit (sociaal huisbezoek). Seintje only suggests this; you decide.", failed)
}

// Suggestion is something Seintje suggests to the case worker (now: to
// consider a home visit), listed in GET /v1/inbox.
type Suggestion struct {
	Code     string    `json:"code"` // consider_home_visit
	At       time.Time `json:"at"`
	Nudge    string    `json:"nudge,omitempty"`
	Callback string    `json:"callback"`
	Ref      string    `json:"ref"`
	Name     string    `json:"name"`
	Flow     string    `json:"flow,omitempty"`
	// Reason says why Seintje suggests it; CallbackReason why the
	// werkplaats was asked to call.
	Reason         string `json:"reason"`
	CallbackReason string `json:"callback_reason,omitempty"`
}

// Suggestions lists up to limit suggestions for case workers, newest first.
func (s *Service) Suggestions(ctx context.Context, limit int64) ([]Suggestion, error) {
	cbs, err := s.Store.Suggestions(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Suggestion, 0, len(cbs))
	for _, cb := range cbs {
		failed := 0
		var at time.Time
		for _, a := range cb.Attempts {
			if a.Outcome == OutcomeNoAnswer || a.Outcome == OutcomeVoicemail {
				failed++
			}
			at = a.At
		}
		out = append(out, Suggestion{Code: CodeConsiderHomeVisit, At: at, Nudge: cb.NudgeID, Callback: cb.ID, Ref: cb.Ref, Name: cb.Name,
			Flow: cb.Flow, Reason: homeVisitReason(failed), CallbackReason: cb.Reason})
	}
	return out, nil
}
