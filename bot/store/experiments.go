package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Experiment data lives in two places:
//
//   - per person, under the recipient's hash tag with the retention TTL:
//     the assignment marker <tag>:x:<experiment> (arm, first nudge time,
//     which outcomes were counted) and each nudge's reported outcomes
//     <tag>:o:<nudge>;
//   - per experiment, global and without personal data: the counters hash
//     exp:<id> (people per arm, outcomes per arm within their window) and
//     the design as declared, so the report is one HGETALL, never a scan.
//
// A counter is raised after the recipient's script said "count this", in a
// second step (another Cluster slot): a crash between the two loses one
// count (the report undercounts by one), it never counts twice.

func (s *Store) assignKey(tag, exp string) string     { return s.key(tag, "x", exp) }
func (s *Store) outcomesKey(tag, nudge string) string { return s.key(tag, "o", nudge) }
func (s *Store) expKey(exp string) string             { return s.gkey("exp", exp) }
func (s *Store) expDesignKey(exp string) string       { return s.gkey("exp", exp, "design") }
func (s *Store) experimentsKey() string               { return s.gkey("experiments") }

// enrollScript records a person's arm in an experiment once.
//
// KEYS: 1 assignment marker
// ARGV: 1 arm, 2 first nudge ms, 3 nudge id, 4 ttl ms
// Returns {1, arm} when the person is new, {0, stored arm} otherwise.
var enrollScript = redis.NewScript(`
local arm = redis.call('HGET', KEYS[1], 'arm')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if arm then return {0, arm} end
redis.call('HSET', KEYS[1], 'arm', ARGV[1], 'at', ARGV[2], 'nudge', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, ARGV[1]}
`)

// outcomeScript stores an outcome of a nudge once and says whether the
// experiment counts it (first time for this person, within its window).
//
// KEYS: 1 outcomes of the nudge, 2 assignment marker (may not exist)
// ARGV: 1 outcome, 2 record json, 3 ttl ms, 4 at ms, 5 window ms (-1: not
// measured by the experiment)
// Returns {'exists', json} | {'count', arm} | {'late', arm} | {'new', ”}.
var outcomeScript = redis.NewScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return {'exists', redis.call('HGET', KEYS[1], ARGV[1])}
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local w = tonumber(ARGV[5])
if w < 0 then return {'new', ''} end
local m = redis.call('HMGET', KEYS[2], 'arm', 'at')
if not m[1] then return {'new', ''} end
local d = tonumber(ARGV[4]) - tonumber(m[2])
local field = 'o:' .. ARGV[1]
if d >= 0 and d <= w then
  if redis.call('HSETNX', KEYS[2], field, '1') == 1 then return {'count', m[1]} end
  if redis.call('HGET', KEYS[2], field) == 'late' then
    redis.call('HSET', KEYS[2], field, '1')
    return {'count-was-late', m[1]}
  end
  return {'new', ''}
