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

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/recipient"
)

// Recipient is what Seintje knows of a person: as little as it needs.
type Recipient struct {
	Tag     string               `json:"-"`
	Phone   string               `json:"-"` // E.164
	Ref     string               `json:"ref"`
	Name    string               `json:"name"`
	Lang    string               `json:"lang"`
	OptOuts map[string]time.Time `json:"opt_outs,omitempty"` // channel → when
	// Addrs are reply addresses per channel for senders without a nudge
	// (an unknown number that texted us).
	Addrs map[string]string `json:"-"`
	// Channels is the recipient's channel model (addresses, consent,
	// opt-outs, preference), read from the same hash.
	Channels recipient.Channels `json:"-"`
}

// OptedOut reports whether the recipient opted out of channel ch.
func (r Recipient) OptedOut(ch string) bool {
	_, ok := r.OptOuts[ch]
	return ok
}

// FirstName returns the first word of the name.
func (r Recipient) FirstName() string {
	f, _, _ := strings.Cut(strings.TrimSpace(r.Name), " ")
	return f
}

// Known reports whether the recipient was ever registered by a nudge.
func (r Recipient) Known() bool { return r.Ref != "" || r.Phone != "" }

func recipientFromHash(tag string, h map[string]string) Recipient {
	r := Recipient{Tag: tag, Phone: h["phone"], Ref: h["ref"], Name: h["name"], Lang: h["lang"]}
	for k, v := range h {
		if ch, ok := strings.CutPrefix(k, "addr:"); ok {
			if r.Addrs == nil {
				r.Addrs = map[string]string{}
			}
			r.Addrs[ch] = v
		}
		if ch, ok := strings.CutPrefix(k, "optout:"); ok {
			if r.OptOuts == nil {
				r.OptOuts = map[string]time.Time{}
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			r.OptOuts[ch] = time.UnixMilli(n).UTC()
		}
	}
	r.Channels = channelsFromHash(h)
	return r
}

// Nudge is a conversation with the case-worker facing metadata.
type Nudge struct {
	engine.Conversation
	Tag         string   `json:"tag"`
	Ref         string   `json:"ref"`
	Name        string   `json:"name"`
	Channel     string   `json:"channel"`
	TriggeredBy string   `json:"triggered_by"` // API token name: every nudge is traceable
	EventKey    string   `json:"event_key"`
	CallbackIDs []string `json:"callback_ids,omitempty"`
	Notes       []Note   `json:"notes,omitempty"`
	// Batch is the batch that started this nudge ("" for a single nudge).
	Batch string `json:"batch,omitempty"`
}

// Note is a line the case worker sees in the nudge (deferred, refused, ...).
type Note struct {
	At   time.Time `json:"at"`
	Code string    `json:"code"`
	Text string    `json:"text"`
}

// Message is one text in or out.
type Message struct {
	ID        string    `json:"id"`
	Tag       string    `json:"-"`
	Conv      string    `json:"conv,omitempty"`
	Dir       string    `json:"dir"` // "in" or "out"
	Channel   string    `json:"channel"`
	At        time.Time `json:"at"`
	Body      string    `json:"body"`
	Kind      string    `json:"kind"` // say, simple, ack, system, reply
	Step      string    `json:"step,omitempty"`
	Proactive bool      `json:"proactive,omitempty"`
	// Route is where an inbound message was routed ("callback", "(forward)").
	Route      string   `json:"route,omitempty"`
	ProviderID string   `json:"provider_id,omitempty"`
	Buttons    []Button `json:"buttons,omitempty"`
	// Batch is set on the first message of a nudge started by a batch: its
	// delivery is counted in the batch's figures.
	Batch string `json:"batch,omitempty"`
	// FallbackOf is the id of the message this one copies on another
	// channel (a fallback, or a standby SMS for an undelivered WhatsApp).
	FallbackOf string `json:"fallback_of,omitempty"`
	// AsTemplate sends the message as the step's approved template
	// (WhatsApp, after the provider refused free text).
	AsTemplate bool `json:"as_template,omitempty"`
	// Status is filled from the status hash on read.
	Status *Status `json:"status,omitempty"`
}

// Button is a reply choice stored with an outbound message.
type Button struct {
	Label string `json:"label"`
	Reply string `json:"reply"`
}

// Status is a message's delivery state.
type Status struct {
	State  string    `json:"state"` // pending, queued, sent, delivered, undelivered, failed, suppressed, ...
	Code   int       `json:"code,omitempty"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// rank orders statuses so a late "sent" never overwrites "delivered".
func rank(state string) int {
	switch state {
	case "pending", "deferred":
		return 0
	case "accepted", "scheduled", "queued":
		return 1
	case "sending":
		return 2
	case "sent":
		return 3
	case "delivered", "undelivered", "failed", "canceled", "suppressed", "error":
		return 4
	case "read":
		return 5
	}
	return 1
}

func encodeStatus(st Status) string {
	return fmt.Sprintf("%d|%s|%d|%d|%s", rank(st.State), st.State, st.Code, st.At.UnixMilli(), st.Reason)
}

func decodeStatus(v string) *Status {
	parts := strings.SplitN(v, "|", 5)
	if len(parts) != 5 {
		return nil
	}
	code, _ := strconv.Atoi(parts[2])
	at, _ := strconv.ParseInt(parts[3], 10, 64)
	return &Status{State: parts[1], Code: code, At: time.UnixMilli(at).UTC(), Reason: parts[4]}
}

// CreateResult says what Create did.
type CreateResult struct {
	Created  bool   // a new conversation was stored
	Existing string // id of the conversation this event already started
	Active   string // id of a waiting conversation of the same flow
}

// Create stores a new nudge with its first messages and the work it queues
// (in outbox entry ob), atomically: nothing is stored when the recipient
// opted out (ErrOptedOut), when the same event already created one
// (Existing), or when the flow is active (Active).
func (s *Store) Create(ctx context.Context, rcp Recipient, n *Nudge, msgs []Message, ob Outbox, w *Work) (CreateResult, error) {
	return s.CreateIndexed(ctx, rcp, n, msgs, ob, w, "")
}

// CreateIndexed is Create that also indexes the case reference (IndexRef
// of refHash, "" for none) in the same round trip. The index is written
// whatever the create answers: it maps the reference to the recipient,
// which is right in every case.
func (s *Store) CreateIndexed(ctx context.Context, rcp Recipient, n *Nudge, msgs []Message, ob Outbox, w *Work, refHash string) (CreateResult, error) {
	c, err := s.createCall(ctx, CreateItem{Recipient: rcp, Nudge: n, Messages: msgs, Outbox: ob, Work: w, RefHash: refHash})
	if err != nil {
		return CreateResult{}, err
	}
	cmd, err := s.runPointedWith(ctx, c.pointer, c.with, createScript, c.keys, c.args...)
	if err != nil {
		return CreateResult{}, fmt.Errorf("create nudge: %w", err)
	}
	return s.createResult(ctx, c, cmd)
}

// CreateItem is one nudge to create (CreateIndexed's arguments).
type CreateItem struct {
	Recipient Recipient
	Nudge     *Nudge
	Messages  []Message
	Outbox    Outbox
	Work      *Work
	RefHash   string
}

// createCall is a create script call, ready to be sent.
type createCall struct {
	keys    []string
	args    []any
	pointer *Outbox
	with    func(pipe redis.Pipeliner) // the case-reference index and the timers, or nil
	timers  []Timer                    // written along (prewriteTimers)
	work    *Work                      // marked when the timers were written
	tag     string
}

func (s *Store) createCall(ctx context.Context, it CreateItem) (createCall, error) {
	rcp, n := it.Recipient, it.Nudge
	tag := rcp.Tag
	n.Rev = 1
	state, err := s.codec.encode(n)
	if err != nil {
		return createCall{}, fmt.Errorf("encode nudge: %w", err)
	}
	keys := []string{s.rcpKey(tag), s.convsKey(tag), s.msgsKey(tag), s.convsKey(tag), s.outboxKey(tag)}
	work, err := encodeWork(it.Work)
	if err != nil {
		return createCall{}, err
	}
	args := []any{"optout:" + n.Channel, n.Flow.ID, n.ID, state, string(n.Status), n.UpdatedAt.UnixMilli(), ms(s.retention), it.Outbox.ID, work,
		n.EventKey}
	fields := [][2]string{{"phone", rcp.Phone}, {"ref", rcp.Ref}, {"name", rcp.Name}, {"lang", rcp.Lang}}
	args = append(args, len(fields))
	for _, f := range fields {
		args = append(args, f[0], f[1])
	}
	args, err = s.appendMessages(args, it.Messages)
	if err != nil {
		return createCall{}, err
	}
	c := createCall{keys: keys, args: args, tag: tag}
	if work != "" {
		ob := it.Outbox
		c.pointer = &ob
	}
	// The timers are written in the same round trip, after the script (a
	// timer never fires before its conversation exists): if the script
	// refuses, the conversation id is never stored and they fire into
	// nothing (and are removed by createResult).
	if c.pointer != nil {
		c.timers = prewriteTimers(tag, it.Work, it.Outbox.At)
		c.work = it.Work
	}
	if it.RefHash != "" || len(c.timers) > 0 {
		timers := c.timers
		c.with = func(pipe redis.Pipeliner) {
			if it.RefHash != "" {
				pipe.Set(ctx, s.gkey("ref", it.RefHash), tag, s.retention)
			}
			s.addTimerCmds(ctx, pipe, timers)
		}
	}
	return c, nil
}

// createResult reads what the create script answered; a pointer to work
// that was not stored is dropped.
func (s *Store) createResult(ctx context.Context, c createCall, cmd *redis.Cmd) (CreateResult, error) {
	res, err := cmd.StringSlice()
	if err != nil {
		return CreateResult{}, fmt.Errorf("create nudge: %w", err)
	}
	if res[0] != "ok" && c.pointer != nil {
		s.dropPointer(ctx, *c.pointer)
		_ = s.RemoveTimers(ctx, c.timers) // best effort: they would fire into nothing
	}
	if res[0] == "ok" && len(c.timers) > 0 {
		c.work.TimersWritten = true
	}
	switch res[0] {
	case "optedout":
		return CreateResult{}, ErrOptedOut
	case "exists":
		return CreateResult{Existing: fullID(c.tag, res[1])}, nil
	case "active":
		return CreateResult{Active: fullID(c.tag, res[1])}, nil
	}
	return CreateResult{Created: true}, nil
}

// CreateMany creates many nudges (a batch's chunk) in one round trip: per
// nudge the same pointer, create script and case-reference index as
// CreateIndexed, in that order, sent in one pipeline. A crash in the middle
// of the pipeline leaves every nudge that was created with its pointer
// (written before its script), so the recovery pass queues its work, as
// for a single nudge. It returns one result and one error per item, or an
// error for the whole call when the round trip failed (then any prefix of
// the items may have been created; creating them again finds the same
// event).
func (s *Store) CreateMany(ctx context.Context, items []CreateItem) ([]CreateResult, []error, error) {
	calls := make([]createCall, len(items))
	errs := make([]error, len(items))
	for i, it := range items {
		calls[i], errs[i] = s.createCall(ctx, it)
	}
	cmds := make([]*redis.Cmd, len(items))
	todo := make([]int, 0, len(items))
	for i := range items {
		if errs[i] == nil {
			todo = append(todo, i)
		}
	}
	for attempt := 0; len(todo) > 0; attempt++ {
		pipe := s.rdb.Pipeline()
		s.done.drain(ctx, s, pipe)
		for _, i := range todo {
			c := calls[i]
			if c.pointer != nil {
				pipe.ZAdd(ctx, s.pendingKeyOf(c.pointer.Tag), redis.Z{Score: float64(c.pointer.At.UnixMilli()), Member: c.pointer.member()})
			}
			if attempt == 0 {
				cmds[i] = createScript.EvalSha(ctx, pipe, c.keys, c.args...)
			} else {
				cmds[i] = createScript.Eval(ctx, pipe, c.keys, c.args...)
			}
			if c.with != nil {
				c.with(pipe)
			}
		}
		s.waitReplicated(ctx, pipe)
		sent, _ := pipe.Exec(ctx)
		// Any failure but a script the server does not know yet fails the
		// whole call (a pointer not written, a connection lost half-way):
		// the caller tries again, and what was created is found again.
		for _, c := range sent {
			if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) && !(attempt == 0 && redis.HasErrorPrefix(err, "NOSCRIPT")) {
				return nil, nil, fmt.Errorf("create nudges: %w", err)
			}
		}
		var again []int
		for _, i := range todo {
			if attempt == 0 && redis.HasErrorPrefix(cmds[i].Err(), "NOSCRIPT") {
				again = append(again, i) // not run: sent in full next
			}
		}
		if len(again) == 0 {
			break
		}
		todo = again
	}
	out := make([]CreateResult, len(items))
	for i := range items {
		if errs[i] != nil {
			continue
		}
		out[i], errs[i] = s.createResult(ctx, calls[i], cmds[i])
	}
	return out, errs, nil
}

func (s *Store) appendMessages(args []any, msgs []Message) ([]any, error) {
	args = append(args, len(msgs))
	for _, m := range msgs {
		if m.Body == "" && m.Dir == "in" && m.Kind == "" {
			args = append(args, m.ID, "") // already stored: only index it
			continue
		}
		b, err := s.mcodec.encode(m)
		if err != nil {
			return nil, err
		}
		args = append(args, m.ID, b)
	}
	return args, nil
}

// IndexOnly marks an already stored message (an inbound one) to be linked to
// a conversation by Commit without rewriting it.
func IndexOnly(id string) Message { return Message{ID: id, Dir: "in"} }

// Commit writes a transition of nudge n, read at revision n.Rev, that
// queues no work (an administrative change: superseded, a note). It
// returns ErrConflict when another transition won; the caller reloads and
// retries.
func (s *Store) Commit(ctx context.Context, n *Nudge, msgs []Message, cbs []Callback) error {
	return s.CommitWork(ctx, n, msgs, cbs, Outbox{}, nil, "")
}

// IndexOp is one entry for a cross-recipient index (the callback queue, the
// case workers' inbox). Index writes cannot join a recipient's atomic
// script on Redis Cluster (another slot), so they are applied after it;
// applying one twice is harmless.
type IndexOp struct {
	Index  string `json:"i"` // "callbacks:<status>", "inbox", "optouts" or "optouts:del"
	Member string `json:"m"`
	Score  int64  `json:"s"`
	// Priority of a callback (its queue score is queueScore(Score, Priority)).
	Priority int `json:"p,omitempty"`
}

// SendRef is one message to send among several queued at once (a
// batch's first messages, Work.Group): the recipient, the message and the
// index entries of the change that made it.
type SendRef struct {
	Tag, Msg string
	Ix       []IndexOp
}

// CallbackIndexOp lists a callback in the queue of its status.
func CallbackIndexOp(cb Callback) IndexOp {
	return IndexOp{Index: "callbacks:" + cb.Status, Member: cb.ID, Score: cb.Due.UnixMilli(), Priority: cb.Priority}
}

// InboxIndexOp lists a message in the case workers' inbox.
func InboxIndexOp(tag, msgID string, at time.Time) IndexOp {
	return IndexOp{Index: "inbox", Member: tag + "|" + msgID, Score: at.UnixMilli()}
}

// OptOutIndexOp lists (on) or unlists (off) a person's opt-out on a channel
// in the admins' opt-out list.
func OptOutIndexOp(tag, channel string, on bool, at time.Time) IndexOp {
	op := IndexOp{Index: "optouts", Member: tag + "|" + channel, Score: at.UnixMilli()}
	if !on {
		op.Index = "optouts:del"
	}
	return op
}

// ApplyIndex writes index entries in one round trip.
func (s *Store) ApplyIndex(ctx context.Context, ops []IndexOp) error {
	if len(ops) == 0 {
		return nil
	}
	pipe := s.rdb.Pipeline()
	for _, op := range ops {
		switch {
		case op.Index == "inbox":
			pipe.ZAdd(ctx, s.inboxKey(), redis.Z{Score: float64(op.Score), Member: op.Member})
			pipe.ZRemRangeByScore(ctx, s.inboxKey(), "-inf", fmt.Sprint(op.Score-s.retention.Milliseconds()))
		case strings.HasPrefix(op.Index, "callbacks:"):
			pipe.ZAdd(ctx, s.callbacksKey(strings.TrimPrefix(op.Index, "callbacks:")), redis.Z{Score: queueScore(op.Score, op.Priority), Member: op.Member})
		case op.Index == "optouts":
			pipe.ZAdd(ctx, s.optOutsKey(), redis.Z{Score: float64(op.Score), Member: op.Member})
		case op.Index == "optouts:del":
			pipe.ZRem(ctx, s.optOutsKey(), op.Member)
		default:
			return fmt.Errorf("unknown index %q", op.Index)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("apply index: %w", err)
	}
	return nil
}

// CommitWork writes a transition of nudge n, read at revision n.Rev, with
// its callbacks, and the work it queues in outbox entry ob, atomically.
// inMsg is the received text that caused it ("" for none): the text is
// marked processed in the same script, and ErrDuplicate is returned when
// it already was. ErrConflict means another transition won; the caller
// reloads and retries. The callback queue entries go into w.Ix.
func (s *Store) CommitWork(ctx context.Context, n *Nudge, msgs []Message, cbs []Callback, ob Outbox, w *Work, inMsg string) error {
	return s.CommitReply(ctx, n, msgs, cbs, ob, w, inMsg, nil, nil)
}

// CommitReply is CommitWork that also records Seintje's own outcomes of
// the transition (each once, as RecordOutcome does) and consent g (nil:
// none; a WhatsApp opt-in answered by SMS) in the same script: the
// consent and the step it belongs to are one change. Outcomes only for a
// nudge outside an experiment: an experiment's outcomes are counted per
// arm by RecordOutcome.
func (s *Store) CommitReply(ctx context.Context, n *Nudge, msgs []Message, cbs []Callback, ob Outbox, w *Work, inMsg string, outcomes []OutcomeRecord, g *Grant) error {
	tag := n.Tag
	expected := n.Rev
	n.Rev = expected + 1
	fail := func(err error) error {
		n.Rev = expected
		return err
	}
	state, err := s.codec.encode(n)
	if err != nil {
		return fail(fmt.Errorf("encode nudge: %w", err))
	}
	if w != nil {
		for _, cb := range cbs {
			w.Ix = append(w.Ix, CallbackIndexOp(cb))
		}
	}
	work, err := encodeWork(w)
	if err != nil {
		return fail(err)
	}
	keys := []string{s.convsKey(tag), s.convsKey(tag), s.convsKey(tag), s.msgsKey(tag),
		s.convsKey(tag), s.cbKey(tag), s.rcpKey(tag), s.outboxKey(tag), s.inPendingKey(tag), s.outcomesKey(tag, n.ID), s.chlogKey(tag)}
	args := []any{strconv.FormatInt(expected, 10), state, string(n.Status), n.Flow.ID, n.ID, n.UpdatedAt.UnixMilli(), ms(s.retention),
		inMsg, ob.ID, work}
	args, err = s.appendMessages(args, msgs)
	if err != nil {
		return fail(err)
	}
	args = append(args, len(cbs))
	for _, cb := range cbs {
		b, err := json.Marshal(cb)
		if err != nil {
			return fail(fmt.Errorf("encode callback: %w", err))
		}
		args = append(args, cb.ID, b)
	}
	if len(outcomes) > 0 && n.Experiment != "" {
		return fail(fmt.Errorf("commit nudge %s: outcomes of a nudge in an experiment go through RecordOutcome", n.ID))
	}
	args = append(args, len(outcomes))
	for _, rec := range outcomes {
		b, err := json.Marshal(rec)
		if err != nil {
			return fail(fmt.Errorf("encode outcome: %w", err))
		}
		args = append(args, rec.Outcome, b)
	}
	ga, err := g.args()
	if err != nil {
		return fail(err)
	}
	args = append(args, ga...)
	var pointer *Outbox
	if work != "" && ob.Kind == KindOutbox {
		pointer = &ob // a received text's pointer was written with the text
	}
	cmd, err := s.runPointed(ctx, pointer, commitScript, keys, args...)
	if err != nil {
		return fail(fmt.Errorf("commit nudge: %w", err))
	}
	ok, err := cmd.Int()
	if err != nil {
		return fail(fmt.Errorf("commit nudge: %w", err))
	}
	switch ok {
	case 1:
		return nil
	case -1:
		return fail(ErrDuplicate)
	}
	if pointer != nil {
		s.dropPointer(ctx, ob)
	}
	return fail(ErrConflict)
}

// Nudge loads a nudge by id.
func (s *Store) Nudge(ctx context.Context, id string) (*Nudge, error) {
	tag, ok := TagOf(id)
	if !ok {
		return nil, ErrNotFound
	}
	v, err := s.rdb.HGet(ctx, s.msgsKey(tag), convField(id)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load nudge: %w", err)
	}
	return s.decodeStored(tag, v)
}

// decodeStored decodes a conversation as convLua stores it.
func (s *Store) decodeStored(tag, v string) (*Nudge, error) {
	parts := strings.SplitN(v, "|", 4)
	if len(parts) != 4 {
		return nil, fmt.Errorf("decode nudge: %d parts", len(parts))
	}
	return s.decodeNudge(tag, parts[0], parts[3])
}

func (s *Store) decodeNudge(tag, rev, state string) (*Nudge, error) {
	var n Nudge
	if err := s.codec.decode(state, &n); err != nil {
		return nil, fmt.Errorf("decode nudge: %w", err)
	}
	r, err := strconv.ParseInt(rev, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("decode nudge rev: %w", err)
	}
	n.Rev = r
	n.Tag = tag
	return &n, nil
}

// Recipient loads a recipient by tag (Known() is false when absent).
func (s *Store) Recipient(ctx context.Context, tag string) (Recipient, error) {
	h, err := s.rdb.HGetAll(ctx, s.rcpKey(tag)).Result()
	if err != nil {
		return Recipient{}, fmt.Errorf("load recipient: %w", err)
	}
	return recipientFromHash(tag, h), nil
}

// Transcript returns the messages of a nudge in order, with their status.
func (s *Store) Transcript(ctx context.Context, tag, id string) ([]Message, error) {
	v, err := s.rdb.HGet(ctx, s.msgsKey(tag), indexField(id)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load transcript: %w", err)
	}
	return s.messages(ctx, tag, strings.Split(v, ","))
}

func (s *Store) messages(ctx context.Context, tag string, ids []string) ([]Message, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	bodies := pipe.HMGet(ctx, s.msgsKey(tag), ids...)
	fields := make([]string, len(ids))
	for i, id := range ids {
		fields[i] = statusField(id)
	}
	sts := pipe.HMGet(ctx, s.rcpKey(tag), fields...)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("load messages: %w", err)
	}
	out := make([]Message, 0, len(ids))
	for i, v := range bodies.Val() {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var m Message
		if err := s.mcodec.decode(tag, str, &m); err != nil {
			return nil, fmt.Errorf("decode message: %w", err)
		}
		m.Tag = tag
		if st, ok := sts.Val()[i].(string); ok {
			m.Status = decodeStatus(st)
		}
		out = append(out, m)
	}
	return out, nil
}

// MessageFor loads one message and its recipient in one round trip (the
// send path needs both).
func (s *Store) MessageFor(ctx context.Context, tag, id string) (*Message, Recipient, error) {
	pipe := s.rdb.Pipeline()
	body := pipe.HGet(ctx, s.msgsKey(tag), id)
	rcp := pipe.HGetAll(ctx, s.rcpKey(tag))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, Recipient{}, fmt.Errorf("load message: %w", err)
	}
	if errors.Is(body.Err(), redis.Nil) {
		return nil, Recipient{}, ErrNotFound
	}
	var m Message
	if err := s.mcodec.decode(tag, body.Val(), &m); err != nil {
		return nil, Recipient{}, fmt.Errorf("decode message: %w", err)
	}
	m.Tag = tag
	if st, ok := rcp.Val()[statusField(id)]; ok {
		m.Status = decodeStatus(st)
	}
	return &m, recipientFromHash(tag, rcp.Val()), nil
}

// Message loads one message.
func (s *Store) Message(ctx context.Context, tag, id string) (*Message, error) {
	ms, err := s.messages(ctx, tag, []string{id})
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, ErrNotFound
	}
	return &ms[0], nil
}

// Inbound is the routing context returned by StoreInbound.
type Inbound struct {
	// Message is the stored text: the one given, or the one stored by an
	// earlier delivery of the same provider id whose processing did not
	// finish (Resumed).
	Message   Message
	Resumed   bool
	Recipient Recipient
	// Route says where the reply goes: "wait" (into Nudge), "late" (Nudge
	// ended within the late window: filed there as a late reply) or ""
	// (no conversation).
	Route string
	Nudge *Nudge
}

// StoreInbound stores a received message, deduplicated by the provider's
// message id, and returns the recipient and the conversation it belongs
// to (routeLua). The text stays pending until a finishing script
// (CommitWork with its id, FinishInbound) marks it processed. A processed
// duplicate returns ErrDuplicate and stores nothing; a duplicate whose
// processing never finished is returned again (Resumed).
func (s *Store) StoreInbound(ctx context.Context, m Message, from string, now time.Time, late time.Duration) (Inbound, error) {
	b, err := s.mcodec.encode(m)
	if err != nil {
		return Inbound{}, err
	}
	p, err := json.Marshal(PendingInbound{Channel: m.Channel, From: from})
	if err != nil {
		return Inbound{}, fmt.Errorf("encode pending: %w", err)
	}
	tag := m.Tag
	ob := InboundOutbox(tag, m.ID, now)
	keys := []string{s.dedupeKey(tag, m.Channel, m.ProviderID), s.msgsKey(tag), s.rcpKey(tag), s.rcpKey(tag), s.inPendingKey(tag)}
	cmd, err := s.runPointed(ctx, &ob, inboundScript, keys, m.ID, b, ms(s.retention), ms(s.dedupeTTL), "",
		now.UnixMilli(), ms(late), p)
	if err != nil {
		return Inbound{}, fmt.Errorf("store inbound: %w", err)
	}
	res, err := cmd.StringSlice()
	if err != nil {
		return Inbound{}, fmt.Errorf("store inbound: %w", err)
	}
	if res[0] == "dup" {
		s.dropPointer(ctx, ob)
		return Inbound{}, ErrDuplicate
	}
	in := Inbound{Message: m, Route: res[2]}
	if res[0] == "resume" {
		s.dropPointer(ctx, ob)
		in.Resumed = true
		var stored Message
		if err := s.mcodec.decode(tag, res[1], &stored); err == nil && stored.ID != "" {
			stored.Tag = tag
			in.Message = stored
		}
	}
	h := map[string]string{}
	for i := 6; i+1 < len(res); i += 2 {
		h[res[i]] = res[i+1]
	}
	in.Recipient = recipientFromHash(tag, h)
	if res[3] != "" {
		n, err := s.decodeNudge(tag, res[4], res[5])
		if err != nil {
			return Inbound{}, err
		}
		in.Nudge = n
	}
	return in, nil
}

// NudgesOf returns the recipient's nudges, newest first (at most limit).
// Nudges whose data expired are skipped.
func (s *Store) NudgesOf(ctx context.Context, tag string, limit int64) ([]*Nudge, error) {
	h, err := s.rdb.HGetAll(ctx, s.rcpKey(tag)).Result()
	if err != nil {
		return nil, fmt.Errorf("list nudges: %w", err)
	}
	ids := historyOf(tag, h, limit)
	if len(ids) == 0 {
		return nil, nil
	}
	fields := make([]string, len(ids))
	for i, id := range ids {
		fields[i] = convField(id)
	}
	vals, err := s.rdb.HMGet(ctx, s.msgsKey(tag), fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("list nudges: %w", err)
	}
	out := make([]*Nudge, 0, len(ids))
	for _, v := range vals {
		stored, ok := v.(string)
		if !ok {
			continue
		}
		n, err := s.decodeStored(tag, stored)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// AddMessages appends messages to a nudge's transcript, or to the
// recipient's loose messages when conv is "" (unknown sender, no
// conversation).
func (s *Store) AddMessages(ctx context.Context, tag, conv string, msgs ...Message) error {
	if conv == "" {
		conv = "_"
	}
	args := []any{conv, ms(s.retention)}
	for _, m := range msgs {
		var b []byte
		if !(m.Dir == "in" && m.Body == "" && m.Kind == "") {
			var err error
			if b, err = s.mcodec.encode(m); err != nil {
				return err
			}
		}
		args = append(args, m.ID, b)
	}
	if err := addMessagesScript.Run(ctx, s.rdb, []string{s.msgsKey(tag)}, args...).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("add messages: %w", err)
	}
	return nil
}

// Loose returns the recipient's messages that belong to no conversation.
func (s *Store) Loose(ctx context.Context, tag string) ([]Message, error) {
	return s.Transcript(ctx, tag, "_")
}

// SetStatus records a message's delivery status set by Seintje itself
// (pending, deferred, suppressed, error) or after a send (providerID set).
func (s *Store) SetStatus(ctx context.Context, tag, msgID, providerID string, st Status) error {
	_, err := s.SetStatusWork(ctx, tag, msgID, providerID, st, Outbox{}, nil)
	return err
}

// ProviderStatus records a status from a provider callback. It returns the
// message id ("" when the send is not recorded yet; the status is then
// applied when it is).
func (s *Store) ProviderStatus(ctx context.Context, tag, providerID string, st Status) (string, error) {
	mid, _, err := s.ProviderStatusWork(ctx, tag, providerID, st, Outbox{}, false, nil)
	return mid, err
}

// SetOptOut records (on) or clears (off) an opt-out for a channel.
func (s *Store) SetOptOut(ctx context.Context, tag, channel string, on bool, at time.Time) error {
	var err error
	if on {
		pipe := s.rdb.TxPipeline()
		pipe.HSet(ctx, s.rcpKey(tag), "optout:"+channel, at.UnixMilli())
		pipe.PExpire(ctx, s.rcpKey(tag), s.retention)
		_, err = pipe.Exec(ctx)
	} else {
		err = s.rdb.HDel(ctx, s.rcpKey(tag), "optout:"+channel).Err()
	}
	if err != nil {
		return fmt.Errorf("set opt-out: %w", err)
	}
	return s.indexOptOut(ctx, tag, channel, on, at)
}

// SetLooseAddress remembers where to answer a sender that has no nudge.
func (s *Store) SetLooseAddress(ctx context.Context, tag, ch, addr string) error {
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.rcpKey(tag), "addr:"+ch, addr)
	pipe.PExpire(ctx, s.rcpKey(tag), s.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("set address: %w", err)
	}
	return nil
}

// Once returns true the first time it is called for (tag, what) within ttl:
// used so an auto-responder cannot trigger endless replies.
func (s *Store) Once(ctx context.Context, tag, what string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.onceKey(tag, what), 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("once: %w", err)
	}
	return ok, nil
}

// AddToInbox lists a message for case workers (forwarded questions, texts
// from unknown numbers).
func (s *Store) AddToInbox(ctx context.Context, tag, msgID string, at time.Time) error {
	pipe := s.rdb.Pipeline()
	pipe.ZAdd(ctx, s.inboxKey(), redis.Z{Score: float64(at.UnixMilli()), Member: tag + "|" + msgID})
	// The index holds no personal data, but trim what the retention
	// period has already expired.
	pipe.ZRemRangeByScore(ctx, s.inboxKey(), "-inf", fmt.Sprint(at.Add(-s.retention).UnixMilli()))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("add to inbox: %w", err)
	}
	return nil
}

// Inbox returns up to limit forwarded or unmatched messages, newest first.
// Entries whose data expired are dropped from the index.
func (s *Store) Inbox(ctx context.Context, limit int64) ([]Message, error) {
	members, err := s.rdb.ZRevRange(ctx, s.inboxKey(), 0, limit-1).Result()
	if err != nil {
		return nil, fmt.Errorf("load inbox: %w", err)
	}
	var out []Message
	for _, m := range members {
		tag, id, _ := strings.Cut(m, "|")
		msg, err := s.Message(ctx, tag, id)
		if errors.Is(err, ErrNotFound) {
			s.rdb.ZRem(ctx, s.inboxKey(), m)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *msg)
	}
	return out, nil
}
