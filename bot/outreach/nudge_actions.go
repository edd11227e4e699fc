package outreach

import (
	"context"
	"errors"
	"time"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/store"
)

// ErrNotWaiting: the conversation has ended already.
var ErrNotWaiting = errors.New("the conversation has ended already")

// CaseworkerNote adds a case worker's note to a nudge (shown with the
// conversation; the text is never in the audit trail).
func (s *Service) CaseworkerNote(ctx context.Context, id, by, text string) error {
	now := s.Now()
	if err := s.Store.AddNote(ctx, id, store.Note{At: now, Code: "caseworker_note", Text: by + ": " + text}); err != nil {
		return err
	}
	tag, _ := store.TagOf(id)
	return s.audit(ctx, audit.Entry{Action: audit.ActionNote, Nudge: id, Subject: tag})
}

// EndNudge ends a waiting conversation on a case worker's request: no
// reminder or timer fires any more; later replies go to the inbox.
func (s *Service) EndNudge(ctx context.Context, id, by string) error {
	if _, err := s.Store.Nudge(ctx, id); err != nil {
		return err
	}
	ended := false
	err := s.updateNudge(ctx, id, func(n *store.Nudge) bool {
		if n.Status != engine.Waiting {
			return false
		}
		now := s.Now()
		n.Status, n.Outcome, n.UpdatedAt, n.Deadline = engine.Ended, "ended_by_caseworker", now, time.Time{}
		n.Notes = append(n.Notes, store.Note{At: now, Code: "ended_by_caseworker", Text: "ended by " + by})
		ended = true
		return true
	})
	if err != nil {
		return err
	}
	if !ended {
		return ErrNotWaiting
	}
	tag, _ := store.TagOf(id)
	return s.audit(ctx, audit.Entry{Action: audit.ActionEnd, Nudge: id, Subject: tag})
}
