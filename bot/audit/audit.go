// Package audit provides Seintje's append-only audit trail: who did what to
// which nudge or task, and when, kept in one Redis stream for its own
// retention period (default 365 days). Entries never hold a message body or
// a full phone number; a person is named by the keyed hash tag of the phone
// number, the nudge id or the callback task id.
//
// The time of an entry is the Redis server's time (the stream entry id), so
// entries from many instances are in one order and the trail can be read by
// time range without an index.
package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Actions recorded in the trail. The set is open (other packages may add
// their own), but these names are stable: filters and reports use them.
const (
	ActionTrigger       = "trigger"        // a nudge was started (or the same event found again)
	ActionClaim         = "claim"          // a werkplaats member claimed a callback task
	ActionViewPhone     = "view_phone"     // a full phone number was shown to someone
	ActionOutcome       = "outcome"        // a call attempt's outcome was recorded
	ActionRelease       = "release"        // a claim was given back
	ActionReschedule    = "reschedule"     // a callback task was moved to another moment
	ActionNote          = "note"           // a case worker added a note to a nudge
	ActionEnd           = "end"            // a case worker ended a conversation
	ActionInboxHandled  = "inbox_handled"  // an inbox item was marked as handled
	ActionErase         = "erase"          // everything about a person was erased on request
	ActionOptOut        = "opt_out"        // a person opted out on a channel
	ActionOptIn         = "opt_in"         // a person opted in again on a channel
	ActionSetChannel    = "set_channel"    // a person's preferred channel was changed
	ActionTelegramLink  = "telegram_link"  // a one-time Telegram link was made for a person
	ActionSignIn        = "sign_in"        // someone signed in to the console
	ActionSignOut       = "sign_out"       // someone signed out
	ActionSearch        = "search"         // someone searched for a person (by reference or phone)
	ActionViewAudit     = "view_audit"     // someone read the audit trail
	ActionAccessRefused = "access_refused" // a signed-in person was refused a screen or an action
	ActionEventReplay   = "event_replay"   // an admin replayed an event delivery from the dead-letter list
)

// Entry is one line of the trail.
type Entry struct {
	ID      string    `json:"id"`                // stream id; also the cursor for paging
	At      time.Time `json:"at"`                // when it was recorded (Redis server time)
	Actor   string    `json:"actor"`             // API token name, console user, "recipient", "provider", "seintje"
	Role    string    `json:"role,omitempty"`    // the actor's role, when a person or token
	Via     string    `json:"via,omitempty"`     // api, console, webhook, worker
	Action  string    `json:"action"`            // one of the Action constants
	Nudge   string    `json:"nudge,omitempty"`   // nudge (conversation) id
	Task    string    `json:"task,omitempty"`    // callback task id
	Subject string    `json:"subject,omitempty"` // the person: keyed hash tag of the phone number
	Channel string    `json:"channel,omitempty"` // sms, telegram, ...
	Detail  string    `json:"detail,omitempty"`  // short and never personal: an outcome, a flow id, a count
}

// Actor is who acts, carried in the request context from the edge (API
// token, console session) to the service that records the entry.
type Actor struct {
	Name string
	Role string
	Via  string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// DefaultRetention is how long entries are kept unless configured.
const DefaultRetention = 365 * 24 * time.Hour

// Options configure a Log.
type Options struct {
	Prefix    string           // key prefix, default "sj"
	Retention time.Duration    // default DefaultRetention
	Now       func() time.Time // for the retention cut-off; default time.Now
}

// Log is the audit trail. It is safe for concurrent use. A nil *Log
// records nothing (tests and tools that do not need a trail).
type Log struct {
	rdb       redis.UniversalClient
	key       string
	retention time.Duration
	now       func() time.Time
}

// New returns the trail on rdb.
func New(rdb redis.UniversalClient, o Options) *Log {
	if o.Prefix == "" {
		o.Prefix = "sj"
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Log{rdb: rdb, key: o.Prefix + ":audit", retention: o.Retention, now: o.Now}
}

// Retention returns how long entries are kept.
func (l *Log) Retention() time.Duration { return l.retention }

// Record appends entries. An entry without an actor takes the one in ctx.
// Entries older than the retention period are trimmed as new ones arrive.
// It returns an error when the trail could not be written: callers that
// are about to reveal personal data must not reveal it then.
func (l *Log) Record(ctx context.Context, entries ...Entry) error {
	if l == nil || len(entries) == 0 {
		return nil
	}
	a, hasActor := ActorFrom(ctx)
	minID := strconv.FormatInt(l.now().Add(-l.retention).UnixMilli(), 10)
	pipe := l.rdb.Pipeline()
	for _, e := range entries {
		if e.Action == "" {
			return errors.New("audit: entry without action")
		}
		if e.Actor == "" && hasActor {
			e.Actor, e.Role, e.Via = a.Name, a.Role, a.Via
		}
		if e.Actor == "" {
			e.Actor = "seintje"
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: l.key, MinID: minID, Approx: true, Values: e.values()})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("audit: record: %w", err)
	}
	return nil
}

func (e Entry) values() []any {
	v := []any{"actor", e.Actor, "action", e.Action}
	add := func(k, val string) {
		if val != "" {
			v = append(v, k, val)
		}
	}
	add("role", e.Role)
	add("via", e.Via)
	add("nudge", e.Nudge)
	add("task", e.Task)
	add("subject", e.Subject)
	add("channel", e.Channel)
	add("detail", e.Detail)
	return v
}

func fromMessage(m redis.XMessage) Entry {
	s := func(k string) string { v, _ := m.Values[k].(string); return v }
	e := Entry{ID: m.ID, Actor: s("actor"), Role: s("role"), Via: s("via"), Action: s("action"), Nudge: s("nudge"),
		Task: s("task"), Subject: s("subject"), Channel: s("channel"), Detail: s("detail")}
	if ms, _, ok := strings.Cut(m.ID, "-"); ok {
		if n, err := strconv.ParseInt(ms, 10, 64); err == nil {
			e.At = time.UnixMilli(n).UTC()
		}
	}
	return e
}

// Query selects entries, newest first.
type Query struct {
	Actor  string    // exact match; empty: everyone
	Action string    // exact match; empty: every action
	Nudge  string    // exact match; empty: every nudge
	Task   string    // exact match; empty: every task
	From   time.Time // inclusive; zero: from the start
	To     time.Time // exclusive; zero: up to now
	Limit  int       // page size, 1..500, default 50
	// Cursor continues a previous page: the Next of its Page.
	Cursor string
}

// Page is one page of entries.
type Page struct {
	Entries []Entry `json:"entries"`
	// Next is the cursor for the following (older) page; empty when
	// there is nothing more.
	Next string `json:"next,omitempty"`
}

// ErrBadCursor is returned for a cursor the trail did not hand out.
var ErrBadCursor = errors.New("audit: invalid cursor")

// scanBatch is how many entries one round trip reads; scanBudget bounds
// the entries one query examines, so a filter matching nothing stays fast
// (the page then ends early with a Next cursor to continue).
const (
	scanBatch  = 500
	scanBudget = 20000
)

// Find returns one page of entries matching q, newest first.
func (l *Log) Find(ctx context.Context, q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 500 {
		q.Limit = 500
	}
	end := "+"
	if !q.To.IsZero() {
		end = before(strconv.FormatInt(q.To.UnixMilli(), 10) + "-0")
	}
	if q.Cursor != "" {
		if !validID(q.Cursor) {
			return Page{}, ErrBadCursor
		}
		c := before(q.Cursor)
		if end == "+" || compareID(c, end) < 0 {
			end = c
		}
	}
	start := "-"
	if !q.From.IsZero() {
		start = strconv.FormatInt(q.From.UnixMilli(), 10) + "-0"
	}
	page := Page{Entries: []Entry{}}
	scanned := 0
	for end != "" && scanned < scanBudget {
		if start != "-" && compareID(end, start) < 0 {
			return page, nil
		}
		msgs, err := l.rdb.XRevRangeN(ctx, l.key, end, start, scanBatch).Result()
		if err != nil {
			return Page{}, fmt.Errorf("audit: read: %w", err)
		}
		for _, m := range msgs {
			scanned++
			e := fromMessage(m)
			if q.matches(e) {
				page.Entries = append(page.Entries, e)
				if len(page.Entries) == q.Limit {
					page.Next = e.ID
					return page, nil
				}
			}
		}
		if len(msgs) < scanBatch {
			return page, nil
		}
		end = before(msgs[len(msgs)-1].ID)
	}
	if end != "" {
		// Budget spent: let the caller continue from where we stopped.
		page.Next = after(end)
	}
	return page, nil
}

func (q Query) matches(e Entry) bool {
	return (q.Actor == "" || e.Actor == q.Actor) && (q.Action == "" || e.Action == q.Action) &&
		(q.Nudge == "" || e.Nudge == q.Nudge) && (q.Task == "" || e.Task == q.Task)
}

func parseID(id string) (ms, seq uint64, ok bool) {
	a, b, found := strings.Cut(id, "-")
	if !found {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return ms, seq, err1 == nil && err2 == nil
}

func validID(id string) bool { _, _, ok := parseID(id); return ok }

// before returns the greatest stream id smaller than id ("" when none).
func before(id string) string {
	ms, seq, _ := parseID(id)
	switch {
	case seq > 0:
		return fmt.Sprintf("%d-%d", ms, seq-1)
	case ms > 0:
		return fmt.Sprintf("%d-%d", ms-1, uint64(1<<64-1))
	}
	return ""
}

// after returns the smallest stream id greater than id.
func after(id string) string {
	ms, seq, _ := parseID(id)
	if seq == 1<<64-1 {
		return fmt.Sprintf("%d-0", ms+1)
	}
	return fmt.Sprintf("%d-%d", ms, seq+1)
}

func compareID(a, b string) int {
	am, as, _ := parseID(a)
	bm, bs, _ := parseID(b)
	switch {
	case am != bm:
		if am < bm {
			return -1
		}
		return 1
	case as != bs:
		if as < bs {
			return -1
		}
		return 1
	}
	return 0
}
