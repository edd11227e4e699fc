package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Telegram linking state. A recipient's hash holds:
//
//	addr:telegram  the chat id (kept after an unlink, so the one STOP
//	               confirmation can still be delivered; opt-out rules apply)
//	tg_linked      ms since epoch when the chat was linked; absent = not linked
//	pref           preferred channel: "sms" (default) or "telegram"
//
// Global keys (no personal data in their names; callers pass keyed hashes):
//
//	<prefix>:ref:<hash(ref)>        → tag   (case reference lookup)
//	<prefix>:tgchat:<hash(chat)>    → tag   (linked chats)
//	<prefix>:tglink:<sha256(token)> → tag   (one-time link tokens, TTL)
//	<prefix>:tgconsent:<hash(chat)> → tag   (a consent question is open)
//	<prefix>:tgupd:<update id>      → 1     (update dedupe)
//
// Every link, refusal and unlink is appended to <prefix>:{r:<tag>}:tglog.

// Preferred-channel values.
const (
	PrefSMS      = "sms"
	PrefTelegram = "telegram"
)

// TelegramLink is a recipient's Telegram state.
type TelegramLink struct {
	Chat     string    // chat id; set while linked (and kept after for the STOP confirmation)
	Linked   bool      // the person consented and has not unlinked
	LinkedAt time.Time // when linked
	Pref     string    // "sms" or "telegram"
}

// LinkEvent is one entry of the Telegram link log.
type LinkEvent struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"` // link_created, linked, refused, unlinked
	Reason string    `json:"reason,omitempty"`
	By     string    `json:"by,omitempty"` // API token name for case-worker actions
}

func (s *Store) tglogKey(tag string) string { return s.key(tag, "tglog") }

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

// TagByChat returns the recipient linked to a chat hash, or ErrNotFound.
func (s *Store) TagByChat(ctx context.Context, chatHash string) (string, error) {
	return s.getTag(ctx, s.gkey("tgchat", chatHash), "chat")
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

// Telegram returns a recipient's Telegram state.
func (s *Store) Telegram(ctx context.Context, tag string) (TelegramLink, error) {
	v, err := s.rdb.HMGet(ctx, s.rcpKey(tag), "addr:telegram", "tg_linked", "pref").Result()
	if err != nil {
		return TelegramLink{}, fmt.Errorf("load telegram state: %w", err)
	}
	var l TelegramLink
	l.Chat, _ = v[0].(string)
	if at, ok := v[1].(string); ok {
		n, _ := strconv.ParseInt(at, 10, 64)
		l.Linked, l.LinkedAt = true, time.UnixMilli(n).UTC()
	}
	l.Pref, _ = v[2].(string)
	if l.Pref == "" {
		l.Pref = PrefSMS
	}
	return l, nil
}

// LinkTelegram links chat to recipient tag after consent: the chat
// becomes the Telegram address, Telegram the preferred channel, and an
// earlier Telegram opt-out is cleared (the person chose to connect).
// A chat linked to another recipient before is moved.
func (s *Store) LinkTelegram(ctx context.Context, tag, chat, chatHash string, at time.Time) error {
	if prev, err := s.TagByChat(ctx, chatHash); err == nil && prev != tag {
		if err := s.UnlinkTelegram(ctx, prev, chatHash, "linked to another person", at); err != nil {
			return err
		}
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.rcpKey(tag), "addr:telegram", chat, "tg_linked", at.UnixMilli(), "pref", PrefTelegram)
	pipe.HDel(ctx, s.rcpKey(tag), "optout:telegram")
	pipe.PExpire(ctx, s.rcpKey(tag), s.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("link telegram: %w", err)
	}
	if err := s.rdb.Set(ctx, s.gkey("tgchat", chatHash), tag, s.retention).Err(); err != nil {
		return fmt.Errorf("index telegram chat: %w", err)
	}
	return s.LogTelegram(ctx, tag, LinkEvent{At: at, Action: "linked"})
}

// UnlinkTelegram ends a link (the person sent /stop, or blocked the bot):
// SMS becomes the preferred channel again. The event is logged.
func (s *Store) UnlinkTelegram(ctx context.Context, tag, chatHash, reason string, at time.Time) error {
	pipe := s.rdb.TxPipeline()
	pipe.HDel(ctx, s.rcpKey(tag), "tg_linked")
	pipe.HSet(ctx, s.rcpKey(tag), "pref", PrefSMS)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("unlink telegram: %w", err)
	}
	if chatHash != "" {
		// Only drop the chat index when it still points here.
		if cur, err := s.TagByChat(ctx, chatHash); err == nil && cur == tag {
			if err := s.rdb.Del(ctx, s.gkey("tgchat", chatHash)).Err(); err != nil {
				return fmt.Errorf("unlink telegram chat: %w", err)
			}
		}
	}
	return s.LogTelegram(ctx, tag, LinkEvent{At: at, Action: "unlinked", Reason: reason})
}

// SetPreferred sets the preferred channel ("sms" or "telegram").
func (s *Store) SetPreferred(ctx context.Context, tag, pref string) error {
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.rcpKey(tag), "pref", pref)
	pipe.PExpire(ctx, s.rcpKey(tag), s.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("set preferred channel: %w", err)
	}
	return nil
}

// LogTelegram appends an event to the recipient's Telegram link log.
func (s *Store) LogTelegram(ctx context.Context, tag string, ev LinkEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode link event: %w", err)
	}
	pipe := s.rdb.TxPipeline()
	pipe.RPush(ctx, s.tglogKey(tag), b)
	pipe.LTrim(ctx, s.tglogKey(tag), -100, -1)
	pipe.PExpire(ctx, s.tglogKey(tag), s.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("log telegram event: %w", err)
	}
	return nil
}

// TelegramLog returns the recipient's Telegram link events, oldest first.
func (s *Store) TelegramLog(ctx context.Context, tag string) ([]LinkEvent, error) {
	vs, err := s.rdb.LRange(ctx, s.tglogKey(tag), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("load telegram log: %w", err)
	}
	out := make([]LinkEvent, 0, len(vs))
	for _, v := range vs {
		var ev LinkEvent
		if err := json.Unmarshal([]byte(v), &ev); err == nil {
			out = append(out, ev)
		}
	}
	return out, nil
}
