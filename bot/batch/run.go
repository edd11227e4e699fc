package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/store"
)

// result is what became of one row when its batch ran.
type result struct {
	Row    int    `json:"r"`
	Ref    string `json:"f"`
	Nudge  string `json:"n,omitempty"`
	Result string `json:"s"`           // created, existing, opted_out, error
	Arm    string `json:"a,omitempty"` // the person's arm when the flow runs an experiment
	// Held: in the experiment's hold-out arm, so no first message at all.
	Held bool `json:"h,omitempty"`
}

// errCrash is the test hook's simulated crash.
var errCrash = errors.New("simulated crash")

// Run creates the nudges of a started batch, a few chunks at a time, from
// its persisted cursor: after a crash the next run (asynq retries the task;
// Recover queues it when lost) continues where the last one stopped. A
// chunk done twice creates nothing twice (the same event gives the same
// nudge back) and counts once (the cursor moves with the counts).
func (s *Service) Run(ctx context.Context, id string) error {
	for {
		b, err := s.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		switch b.State {
		case Scheduled:
			if b.SendAt != nil && b.SendAt.After(s.now()) {
				return s.enqueue(ctx, id, *b.SendAt) // woke early (a recovered task)
			}
			if _, err := moveScript.Run(ctx, s.rdb, []string{s.key(id, "meta")}, Sending, "sending_at", s.now().UnixMilli(), "", Scheduled).Text(); err != nil {
				return fmt.Errorf("batch %s: %w", id, err)
			}
			continue
		case Sending:
		default:
			return nil // checked (not started), cancelled or done
		}
		if b.cursor >= b.chunks {
			done, err := finishScript.Run(ctx, s.rdb, []string{s.key(id, "meta"), s.key(id, "n")}, s.now().UnixMilli()).Int()
			if err != nil {
				return fmt.Errorf("finish batch %s: %w", id, err)
			}
			s.log.InfoContext(ctx, "batch handed over", "batch", id, "accepted", b.Counts.Accepted)
			if done == 1 { // else the last delivery report ends it (Delivery)
				if err := s.announceDone(ctx, id, b.Flow, true); err != nil {
					s.log.WarnContext(ctx, "batch done: event not queued yet; the recovery pass retries", "batch", id, "err", err)
				}
			}
			return nil
		}
		// Up to s.parallel chunks at once: the rows' create pipelines and
		// queueing overlap, while the cursor still moves one chunk at a
		// time, in order. A crash leaves chunks after the cursor created
		// but not counted; the next run finds their nudges (same event,
		// same batch) and counts them then.
		n := min(s.parallel, b.chunks-b.cursor)
		raws, err := s.rdb.LRange(ctx, s.key(id, "items"), int64(b.cursor), int64(b.cursor+n-1)).Result()
		if err != nil {
			return fmt.Errorf("batch %s chunks from %d: %w", id, b.cursor, err)
		}
		if len(raws) != n {
			return fmt.Errorf("batch %s: %d of %d chunks from %d are stored", id, len(raws), n, b.cursor)
		}
		actx := audit.WithActor(ctx, audit.Actor{Name: b.CreatedBy, Via: "batch"})
		res := make([][]result, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for k, raw := range raws {
			wg.Go(func() {
				var rows []Row
				if err := json.Unmarshal([]byte(raw), &rows); err != nil {
					errs[k] = fmt.Errorf("batch %s chunk %d: %w", id, b.cursor+k, err)
					return
				}
				res[k], errs[k] = s.createChunk(actx, b, rows)
			})
		}
		wg.Wait()
		for k := range n {
			if errs[k] != nil {
				return errs[k]
			}
			if s.crashHook != nil && s.crashHook(b.cursor+k) {
				return errCrash
			}
			if err := s.accept(ctx, id, b.cursor+k, res[k]); err != nil {
				return err
			}
		}
	}
}

// createChunk starts the nudges of rows: in one pipeline of create scripts
// (outreach.TriggerMany), their work queued several at once.
func (s *Service) createChunk(ctx context.Context, b *Batch, rows []Row) ([]result, error) {
	reqs := make([]outreach.TriggerRequest, len(rows))
	for i, r := range rows {
		vars := r.Vars.Map()
		reqs[i] = outreach.TriggerRequest{Flow: b.Flow, Ref: r.Ref, Phone: r.Phone, Name: r.Name, Lang: r.Lang,
			Vars: vars, Caseworker: r.Caseworker, TriggeredBy: b.CreatedBy, IdempotencyKey: r.Idem, Batch: b.ID}
	}
	res, errs := s.out.TriggerMany(ctx, reqs, s.workers)
	out := make([]result, len(rows))
	var failed []error
	for i := range rows {
		var err error
		if out[i], err = s.resultOf(ctx, b, rows[i], res[i], errs[i]); err != nil {
			failed = append(failed, err)
		}
	}
	return out, errors.Join(failed...)
}

// resultOf is what became of row r, triggered with answer res, err.
func (s *Service) resultOf(ctx context.Context, b *Batch, r Row, res outreach.TriggerResult, err error) (result, error) {
	var fe *outreach.FieldError
	switch {
	case errors.Is(err, outreach.ErrOptedOut):
		return result{Row: r.Row, Ref: r.Ref, Result: "opted_out"}, nil
	case errors.As(err, &fe):
		// The flow changed between the check and the start.
		s.log.WarnContext(ctx, "batch row no longer valid", "batch", b.ID, "row", r.Row, "field", fe.Field, "code", fe.Code)
		return result{Row: r.Row, Ref: r.Ref, Result: "error"}, nil
	case err != nil:
		return result{}, fmt.Errorf("batch %s row %d: %w", b.ID, r.Row, err)
	case res.Existing:
		n, err := s.st.Nudge(ctx, res.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return result{}, err
		}
		if n != nil && n.Batch == b.ID {
			// Made by an earlier run of this chunk that stopped before the
			// cursor moved: make sure its work is queued, and count it now.
			if err := s.out.Redispatch(ctx, res.ID); err != nil {
				return result{}, err
			}
			return result{Row: r.Row, Ref: r.Ref, Nudge: res.ID, Result: "created", Arm: res.Arm, Held: res.HeldOut}, nil
		}
		return result{Row: r.Row, Ref: r.Ref, Nudge: res.ID, Result: "existing", Arm: res.Arm, Held: res.HeldOut}, nil
	}
	return result{Row: r.Row, Ref: r.Ref, Nudge: res.ID, Result: "created", Arm: res.Arm, Held: res.HeldOut}, nil
}

// heldPrefix marks a nudge of the hold-out arm among the ids acceptScript
// counts: it has no first message to wait for.
const heldPrefix = "h:"

// accept records a chunk's results and moves the cursor, once.
func (s *Service) accept(ctx context.Context, id string, cursor int, res []result) error {
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	counts := map[string]int{}
	var members []any
	for _, r := range res {
		switch r.Result {
		case "created":
			counts["accepted"]++
			if r.Held {
				members = append(members, heldPrefix+r.Nudge)
			} else {
				members = append(members, r.Nudge)
			}
		case "existing":
			counts["existing"]++
		default:
			counts["refused"]++
		}
	}
	args := []any{strconv.Itoa(cursor), b, s.now().UnixMilli(), len(counts)}
	for _, k := range sortedKeys(counts) {
		args = append(args, k, counts[k])
	}
	args = append(args, members...)
	keys := []string{s.key(id, "meta"), s.key(id, "res"), s.key(id, "dl"), s.key(id, "cv"), s.key(id, "n")}
	n, err := acceptScript.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("batch %s: accept chunk %d: %w", id, cursor, err)
	}
	if n == -1 {
		s.log.InfoContext(ctx, "batch chunk already accepted by another run", "batch", id, "chunk", cursor)
	}
	pipe := s.rdb.Pipeline()
	for _, k := range []string{"res", "dl", "cv", "n", "fl", "ts"} {
		pipe.PExpire(ctx, s.key(id, k), s.ttl)
	}
	_, err = pipe.Exec(ctx)
	return err
}

