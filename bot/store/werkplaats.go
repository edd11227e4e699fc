package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// WorkFields are the werkplaats' working data on a callback task.
type WorkFields struct {
	// Rev is bumped on every change (compare-and-set in Redis).
	Rev  int64  `json:"rev"`
	Kind string `json:"kind,omitempty"` // requested, escalation
	Flow string `json:"flow,omitempty"`
	// ClaimedBy and ClaimedUntil: one person works a task at a time; a claim
	// not completed before ClaimedUntil lapses and the task is open again.
	ClaimedBy    string    `json:"claimed_by,omitempty"`
	ClaimedUntil time.Time `json:"claimed_until,omitzero"`
	Attempts     []Attempt `json:"attempts,omitempty"`
	Outcome      string    `json:"outcome,omitempty"`
	// HomeVisitSuggested: MaxAttempts calls without contact; the case
	// worker is asked to consider a home visit (Seintje suggests, a person
	// decides).
	HomeVisitSuggested bool `json:"home_visit_suggested,omitempty"`
	// Policy copied from the flow when the task was made.
	RetryAfter  time.Duration `json:"retry_after_ns,omitempty"`
	MaxAttempts int           `json:"max_attempts,omitempty"`
}

// Attempt is one call by the werkplaats.
type Attempt struct {
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Outcome string    `json:"outcome"` // reached, no_answer, voicemail, wrong_number
	Note    string    `json:"note,omitempty"`
}

// EffectiveStatus is the status a reader should act on: a claim that
// lapsed counts as open.
func (c Callback) EffectiveStatus(now time.Time) string {
	if c.Status == CallbackClaimed && !c.ClaimedUntil.IsZero() && !now.Before(c.ClaimedUntil) {
		return CallbackOpen
	}
	return c.Status
}

// casCallbackScript replaces a callback if it is still at the revision the
// caller read, and writes the work the change queues (case events) to the
// recipient's outbox in the same script.
// KEYS: 1 cb hash, 2 outbox. ARGV: 1 id, 2 expected rev, 3 json, 4 ttl ms,
// 5 outbox id, 6 outbox json (empty: none).
// Returns 1 ok, 0 conflict, -1 not found.
var casCallbackScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return -1 end
local rev = cjson.decode(cur).rev or 0
if tostring(rev) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[5], ARGV[6])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
end
return 1
`)

// UpdateCallback writes cb if nobody changed it since it was read at
// cb.Rev (ErrConflict otherwise) and moves it in the status indexes.
func (s *Store) UpdateCallback(ctx context.Context, cb *Callback, oldStatus string) error {
	return s.UpdateCallbackWork(ctx, cb, oldStatus, Outbox{}, nil)
}

// UpdateCallbackWork is UpdateCallback that also writes w (the case events
// of the change) to outbox entry ob in the same script; the caller queues
// it after a nil error.
func (s *Store) UpdateCallbackWork(ctx context.Context, cb *Callback, oldStatus string, ob Outbox, w *Work) error {
	tag, ok := TagOf(cb.ID)
	if !ok {
		return ErrNotFound
	}
	expected := cb.Rev
	cb.Rev = expected + 1
	b, err := json.Marshal(cb)
	if err != nil {
		cb.Rev = expected
		return fmt.Errorf("encode callback: %w", err)
	}
	work, err := encodeWork(w)
	if err != nil {
		cb.Rev = expected
		return err
	}
	var pointer *Outbox
	if work != "" {
		pointer = &ob
	}
	cmd, err := s.runPointed(ctx, pointer, casCallbackScript, []string{s.cbKey(tag), s.outboxKey(tag)},
		cb.ID, fmt.Sprint(expected), b, ms(s.retention), ob.ID, work)
	if err != nil {
		cb.Rev = expected
		return fmt.Errorf("update callback: %w", err)
	}
	res, err := cmd.Int()
	if err != nil {
		cb.Rev = expected
		return fmt.Errorf("update callback: %w", err)
	}
	if res != 1 && pointer != nil {
		s.dropPointer(ctx, ob)
	}
	switch res {
	case -1:
		cb.Rev = expected
		return ErrNotFound
	case 0:
		cb.Rev = expected
		return ErrConflict
	}
	// The global indexes live in other slots: written after the atomic
	// change; readers check the status on the callback itself.
	pipe := s.rdb.Pipeline()
	if oldStatus != cb.Status {
		pipe.ZRem(ctx, s.callbacksKey(oldStatus), cb.ID)
	}
	pipe.ZAdd(ctx, s.callbacksKey(cb.Status), redis.Z{Score: queueScore(cb.Due.UnixMilli(), cb.Priority), Member: cb.ID})
	if cb.Status == CallbackDone && oldStatus != CallbackDone && len(cb.Events) > 0 {
		// When it was done, for the werkplaats' "done today" (queue.go).
		pipe.ZAdd(ctx, s.doneAtKey(), redis.Z{Score: float64(cb.Events[len(cb.Events)-1].At.UnixMilli()), Member: cb.ID})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("index callback: %w", err)
	}
	return nil
}

// CallbackQueue lists callback tasks by effective status (a lapsed claim
// is open), ordered by due time, then priority, then age.
func (s *Store) CallbackQueue(ctx context.Context, status string, now time.Time, limit int64) ([]Callback, error) {
	sources := []string{status}
	if status == CallbackOpen || status == CallbackClaimed {
		sources = []string{CallbackOpen, CallbackClaimed}
	}
	var out []Callback
	for _, src := range sources {
		ids, err := s.rdb.ZRange(ctx, s.callbacksKey(src), 0, limit-1).Result()
		if err != nil {
			return nil, fmt.Errorf("list callbacks: %w", err)
		}
		for _, id := range ids {
			cb, err := s.Callback(ctx, id)
			if errors.Is(err, ErrNotFound) {
				s.rdb.ZRem(ctx, s.callbacksKey(src), id)
				continue
			}
			if err != nil {
				return nil, err
			}
			if cb.Status != src || cb.EffectiveStatus(now) != status {
				continue
			}
			out = append(out, *cb)
		}
	}
	slices.SortStableFunc(out, func(a, b Callback) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		return a.AskedAt.Compare(b.AskedAt)
	})
	if int64(len(out)) > limit {
		out = out[:limit]
	}
	return out, nil
}

// AddNote adds a note the case worker sees on the nudge.
func (s *Store) AddNote(ctx context.Context, nudgeID string, note Note) error {
	for attempt := 0; attempt < 8; attempt++ {
		n, err := s.Nudge(ctx, nudgeID)
		if err != nil {
			return err
		}
		n.Notes = append(n.Notes, note)
		err = s.Commit(ctx, n, nil, nil)
		if errors.Is(err, ErrConflict) {
			continue
		}
		return err
	}
	return ErrConflict
}

// weeklyScript counts proactive sends per recipient in a rolling window:
// fields "w:<msg id>" → ms of the recipient hash (store.go), pruned as
// they leave the window.
// KEYS: 1 rcp. ARGV: 1 now ms, 2 window ms, 3 limit, 4 msg id, 5 ttl ms.
// Returns {1, 0} when the message may go (recorded), {0, oldest ms} when
// the limit is reached.
var weeklyScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
local me = 'w:' .. ARGV[4]
local all = redis.call('HGETALL', KEYS[1])
local n, oldest, mine = 0, nil, false
for j = 1, #all, 2 do
  if string.sub(all[j], 1, 2) == 'w:' then
    local at = tonumber(all[j+1])
    if at <= now - win then
      redis.call('HDEL', KEYS[1], all[j])
    elseif all[j] == me then
      mine = true
    else
      n = n + 1
      if not oldest or at < oldest then oldest = at end
    end
  end
end
if mine then return {1, 0} end
if n >= tonumber(ARGV[3]) then return {0, oldest} end
redis.call('HSET', KEYS[1], me, now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return {1, 0}
`)

