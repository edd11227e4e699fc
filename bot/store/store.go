// Package store keeps Seintje's state in Redis: recipients, conversations
// (nudges), their messages, opt-outs and callback requests.
//
// Every key of one recipient carries the same hash tag, {r:<tag>}, where tag
// is a keyed HMAC of the phone number: no raw number is ever part of a key
// name, and every Lua script touches a single cluster slot, so the scripts
// stay atomic on Redis Cluster. Cross-recipient indexes (the callback queue,
// the case workers' inbox) are separate sorted sets written after the
// recipient's own atomic write; readers drop index entries whose data has
// expired.
//
// All personal data expires after the retention period (default 90 days),
// counted from the last activity.
package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Errors callers decide on.
var (
	ErrNotFound  = errors.New("not found")
	ErrOptedOut  = errors.New("recipient opted out on this channel")
	ErrConflict  = errors.New("conversation changed concurrently")
	ErrDuplicate = errors.New("duplicate message")
)

// Store is the Redis-backed state. It is safe for concurrent use and holds
// no mutable state of its own.
type Store struct {
	rdb       redis.UniversalClient
	prefix    string
	retention time.Duration
	dedupeTTL time.Duration
	// done holds outbox entries whose work is queued and that are still
	// to be removed (OutboxDoneSoon).
	done *doneQueue
	// codec compresses conversation states (codec.go), mcodec messages
	// (msgcodec.go).
	codec  *stateCodec
	mcodec *msgCodec
	// waitReplicas and waitTimeout: Options.WaitReplicas, WaitTimeout.
	waitReplicas int
	waitTimeout  time.Duration
}

// Options configure a Store.
type Options struct {
	Prefix    string        // key prefix, default "sj"
	Retention time.Duration // TTL on personal data, default 90 days
	// WaitReplicas, when above 0, makes every write that records work for
	// later (a received text, a new nudge, a transition: runPointed) wait
	// in the same round trip until that many replicas have it (Redis
	// WAIT), at most WaitTimeout (default 500ms), before it is answered.
	// Redis replication is asynchronous: without it a write acknowledged in
	// the last milliseconds before the master dies can be missing on the
	// replica that Sentinel promotes. When no replica answers within the
	// timeout (the replica is down) the write still counts: one Redis
	// without a replica is what the deployment has then. For Sentinel
	// deployments (a key-less WAIT has no place in a Cluster pipeline).
	WaitReplicas int
	WaitTimeout  time.Duration
}

// New returns a Store on rdb.
func New(rdb redis.UniversalClient, o Options) *Store {
	if o.Prefix == "" {
		o.Prefix = "sj"
	}
	if o.Retention <= 0 {
		o.Retention = 90 * 24 * time.Hour
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = 500 * time.Millisecond
	}
	return &Store{rdb: rdb, prefix: o.Prefix, retention: o.Retention, dedupeTTL: 7 * 24 * time.Hour, done: &doneQueue{}, codec: newStateCodec(), mcodec: newMsgCodec(),
		waitReplicas: o.WaitReplicas, waitTimeout: o.WaitTimeout}
}

// Redis returns the client (for health checks and the job queue).
func (s *Store) Redis() redis.UniversalClient { return s.rdb }

// Retention returns the TTL on personal data.
func (s *Store) Retention() time.Duration { return s.retention }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// key builds a recipient-scoped key: <prefix>:{r:<tag>}:<part>.
func (s *Store) key(tag string, parts ...string) string {
	return s.prefix + ":{r:" + tag + "}:" + strings.Join(parts, ":")
}

// gkey builds a global (index) key.
func (s *Store) gkey(parts ...string) string {
	return s.prefix + ":" + strings.Join(parts, ":")
}

// Recipient-scoped key names.
func (s *Store) rcpKey(tag string) string { return s.key(tag, "rcp") }

// convsKey was the set of waiting conversations; nothing read it, so it is
// no longer written (old ones expire).
func (s *Store) convsKey(tag string) string          { return s.key(tag, "convs") }
func (s *Store) msgsKey(tag string) string           { return s.key(tag, "msgs") }
func (s *Store) cbKey(tag string) string             { return s.key(tag, "cb") }
func (s *Store) dedupeKey(tag, ch, id string) string { return s.key(tag, "in", ch, id) }
func (s *Store) onceKey(tag, what string) string     { return s.key(tag, "once", what) }

