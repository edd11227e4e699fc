package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The werkplaats queue as the console shows it: one page of tasks by
// filter, and the count of every filter, in a few round trips however
// long the queue is. Tasks are ordered by due time, then priority.

// Queue filters.
const (
	QueueOpen      = "open"       // not done: open and claimed (a colleague's claim shows who)
	QueueMine      = "mine"       // claimed by me
	QueueOverdue   = "overdue"    // not done and due before now
	QueueDoneToday = "done_today" // done since midnight (Europe/Amsterdam), newest first
)

// QueueQuery selects one page.
type QueueQuery struct {
	Filter   string
	Me       string
	Now      time.Time
	Midnight time.Time // start of today, for done_today
	Page     int       // from 0
	PerPage  int       // default 50
}

// QueuePage is one page of the queue.
type QueuePage struct {
	Tasks []Callback
	More  bool // a next page exists
}

// QueueCounts are the number of tasks per filter.
type QueueCounts struct {
	Open, Mine, Overdue, DoneToday int64
}

func (s *Store) doneAtKey() string { return s.gkey("callbacks", "doneat") }

type scored struct {
	id  string
	due float64
}

// QueueCounts counts every filter: ZCARD/ZCOUNT on the indexes plus the
// claimed tasks (few: one or two per colleague at work).
func (s *Store) QueueCounts(ctx context.Context, me string, now, midnight time.Time) (QueueCounts, error) {
	var c QueueCounts
	nowMs := strconv.FormatInt(now.UnixMilli(), 10)
	pipe := s.rdb.Pipeline()
	open := pipe.ZCard(ctx, s.callbacksKey(CallbackOpen))
	claimed := pipe.ZCard(ctx, s.callbacksKey(CallbackClaimed))
	overOpen := pipe.ZCount(ctx, s.callbacksKey(CallbackOpen), "-inf", "("+nowMs)
	overClaimed := pipe.ZCount(ctx, s.callbacksKey(CallbackClaimed), "-inf", "("+nowMs)
	done := pipe.ZCount(ctx, s.doneAtKey(), strconv.FormatInt(midnight.UnixMilli(), 10), "+inf")
	if _, err := pipe.Exec(ctx); err != nil {
		return c, fmt.Errorf("count queue: %w", err)
	}
	c.Open = open.Val() + claimed.Val()
	c.Overdue = overOpen.Val() + overClaimed.Val()
	c.DoneToday = done.Val()
	mine, err := s.claimedBy(ctx, me, now)
	if err != nil {
		return c, err
	}
	c.Mine = int64(len(mine))
	return c, nil
}

