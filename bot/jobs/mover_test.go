package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/internal/redistest"
	"github.com/seintje/seintje/bot/jobs"
	"github.com/seintje/seintje/bot/store"
)

var itest = redistest.NewSuite("jobs")

func TestMain(m *testing.M) { os.Exit(itest.Main(m)) }

// countingHandler counts how often each timer fired.
type countingHandler struct {
	mu    sync.Mutex
	fired map[string]int // "cid|kind|seq|index" → times
}

func (h *countingHandler) ProcessSend(context.Context, string, string) error       { return nil }
func (h *countingHandler) SendGaveUp(context.Context, string, string, error) error { return nil }
func (h *countingHandler) ApplyIndex(context.Context, []store.IndexOp) error       { return nil }
func (h *countingHandler) ProcessTimer(ctx context.Context, tag, cid string, seq int) error {
	return h.ProcessTimerOf(ctx, tag, cid, "", seq, 0)
}
func (h *countingHandler) ProcessTimerOf(_ context.Context, tag, cid, kind string, seq, index int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fired[fmt.Sprintf("%s|%s|%s|%d|%d", tag, cid, kind, seq, index)]++
	return nil
}

func (h *countingHandler) count() (total int, twice []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, n := range h.fired {
		total += n
		if n > 1 {
			twice = append(twice, k)
		}
	}
	return total, twice
}

// testRedis returns a client of the test Redis and a fresh prefix (also
// the queue name); its keys are removed afterwards.
func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(itest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "jt" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		for _, pat := range []string{prefix + ":*", "asynq:{" + prefix + "}:*"} {
			for it := rdb.Scan(ctx, 0, pat, 500).Iterator(); it.Next(ctx); {
				rdb.Del(ctx, it.Val())
			}
		}
		rdb.SRem(ctx, "asynq:queues", prefix)
		rdb.Close()
	})
	return rdb, prefix
}

// Two workers move timers out of the same timer sets at the same time:
// every timer fires, and fires once.
func TestTwoMoversFireEachTimerOnce(t *testing.T) {
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	st := store.New(rdb, store.Options{Prefix: prefix})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := jobs.Options{Queue: prefix, Poll: 20 * time.Millisecond, Concurrency: 8, Log: log, Timers: st, TimerBatch: 16}
	q := jobs.NewQueue(rdb, o)
	now := time.Now()
	kinds := []string{"", "reminder", "expire"}
	const n = 300
	for i := range n {
		tag := fmt.Sprintf("%024x", i)
		cid := store.NewScopedID(tag, now)
		// Some due already, some within the next second.
		at := now.Add(time.Duration(i%10-5) * 100 * time.Millisecond)
		if err := q.EnqueueTimerOf(ctx, tag, cid, kinds[i%3], i%4, i%2, at); err != nil {
			t.Fatal(err)
		}
	}
	h := &countingHandler{fired: map[string]int{}}
	for range 2 {
		w := jobs.NewWorker(rdb, h, o)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer w.Shutdown()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		total, _ := h.count()
		left, err := st.TimerCount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if total >= n && left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s: %d of %d timers fired, %d still in the timer sets", total, n, left)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Nothing is left that could fire again: no timer in the sets, no
	// timer task in the queue.
	insp := asynq.NewInspectorFromRedisClient(rdb)
	eventuallyEmpty := time.Now().Add(20 * time.Second)
	for {
		qi, err := insp.GetQueueInfo(prefix)
		if err != nil {
			t.Fatal(err)
		}
		if qi.Pending+qi.Scheduled+qi.Active+qi.Retry == 0 {
			break
		}
		if time.Now().After(eventuallyEmpty) {
			t.Fatalf("queue not empty: %+v", qi)
		}
		time.Sleep(50 * time.Millisecond)
	}
	total, twice := h.count()
	if total != n || len(twice) > 0 {
		t.Fatalf("%d firings of %d timers; fired more than once: %v", total, n, twice)
	}
}
