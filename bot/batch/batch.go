// Package batch provides batches of nudges: it reads a spreadsheet or a
// list, checks every row before anything is sent, keeps the batch's state
// and its live figures in Redis, sends the valid rows through the nudge
// service (resumable after a crash), and writes the results per person.
package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/events"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/store"
)

// States of a batch.
const (
	Checked   = "checked"   // rows checked; nothing sent until started
	Scheduled = "scheduled" // started, to be sent at send_at
	Sending   = "sending"   // nudges being created and first messages sent
	Done      = "done"      // every valid row handed over, nothing waiting to go out
	Cancelled = "cancelled" // stopped; what had not gone out was not sent
)

// Errors callers decide on.
var (
	ErrNotFound = errors.New("batch not found")
	ErrState    = errors.New("the batch is not in a state that allows this")
)

// Queue schedules the runs of a batch (jobs.Queue).
type Queue interface {
	EnqueueTask(ctx context.Context, typ, id string, payload []byte, at time.Time, timeout time.Duration) error
}

// TaskType is the job that creates a started batch's nudges.
const TaskType = "seintje:batch"

// Service keeps batches. It is safe for concurrent use.
type Service struct {
	rdb       redis.UniversalClient
	prefix    string
	ttl       time.Duration
	out       *outreach.Service
	st        *store.Store
	queue     Queue
	now       func() time.Time
	log       *slog.Logger
	audit     *audit.Log
	smsRate   float64
	chunk     int
	workers   int
	parallel  int
	loc       *time.Location
	crashHook func(chunk int) bool
	events    outreach.Events
	// cancelSeen keeps each batch's cancel state for a moment (Cancelled).
	cancelMu   sync.Mutex
	cancelSeen map[string]cancelState
}

// Options configure a Service.
type Options struct {
	Redis     redis.UniversalClient
	Prefix    string
	Retention time.Duration // TTL of a batch and its rows (personal data)
	Outreach  *outreach.Service
	Store     *store.Store
	Queue     Queue
	Now       func() time.Time
	Log       *slog.Logger
	Audit     *audit.Log
	SMSRate   float64 // messages per second, for the expected end before sending starts
	Location  *time.Location
	// Chunk is how many rows are created per step (and per cursor move):
	// their create scripts go to Redis in one pipeline. Workers is how
	// many nudges' work (send, timers) is queued at once, per chunk;
	// Parallel how many chunks are created at once. Defaults 500, 32
	// and 8.
	Chunk, Workers, Parallel int
	// CrashAfterCreate is fault injection for tests: when it returns true
	// for a chunk, Run stops after creating the chunk's nudges and before
	// moving the cursor, as if the process died there.
	CrashAfterCreate func(chunk int) bool
	// Events tells the case system a batch is done (batch.done); nil or
	// disabled: nothing is told.
	Events outreach.Events
}

