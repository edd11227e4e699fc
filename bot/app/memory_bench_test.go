package app_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/store"
	"github.com/seintje/seintje/internal/redisproc"
)

// BenchmarkWaitingConversationMemory measures the Redis memory of a waiting
// conversation: 20,000 no-show nudges are created and their first SMS
// handed to an unthrottled fake Twilio by the job worker, as in production;
// then every conversation waits for its answer, with its timers pending.
// It runs on a redis-server of its own (internal/redisproc, no
// persistence), so INFO memory counts nothing but this Seintje, once with
// Redis's default configuration and once with the settings Seintje
// recommends (store.RecommendedRedis, as deploy/compose.yaml starts it).
// Reports B/conv (INFO used_memory after minus before, per conversation:
// keys, values, TTLs, the job queue's timer tasks and the audit trail) and
// keys/conv.
//
//	go test -run '^$' -bench WaitingConversationMemory -benchtime 1x ./bot/app
func BenchmarkWaitingConversationMemory(b *testing.B) {
	if err := redisproc.Available(); err != nil {
		itest.Skip(b, err.Error())
	}
	b.Run("redis-defaults", func(b *testing.B) { benchWaitingMemory(b, nil) })
	b.Run("recommended", func(b *testing.B) { benchWaitingMemory(b, store.RedisArgs()) })
}

func benchWaitingMemory(b *testing.B, redisArgs []string) {
	const convs = 20_000
	srv, err := redisproc.Start(b.TempDir(), "mem", append([]string{"--appendonly", "no", "--save", ""}, redisArgs...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	tw, sent := countingTwilio(b)
	h := newHarness(b, map[string]string{"REDIS_URL": "redis://" + srv.Addr() + "/0", "TWILIO_API_URL": tw.URL,
		"SEINTJE_SMS_RATE": "1000000", "SEINTJE_LOG_LEVEL": "error"})
	ctx := context.Background()
	for range b.N {
		before := usedMemory(b, h.rdb)
		keys0, _ := h.rdb.DBSize(ctx).Result()
		base := sent.Load()
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < convs; i += 16 {
					_, err := h.app.Service.Trigger(ctx, outreach.TriggerRequest{Flow: "no-show", Ref: fmt.Sprintf("M-%06d", i),
						Phone: fmt.Sprintf("+3162%07d", i), Name: "Sanne de Vries", Caseworker: "Ahmed",
						Vars: map[string]any{"appointment_at": appointmentAt}, TriggeredBy: "bench"})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		// Every first SMS handed over and its status recorded: nothing
		// left in the job queue but the timers.
		deadline := time.Now().Add(5 * time.Minute)
		for sent.Load()-base < convs || queueBusy(b, h) {
			if time.Now().After(deadline) {
				b.Fatalf("after 5 minutes %d of %d handed over", sent.Load()-base, convs)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // outbox cleanups still in flight
		after := usedMemory(b, h.rdb)
		keys1, _ := h.rdb.DBSize(ctx).Result()
		b.ReportMetric(float64(after-before)/convs, "B/conv")
		b.ReportMetric(float64(keys1-keys0)/convs, "keys/conv")
		if testing.Verbose() {
			logMemoryByKind(b, h.rdb, convs)
		}
	}
}

// logMemoryByKind logs MEMORY USAGE per kind of key (the key name with its
// ids replaced by *), per conversation: where the bytes are.
func logMemoryByKind(b *testing.B, rdb redis.UniversalClient, convs int) {
	ctx := context.Background()
	type agg struct{ n, sampled, bytes int64 }
	kinds := map[string]*agg{}
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, "*", 1000).Result()
		if err != nil {
			b.Fatal(err)
		}
		pipe := rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(keys))
		for i, k := range keys {
			a := kinds[keyKind(k)]
			if a == nil {
				a = &agg{}
				kinds[keyKind(k)] = a
			}
			a.n++
			if a.sampled < 200 {
				cmds[i] = pipe.MemoryUsage(ctx, k, 0)
			}
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		for i, k := range keys {
			if cmds[i] != nil {
				a := kinds[keyKind(k)]
				a.sampled++
				a.bytes += cmds[i].Val()
			}
		}
		cursor = next
		if cursor == 0 {
			break
		}
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	slices.SortFunc(names, func(x, y string) int {
		return cmp.Compare(kinds[y].bytes*kinds[y].n/max(kinds[y].sampled, 1), kinds[x].bytes*kinds[x].n/max(kinds[x].sampled, 1))
	})
	for _, k := range names {
		a := kinds[k]
		total := a.bytes * a.n / max(a.sampled, 1)
		b.Logf("%-60s keys %7d  %7.1f B/conv", k, a.n, float64(total)/float64(convs))
	}
}

// keyKind replaces the ids in a key name by *.
func keyKind(k string) string {
	parts := strings.FieldsFunc(k, func(r rune) bool { return r == ':' || r == '{' || r == '}' || r == '|' })
	for i, p := range parts {
		if len(p) >= 10 && strings.IndexFunc(p, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0 {
			parts[i] = "*"
		}
	}
	return strings.Join(parts, ":")
}

// queueBusy reports whether the job queue still has sends pending or in
// progress.
func queueBusy(b *testing.B, h *harness) bool {
	ctx := context.Background()
	pipe := h.rdb.Pipeline()
	p := pipe.LLen(ctx, "asynq:{"+h.prefix+"}:pending")
	a := pipe.LLen(ctx, "asynq:{"+h.prefix+"}:active")
	r := pipe.ZCard(ctx, "asynq:{"+h.prefix+"}:retry")
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	return p.Val()+a.Val()+r.Val() > 0
}

// usedMemory is INFO memory's used_memory in bytes.
func usedMemory(b *testing.B, rdb redis.UniversalClient) int64 {
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no used_memory in INFO memory")
	return 0
}
