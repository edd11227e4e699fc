package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/engine"
)

// Conversation timers (wait timeouts, reminders, expiries) wait in sharded
// sorted sets of Seintje's own, not in the job queue's schedule: a pending
// timer is one compact member scored by its due time (≈ 150 bytes of Redis
// against ≈ 530 for a scheduled asynq task), and the timers of a new
// conversation are written in the same round trip as the conversation
// itself. The job worker moves due timers into the job queue (package
// jobs), where they run with retries like any task.
//
// Keys (no personal data: a member names a conversation, whose id carries
// the recipient tag, the timer's kind, sequence and index):
//
//	<prefix>:{tm:<n>}   n = 0..15 by the recipient tag: "<cid>|<k>|<seq>|<index>"
//	                    (k: w wait, r reminder, e expire; "|<tag>" appended
//	                    when the id does not carry the tag), scored by the
//	                    due time in unix ms
//
// Writing a timer twice is one timer (ZADD NX). A timer that fires late, or
// twice, or for a change that was never committed, is harmless: the engine
// checks each timer against the conversation's timer sequence and state
// when it fires (ErrStaleTimer, ErrEnded), and a conversation that is gone
// (expired, erased, never stored) ignores it.

// TimerShards is the number of timer sorted sets (spread over a cluster).
const TimerShards = 16

// Timer is a pending conversation timer.
type Timer struct {
	Tag   string
	Conv  string
	Kind  string // engine.TimerWait (""), engine.TimerReminder, engine.TimerExpire
	Seq   int
	Index int
	At    time.Time // due
}

// TimersOf returns the timers of work w for recipient tag.
func TimersOf(tag string, w *Work) []Timer {
	if w == nil {
		return nil
	}
	out := make([]Timer, 0, len(w.Timers))
	for _, t := range w.Timers {
		out = append(out, Timer{Tag: tag, Conv: w.Conv, Kind: t.Kind, Seq: t.Seq, Index: t.Index, At: t.At})
	}
	return out
}

var timerKindCode = map[string]string{engine.TimerWait: "w", engine.TimerReminder: "r", engine.TimerExpire: "e"}

func (t Timer) member() string {
	k, ok := timerKindCode[t.Kind]
	if !ok {
		k = t.Kind
	}
	m := t.Conv + "|" + k + "|" + strconv.Itoa(t.Seq) + "|" + strconv.Itoa(t.Index)
	if tag, ok := TagOf(t.Conv); !ok || tag != t.Tag {
		m += "|" + t.Tag
	}
	return m
}

func parseTimer(m string, score float64) (Timer, bool) {
	parts := strings.Split(m, "|")
	if len(parts) < 4 || len(parts) > 5 {
		return Timer{}, false
	}
	t := Timer{Conv: parts[0], At: time.UnixMilli(int64(score)).UTC()}
	t.Kind = parts[1]
	for kind, code := range timerKindCode {
		if code == parts[1] {
			t.Kind = kind
		}
	}
	var err1, err2 error
	t.Seq, err1 = strconv.Atoi(parts[2])
	t.Index, err2 = strconv.Atoi(parts[3])
	if err1 != nil || err2 != nil {
		return Timer{}, false
	}
	if len(parts) == 5 {
		t.Tag = parts[4]
	} else if t.Tag, _ = TagOf(t.Conv); t.Tag == "" {
		return Timer{}, false
	}
	return t, true
}

func (s *Store) timerShard(n int) string { return s.prefix + ":{tm:" + strconv.Itoa(n) + "}" }

func (s *Store) timerKeyOf(tag string) string {
	h := fnv.New32a()
	h.Write([]byte(tag))
	return s.timerShard(int(h.Sum32() % TimerShards))
}

func (s *Store) addTimerCmds(ctx context.Context, pipe redis.Pipeliner, ts []Timer) {
	for _, t := range ts {
		pipe.ZAddNX(ctx, s.timerKeyOf(t.Tag), redis.Z{Score: float64(t.At.UnixMilli()), Member: t.member()})
	}
}

// AddTimers schedules timers, in one round trip. A timer already pending
// is left as it is.
func (s *Store) AddTimers(ctx context.Context, ts []Timer) error {
	if len(ts) == 0 {
		return nil
	}
	pipe := s.rdb.Pipeline()
	s.addTimerCmds(ctx, pipe, ts)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("add timers: %w", err)
	}
	return nil
}