// New returns the batch service.
func New(o Options) *Service {
	if o.Chunk <= 0 {
		o.Chunk = 500
	}
	if o.Workers <= 0 {
		o.Workers = 32
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return &Service{rdb: o.Redis, prefix: o.Prefix, ttl: o.Retention, out: o.Outreach, st: o.Store, queue: o.Queue,
		now: o.Now, log: o.Log, audit: o.Audit, smsRate: o.SMSRate, chunk: o.Chunk, workers: o.Workers, parallel: o.Parallel, loc: o.Location, crashHook: o.CrashAfterCreate, events: o.Events,
		cancelSeen: map[string]cancelState{}}
}

// Location is the time zone spreadsheet dates are read in.
func (s *Service) Location() *time.Location { return s.loc }

// Outreach is the nudge service (for the flow and the preview).
func (s *Service) Outreach() *outreach.Service { return s.out }

func (s *Service) key(id, part string) string { return s.prefix + ":{b:" + id + "}:" + part }
func (s *Service) listKey() string            { return s.prefix + ":batches" }
func (s *Service) activeKey() string          { return s.prefix + ":batches:active" }
func (s *Service) dedupeKey(kind, h string) string {
	return s.prefix + ":batches:" + kind + ":" + h
}

// Batch is what GET /v1/batches/{id} shows.
type Batch struct {
	ID         string     `json:"id"`
	Flow       string     `json:"flow"`
	State      string     `json:"state"`
	Source     string     `json:"source"` // csv, xlsx, json
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	SendAt     *time.Time `json:"send_at,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Total      int        `json:"rows"`
	Valid      int        `json:"valid"`
	Rejected   int        `json:"rejected"`
	Counts     *Counts    `json:"counts,omitempty"`
	// ExpectedEnd is when the last first message should go out at the
	// current pace (while sending).
	ExpectedEnd *time.Time `json:"expected_end,omitempty"`
	chunks      int
	cursor      int
	queued      bool
	eventDue    bool // done, and the batch.done event not queued yet
	firstSent   time.Time
}

// Counts are a batch's live figures.
type Counts struct {
	Accepted int `json:"accepted"`           // nudges started
	Existing int `json:"existing,omitempty"` // same event already sent meanwhile: not sent again
	Refused  int `json:"refused,omitempty"`  // opted out (or invalid) between the check and the start
	Pending  int `json:"pending"`            // first message not out yet
	Held     struct {
		QuietHours  int `json:"quiet_hours"`
		WeeklyLimit int `json:"weekly_limit"`
	} `json:"held"`
	Sent      int            `json:"sent"` // handed to the provider, no delivery report yet
	Delivered int            `json:"delivered"`
	Failed    int            `json:"failed"`
	FailedBy  map[string]int `json:"failed_by_reason,omitempty"`
	Cancelled int            `json:"cancelled"` // not sent because the batch was cancelled
	// HeldOut: people in an experiment's hold-out arm, who get no message.
	HeldOut  int            `json:"held_out,omitempty"`
	Replied  int            `json:"replied"`
	Callback int            `json:"asked_to_be_called"`
	OptedOut int            `json:"opted_out"`
	Waiting  int            `json:"still_waiting"`
	Ended    int            `json:"ended"`
	Outcomes map[string]int `json:"outcomes,omitempty"`
}

// Handled is how many first messages are no longer waiting to go out (a
// hold-out person's never will).
func (c *Counts) Handled() int {
	return c.Sent + c.Delivered + c.Failed + c.Cancelled + c.HeldOut
}

// metaOf decodes the meta hash.
func metaOf(h map[string]string) *Batch {
	if h["id"] == "" {
		return nil
	}
	b := &Batch{ID: h["id"], Flow: h["flow"], State: h["state"], Source: h["source"], CreatedBy: h["created_by"]}
	b.CreatedAt = msTime(h["created_at"])
	b.Total, _ = strconv.Atoi(h["total"])
	b.Valid, _ = strconv.Atoi(h["valid"])
	b.Rejected, _ = strconv.Atoi(h["rejected"])
	b.chunks, _ = strconv.Atoi(h["chunks"])
	b.cursor, _ = strconv.Atoi(h["cursor"])
	b.queued = h["queued"] == "1"
	b.eventDue = h["event"] == "due"
	b.firstSent = msTime(h["first_sent_at"])
	b.SendAt = msPtr(h["send_at"])
	b.StartedAt = msPtr(h["started_at"])
	if b.State == Done {
		b.FinishedAt = msPtr(h["finished_at"])
	}
	if b.State == Cancelled {
		b.FinishedAt = msPtr(h["cancelled_at"])
	}
	return b
}

func msTime(v string) time.Time {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

func msPtr(v string) *time.Time {
	t := msTime(v)
	if t.IsZero() {
		return nil
	}
	return &t
}

func countsOf(h map[string]string) *Counts {
	c := &Counts{}
	n := func(k string) int { v, _ := strconv.Atoi(h[k]); return v }
	c.Accepted, c.Existing, c.Refused = n("accepted"), n("existing"), n("refused")
	c.Pending = n("d:pending")
	c.Held.QuietHours, c.Held.WeeklyLimit = n("d:held_quiet_hours"), n("d:held_weekly_limit")
	c.Sent, c.Delivered, c.Failed, c.Cancelled = n("d:sent"), n("d:delivered"), n("d:failed"), n("d:cancelled")
	c.HeldOut = n("d:held_out")
	c.Replied, c.Callback, c.OptedOut = n("f:replied"), n("f:callback"), n("f:opted_out")
	c.Waiting, c.Ended = n("c:waiting"), n("c:ended")
	for k, v := range h {
		x, _ := strconv.Atoi(v)
		if x <= 0 {
			continue
		}
		if r, ok := strings.CutPrefix(k, "r:"); ok {
			if c.FailedBy == nil {
				c.FailedBy = map[string]int{}
			}
			c.FailedBy[r] = x
		}
		if o, ok := strings.CutPrefix(k, "o:"); ok {
			if c.Outcomes == nil {
				c.Outcomes = map[string]int{}
			}
			c.Outcomes[o] = x
		}
	}
	return c
}

// Get loads a batch with its figures (three reads, whatever its size).
func (s *Service) Get(ctx context.Context, id string) (*Batch, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	pipe := s.rdb.Pipeline()
	m := pipe.HGetAll(ctx, s.key(id, "meta"))
	n := pipe.HGetAll(ctx, s.key(id, "n"))
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("load batch: %w", err)
	}
	b := metaOf(m.Val())
	if b == nil {
		return nil, ErrNotFound
	}
	b.Counts = countsOf(n.Val())
	s.expectedEnd(b)
	return b, nil
}

// expectedEnd estimates when the last first message goes out: the rows
// not handed over yet at the pace seen so far (or the configured SMS rate
// before the first message left). Held messages go at their own time and
// are not counted.
func (s *Service) expectedEnd(b *Batch) {
	if b.State != Sending && b.State != Scheduled {
		return
	}
	c := b.Counts
	remaining := b.Valid - c.Existing - c.Refused - c.Handled() - c.Held.QuietHours - c.Held.WeeklyLimit
	if remaining < 0 {
		remaining = 0
	}
	now := s.now()
	start := now
	if b.State == Scheduled && b.SendAt != nil && b.SendAt.After(now) {
		start = *b.SendAt
	}
	rate := s.smsRate
	if !b.firstSent.IsZero() && c.Handled() > 1 {
		if el := now.Sub(b.firstSent).Seconds(); el > 1 {
			rate = float64(c.Handled()) / el
		}
	}
	if rate <= 0 {
		return
	}
	end := start.Add(time.Duration(float64(remaining) / rate * float64(time.Second))).UTC().Truncate(time.Second)
	b.ExpectedEnd = &end
}

func validID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, r := range id {
		if !strings.ContainsRune("0123456789abcdefghjkmnpqrstvwxyz", r) {
			return false
		}
	}
	return true
}

// List returns the newest batches first (at most limit), with figures.
func (s *Service) List(ctx context.Context, limit int64) ([]*Batch, error) {
	ids, err := s.rdb.ZRevRange(ctx, s.listKey(), 0, limit-1).Result()
	if err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	out := make([]*Batch, 0, len(ids))
	for _, id := range ids {
		b, err := s.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			s.rdb.ZRem(ctx, s.listKey(), id) // expired
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Rejected returns the rejected rows from offset (at most limit).
func (s *Service) Rejected(ctx context.Context, id string, offset, limit int) ([]Rejection, error) {
	chunks, err := s.rdb.LRange(ctx, s.key(id, "rej"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("load rejected rows: %w", err)
	}
	var out []Rejection
	seen := 0
	for _, c := range chunks {
		var rs []Rejection
		if err := json.Unmarshal([]byte(c), &rs); err != nil {
			return nil, fmt.Errorf("decode rejected rows: %w", err)
		}
		for _, r := range rs {
			if seen >= offset && len(out) < limit {
				out = append(out, r)
			}
			seen++
		}
	}
	return out, nil
}

// NewRequest is a batch to create.
type NewRequest struct {
	Flow           string
	Source         string // csv, xlsx, json
	Items          []Item
	Names          Namer
	Caseworker     string // signs rows without a caseworker
	SendAt         time.Time
	Start          bool
	IdempotencyKey string
	By             string // API token or console user
}

// Created is the answer to NewRequest.
type Created struct {
	Batch    *Batch
	Rejected []Rejection // every rejected row
	// Existing is set when the same upload (or Idempotency-Key) made this
	// batch before: nothing new was created or sent.
	Existing bool
}

// NoValidRows is returned when every row was rejected: nothing is stored.
type NoValidRows struct{ Rejected []Rejection }

func (e *NoValidRows) Error() string {
	return fmt.Sprintf("none of the %d rows can be sent; fix the rows listed and upload the file again", len(e.Rejected))
}

// digest identifies an upload's content as it came in: the same people,
// flow, variables and send time, by the same person.
func digest(req NewRequest) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s\x00", req.By, req.Flow, req.SendAt.Unix(), req.Caseworker)
	enc := json.NewEncoder(h)
	for _, it := range req.Items {
		it.Vars = it.vars() // a table row's cells as the map they stand for
		_ = enc.Encode(it)  // maps encode with sorted keys
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Create checks every row and stores the batch in state checked (or starts
// it when asked). Nothing is sent before Start. The same upload twice, or
// the same Idempotency-Key, gives the first batch back (Existing).
func (s *Service) Create(ctx context.Context, req NewRequest) (*Created, error) {
	if req.IdempotencyKey != "" {
		if b, err := s.existing(ctx, "idem", hash(req.By+"\x00"+req.IdempotencyKey)); b != nil || err != nil {
			return s.again(ctx, b, req, err)
		}
	}
	f, ok := s.out.Flows.Current(req.Flow)
	if !ok {
		return nil, &outreach.FieldError{Field: "flow", Code: "unknown_flow", Message: fmt.Sprintf("there is no flow %q", req.Flow)}
	}
	if len(req.Items) == 0 {
		return nil, &InputError{Code: "no_rows", Message: "there are no people in the batch: the file has a header but no rows"}
	}
	if len(req.Items) > MaxRows {
		return nil, &InputError{Code: "too_many_rows", Message: fmt.Sprintf("the batch has %d people; at most %d fit in one batch", len(req.Items), MaxRows)}
	}
	dg := digest(req)
	if b, err := s.existing(ctx, "digest", dg); b != nil || err != nil {
		if err != nil || b.State != Cancelled {
			return s.again(ctx, b, req, err)
		}
	}
	chk, err := Check(ctx, s.out, s.st, f, req.Items, req.Names, req.Caseworker)
	if err != nil {
		return nil, err
	}
	total := len(req.Items)
	req.Items = nil // checked: the rows carry on, the items can go
	if len(chk.Valid) == 0 {
		return nil, &NoValidRows{Rejected: chk.Rejected}
	}
	now := s.now()
	id := store.NewID(now)
	// The rows go first, a few chunks per round trip, each row let go once
	// encoded: a batch of 100,000 never exists as rows and JSON at once.
	// The meta below makes them a batch; rows of a batch whose meta was
	// never written (a crash in between) are nobody's and expire.
	chunks := 0
	const perTrip = 20
	for lo := 0; lo < len(chk.Valid); lo += s.chunk * perTrip {
		pipe := s.rdb.Pipeline()
		for clo := lo; clo < min(lo+s.chunk*perTrip, len(chk.Valid)); clo += s.chunk {
			part := chk.Valid[clo:min(clo+s.chunk, len(chk.Valid))]
			b, err := json.Marshal(part)
			if err != nil {
				return nil, fmt.Errorf("encode rows: %w", err)
			}
			clear(part)
			pipe.RPush(ctx, s.key(id, "items"), b)
			chunks++
		}
		pipe.PExpire(ctx, s.key(id, "items"), s.ttl)
		if _, err := pipe.Exec(ctx); err != nil {
			s.dropRows(ctx, id)
			return nil, fmt.Errorf("store batch rows: %w", err)
		}
	}
	valid := len(chk.Valid)
	chk.Valid = nil
	pipe := s.rdb.TxPipeline()
	for lo := 0; lo < len(chk.Rejected); lo += 1000 {
		b, err := json.Marshal(chk.Rejected[lo:min(lo+1000, len(chk.Rejected))])
		if err != nil {
			return nil, fmt.Errorf("encode rejected rows: %w", err)
		}
		pipe.RPush(ctx, s.key(id, "rej"), b)
	}
	meta := map[string]any{"id": id, "flow": f.ID, "state": Checked, "source": req.Source, "created_at": now.UnixMilli(),
		"created_by": req.By, "total": total, "valid": valid, "rejected": len(chk.Rejected),
		"chunks": chunks, "cursor": 0, "digest": dg}
	if !req.SendAt.IsZero() {
		meta["send_at"] = req.SendAt.UnixMilli()
	}
	pipe.HSet(ctx, s.key(id, "meta"), meta)
	for _, k := range []string{"meta", "items", "rej"} {
		pipe.PExpire(ctx, s.key(id, k), s.ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		s.dropRows(ctx, id)
		return nil, fmt.Errorf("store batch: %w", err)
	}
	// The indexes live in other slots: written after the batch. A crash
	// in between leaves a batch nobody lists, which expires by itself.
	gp := s.rdb.Pipeline()
	gp.Set(ctx, s.dedupeKey("digest", dg), id, s.ttl)
	if req.IdempotencyKey != "" {
		gp.Set(ctx, s.dedupeKey("idem", hash(req.By+"\x00"+req.IdempotencyKey)), id, s.ttl)
	}
	gp.ZAdd(ctx, s.listKey(), redis.Z{Score: float64(now.UnixMilli()), Member: id})
	gp.ZRemRangeByScore(ctx, s.listKey(), "-inf", strconv.FormatInt(now.Add(-s.ttl).UnixMilli(), 10))
	if _, err := gp.Exec(ctx); err != nil {
		return nil, fmt.Errorf("list batch: %w", err)
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: ActionBatchCreate, Detail: fmt.Sprintf("batch %s: flow %s, %d valid, %d rejected",
		id, f.ID, valid, len(chk.Rejected))}); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "batch checked", "batch", id, "flow", f.ID, "valid", valid, "rejected", len(chk.Rejected), "by", req.By)
	if req.Start {
		if err := s.Start(ctx, id, time.Time{}); err != nil {
			return nil, err
		}
	}
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return &Created{Batch: b, Rejected: chk.Rejected}, nil
}

// dropRows removes the stored rows of a batch whose meta was not written
// (best effort: otherwise they expire with the batch TTL), so people's
// rows do not linger in a batch nobody can see.
func (s *Service) dropRows(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := s.rdb.Del(ctx, s.key(id, "items")).Err(); err != nil {
		s.log.WarnContext(ctx, "rows of an unfinished batch left to expire", "batch", id, "err", err)
	}
}

// Audit actions of batches.
const (
	ActionBatchCreate = "batch_create"
	ActionBatchStart  = "batch_start"
	ActionBatchCancel = "batch_cancel"
)

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// existing finds the batch an upload or key made before.
func (s *Service) existing(ctx context.Context, kind, h string) (*Batch, error) {
	id, err := s.rdb.Get(ctx, s.dedupeKey(kind, h)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find batch: %w", err)
	}
	b, err := s.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return b, err
}

// again answers a repeated upload with the batch it made the first time
// (started now when asked and still checked).
func (s *Service) again(ctx context.Context, b *Batch, req NewRequest, err error) (*Created, error) {
	if err != nil {
		return nil, err
	}
	if req.Start && b.State == Checked {
		if err := s.Start(ctx, b.ID, time.Time{}); err != nil {
			return nil, err
		}
		if b, err = s.Get(ctx, b.ID); err != nil {
			return nil, err
		}
	}
	rej, err := s.Rejected(ctx, b.ID, 0, MaxRows)
	if err != nil {
		return nil, err
	}
	return &Created{Batch: b, Rejected: rej, Existing: true}, nil
}

// Start starts a checked batch: at sendAt (or the send_at given when it was
// created) or now. The state change is stored before the work is queued;
// Recover queues the work of any started batch whose run is missing, so a
// crash in between delays the batch and never loses it.
func (s *Service) Start(ctx context.Context, id string, sendAt time.Time) error {
	b, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if b.State != Checked {
		return fmt.Errorf("%w: it is %s", ErrState, b.State)
	}
	now := s.now()
	if sendAt.IsZero() && b.SendAt != nil {
		sendAt = *b.SendAt
	}
	state, at := Sending, ""
	if sendAt.After(now) {
		state, at = Scheduled, strconv.FormatInt(sendAt.UnixMilli(), 10)
	}
	if err := s.rdb.SAdd(ctx, s.activeKey(), id).Err(); err != nil {
		return fmt.Errorf("start batch: %w", err)
	}
	prev, err := moveScript.Run(ctx, s.rdb, []string{s.key(id, "meta")}, state, "started_at", now.UnixMilli(), at, Checked).Text()
	if err != nil {
		return fmt.Errorf("start batch: %w", err)
	}
	if prev != Checked {
		return fmt.Errorf("%w: it is %s", ErrState, prev)
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: ActionBatchStart, Detail: fmt.Sprintf("batch %s: %d people", id, b.Valid)}); err != nil {
		s.log.WarnContext(ctx, "audit batch start", "batch", id, "err", err)
	}
	return s.enqueue(ctx, id, sendAt)
}

func (s *Service) enqueue(ctx context.Context, id string, at time.Time) error {
	if !at.After(s.now()) {
		at = time.Time{}
	}
	return s.queue.EnqueueTask(ctx, TaskType, "batch:"+id, []byte(id), at, time.Hour)
}

// Cancel stops a batch: rows not yet started are not, and first messages
// not yet out are not sent (their conversations end). Conversations whose
// first message went out carry on: the person may answer.
func (s *Service) Cancel(ctx context.Context, id string) error {
	if !validID(id) {
		return ErrNotFound
	}
	prev, err := moveScript.Run(ctx, s.rdb, []string{s.key(id, "meta")}, Cancelled, "cancelled_at", s.now().UnixMilli(), "",
		Checked, Scheduled, Sending).Text()
	if err != nil {
		return fmt.Errorf("cancel batch: %w", err)
	}
	switch prev {
	case "":
		return ErrNotFound
	case Checked, Scheduled, Sending:
	default:
		return fmt.Errorf("%w: it is %s", ErrState, prev)
	}
	s.remember(id, true, s.now())
	s.rdb.SRem(ctx, s.activeKey(), id)
	if err := s.audit.Record(ctx, audit.Entry{Action: ActionBatchCancel, Detail: "batch " + id}); err != nil {
		s.log.WarnContext(ctx, "audit batch cancel", "batch", id, "err", err)
	}
	s.log.InfoContext(ctx, "batch cancelled", "batch", id, "was", prev)
	return nil
}

// Recover queues the run of every started batch that has rows left (after
// a crash between a start and its queueing, or a lost task), and the
// batch.done event of every finished batch whose event was not queued yet
// (after a crash, or while the queue was down). A batch leaves the active
// set only when it is done and told, or cancelled. Queueing a run that
// waits or runs already is a no-op.
func (s *Service) Recover(ctx context.Context) error {
	ids, err := s.rdb.SMembers(ctx, s.activeKey()).Result()
	if err != nil {
		return fmt.Errorf("recover batches: %w", err)
	}
	var errs []error
	for _, id := range ids {
		b, err := s.Get(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			s.rdb.SRem(ctx, s.activeKey(), id)
			continue
		case err != nil:
			errs = append(errs, err)
			continue
		case b.State == Done:
			errs = append(errs, s.announceDone(ctx, b.ID, b.Flow, b.eventDue))
			continue
		case b.State == Sending && b.queued:
			continue // every row accepted; waiting for the last sends to finish
		case b.State != Sending && b.State != Scheduled:
			s.rdb.SRem(ctx, s.activeKey(), id)
			continue
		}
		at := time.Time{}
		if b.State == Scheduled && b.SendAt != nil {
			at = *b.SendAt
		}
		errs = append(errs, s.enqueue(ctx, id, at))
	}
	return errors.Join(errs...)
}

// announceDone queues the batch.done event (when due: the script that ended
// the batch marked it), clears the mark, and takes the batch off the
// active set. Queueing is idempotent (the event id comes from the batch),
// so a repeat after a crash between queueing and clearing tells the case
// system once.
func (s *Service) announceDone(ctx context.Context, id, flow string, due bool) error {
	if due && s.events != nil && s.events.Enabled() {
		ev := store.CaseEvent{ID: "batch." + id + ".done", Type: events.BatchDone, Batch: id, Flow: flow, State: Done, At: s.now()}
		if err := s.events.Enqueue(ctx, []store.CaseEvent{ev}); err != nil {
			return fmt.Errorf("batch %s: tell done: %w", id, err)
		}
	}
	if due {
		if err := s.rdb.HDel(ctx, s.key(id, "meta"), "event").Err(); err != nil {
			return fmt.Errorf("batch %s: tell done: %w", id, err)
		}
	}
	return s.rdb.SRem(ctx, s.activeKey(), id).Err()
}

// RecoverEvery runs Recover now and then every interval until ctx ends.
func (s *Service) RecoverEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Recover(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "recover batches", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Preview is the first message one row gets.
type Preview struct {
	Row      int
	Ref      string
	Name     string
	Messages []string
	// Lang is the language of Messages: the row's, or Dutch when the flow
	// does not have it.
	Lang string
}

// Previews renders the first message for the first n valid rows, with the
// renderer of the real send.
func (s *Service) Previews(ctx context.Context, id string, n int) ([]Preview, error) {
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	raw, err := s.rdb.LIndex(ctx, s.key(id, "items"), 0).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("batch %s rows: %w", id, err)
	}
	var rows []Row
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		return nil, fmt.Errorf("batch %s rows: %w", id, err)
	}
	var out []Preview
	for _, r := range rows[:min(n, len(rows))] {
		vars := r.Vars.Map()
		msgs, used, err := s.out.PreviewFirst(outreach.TriggerRequest{Flow: b.Flow, Ref: r.Ref, Phone: r.Phone, Name: r.Name, Lang: r.Lang,
			Vars: vars, Caseworker: r.Caseworker})
		if err != nil {
			return nil, err
		}
		out = append(out, Preview{Row: r.Row, Ref: r.Ref, Name: r.Name, Messages: msgs, Lang: used})
	}
	return out, nil
}