end
if redis.call('HSETNX', KEYS[2], field, 'late') == 1 then return {'late', m[1]} end
return {'new', ''}
`)

// ArmOf returns the arm a recipient was given in an experiment ("" if none).
func (s *Store) ArmOf(ctx context.Context, tag, exp string) (string, error) {
	arm, err := s.rdb.HGet(ctx, s.assignKey(tag, exp), "arm").Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load arm: %w", err)
	}
	return arm, nil
}

// Enroll records that the recipient is in arm of experiment exp from now
// on (first nudge nudgeID at at) and counts the person once. design is the
// experiment as declared (JSON), kept so the report outlives the flow file.
// Enrolling again is harmless: it returns the stored arm.
func (s *Store) Enroll(ctx context.Context, tag, exp, arm, nudgeID string, at time.Time, design []byte) (string, error) {
	res, err := enrollScript.Run(ctx, s.rdb, []string{s.assignKey(tag, exp)}, arm, at.UnixMilli(), nudgeID, ms(s.retention)).Slice()
	if err != nil {
		return "", fmt.Errorf("enroll: %w", err)
	}
	stored, _ := res[1].(string)
	isNew, _ := res[0].(int64)
	pipe := s.rdb.Pipeline()
	if isNew == 1 {
		pipe.HIncrBy(ctx, s.expKey(exp), "people:"+stored, 1)
	}
	pipe.Set(ctx, s.expDesignKey(exp), design, 0)
	pipe.SAdd(ctx, s.experimentsKey(), exp)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", fmt.Errorf("enroll: count: %w", err)
	}
	return stored, nil
}

// OutcomeRecord is one outcome of a nudge.
type OutcomeRecord struct {
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
	// By is the API token name, or "seintje" for Seintje's own events.
	By         string    `json:"by"`
	RecordedAt time.Time `json:"recorded_at"`
	// Counted says how the nudge's experiment counted it: "counted"
	// (within the window), "late" (outside it), "" (not measured).
	Counted string `json:"counted,omitempty"`
}

// RecordOutcome stores an outcome of nudge n once (idempotent: a second
// report of the same outcome returns the first with existing = true) and,
// when the nudge is in an experiment that measures it within window
// (window < 0: not measured), counts it for the person's arm.
func (s *Store) RecordOutcome(ctx context.Context, n *Nudge, rec OutcomeRecord, window time.Duration) (OutcomeRecord, bool, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return OutcomeRecord{}, false, fmt.Errorf("encode outcome: %w", err)
	}
	w := int64(-1)
	if window >= 0 && n.Experiment != "" {
		w = window.Milliseconds()
	}
	exp := n.Experiment
	if exp == "" {
		exp = "_"
	}
	keys := []string{s.outcomesKey(n.Tag, n.ID), s.assignKey(n.Tag, exp)}
	res, err := outcomeScript.Run(ctx, s.rdb, keys, rec.Outcome, b, ms(s.retention), rec.At.UnixMilli(), w).StringSlice()
	if err != nil {
		return OutcomeRecord{}, false, fmt.Errorf("record outcome: %w", err)
	}
	switch res[0] {
	case "exists":
		var prev OutcomeRecord
		if err := json.Unmarshal([]byte(res[1]), &prev); err != nil {
			return OutcomeRecord{}, false, fmt.Errorf("decode outcome: %w", err)
		}
		return prev, true, nil
	case "count", "count-was-late":
		rec.Counted = "counted"
		pipe := s.rdb.Pipeline()
		s.rewriteOutcome(ctx, pipe, n, rec)
		pipe.HIncrBy(ctx, s.expKey(n.Experiment), "o:"+rec.Outcome+":"+res[1], 1)
		if res[0] == "count-was-late" {
			pipe.HIncrBy(ctx, s.expKey(n.Experiment), "late:"+rec.Outcome+":"+res[1], -1)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return OutcomeRecord{}, false, fmt.Errorf("count outcome: %w", err)
		}
	case "late":
		rec.Counted = "late"
		pipe := s.rdb.Pipeline()
		s.rewriteOutcome(ctx, pipe, n, rec)
		pipe.HIncrBy(ctx, s.expKey(n.Experiment), "late:"+rec.Outcome+":"+res[1], 1)
		if _, err := pipe.Exec(ctx); err != nil {
			return OutcomeRecord{}, false, fmt.Errorf("count outcome: %w", err)
		}
	}
	return rec, false, nil
}

// rewriteOutcome stores the record again with how it was counted.
func (s *Store) rewriteOutcome(ctx context.Context, pipe redis.Pipeliner, n *Nudge, rec OutcomeRecord) {
	if b, err := json.Marshal(rec); err == nil {
		pipe.HSet(ctx, s.outcomesKey(n.Tag, n.ID), rec.Outcome, b)
	}
}

// Outcomes returns the outcomes recorded for a nudge, oldest first.
func (s *Store) Outcomes(ctx context.Context, tag, nudgeID string) ([]OutcomeRecord, error) {
	h, err := s.rdb.HGetAll(ctx, s.outcomesKey(tag, nudgeID)).Result()
	if err != nil {
		return nil, fmt.Errorf("load outcomes: %w", err)
	}
	out := make([]OutcomeRecord, 0, len(h))
	for _, v := range h {
		var r OutcomeRecord
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("decode outcome: %w", err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b OutcomeRecord) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Outcome, b.Outcome)
	})
	return out, nil
}

// ExperimentCounts are an experiment's counters: people per arm, and per
// outcome and arm the people with it within its window (Counted) or later
// (Late).
type ExperimentCounts struct {
	People  map[string]int
	Counted map[string]map[string]int // outcome → arm → people
	Late    map[string]map[string]int
}

// Experiment loads an experiment's counters and stored design (nil when
// the experiment never assigned anyone).
func (s *Store) Experiment(ctx context.Context, exp string) (ExperimentCounts, []byte, error) {
	pipe := s.rdb.Pipeline()
	h := pipe.HGetAll(ctx, s.expKey(exp))
	d := pipe.Get(ctx, s.expDesignKey(exp))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return ExperimentCounts{}, nil, fmt.Errorf("load experiment: %w", err)
	}
	c := ExperimentCounts{People: map[string]int{}, Counted: map[string]map[string]int{}, Late: map[string]map[string]int{}}
	for k, v := range h.Val() {
		n, _ := strconv.Atoi(v)
		parts := strings.Split(k, ":")
		switch {
		case len(parts) == 2 && parts[0] == "people":
			c.People[parts[1]] = n
		case len(parts) == 3 && (parts[0] == "o" || parts[0] == "late"):
			m := c.Counted
			if parts[0] == "late" {
				m = c.Late
			}
			if m[parts[1]] == nil {
				m[parts[1]] = map[string]int{}
			}
			m[parts[1]][parts[2]] = n
		}
	}
	design, _ := d.Bytes()
	return c, design, nil
}

// Experiments lists the ids of every experiment that assigned someone.
func (s *Store) Experiments(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.experimentsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list experiments: %w", err)
	}
	return ids, nil
}