// WeeklyWindow is the rolling window of the per-recipient limit.
const WeeklyWindow = 7 * 24 * time.Hour

// TakeSendSlot records proactive message msgID against the recipient's
// rolling 7-day limit, atomically. When the limit is reached it returns
// false and the moment a slot frees up. Taking the same message twice
// (a retry) counts once.
func (s *Store) TakeSendSlot(ctx context.Context, tag, msgID string, now time.Time, limit int) (bool, time.Time, error) {
	res, err := weeklyScript.Run(ctx, s.rdb, []string{s.rcpKey(tag)}, now.UnixMilli(), ms(WeeklyWindow), limit, msgID, ms(s.retention)).Int64Slice()
	if err != nil {
		return false, time.Time{}, fmt.Errorf("weekly limit: %w", err)
	}
	if res[0] == 1 {
		return true, time.Time{}, nil
	}
	return false, time.UnixMilli(res[1]).Add(WeeklyWindow).UTC(), nil
}

// ReleaseSendSlot gives back the weekly-limit slot that proactive message
// msgID took, when the message never reached the person (rejected by the
// provider, given up after retries, reported undelivered). Releasing a
// message that holds no slot is a no-op.
func (s *Store) ReleaseSendSlot(ctx context.Context, tag, msgID string) error {
	if err := s.rdb.HDel(ctx, s.rcpKey(tag), weeklyField(msgID)).Err(); err != nil {
		return fmt.Errorf("release weekly slot: %w", err)
	}
	return nil
}

// suggestionsKey is the global index of callback tasks that suggest a
// home visit to the case worker, scored by when.
func (s *Store) suggestionsKey() string { return s.gkey("suggestions") }

// AddSuggestion lists callback task cbID (closed with a home-visit
// suggestion) for the case workers. Adding it twice keeps one entry.
func (s *Store) AddSuggestion(ctx context.Context, cbID string, at time.Time) error {
	pipe := s.rdb.Pipeline()
	pipe.ZAdd(ctx, s.suggestionsKey(), redis.Z{Score: float64(at.UnixMilli()), Member: cbID})
	pipe.ZRemRangeByScore(ctx, s.suggestionsKey(), "-inf", fmt.Sprint(at.Add(-s.retention).UnixMilli()))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("add suggestion: %w", err)
	}
	return nil
}

// Suggestions returns up to limit callback tasks that suggest a home
// visit, newest first. Entries whose data expired are dropped.
func (s *Store) Suggestions(ctx context.Context, limit int64) ([]Callback, error) {
	ids, err := s.rdb.ZRevRange(ctx, s.suggestionsKey(), 0, limit-1).Result()
	if err != nil {
		return nil, fmt.Errorf("list suggestions: %w", err)
	}
	out := make([]Callback, 0, len(ids))
	for _, id := range ids {
		cb, err := s.Callback(ctx, id)
		if errors.Is(err, ErrNotFound) {
			s.rdb.ZRem(ctx, s.suggestionsKey(), id)
			continue
		}
		if err != nil {
			return nil, err
		}
		if cb.HomeVisitSuggested {
			out = append(out, *cb)
		}
	}
	return out, nil
}