// Delivery implements outreach.Tally.
func (s *Service) Delivery(ctx context.Context, batch, nudge string, st store.Status) error {
	keys, args := s.deliveryCall(batch, nudge, st)
	done, err := deliveryScript.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("batch %s delivery: %w", batch, err)
	}
	return s.delivered(ctx, batch, done)
}

// DeliveryAlong implements outreach.DeliveryAlong: Delivery in the round
// trip of the message's status.
func (s *Service) DeliveryAlong(ctx context.Context, batch, nudge string, st store.Status) (store.Along, func(context.Context) error) {
	keys, args := s.deliveryCall(batch, nudge, st)
	var cmd *redis.Cmd
	along := func(pipe redis.Pipeliner) { cmd = deliveryScript.EvalSha(ctx, pipe, keys, args...) }
	after := func(ctx context.Context) error {
		if cmd == nil || cmd.Err() != nil { // not sent, or not run (NOSCRIPT): on its own
			return s.Delivery(ctx, batch, nudge, st)
		}
		done, err := cmd.Int()
		if err != nil {
			return fmt.Errorf("batch %s delivery: %w", batch, err)
		}
		return s.delivered(ctx, batch, done)
	}
	return along, after
}

// deliveryCall is the delivery script's keys and arguments.
func (s *Service) deliveryCall(batch, nudge string, st store.Status) ([]string, []any) {
	state, rank := category(st.State)
	reason := ""
	if state == "failed" {
		reason = reasonKey(st)
	}
	keys := []string{s.key(batch, "dl"), s.key(batch, "n"), s.key(batch, "meta")}
	return keys, []any{nudge, rank, state, reason, s.now().UnixMilli()}
}

