package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/store"
)

// pipelineLog records the commands of every pipeline sent through it.
type pipelineLog struct {
	mu   sync.Mutex
	cmds [][]string
}

func (l *pipelineLog) DialHook(next redis.DialHook) redis.DialHook { return next }
func (l *pipelineLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (l *pipelineLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var names []string
		for _, c := range cmds {
			names = append(names, strings.ToUpper(c.Name()))
		}
		l.mu.Lock()
		l.cmds = append(l.cmds, names)
		l.mu.Unlock()
		return next(ctx, cmds)
	}
}

// A store told to wait for a replica (a Sentinel deployment) ends each
// write that records a received text with a WAIT in the same round trip;
// without a replica the write still succeeds after the timeout. Without
// the option no WAIT is sent.
func TestWriteWaitsForReplica(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replicas int
		wantWait bool
	}{
		{"sentinel deployment", 1, true},
		{"single redis", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb, prefix := testRedis(t)
			log := &pipelineLog{}
			rdb.AddHook(log)
			st := store.New(rdb, store.Options{Prefix: prefix, WaitReplicas: tc.replicas, WaitTimeout: 20 * time.Millisecond})
			now := time.Now()
			tag := "0123456789abcdef01234567"
			m := store.Message{ID: store.NewID(now), Tag: tag, Dir: "in", Channel: "sms", At: now, Body: "2", Kind: "reply", ProviderID: "SMwait" + prefix}
			if _, err := st.StoreInbound(context.Background(), m, "+31612345678", now, time.Hour); err != nil {
				t.Fatalf("store inbound: %v", err)
			}
			checkWait(t, log, tc.wantWait)
			// A batch's nudges, created many at once, wait the same way.
			log.cmds = nil
			tag2 := "0123456789abcdef01234568"
			n := &store.Nudge{Tag: tag2, Ref: "Z-1", Channel: "sms"}
			n.ID, n.Flow.ID, n.Flow.Version, n.Status, n.StartedAt = store.NewScopedID(tag2, now), "no-show", 1, "waiting", now
			ob := store.NewOutbox(tag2, now)
			if _, _, err := st.CreateMany(context.Background(), []store.CreateItem{{Recipient: store.Recipient{Tag: tag2, Phone: "+31612345679"},
				Nudge: n, Outbox: ob, Work: &store.Work{Conv: n.ID, Sends: []string{"m1"}}}}); err != nil {
				t.Fatalf("create many: %v", err)
			}
			checkWait(t, log, tc.wantWait)
		})
	}
}

// checkWait fails unless the pipelines logged end with a WAIT exactly when
// want.
func checkWait(t *testing.T, log *pipelineLog, want bool) {
	t.Helper()
	waited := false
	for _, p := range log.cmds {
		for i, c := range p {
			if c == "WAIT" {
				waited = true
				if i != len(p)-1 {
					t.Errorf("WAIT is not the last command of its pipeline: %v", p)
				}
			}
		}
	}
	if waited != want {
		t.Fatalf("WAIT sent = %v, want %v (pipelines %v)", waited, want, log.cmds)
	}
}
