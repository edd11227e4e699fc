package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/internal/redistest"
	"github.com/seintje/seintje/bot/store"
)

var itest = redistest.NewSuite("store")

func TestMain(m *testing.M) { os.Exit(itest.Main(m)) }

// testRedis is the shared test Redis under a fresh key prefix, emptied of
// that prefix afterwards.
func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(itest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "t" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		var keys []string
		for it := rdb.Scan(ctx, 0, prefix+":*", 500).Iterator(); it.Next(ctx); {
			keys = append(keys, it.Val())
		}
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	return rdb, prefix
}

// Sixty people asked to be called back at 10:00 sharp; five of them are
// urgent (priority 1) and happen to have the last ids. The first page of
// 50 must start with those five, not leave them for page two.
func TestQueuePriorityAcrossPages(t *testing.T) {
	rdb, prefix := testRedis(t)
	st := store.New(rdb, store.Options{Prefix: prefix})
	ctx := context.Background()
	now := time.Date(2031, 1, 6, 9, 0, 0, 0, time.UTC)
	due := now.Add(time.Hour)
	urgent := map[string]bool{}
	for i := range 60 {
		tag := fmt.Sprintf("%024x", i+1) // ids sort by i
		cb := store.Callback{ID: store.NewScopedID(tag, now), Ref: fmt.Sprintf("C-%02d", i), Status: store.CallbackOpen,
			Priority: 3, AskedAt: now, Due: due}
		if i >= 55 {
			cb.Priority = 1
			urgent[cb.ID] = true
		}
		raw, _ := json.Marshal(cb)
		if err := rdb.HSet(ctx, prefix+":{r:"+tag+"}:cb", cb.ID, raw).Err(); err != nil {
			t.Fatal(err)
		}
		// The store's own write path puts it in the queue's index.
		if err := st.UpdateCallback(ctx, &cb, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		filter string
		at     time.Time
	}{{store.QueueOpen, now}, {store.QueueOverdue, due.Add(time.Minute)}} {
		page, err := st.Queue(ctx, store.QueueQuery{Filter: tc.filter, Me: "anne", Now: tc.at, PerPage: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Tasks) != 50 || !page.More {
			t.Fatalf("%s: %d tasks, more %v", tc.filter, len(page.Tasks), page.More)
		}
		for i, cb := range page.Tasks[:5] {
			if !urgent[cb.ID] {
				t.Errorf("%s: task %d of page 1 is %s (priority %d), want one of the five urgent ones", tc.filter, i+1, cb.Ref, cb.Priority)
			}
		}
		next, err := st.Queue(ctx, store.QueueQuery{Filter: tc.filter, Me: "anne", Now: tc.at, PerPage: 50, Page: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, cb := range next.Tasks {
			if urgent[cb.ID] {
				t.Errorf("%s: urgent task %s is on page 2", tc.filter, cb.Ref)
			}
		}
	}
	// Due time still counts in whole milliseconds: nothing is overdue at
	// the due moment itself, all 60 are a millisecond later.
	for _, tc := range []struct {
		at   time.Time
		want int64
	}{{due, 0}, {due.Add(time.Millisecond), 60}} {
		c, err := st.QueueCounts(ctx, "anne", tc.at, now)
		if err != nil {
			t.Fatal(err)
		}
		if c.Overdue != tc.want || c.Open != 60 {
			t.Errorf("at %s: %+v, want %d overdue of 60", tc.at.Format(time.StampMilli), c, tc.want)
		}
	}
}
