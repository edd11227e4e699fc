package outreach

import (
	"context"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/store"
)

// MarkHandled marks inbox item id as handled by by, recorded in the audit
// trail. Marking an item twice keeps who handled it first.
func (s *Service) MarkHandled(ctx context.Context, id, by string) (*store.InboxItem, error) {
	it, err := s.Store.InboxItem(ctx, id)
	if err != nil {
		return nil, err
	}
	if !it.Handled() {
		if err := s.Store.SetHandled(ctx, id, by, s.Now()); err != nil {
			return nil, err
		}
		if it, err = s.Store.InboxItem(ctx, id); err != nil {
			return nil, err
		}
		tag, _ := store.TagOf(id)
		nudge := it.Message.Conv
		if nudge == "_" {
			nudge = ""
		}
		if err := s.audit(ctx, audit.Entry{Action: audit.ActionInboxHandled, Subject: tag, Nudge: nudge}); err != nil {
			return nil, err
		}
	}
	return it, nil
}
