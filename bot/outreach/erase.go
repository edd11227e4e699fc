package outreach

import (
	"context"
	"errors"
	"fmt"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/store"
)

// EraseRecipient deletes everything kept about the recipient with case
// reference ref (erasure on request). It returns how many keys were removed.
func (s *Service) EraseRecipient(ctx context.Context, ref, by string) (int, error) {
	tag, err := s.Store.TagByRef(ctx, s.refHash(ref))
	if errors.Is(err, store.ErrNotFound) {
		return 0, ErrUnknownRecipient
	}
	if err != nil {
		return 0, err
	}
	addrs := map[channel.Name]string{}
	if c, err := s.Store.Channels(ctx, tag); err == nil {
		if chat := c.Get(channel.Telegram).Address; chat != "" {
			addrs[channel.Telegram] = s.chatHash(chat)
		}
	}
	n, err := s.Store.Erase(ctx, tag, s.refHash(ref), addrs)
	if err != nil {
		return n, fmt.Errorf("erase recipient: %w", err)
	}
	// Who erased is worth keeping; whom is not (the reference is personal data).
	s.Log.InfoContext(ctx, "recipient erased", "by", by, "keys", n)
	if err := s.audit(ctx, audit.Entry{Action: audit.ActionErase, Subject: tag, Detail: fmt.Sprintf("%d keys", n)}); err != nil {
		return n, err
	}
	return n, nil
}

// NudgesOf returns the nudges of the recipient with case reference ref,
// newest first.
func (s *Service) NudgesOf(ctx context.Context, ref string, limit int64) ([]*store.Nudge, error) {
	tag, err := s.Store.TagByRef(ctx, s.refHash(ref))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnknownRecipient
	}
	if err != nil {
		return nil, err
	}
	return s.Store.NudgesOf(ctx, tag, limit)
}
