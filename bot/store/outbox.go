package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/audit"
)

// A state change and the work it queues never part ways. Redis Cluster
// cannot put a recipient's keys and the job queue in one atomic script, so
// every change that queues work (a new nudge, a reply, a timer) writes that
// work to the recipient's outbox in the same script as the change, and a
// pointer to it in a sharded "pending" sorted set just before (in the same
// round trip). After the work is queued, the entry and its pointer are
// removed. A crash in between leaves the pointer; the recovery pass
// (PendingDue) finds it and queues the work again. Queueing is idempotent
// (task ids come from message ids; a sent message is not sent again; a
// stale timer is ignored), so queueing twice is harmless.
//
// A received text is the same: it is stored with a pointer and listed in
// the recipient's "inbound pending" hash until the script that finishes
// its processing removes it; the recovery pass processes texts whose
// processing never finished.
//
// Keys (all personal data under the recipient's hash tag, with a TTL):
//
//	<prefix>:{r:<tag>}:outbox   outbox id → Work json
//	<prefix>:{r:<tag>}:inp      msg id → PendingInbound json (not yet processed)
//	<prefix>:{r:<tag>}:rcp      fields "v:<cid>" → "ms|msgid": a conversation's
//	                            last proactive message handed to the provider
//	                            (routing; store.go lists the rcp fields)
//	<prefix>:{pend:<n>}         n = 0..15: "kind|tag|id" scored by time (no
//	                            personal data)

// PendingShards is the number of pending sorted sets (spread over a cluster).
const PendingShards = 16

// Pointer kinds.
const (
	KindOutbox  = "ob" // an outbox entry (nudge created, timer fired, ...)
	KindInbound = "in" // a received text; its outbox entry has the text's id
)

// Work is what one committed change queues.
type Work struct {
	Conv   string      `json:"c,omitempty"`
	Sends  []string    `json:"s,omitempty"`
	Timers []TimerWork `json:"t,omitempty"`
	// Ix are cross-recipient index entries (callback queue, inbox).
	Ix []IndexOp `json:"ix,omitempty"`
	// Events are told to the case system (bot/events).
	Events []CaseEvent `json:"ev,omitempty"`
	// Status is the follow-up of a delivery report.
	Status *StatusWork `json:"st,omitempty"`
	// Link is the follow-up of a linked chat (address index).
	Link *LinkWork `json:"ln,omitempty"`
	// Audit are audit trail entries of the change.
	Audit []audit.Entry `json:"au,omitempty"`
	// Group names the grouped send task (EnqueueSends) that queues Sends
	// with other nudges' messages, chosen before the change is stored: the
	// recovery pass finds that task by it and, while it is alive, leaves it
	// the messages it carries, so no message is queued twice under two ids
	// (and none that it does not carry is left out).
	Group string `json:"g,omitempty"`
	// TimersWritten says the timers were written in the same round trip
	// as the change (CreateIndexed), so queueing the work need not write
	// them again. Not stored: work read back from the outbox (the recovery
	// pass) writes them again, which is harmless.
	TimersWritten bool `json:"-"`
}

// Empty reports whether there is nothing to queue.
func (w *Work) Empty() bool {
	return w == nil || (len(w.Sends) == 0 && len(w.Timers) == 0 && len(w.Ix) == 0 && len(w.Events) == 0 &&
		w.Status == nil && w.Link == nil && len(w.Audit) == 0)
}

// StatusWork is what a delivery report leaves to do after its status is
// recorded: escalate or fall back when the message did not arrive, and the
// bookkeeping of an opt-out the provider reported (index, audit trail).
// Running it again is harmless.
type StatusWork struct {
	Channel    string    `json:"ch"`
	ProviderID string    `json:"p"`
	State      string    `json:"s"`
	Code       int       `json:"c,omitempty"`
	Reason     string    `json:"r,omitempty"`
	OptOut     bool      `json:"o,omitempty"`
	At         time.Time `json:"at"`
}

// TimerWork is a timer to schedule.
type TimerWork struct {
	Kind  string    `json:"k,omitempty"`
	Seq   int       `json:"q"`
	Index int       `json:"i,omitempty"`
	At    time.Time `json:"at"`
}

// Outbox names one outbox entry and its pointer.
type Outbox struct {
	Kind string // KindOutbox or KindInbound
	Tag  string
	ID   string
	At   time.Time // when the pointer was written
}

// NewOutbox returns a fresh outbox entry name for a change of recipient tag.
func NewOutbox(tag string, now time.Time) Outbox {
	return Outbox{Kind: KindOutbox, Tag: tag, ID: NewID(now), At: now}
}

// InboundOutbox names the outbox entry of received text msgID.
func InboundOutbox(tag, msgID string, now time.Time) Outbox {
	return Outbox{Kind: KindInbound, Tag: tag, ID: msgID, At: now}
}