// delivered follows a recorded delivery: done is 1 when it ended the batch.
func (s *Service) delivered(ctx context.Context, batch string, done int) error {
	if done == 1 {
		// The figures are recorded; telling the case system is the
		// recovery pass's job when it fails here (the mark stays).
		flow, err := s.rdb.HGet(ctx, s.key(batch, "meta"), "flow").Result()
		if err == nil {
			err = s.announceDone(ctx, batch, flow, true)
		}
		if err != nil {
			s.log.WarnContext(ctx, "batch done: event not queued yet; the recovery pass retries", "batch", batch, "err", err)
		}
	}
	return nil
}

// category maps a message status (or the gate's hold code) to the batch's
// delivery figure and its rank (a figure never moves to a lower rank).
func category(state string) (string, int) {
	switch state {
	case "pending":
		return "pending", 0
	case "deferred_quiet_hours":
		return "held_quiet_hours", 1
	case "deferred_weekly_limit":
		return "held_weekly_limit", 1
	case "queued", "accepted", "scheduled", "sending", "sent":
		return "sent", 2
	case "delivered", "read":
		return "delivered", 3
	case "canceled":
		return "cancelled", 3
	}
	return "failed", 3 // undelivered, failed, suppressed, error, refused_weekly_limit
}

// reasonKey names why a first message failed, for the figures: short,
// never personal (provider codes and Seintje's own reasons).
func reasonKey(st store.Status) string {
	switch st.State {
	case "suppressed":
		return "opted out (STOP)"
	case "refused_weekly_limit":
		return "weekly limit"
	}
	r, _, _ := strings.Cut(st.Reason, ";")
	r, _, _ = strings.Cut(r, ":")
	r = strings.ReplaceAll(strings.TrimSpace(r), "|", "/")
	if len(r) > 60 {
		r = r[:60]
	}
	if st.Code != 0 {
		r = strconv.Itoa(st.Code) + " " + r
	}
	if r == "" {
		r = st.State
	}
	return r
}

// Conversation implements outreach.Tally.
func (s *Service) Conversation(ctx context.Context, batch string, n *store.Nudge, ev outreach.ConvEvent) error {
	keys := []string{s.key(batch, "cv"), s.key(batch, "n"), s.key(batch, "fl"), s.key(batch, "ts")}
	at := ev.At
	if at.IsZero() {
		at = s.now()
	}
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	if err := convScript.Run(ctx, s.rdb, keys, n.ID, string(n.Status), n.Outcome, flag(ev.Replied), flag(ev.Callback), flag(ev.OptedOut),
		at.Unix()/3600).Err(); err != nil {
		return fmt.Errorf("batch %s conversation: %w", batch, err)
	}
	return nil
}

// Cancelled implements outreach.Tally. It is asked before every first
// message of a batch goes out; the answer is kept for cancelCacheFor (a
// cancel is final, so that one is kept for good), so a cancel made on
// another instance stops the sends here within about a second, and the
// sends save a round trip each.
func (s *Service) Cancelled(ctx context.Context, batch string) (bool, error) {
	now := s.now()
	s.cancelMu.Lock()
	c, ok := s.cancelSeen[batch]
	s.cancelMu.Unlock()
	if ok && (c.cancelled || now.Sub(c.at) < cancelCacheFor) {
		return c.cancelled, nil
	}
	st, err := s.rdb.HGet(ctx, s.key(batch, "meta"), "state").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("batch %s state: %w", batch, err)
	}
	s.remember(batch, st == Cancelled, now)
	return st == Cancelled, nil
}

// cancelCacheFor is how long a batch's "not cancelled" is believed.
const cancelCacheFor = time.Second

// cancelState is a batch's cancel state as last read.
type cancelState struct {
	cancelled bool
	at        time.Time
}

// remember keeps a batch's cancel state, and forgets states older than a
// minute (batches that finished) while at it.
func (s *Service) remember(batch string, cancelled bool, now time.Time) {
	s.cancelMu.Lock()
	defer s.cancelMu.Unlock()
	if len(s.cancelSeen) > 64 {
		for id, c := range s.cancelSeen {
			if now.Sub(c.at) > time.Minute {
				delete(s.cancelSeen, id)
			}
		}
	}
	s.cancelSeen[batch] = cancelState{cancelled: cancelled, at: now}
}

// RepliesPerHour returns the number of first replies per hour since the
// batch started (for the chart), oldest first.
func (s *Service) RepliesPerHour(ctx context.Context, id string) (map[time.Time]int, error) {
	h, err := s.rdb.HGetAll(ctx, s.key(id, "ts")).Result()
	if err != nil {
		return nil, fmt.Errorf("batch %s replies: %w", id, err)
	}
	out := map[time.Time]int{}
	for k, v := range h {
		hr, err1 := strconv.ParseInt(k, 10, 64)
		n, err2 := strconv.Atoi(v)
		if err1 == nil && err2 == nil {
			out[time.Unix(hr*3600, 0).UTC()] = n
		}
	}
	return out, nil
}
