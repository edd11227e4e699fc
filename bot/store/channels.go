package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/recipient"
)

// A recipient's channels live in its hash (<prefix>:{r:<tag>}:rcp), so one
// read gives the whole recipient.Channels and every write stays in the
// recipient's slot:
//
//	phone            the E.164 number: the address on SMS and WhatsApp
//	addr:<channel>   the address on other channels (Telegram chat id), or
//	                 where to answer a sender without a nudge
//	consent:<ch>     JSON recipient.Consent; absent = none recorded
//	optout:<ch>      ms since epoch of the person's STOP on that channel
//	pref             preferred channel (default sms)
//	fallback         comma-separated fallback order
//	lastin:<ch>      ms since epoch of the person's last message on that
//	                 channel (WhatsApp's 24-hour window)
//
// Global address lookups carry keyed hashes only:
//
//	<prefix>:addr:<channel>:<hash(address)> → tag
//
// Every consent, refusal, revocation and preference change is appended to
// <prefix>:{r:<tag>}:chlog (at most 100 entries, retention TTL).

// ChannelEvent is one entry of a recipient's channel log.
type ChannelEvent struct {
	At      time.Time `json:"at"`
	Channel string    `json:"channel,omitempty"`
	Action  string    `json:"action"` // link_created, link_opened, linked, refused, unlinked, consent, consent_revoked, preferred_<ch>, ...
	Reason  string    `json:"reason,omitempty"`
	By      string    `json:"by,omitempty"` // API token name for case-worker and case-system actions
}

func (s *Store) chlogKey(tag string) string { return s.key(tag, "chlog") }

func (s *Store) addrKey(ch channel.Name, addrHash string) string {
	return s.gkey("addr", string(ch), addrHash)
}

// Channels returns the recipient's channel model.
func (s *Store) Channels(ctx context.Context, tag string) (recipient.Channels, error) {
	h, err := s.rdb.HGetAll(ctx, s.rcpKey(tag)).Result()
	if err != nil {
		return recipient.Channels{}, fmt.Errorf("load channels: %w", err)
	}
	return channelsFromHash(h), nil
}

// ChannelsMany returns the channel state of many recipients in one round
// trip.
func (s *Store) ChannelsMany(ctx context.Context, tags []string) ([]recipient.Channels, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(tags))
	for i, tag := range tags {
		cmds[i] = pipe.HGetAll(ctx, s.rcpKey(tag))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("load channels: %w", err)
	}
	out := make([]recipient.Channels, len(tags))
	for i, c := range cmds {
		out[i] = channelsFromHash(c.Val())
	}
	return out, nil
}

// channelsFromHash reads the channel fields of a recipient hash.
func channelsFromHash(h map[string]string) recipient.Channels {
	c := recipient.Channels{Preferred: channel.Name(h["pref"]), By: map[channel.Name]recipient.Channel{}}
	if c.Preferred == "" {
		c.Preferred = channel.SMS
	}
	for _, f := range strings.Split(h["fallback"], ",") {
		if f = strings.TrimSpace(f); f != "" {
			c.Fallback = append(c.Fallback, channel.Name(f))
		}
	}
	get := func(ch channel.Name) recipient.Channel { return c.By[ch] }
	if p := h["phone"]; p != "" {
		for _, ch := range []channel.Name{channel.SMS, channel.WhatsApp} {
			st := get(ch)
			st.Address = p
			c.By[ch] = st
		}
	}
	for k, v := range h {
		name, field := "", ""
		switch {
		case strings.HasPrefix(k, "addr:"):
			name, field = k[len("addr:"):], "addr"
		case strings.HasPrefix(k, "consent:"):
			name, field = k[len("consent:"):], "consent"
		case strings.HasPrefix(k, "optout:"):
			name, field = k[len("optout:"):], "optout"
		default:
			continue
		}
		ch := channel.Name(name)
		st := get(ch)
		switch field {
		case "addr":
			if st.Address == "" {
				st.Address = v
			}
		case "consent":
			var cs recipient.Consent
			if json.Unmarshal([]byte(v), &cs) == nil {
				st.Consent = &cs
			}
		case "optout":
			n, _ := strconv.ParseInt(v, 10, 64)
			st.OptedOut = time.UnixMilli(n).UTC()
		}
		c.By[ch] = st
	}
	return c
}

// GrantConsent records the person's consent for channel ch, with its
// address when given (addr "" keeps the known one). An earlier opt-out of
// that channel is cleared: the person chose to use it. With prefer, ch
// becomes the preferred channel.
func (s *Store) GrantConsent(ctx context.Context, tag string, ch channel.Name, addr string, c recipient.Consent, prefer bool) error {
	return s.Grant(ctx, tag, Grant{Channel: ch, Addr: addr, Consent: c, Prefer: prefer}, nil, nil)
}

