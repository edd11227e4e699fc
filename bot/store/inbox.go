package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// InboxItem is a message in the case workers' inbox with whether someone
// handled it.
type InboxItem struct {
	ID        string // "<tag>-<message id>": the inbox id in the API and console
	Message   Message
	HandledBy string
	HandledAt time.Time
}

// Handled reports whether someone marked the item as handled.
func (i InboxItem) Handled() bool { return i.HandledBy != "" }

// InboxID is the inbox id of message msgID of recipient tag.
func InboxID(tag, msgID string) string { return tag + "-" + msgID }

func (s *Store) handledKey(tag string) string { return s.key(tag, "handled") }

// InboxItems returns up to limit inbox items, newest first, with their
// handled state, in two round trips.
func (s *Store) InboxItems(ctx context.Context, limit int64) ([]InboxItem, error) {
	msgs, err := s.Inbox(ctx, limit)
	if err != nil {
		return nil, err
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(msgs))
	for i, m := range msgs {
		cmds[i] = pipe.HGet(ctx, s.handledKey(m.Tag), m.ID)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("load handled: %w", err)
	}
	out := make([]InboxItem, len(msgs))
	for i, m := range msgs {
		out[i] = InboxItem{ID: InboxID(m.Tag, m.ID), Message: m}
		if v, err := cmds[i].Result(); err == nil {
			out[i].HandledBy, out[i].HandledAt = decodeHandled(v)
		}
	}
	return out, nil
}

func decodeHandled(v string) (string, time.Time) {
	ms, by, _ := strings.Cut(v, "|")
	n, _ := strconv.ParseInt(ms, 10, 64)
	return by, time.UnixMilli(n).UTC()
}

// InboxItem loads one inbox item by its inbox id.
func (s *Store) InboxItem(ctx context.Context, id string) (*InboxItem, error) {
	tag, ok := TagOf(id)
	if !ok {
		return nil, ErrNotFound
	}
	msgID := strings.TrimPrefix(id, tag+"-")
	_, err := s.rdb.ZScore(ctx, s.inboxKey(), tag+"|"+msgID).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load inbox item: %w", err)
	}
	m, err := s.Message(ctx, tag, msgID)
	if err != nil {
		return nil, err
	}
	it := &InboxItem{ID: id, Message: *m}
	if v, err := s.rdb.HGet(ctx, s.handledKey(tag), msgID).Result(); err == nil {
		it.HandledBy, it.HandledAt = decodeHandled(v)
	}
	return it, nil
}

// SetHandled marks an inbox item as handled by by (kept, like the
// message, for the retention period). Marking it again keeps the first.
func (s *Store) SetHandled(ctx context.Context, id, by string, at time.Time) error {
	tag, ok := TagOf(id)
	if !ok {
		return ErrNotFound
	}
	msgID := strings.TrimPrefix(id, tag+"-")
	pipe := s.rdb.TxPipeline()
	pipe.HSetNX(ctx, s.handledKey(tag), msgID, strconv.FormatInt(at.UnixMilli(), 10)+"|"+by)
	pipe.PExpire(ctx, s.handledKey(tag), s.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("mark handled: %w", err)
	}
	return nil
}