// claimedBy returns the tasks me holds (claims not lapsed), by due.
func (s *Store) claimedBy(ctx context.Context, me string, now time.Time) ([]Callback, error) {
	ids, err := s.rdb.ZRange(ctx, s.callbacksKey(CallbackClaimed), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list claimed: %w", err)
	}
	cbs, err := s.loadCallbacks(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := cbs[:0]
	for _, cb := range cbs {
		if cb.Status == CallbackClaimed && cb.ClaimedBy == me && cb.EffectiveStatus(now) == CallbackClaimed {
			out = append(out, cb)
		}
	}
	return out, nil
}

// Queue returns one page of tasks for q.
func (s *Store) Queue(ctx context.Context, q QueueQuery) (QueuePage, error) {
	if q.PerPage <= 0 {
		q.PerPage = 50
	}
	if q.Page < 0 {
		q.Page = 0
	}
	from, to := q.Page*q.PerPage, (q.Page+1)*q.PerPage
	var page QueuePage
	switch q.Filter {
	case QueueMine:
		mine, err := s.claimedBy(ctx, q.Me, q.Now)
		if err != nil {
			return page, err
		}
		sortQueue(mine)
		page.More = len(mine) > to
		page.Tasks = mine[min(from, len(mine)):min(to, len(mine))]
		return page, nil
	case QueueDoneToday:
		ids, err := s.rdb.ZRevRangeByScore(ctx, s.doneAtKey(), &redis.ZRangeBy{Max: "+inf",
			Min: strconv.FormatInt(q.Midnight.UnixMilli(), 10), Offset: int64(from), Count: int64(q.PerPage + 1)}).Result()
		if err != nil {
			return page, fmt.Errorf("list done: %w", err)
		}
		page.More = len(ids) > q.PerPage
		ids = ids[:min(len(ids), q.PerPage)]
		cbs, err := s.loadCallbacks(ctx, ids)
		page.Tasks = cbs
		return page, err
	}
	// Open or overdue: the first `to` of each index by due, merged; only
	// the page's tasks are loaded. (Claimed tasks are few.)
	max := "+inf"
	if q.Filter == QueueOverdue {
		max = "(" + strconv.FormatInt(q.Now.UnixMilli(), 10)
	}
	pipe := s.rdb.Pipeline()
	var cmds []*redis.ZSliceCmd
	for _, st := range []string{CallbackOpen, CallbackClaimed} {
		cmds = append(cmds, pipe.ZRangeByScoreWithScores(ctx, s.callbacksKey(st), &redis.ZRangeBy{Min: "-inf", Max: max, Count: int64(to + 1)}))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return page, fmt.Errorf("list queue: %w", err)
	}
	var all []scored
	for _, c := range cmds {
		for _, z := range c.Val() {
			all = append(all, scored{id: z.Member.(string), due: z.Score})
		}
	}
	// The score holds due time and priority (queueScore): the page is cut
	// in the queue's order; ties are by id (age only within the page).
	slices.SortStableFunc(all, func(a, b scored) int { return cmp.Or(cmp.Compare(a.due, b.due), cmp.Compare(a.id, b.id)) })
	page.More = len(all) > to
	all = all[min(from, len(all)):min(to, len(all))]
	ids := make([]string, len(all))
	for i, a := range all {
		ids[i] = a.id
	}
	cbs, err := s.loadCallbacks(ctx, ids)
	if err != nil {
		return page, err
	}
	out := cbs[:0]
	for _, cb := range cbs {
		if cb.Status != CallbackDone {
			out = append(out, cb)
		}
	}
	sortQueue(out)
	page.Tasks = out
	return page, nil
}

// queueScore is a task's score in the open and claimed indexes: the due
// time in Unix milliseconds plus a fraction for the priority (0 → .0,
// 1 → .25, 2 → .5, 3 → .75), so that the index itself orders by due time,
// then priority, and a page cut from it holds the right tasks even when
// many are due at the same moment. The fraction never changes the whole
// milliseconds: int64(score) is the due time, and score < now (overdue)
// holds exactly when due < now. Quarters are exact in a float64 for any
// due time below 2^50 ms (the year 37,000). Entries written before this
// rule carry whole milliseconds and sort as priority 0 until next changed.
func queueScore(dueMs int64, priority int) float64 {
	return float64(dueMs) + float64(min(max(priority, 0), 3))/4
}

// sortQueue orders by due time, then priority (1 first), then age.
func sortQueue(cbs []Callback) {
	slices.SortStableFunc(cbs, func(a, b Callback) int {
		return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.Priority, b.Priority), a.AskedAt.Compare(b.AskedAt))
	})
}

// loadCallbacks loads tasks by id in one pipeline, in the given order;
// ids whose data expired are left out.
func (s *Store) loadCallbacks(ctx context.Context, ids []string) ([]Callback, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		tag, _ := TagOf(id)
		cmds[i] = pipe.HGet(ctx, s.cbKey(tag), id)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("load callbacks: %w", err)
	}
	out := make([]Callback, 0, len(ids))
	for _, c := range cmds {
		v, err := c.Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		var cb Callback
		if err := json.Unmarshal([]byte(v), &cb); err != nil {
			return nil, fmt.Errorf("decode callback: %w", err)
		}
		out = append(out, cb)
	}
	return out, nil
}
