package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Telegram linking protocol state (the channel itself, its consent and
// preference, live in the recipient's channel model: channels.go). Global
// keys, no personal data in their names (callers pass keyed hashes):
//
//	<prefix>:ref:<hash(ref)>        → tag   (case reference lookup)
//	<prefix>:tglink:<sha256(token)> → tag   (one-time link tokens, TTL)
//	<prefix>:tgconsent:<hash(chat)> → tag   (a consent question is open)
//	<prefix>:tgupd:<update id>      → 1     (update dedupe)

// IndexRef records that case reference refHash belongs to recipient tag.
func (s *Store) IndexRef(ctx context.Context, refHash, tag string) error {
	if err := s.rdb.Set(ctx, s.gkey("ref", refHash), tag, s.retention).Err(); err != nil {
		return fmt.Errorf("index ref: %w", err)
	}
	return nil
}

// TagByRef returns the recipient tag of a case reference hash, or ErrNotFound.
func (s *Store) TagByRef(ctx context.Context, refHash string) (string, error) {
	return s.getTag(ctx, s.gkey("ref", refHash), "ref")
}

func (s *Store) getTag(ctx context.Context, key, what string) (string, error) {
	tag, err := s.rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("look up %s: %w", what, err)
	}
	return tag, nil
}

// PutLinkToken stores a one-time link token (by its hash) for ttl.
func (s *Store) PutLinkToken(ctx context.Context, tokenHash, tag string, ttl time.Duration) error {
	ok, err := s.rdb.SetNX(ctx, s.gkey("tglink", tokenHash), tag, ttl).Result()
	if err != nil {
		return fmt.Errorf("store link token: %w", err)
	}
	if !ok {
		return fmt.Errorf("store link token: %w", ErrDuplicate)
	}
	return nil
}

// TakeLinkToken returns the tag of a link token and deletes it (single
// use), or ErrNotFound when unknown, used or expired.
func (s *Store) TakeLinkToken(ctx context.Context, tokenHash string) (string, error) {
	tag, err := s.rdb.GetDel(ctx, s.gkey("tglink", tokenHash)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("take link token: %w", err)
	}
	return tag, nil
}

// PutConsent remembers that chat was asked to consent for tag.
func (s *Store) PutConsent(ctx context.Context, chatHash, tag string, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, s.gkey("tgconsent", chatHash), tag, ttl).Err(); err != nil {
		return fmt.Errorf("store consent question: %w", err)
	}
	return nil
}

// TakeConsent returns and clears the open consent question of a chat, or
// ErrNotFound.
func (s *Store) TakeConsent(ctx context.Context, chatHash string) (string, error) {
	tag, err := s.rdb.GetDel(ctx, s.gkey("tgconsent", chatHash)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("take consent question: %w", err)
	}
	return tag, nil
}

// PeekConsent returns the recipient of a chat's open consent question,
// or ErrNotFound. The question stays open until the answer's work is done
// (FinishLink), so a crash in between lets the answer be handled again.
func (s *Store) PeekConsent(ctx context.Context, chatHash string) (string, error) {
	tag, err := s.rdb.Get(ctx, s.gkey("tgconsent", chatHash)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read consent question: %w", err)
	}
	return tag, nil
}

// HasConsent reports whether a consent question is open for chat.
func (s *Store) HasConsent(ctx context.Context, chatHash string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.gkey("tgconsent", chatHash)).Result()
	if err != nil {
		return false, fmt.Errorf("check consent question: %w", err)
	}
	return n == 1, nil
}

// UpdateDone reports whether an update id was handled (7 days).
func (s *Store) UpdateDone(ctx context.Context, updateID int64) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.gkey("tgupd", strconv.FormatInt(updateID, 10))).Result()
	if err != nil {
		return false, fmt.Errorf("dedupe update: %w", err)
	}
	return n == 1, nil
}

// MarkUpdateDone records that an update id was handled.
func (s *Store) MarkUpdateDone(ctx context.Context, updateID int64) error {
	if err := s.rdb.Set(ctx, s.gkey("tgupd", strconv.FormatInt(updateID, 10)), 1, s.dedupeTTL).Err(); err != nil {
		return fmt.Errorf("dedupe update: %w", err)
	}
	return nil
}