// Grant is a consent given on a channel (see GrantConsent) and the channel
// event that logs it, written together by one script: by Grant, or by
// the script of the conversation step it belongs to (CommitGrant).
type Grant struct {
	Channel channel.Name
	Addr    string
	Consent recipient.Consent
	Prefer  bool
	Event   *ChannelEvent
}

// args are the grant's script arguments (grantLua); all empty for none.
func (g *Grant) args() ([]any, error) {
	if g == nil {
		return []any{"", "", "", "", ""}, nil
	}
	c, err := json.Marshal(g.Consent)
	if err != nil {
		return nil, fmt.Errorf("encode consent: %w", err)
	}
	prefer, ev := "", []byte(nil)
	if g.Prefer {
		prefer = "1"
	}
	if g.Event != nil {
		if ev, err = json.Marshal(g.Event); err != nil {
			return nil, fmt.Errorf("encode channel event: %w", err)
		}
	}
	return []any{string(g.Channel), c, g.Addr, prefer, ev}, nil
}

// Grant writes consent g and, in the same script, the follow-up work w
// (cross-recipient indexes, the audit entry) in outbox entry ob, with its
// pointer for the recovery pass. With ob nil there is no follow-up.
func (s *Store) Grant(ctx context.Context, tag string, g Grant, ob *Outbox, w *Work) error {
	work := ""
	if ob != nil {
		var err error
		if work, err = encodeWork(w); err != nil {
			return err
		}
		if work == "" {
			ob = nil
		}
	}
	ga, err := g.args()
	if err != nil {
		return err
	}
	obID := ""
	if ob != nil {
		obID = ob.ID
	}
	args := append([]any{ms(s.retention), obID, work}, ga...)
	if _, err := s.runPointed(ctx, ob, grantScript, []string{s.rcpKey(tag), s.chlogKey(tag), s.outboxKey(tag)}, args...); err != nil {
		return fmt.Errorf("grant consent: %w", err)
	}
	return nil
}

// grantLua writes a consent from 5 script arguments starting at ARGV[i]:
// channel (empty: none), consent json, address (empty: keep), prefer ("1"
// or empty), channel event json (empty: none).
const grantLua = `
local function grant(rcp, chlog, i, ttl)
  local ch = ARGV[i]
  if not ch or ch == '' then return end
  redis.call('HSET', rcp, 'consent:' .. ch, ARGV[i+1])
  if ARGV[i+2] ~= '' then redis.call('HSET', rcp, 'addr:' .. ch, ARGV[i+2]) end
  if ARGV[i+3] ~= '' then redis.call('HSET', rcp, 'pref', ch) end
  redis.call('HDEL', rcp, 'optout:' .. ch)
  redis.call('PEXPIRE', rcp, ttl)
  if ARGV[i+4] ~= '' then
    redis.call('RPUSH', chlog, ARGV[i+4])
    redis.call('LTRIM', chlog, -100, -1)
    redis.call('PEXPIRE', chlog, ttl)
  end
end
`

// putLua sets field f of hash key to v, unless v is empty, and renews the
// key's TTL.
const putLua = `
local function put(key, f, v, ttl)
  if v == '' then return end
  redis.call('HSET', key, f, v)
  redis.call('PEXPIRE', key, ttl)
end
`

// grantScript records a consent (grantLua) with its follow-up work.
//
// KEYS: 1 rcp, 2 chlog, 3 outbox
// ARGV: 1 ttl ms, 2 outbox id, 3 outbox json (empty: none), 4..8 grant
var grantScript = redis.NewScript(grantLua + putLua + `
local ttl = tonumber(ARGV[1])
put(KEYS[3], ARGV[2], ARGV[3], ttl)
grant(KEYS[1], KEYS[2], 4, ttl)
return 1
`)

// LinkWork is what linking a chat leaves after the consent is recorded:
// the address lookup, and clearing the chat's answered consent question.
type LinkWork struct {
	Channel  string `json:"ch"`
	AddrHash string `json:"a"`
}

// FinishLink indexes the linked address and clears the chat's consent
// question if it still belongs to tag. Running it again is harmless.
func (s *Store) FinishLink(ctx context.Context, tag string, l LinkWork) error {
	if err := s.IndexAddress(ctx, channel.Name(l.Channel), l.AddrHash, tag); err != nil {
		return err
	}
	if err := clearIfScript.Run(ctx, s.rdb, []string{s.gkey("tgconsent", l.AddrHash)}, tag).Err(); err != nil {
		return fmt.Errorf("clear consent question: %w", err)
	}
	return nil
}

