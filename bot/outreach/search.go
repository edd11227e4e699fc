package outreach

import (
	"context"
	"errors"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/store"
)

// Search finds a person's nudges by case reference or phone number, by
// exact match through the keyed hashes (never a scan). by says which
// ("ref" or "phone") in the audit trail; the query itself is not kept.
func (s *Service) Search(ctx context.Context, query string, limit int64) ([]*store.Nudge, error) {
	kind := "ref"
	var tag string
	if e164, err := phone.Normalize(query); err == nil {
		kind, tag = "phone", s.tagFor(e164)
	} else {
		t, err := s.Store.TagByRef(ctx, s.refHash(query))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		tag = t
	}
	if err := s.audit(ctx, audit.Entry{Action: audit.ActionSearch, Subject: tag, Detail: "by " + kind}); err != nil {
		return nil, err
	}
	if tag == "" {
		return nil, nil
	}
	return s.Store.NudgesOf(ctx, tag, limit)
}