// A recipient's small routing state lives in fields of the recipient hash
// (rcp) rather than in keys of its own: every Redis key costs about 200
// bytes besides its data (the key's name, its entry in the keyspace and in
// the expiry table, the value's header), and millions of conversations wait
// at once. Their fields are named with a one-letter prefix; the recipient's
// own fields never look like that (recipientField). The scripts build the
// same names (scripts.go).
//
//	a:<flow>      the waiting conversation of a flow (its id)
//	e:<event>     the conversation an event started (idempotent create)
//	v:<cid>       "ms|msgid": the conversation's last proactive message
//	              handed to the provider (routing, routeLua)
//	s:<msgid>     the message's delivery status (encodeStatus)
//	p:<provider>  the message id a provider id was recorded for
//	q:<provider>  a delivery status that came before the provider id was
//	              recorded
//	n:<cid>       ms: a nudge of the recipient, by when it was created
//	              (history, NudgesOf)
//	w:<msgid>     ms: a proactive message counted against the rolling
//	              weekly limit (TakeSendSlot)
//
// A conversation is field c:<cid> of the msgs hash (convLua), and its
// transcript (its message ids, in order, comma-separated) field l:<cid>,
// next to the messages; l:_ lists the recipient's messages that belong to
// no conversation. A <cid> in a field name or value is the conversation
// id without the recipient tag it starts with (shortID).
func activeField(flow string) string  { return "a:" + flow }
func eventField(ev string) string     { return "e:" + ev }
func statusField(mid string) string   { return "s:" + mid }
func providerField(pid string) string { return "p:" + pid }
func indexField(cid string) string    { return "l:" + shortID(cid) }
func convField(cid string) string     { return "c:" + shortID(cid) }
func weeklyField(mid string) string   { return "w:" + mid }

// shortID is a conversation id inside its recipient's keys: without the
// recipient tag it starts with (shortLua); fullID makes it whole again.
func shortID(cid string) string {
	if len(cid) > 25 && cid[24] == '-' {
		return cid[25:]
	}
	return cid
}

func fullID(tag, id string) string {
	if id == "" || strings.Contains(id, "-") {
		return id
	}
	return tag + "-" + id
}

// historyOf returns the ids of the nudges in a recipient hash ("n:"
// fields), newest first, at most limit (all when limit ≤ 0).
func historyOf(tag string, h map[string]string, limit int64) []string {
	type entry struct {
		id string
		at int64
	}
	var all []entry
	for f, v := range h {
		if id, ok := strings.CutPrefix(f, "n:"); ok {
			at, _ := strconv.ParseInt(v, 10, 64)
			all = append(all, entry{fullID(tag, id), at})
		}
	}
	slices.SortFunc(all, func(a, b entry) int {
		if c := cmp.Compare(b.at, a.at); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	if limit <= 0 || limit > int64(len(all)) {
		limit = int64(len(all))
	}
	ids := make([]string, 0, limit)
	for _, e := range all[:limit] {
		ids = append(ids, e.id)
	}
	return ids
}

// recipientField reports whether a field of the recipient hash is the
// recipient's own (phone, lang, optout:sms, ...) rather than routing state.
func recipientField(f string) bool { return len(f) < 2 || f[1] != ':' }

// Global index keys.
func (s *Store) callbacksKey(status string) string { return s.gkey("callbacks", status) }
func (s *Store) inboxKey() string                  { return s.gkey("inbox") }

// TagOf returns the recipient tag inside an id made by NewScopedID.
func TagOf(id string) (string, bool) {
	tag, _, ok := strings.Cut(id, "-")
	if !ok || len(tag) != 24 {
		return "", false
	}
	for _, r := range tag {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return "", false
		}
	}
	return tag, true
}

var b32 = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a time-ordered, random id (16 characters).
func NewID(now time.Time) string {
	var b [10]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return b32.EncodeToString(b[:])
}

// NewScopedID returns an id that carries the recipient tag, so the id alone
// locates the recipient's keys: "<tag>-<id>".
func NewScopedID(tag string, now time.Time) string { return tag + "-" + NewID(now) }

func ms(d time.Duration) int64 { return d.Milliseconds() }