// clearIfScript deletes KEYS[1] when its value is ARGV[1].
var clearIfScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// RevokeConsent removes the consent for channel ch; when ch was the
// preferred channel, SMS is preferred again.
func (s *Store) RevokeConsent(ctx context.Context, tag string, ch channel.Name) error {
	if err := revokeScript.Run(ctx, s.rdb, []string{s.rcpKey(tag)}, string(ch), string(channel.SMS)).Err(); err != nil {
		return fmt.Errorf("revoke consent: %w", err)
	}
	return nil
}

// revokeScript removes a channel's consent and, when that channel was
// preferred, makes SMS preferred again, in one step (a concurrent
// preference change is never overwritten by a stale read).
//
// KEYS: 1 rcp. ARGV: 1 channel, 2 default channel.
var revokeScript = redis.NewScript(`
redis.call('HDEL', KEYS[1], 'consent:' .. ARGV[1])
if redis.call('HGET', KEYS[1], 'pref') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'pref', ARGV[2])
end
return 1
`)

// SetPreference sets the preferred channel and, when fallback is not nil,
// the fallback order.
func (s *Store) SetPreference(ctx context.Context, tag string, pref channel.Name, fallback []channel.Name) error {
	fields := []any{"pref", string(pref)}
	if fallback != nil {
		names := make([]string, len(fallback))
		for i, f := range fallback {
			names[i] = string(f)
		}
		fields = append(fields, "fallback", strings.Join(names, ","))
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.rcpKey(tag), fields...)
	pipe.PExpire(ctx, s.rcpKey(tag), s.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("set preferred channel: %w", err)
	}
	return nil
}

// TouchInbound records when the person last wrote on channel ch (the
// start of WhatsApp's 24-hour window). A later time never goes back.
func (s *Store) TouchInbound(ctx context.Context, tag string, ch channel.Name, at time.Time) error {
	if err := touchScript.Run(ctx, s.rdb, []string{s.rcpKey(tag)}, "lastin:"+string(ch), at.UnixMilli(), ms(s.retention)).Err(); err != nil {
		return fmt.Errorf("record last inbound: %w", err)
	}
	return nil
}

// touchScript keeps the latest inbound time of a channel.
//
// KEYS: 1 rcp. ARGV: 1 field, 2 ms, 3 ttl ms.
var touchScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`)

// LastInbound returns when the person last wrote on channel ch (zero when
// never, or longer ago than the retention).
func (s *Store) LastInbound(ctx context.Context, tag string, ch channel.Name) (time.Time, error) {
	v, err := s.rdb.HGet(ctx, s.rcpKey(tag), "lastin:"+string(ch)).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("load last inbound: %w", err)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return time.UnixMilli(n).UTC(), nil
}

// IndexAddress records that an address hash on ch belongs to tag.
func (s *Store) IndexAddress(ctx context.Context, ch channel.Name, addrHash, tag string) error {
	if err := s.rdb.Set(ctx, s.addrKey(ch, addrHash), tag, s.retention).Err(); err != nil {
		return fmt.Errorf("index %s address: %w", ch, err)
	}
	return nil
}

// TagByAddress returns the recipient of an address hash on ch, or ErrNotFound.
func (s *Store) TagByAddress(ctx context.Context, ch channel.Name, addrHash string) (string, error) {
	return s.getTag(ctx, s.addrKey(ch, addrHash), string(ch)+" address")
}

// UnindexAddress drops an address lookup, only when it still points to tag.
func (s *Store) UnindexAddress(ctx context.Context, ch channel.Name, addrHash, tag string) error {
	if addrHash == "" {
		return nil
	}
	if cur, err := s.TagByAddress(ctx, ch, addrHash); err == nil && cur == tag {
		if err := s.rdb.Del(ctx, s.addrKey(ch, addrHash)).Err(); err != nil {
			return fmt.Errorf("unindex %s address: %w", ch, err)
		}
	}
	return nil
}

// LogChannel appends an event to the recipient's channel log.
func (s *Store) LogChannel(ctx context.Context, tag string, ev ChannelEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode channel event: %w", err)
	}
	pipe := s.rdb.TxPipeline()
	pipe.RPush(ctx, s.chlogKey(tag), b)
	pipe.LTrim(ctx, s.chlogKey(tag), -100, -1)
	pipe.PExpire(ctx, s.chlogKey(tag), s.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("log channel event: %w", err)
	}
	return nil
}

// ChannelLog returns the recipient's channel events, oldest first.
func (s *Store) ChannelLog(ctx context.Context, tag string) ([]ChannelEvent, error) {
	vs, err := s.rdb.LRange(ctx, s.chlogKey(tag), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("load channel log: %w", err)
	}
	out := make([]ChannelEvent, 0, len(vs))
	for _, v := range vs {
		var ev ChannelEvent
		if err := json.Unmarshal([]byte(v), &ev); err == nil {
			out = append(out, ev)
		}
	}
	return out, nil
}