func (o Outbox) member() string { return o.Kind + "|" + o.Tag + "|" + o.ID }

func parseMember(m string, score float64) (Outbox, bool) {
	parts := strings.SplitN(m, "|", 3)
	if len(parts) != 3 {
		return Outbox{}, false
	}
	return Outbox{Kind: parts[0], Tag: parts[1], ID: parts[2], At: time.UnixMilli(int64(score)).UTC()}, true
}

func (s *Store) outboxKey(tag string) string    { return s.key(tag, "outbox") }
func (s *Store) inPendingKey(tag string) string { return s.key(tag, "inp") }

func (s *Store) pendingShard(n int) string { return s.prefix + ":{pend:" + strconv.Itoa(n) + "}" }

func (s *Store) pendingKeyOf(tag string) string {
	h := fnv.New32a()
	h.Write([]byte(tag))
	return s.pendingShard(int(h.Sum32() % PendingShards))
}

// runPointed runs script with a pointer written just before it in the same
// round trip (a pipeline; on Redis Cluster the two may go to different
// nodes, so an error on either one is an error of the whole). A script the
// server does not know yet (after a restart or failover) is sent in full.
func (s *Store) runPointed(ctx context.Context, ob *Outbox, script *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	return s.runPointedWith(ctx, ob, nil, script, keys, args...)
}

// runPointedWith is runPointed with more commands (with) sent in the same
// round trip, after the script. They must be harmless whatever the script
// answers (idempotent index writes).
func (s *Store) runPointedWith(ctx context.Context, ob *Outbox, with func(pipe redis.Pipeliner), script *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	if ob == nil && with != nil {
		pipe := s.rdb.Pipeline()
		cmd := script.EvalSha(ctx, pipe, keys, args...)
		with(pipe)
		sent, _ := pipe.Exec(ctx)
		err := execErr(sent, cmd)
		if err != nil && redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			return s.runPointedWith(ctx, nil, nil, script, keys, args...)
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		return cmd, nil
	}
	if ob == nil {
		cmd := script.Run(ctx, s.rdb, keys, args...)
		if err := cmd.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		return cmd, nil
	}
	for attempt := 0; ; attempt++ {
		pipe := s.rdb.Pipeline()
		s.done.drain(ctx, s, pipe) // earlier cleanups ride along
		pipe.ZAdd(ctx, s.pendingKeyOf(ob.Tag), redis.Z{Score: float64(ob.At.UnixMilli()), Member: ob.member()})
		var cmd *redis.Cmd
		if attempt == 0 {
			cmd = script.EvalSha(ctx, pipe, keys, args...)
		} else {
			cmd = script.Eval(ctx, pipe, keys, args...)
		}
		if with != nil {
			with(pipe)
		}
		s.waitReplicated(ctx, pipe)
		sent, _ := pipe.Exec(ctx)
		err := execErr(sent, cmd)
		if err != nil && attempt == 0 && redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			continue
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		return cmd, nil
	}
}

// waitReplicated ends pipe with a WAIT for Options.WaitReplicas replicas
// when set: the pipeline's writes are on a replica before they are
// answered. Its answer (how many replicas have them) is not checked: a
// missing replica does not stop the service (Options.WaitReplicas).
func (s *Store) waitReplicated(ctx context.Context, pipe redis.Pipeliner) {
	if s.waitReplicas > 0 {
		pipe.Do(ctx, "WAIT", s.waitReplicas, s.waitTimeout.Milliseconds())
	}
}

// execErr is the error of a pipeline that ran script main with more
// commands along: the first command's error, where a script sent along
// that the server does not know yet (NOSCRIPT) does not count (its sender
// checks its own answer and runs it again).
func execErr(cmds []redis.Cmder, main *redis.Cmd) error {
	for _, c := range cmds {
		e := c.Err()
		if e == nil || errors.Is(e, redis.Nil) {
			continue
		}
		if c != redis.Cmder(main) && redis.HasErrorPrefix(e, "NOSCRIPT") {
			continue
		}
		return e
	}
	return nil
}

// dropPointer removes a pointer that turned out to point at nothing (the
// change was refused). Best effort: the recovery pass drops it otherwise.
func (s *Store) dropPointer(ctx context.Context, ob Outbox) {
	_ = s.rdb.ZRem(ctx, s.pendingKeyOf(ob.Tag), ob.member()).Err()
}

func encodeWork(w *Work) (string, error) {
	if w.Empty() {
		return "", nil
	}
	b, err := json.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("encode work: %w", err)
	}
	return string(b), nil
}

// OutboxDone removes an outbox entry and its pointer once its work is queued.
func (s *Store) OutboxDone(ctx context.Context, ob Outbox) error {
	pipe := s.rdb.Pipeline()
	s.outboxDoneCmds(ctx, pipe, ob)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("outbox done: %w", err)
	}
	return nil
}

