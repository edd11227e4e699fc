package jobs_test

// BenchmarkTimerLateness schedules many conversation timers in real Redis
// (in the store's timer sets, moved into asynq when due) and measures how
// late they fire (p50/p99) and the Redis memory used per pending timer.
// Run (figures in docs/timers.md):
//
//	REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench TimerLateness -benchtime 1x ./bot/jobs/
//
// SEINTJE_BENCH_TIMERS sets the number of timers (default 100000).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/jobs"
	"github.com/seintje/seintje/bot/store"
)

type latencyHandler struct {
	due  sync.Map // cid → time.Time
	mu   sync.Mutex
	late []time.Duration
	n    atomic.Int64
	done chan struct{}
	want int64
}

func (h *latencyHandler) ProcessSend(context.Context, string, string) error       { return nil }
func (h *latencyHandler) SendGaveUp(context.Context, string, string, error) error { return nil }
func (h *latencyHandler) ApplyIndex(context.Context, []store.IndexOp) error       { return nil }
func (h *latencyHandler) ProcessTimer(_ context.Context, _, cid string, _ int) error {
	now := time.Now()
	v, ok := h.due.Load(cid)
	if !ok {
		return nil
	}
	h.mu.Lock()
	h.late = append(h.late, now.Sub(v.(time.Time)))
	h.mu.Unlock()
	if h.n.Add(1) == h.want {
		close(h.done)
	}
	return nil
}

func usedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no used_memory in INFO")
}

func BenchmarkTimerLateness(b *testing.B) {
	u := os.Getenv("REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		b.Fatal(err)
	}
	opt.PoolSize = 128
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") != "" {
			b.Fatalf("needs Redis at %s: %v", u, err)
		}
		b.Skipf("no Redis at %s: %v", u, err)
	}
	n := 100000
	if s := os.Getenv("SEINTJE_BENCH_TIMERS"); s != "" {
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	queue := "bench" + hex.EncodeToString(rb[:])
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := jobs.Options{Queue: queue, Poll: 200 * time.Millisecond, Concurrency: 100, Log: log,
		Timers: store.New(rdb, store.Options{Prefix: queue})}
	q := jobs.NewQueue(rdb, o)
	h := &latencyHandler{done: make(chan struct{}), want: int64(n)}
	defer func() { // remove the queue's keys and the timer sets
		for _, pat := range []string{"asynq:{" + queue + "}:*", queue + ":*"} {
			iter := rdb.Scan(ctx, 0, pat, 1000).Iterator()
			for iter.Next(ctx) {
				rdb.Unlink(ctx, iter.Val())
			}
		}
		rdb.SRem(ctx, "asynq:queues", queue)
	}()

	for i := 0; i < b.N; i++ {
		before, err := usedMemory(ctx, rdb)
		if err != nil {
			b.Fatal(err)
		}
		// Timers fire spread over 30 s, starting 20 s from now (enough to
		// enqueue them all first).
		start := time.Now().Add(20 * time.Second)
		spread := 30 * time.Second
		var wg sync.WaitGroup
		var failed atomic.Int64
		const workers = 64
		t0 := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := w; j < n; j += workers {
					tag := fmt.Sprintf("%024x", j)
					cid := fmt.Sprintf("%s-c%015d", tag, j) // the shape of store.NewScopedID
					at := start.Add(time.Duration(int64(spread) * int64(j) / int64(n))).Truncate(time.Millisecond)
					h.due.Store(cid, at)
					if err := q.EnqueueTimer(ctx, tag, cid, 1, at); err != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		enq := time.Since(t0)
		if failed.Load() > 0 {
			b.Fatalf("%d enqueues failed", failed.Load())
		}
		if time.Now().After(start) {
			b.Fatalf("enqueueing took %s: lower SEINTJE_BENCH_TIMERS", enq)
		}
		after, err := usedMemory(ctx, rdb)
		if err != nil {
			b.Fatal(err)
		}
		worker := jobs.NewWorker(rdb, h, o)
		if err := worker.Start(); err != nil {
			b.Fatal(err)
		}
		select {
		case <-h.done:
		case <-time.After(time.Until(start.Add(spread)) + 2*time.Minute):
			b.Fatalf("only %d of %d timers fired", h.n.Load(), n)
		}
		worker.Shutdown()
		h.mu.Lock()
		slices.Sort(h.late)
		p50 := h.late[len(h.late)/2]
		p99 := h.late[len(h.late)*99/100]
		max := h.late[len(h.late)-1]
		h.mu.Unlock()
		perTimer := float64(after-before) / float64(n)
		b.ReportMetric(float64(p50.Milliseconds()), "p50_late_ms")
		b.ReportMetric(float64(p99.Milliseconds()), "p99_late_ms")
		b.ReportMetric(float64(max.Milliseconds()), "max_late_ms")
		b.ReportMetric(perTimer, "redis_bytes/timer")
		b.ReportMetric(float64(n)/enq.Seconds(), "enqueued/s")
		b.Logf("%d timers: enqueued in %s; lateness p50 %s, p99 %s, max %s; Redis used_memory +%d bytes = %.0f bytes per pending timer",
			n, enq.Round(time.Millisecond), p50, p99, max, after-before, perTimer)
	}
}