// prewriteMargin: a change writes its timers in the same round trip as
// itself only when every one of them is due at least this long after the
// change. A timer must not be moved and fire before the change that set
// it is stored (the two may go to different nodes of a cluster); such a
// timer is written after the change is committed instead.
const prewriteMargin = time.Minute

// prewriteTimers returns the timers of w to write with the change made at
// now, or nil when they are to be written after it (see prewriteMargin).
func prewriteTimers(tag string, w *Work, now time.Time) []Timer {
	if w == nil || len(w.Timers) == 0 {
		return nil
	}
	for _, t := range w.Timers {
		if t.At.Before(now.Add(prewriteMargin)) {
			return nil
		}
	}
	return TimersOf(tag, w)
}

// RemoveTimers removes timers (moved into the job queue, or run by hand),
// in one round trip.
func (s *Store) RemoveTimers(ctx context.Context, ts []Timer) error {
	if len(ts) == 0 {
		return nil
	}
	pipe := s.rdb.Pipeline()
	for _, t := range ts {
		pipe.ZRem(ctx, s.timerKeyOf(t.Tag), t.member())
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("remove timers: %w", err)
	}
	return nil
}

// TakeTimer removes timer t and reports whether it was still pending.
func (s *Store) TakeTimer(ctx context.Context, t Timer) (bool, error) {
	n, err := s.rdb.ZRem(ctx, s.timerKeyOf(t.Tag), t.member()).Result()
	if err != nil {
		return false, fmt.Errorf("take timer: %w", err)
	}
	return n > 0, nil
}

// claimTimersScript claims up to ARGV[2] timers due by ARGV[1] by scoring
// them ARGV[3] (the end of the lease) and returns them with their due
// times: a claimed timer that is not removed within the lease (the mover
// crashed) is due again then.
var claimTimersScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
for i = 1, #due, 2 do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[3], due[i])
end
return due
`)

// ClaimDueTimers claims up to limit due timers of each shard (one round
// trip for all shards): their score becomes now+lease, so another claimer
// does not take them again before the lease ends; each is to be removed
// (RemoveTimers) once it is handed on. The timers keep their due time.
func (s *Store) ClaimDueTimers(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Timer, error) {
	run := func(load bool) ([]*redis.Cmd, error) {
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.Cmd, TimerShards)
		for n := range TimerShards {
			keys := []string{s.timerShard(n)}
			args := []any{now.UnixMilli(), limit, now.Add(lease).UnixMilli()}
			if load {
				cmds[n] = claimTimersScript.Eval(ctx, pipe, keys, args...)
			} else {
				cmds[n] = claimTimersScript.EvalSha(ctx, pipe, keys, args...)
			}
		}
		_, err := pipe.Exec(ctx)
		return cmds, err
	}
	cmds, err := run(false)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		cmds, err = run(true)
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("claim timers: %w", err)
	}
	var out []Timer
	for _, c := range cmds {
		vals, _ := c.StringSlice()
		for i := 0; i+1 < len(vals); i += 2 {
			score, err := strconv.ParseFloat(vals[i+1], 64)
			if err != nil {
				continue
			}
			if t, ok := parseTimer(vals[i], score); ok {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// NextTimers returns up to limit pending timers, soonest first (the
// simulator's queue and the console).
func (s *Store) NextTimers(ctx context.Context, limit int64) ([]Timer, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.ZSliceCmd, TimerShards)
	for n := range TimerShards {
		cmds[n] = pipe.ZRangeWithScores(ctx, s.timerShard(n), 0, limit-1)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("list timers: %w", err)
	}
	var out []Timer
	for _, c := range cmds {
		for _, z := range c.Val() {
			m, _ := z.Member.(string)
			if t, ok := parseTimer(m, z.Score); ok {
				out = append(out, t)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Timer) int { return a.At.Compare(b.At) })
	if int64(len(out)) > limit {
		out = out[:limit]
	}
	return out, nil
}

// TimerCount returns how many timers are pending (metrics and tests).
func (s *Store) TimerCount(ctx context.Context) (int64, error) {
	n, err := s.cardSum(ctx, TimerShards, s.timerShard)
	if err != nil {
		return 0, fmt.Errorf("timer count: %w", err)
	}
	return n, nil
}