// doneQueue holds outbox entries whose work is queued, to be removed
// together with the next pointer written (no round trip of their own) or,
// when no pointer is written within doneDelay, by a flush of their own.
// Removing an entry late is harmless: until it is removed the recovery pass
// may queue its work again, which is idempotent; and the pass only looks at
// pointers older than its grace period (30 s), or flushes first (FlushDone).
type doneQueue struct {
	mu      sync.Mutex
	obs     []Outbox
	pending bool // a flush is scheduled
}

// doneDelay is how long a finished outbox entry may wait for a pipeline to
// ride on before it is removed on its own.
const doneDelay = 5 * time.Millisecond

func (q *doneQueue) take() []Outbox {
	q.mu.Lock()
	defer q.mu.Unlock()
	obs := q.obs
	q.obs = nil
	return obs
}

// drain adds the removal of the waiting entries to pipe.
func (q *doneQueue) drain(ctx context.Context, s *Store, pipe redis.Pipeliner) {
	for _, ob := range q.take() {
		s.outboxDoneCmds(ctx, pipe, ob)
	}
}

func (s *Store) outboxDoneCmds(ctx context.Context, pipe redis.Pipeliner, ob Outbox) {
	pipe.HDel(ctx, s.outboxKey(ob.Tag), ob.ID)
	pipe.ZRem(ctx, s.pendingKeyOf(ob.Tag), ob.member())
}

// OutboxDoneSoon removes an outbox entry and its pointer once its work is
// queued, without a round trip of its own: with the next pointer written
// (runPointed), or after doneDelay. A failed removal leaves the entry for
// the recovery pass, which finds its work queued already.
func (s *Store) OutboxDoneSoon(ob Outbox) {
	q := s.done
	q.mu.Lock()
	q.obs = append(q.obs, ob)
	schedule := !q.pending
	q.pending = true
	q.mu.Unlock()
	if schedule {
		time.AfterFunc(doneDelay, func() {
			q.mu.Lock()
			q.pending = false
			q.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.FlushDone(ctx)
		})
	}
}

// FlushDone removes the entries waiting in OutboxDoneSoon now.
func (s *Store) FlushDone(ctx context.Context) error {
	obs := s.done.take()
	if len(obs) == 0 {
		return nil
	}
	pipe := s.rdb.Pipeline()
	for _, ob := range obs {
		s.outboxDoneCmds(ctx, pipe, ob)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("outbox done: %w", err)
	}
	return nil
}

// OutboxWork returns the work of an outbox entry (nil when there is none:
// already queued, or the change never happened).
func (s *Store) OutboxWork(ctx context.Context, tag, id string) (*Work, error) {
	v, err := s.rdb.HGet(ctx, s.outboxKey(tag), id).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load outbox: %w", err)
	}
	var w Work
	if err := json.Unmarshal([]byte(v), &w); err != nil {
		return nil, fmt.Errorf("decode outbox: %w", err)
	}
	return &w, nil
}

// OutboxOf returns every outbox entry of a recipient whose work belongs to
// conversation cid (a repeated trigger checks its nudge was queued).
func (s *Store) OutboxOf(ctx context.Context, tag, cid string) (map[Outbox]Work, error) {
	all, err := s.rdb.HGetAll(ctx, s.outboxKey(tag)).Result()
	if err != nil {
		return nil, fmt.Errorf("load outbox: %w", err)
	}
	out := map[Outbox]Work{}
	for id, v := range all {
		var w Work
		if json.Unmarshal([]byte(v), &w) != nil || w.Conv != cid {
			continue
		}
		out[Outbox{Kind: KindOutbox, Tag: tag, ID: id}] = w
	}
	return out, nil
}

// PendingDue returns up to limit pointers written before before, oldest
// first per shard. Reading them costs one ZRANGEBYSCORE per shard however
// large the store is.
func (s *Store) PendingDue(ctx context.Context, before time.Time, limit int64) ([]Outbox, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.ZSliceCmd, PendingShards)
	for n := range PendingShards {
		cmds[n] = pipe.ZRangeByScoreWithScores(ctx, s.pendingShard(n), &redis.ZRangeBy{
			Min: "-inf", Max: strconv.FormatInt(before.UnixMilli(), 10), Count: limit})
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("pending: %w", err)
	}
	var out []Outbox
	for _, c := range cmds {
		for _, z := range c.Val() {
			m, _ := z.Member.(string)
			if ob, ok := parseMember(m, z.Score); ok {
				out = append(out, ob)
			}
		}
	}
	return out, nil
}

// PendingCount returns how many pointers wait (for metrics and tests).
func (s *Store) PendingCount(ctx context.Context) (int64, error) {
	n, err := s.cardSum(ctx, PendingShards, s.pendingShard)
	if err != nil {
		return 0, fmt.Errorf("pending count: %w", err)
	}
	return n, nil
}

// cardSum returns the total size of the sorted sets key(0..shards-1), in
// one round trip.
func (s *Store) cardSum(ctx context.Context, shards int, key func(int) string) (int64, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, shards)
	for n := range shards {
		cmds[n] = pipe.ZCard(ctx, key(n))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, err
	}
	var total int64
	for _, c := range cmds {
		total += c.Val()
	}
	return total, nil
}

// PendingInbound is what is needed to process a stored text again.
type PendingInbound struct {
	Channel string `json:"ch"`
	From    string `json:"from"` // address to answer (phone number or chat id)
}

// InboundPending returns the pending record of a stored text, or nil when
// it was processed (or never stored).
func (s *Store) InboundPending(ctx context.Context, tag, msgID string) (*PendingInbound, error) {
	v, err := s.rdb.HGet(ctx, s.inPendingKey(tag), msgID).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load pending inbound: %w", err)
	}
	var p PendingInbound
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return nil, fmt.Errorf("decode pending inbound: %w", err)
	}
	return &p, nil
}

// FinishInbound is the end of processing of a text that does not advance a
// conversation.
type FinishInbound struct {
	In  Message // the text, with Conv and Route filled in
	Out *Message
	// OnceKey, when set, sends Out at most once per OnceTTL (an
	// auto-responder must not loop).
	OnceKey string
	OnceTTL time.Duration
	// Set and Del change the recipient hash (opt-out, answer address).
	Set  map[string]string
	Del  string
	Work Work // the answer's send is added by FinishInbound
}

// FinishInbound files the text, stores the answer and the work to queue,
// and marks the text processed, atomically. It returns the work stored in
// the outbox (with the answer's send unless the once period held the
// answer back) and ErrDuplicate when the text was processed already.
func (s *Store) FinishInbound(ctx context.Context, f FinishInbound) (*Work, error) {
	tag := f.In.Tag
	conv := f.In.Conv
	if conv == "" {
		conv = "_"
	}
	inJSON, err := s.mcodec.encode(f.In)
	if err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	without, err := encodeWork(&f.Work)
	if err != nil {
		return nil, err
	}
	outID, outJSON, with := "", []byte(nil), without
	if f.Out != nil {
		outID = f.Out.ID
		if outJSON, err = s.mcodec.encode(*f.Out); err != nil {
			return nil, err
		}
		w := f.Work
		w.Sends = append(append([]string(nil), w.Sends...), outID)
		if with, err = encodeWork(&w); err != nil {
			return nil, err
		}
	}
	once := ""
	onceKey := s.onceKey(tag, "_")
	if f.OnceKey != "" {
		once = strconv.FormatInt(ms(f.OnceTTL), 10)
		onceKey = s.onceKey(tag, f.OnceKey)
	}
	keys := []string{s.inPendingKey(tag), s.msgsKey(tag), s.rcpKey(tag), onceKey, s.outboxKey(tag)}
	args := []any{f.In.ID, inJSON, ms(s.retention), once, outID, outJSON, f.In.ID, with, without, f.Del, conv, len(f.Set)}
	for k, v := range f.Set {
		args = append(args, k, v)
	}
	res, err := finishInboundScript.Run(ctx, s.rdb, keys, args...).Text()
	if err != nil {
		return nil, fmt.Errorf("finish inbound: %w", err)
	}
	switch res {
	case "dup":
		return nil, ErrDuplicate
	case "ok":
		if f.Out != nil {
			w := f.Work
			w.Sends = append(append([]string(nil), w.Sends...), f.Out.ID)
			return &w, nil
		}
	}
	return &f.Work, nil
}

// Route finds the conversation a reply of recipient tag belongs to (see
// routeLua): kind "wait" (route into it), "late" (ended within late: file
// it there as a late reply) or "" (none).
func (s *Store) Route(ctx context.Context, tag string, now time.Time, late time.Duration) (string, *Nudge, error) {
	res, err := routeScript.Run(ctx, s.rdb, []string{s.rcpKey(tag), s.msgsKey(tag)}, now.UnixMilli(), ms(late)).StringSlice()
	if err != nil {
		return "", nil, fmt.Errorf("route: %w", err)
	}
	if res[0] == "" {
		return "", nil, nil
	}
	n, err := s.decodeNudge(tag, res[2], res[3])
	if err != nil {
		return "", nil, err
	}
	return res[0], n, nil
}

// MessageOfProvider returns the message id a provider id was recorded for
// ("" when the send is not recorded yet).
func (s *Store) MessageOfProvider(ctx context.Context, tag, providerID string) (string, error) {
	v, err := s.rdb.HGet(ctx, s.rcpKey(tag), providerField(providerID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load provider id: %w", err)
	}
	return v, nil
}
