package audit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/audit"
)

// backends runs f on miniredis and, when one answers (or CI is set), on
// the real Redis at REDIS_URL.
func backends(t *testing.T, f func(t *testing.T, rdb redis.UniversalClient, prefix string)) {
	t.Run("miniredis", func(t *testing.T) {
		mr := miniredis.RunT(t)
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { rdb.Close() })
		f(t, rdb, "a")
	})
	t.Run("redis", func(t *testing.T) {
		u := os.Getenv("REDIS_URL")
		if u == "" {
			u = "redis://127.0.0.1:6379/0"
		}
		opt, err := redis.ParseURL(u)
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { rdb.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := rdb.Ping(ctx).Err(); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("needs Redis at %s: %v", u, err)
			}
			t.Skipf("no Redis at %s", u)
		}
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		prefix := "t" + hex.EncodeToString(b)
		t.Cleanup(func() { rdb.Del(context.Background(), prefix+":audit") })
		f(t, rdb, prefix)
	})
}

func TestRecordAndFind(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := context.Background()
		l := audit.New(rdb, audit.Options{Prefix: prefix})
		// Anne (werkplaats) claims two tasks; the API token "zaaksysteem"
		// triggers three nudges; one entry has its actor from the context.
		for i := range 3 {
			if err := l.Record(ctx, audit.Entry{Actor: "zaaksysteem", Role: "caseworker", Via: "api", Action: audit.ActionTrigger, Nudge: fmt.Sprintf("n%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		actx := audit.WithActor(ctx, audit.Actor{Name: "anne", Role: "werkplaats", Via: "console"})
		for i := range 2 {
			if err := l.Record(actx, audit.Entry{Action: audit.ActionClaim, Task: fmt.Sprintf("t%d", i)},
				audit.Entry{Action: audit.ActionViewPhone, Task: fmt.Sprintf("t%d", i)}); err != nil {
				t.Fatal(err)
			}
		}

		tests := []struct {
			name  string
			q     audit.Query
			want  []string // action/object, newest first
			paged bool
		}{
			{name: "everything", q: audit.Query{}, want: []string{"view_phone/t1", "claim/t1", "view_phone/t0", "claim/t0", "trigger/n2", "trigger/n1", "trigger/n0"}},
			{name: "actor anne", q: audit.Query{Actor: "anne"}, want: []string{"view_phone/t1", "claim/t1", "view_phone/t0", "claim/t0"}},
			{name: "action trigger", q: audit.Query{Action: audit.ActionTrigger}, want: []string{"trigger/n2", "trigger/n1", "trigger/n0"}},
			{name: "anne's phone views", q: audit.Query{Actor: "anne", Action: audit.ActionViewPhone}, want: []string{"view_phone/t1", "view_phone/t0"}},
			{name: "nobody", q: audit.Query{Actor: "bert"}, want: nil},
			{name: "future", q: audit.Query{From: time.Now().Add(time.Hour)}, want: nil},
			{name: "past", q: audit.Query{To: time.Now().Add(-time.Hour)}, want: nil},
			{name: "window", q: audit.Query{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour), Action: audit.ActionClaim}, want: []string{"claim/t1", "claim/t0"}},
			{name: "pages of two", q: audit.Query{Limit: 2}, paged: true, want: []string{"view_phone/t1", "claim/t1", "view_phone/t0", "claim/t0", "trigger/n2", "trigger/n1", "trigger/n0"}},
			{name: "filtered pages", q: audit.Query{Limit: 1, Action: audit.ActionTrigger}, paged: true, want: []string{"trigger/n2", "trigger/n1", "trigger/n0"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got []string
				q := tt.q
				for pages := 0; ; pages++ {
					p, err := l.Find(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range p.Entries {
						obj := e.Nudge + e.Task
						got = append(got, e.Action+"/"+obj)
						if e.At.IsZero() || time.Since(e.At) > time.Minute {
							t.Errorf("entry %s has time %v", e.ID, e.At)
						}
						if e.Action == audit.ActionClaim && (e.Actor != "anne" || e.Role != "werkplaats" || e.Via != "console") {
							t.Errorf("claim by %q/%q/%q, want anne from the context", e.Actor, e.Role, e.Via)
						}
					}
					if !tt.paged || p.Next == "" || pages > 20 {
						break
					}
					if len(p.Entries) > q.Limit {
						t.Fatalf("page of %d entries, limit %d", len(p.Entries), q.Limit)
					}
					q.Cursor = p.Next
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("got %v\nwant %v", got, tt.want)
				}
			})
		}
		if _, err := l.Find(ctx, audit.Query{Cursor: "nonsense"}); !errors.Is(err, audit.ErrBadCursor) {
			t.Errorf("bad cursor: %v", err)
		}
	})
}

// Entries older than the retention period go as new ones arrive.
func TestRetention(t *testing.T) {
	backends(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := context.Background()
		old := audit.New(rdb, audit.Options{Prefix: prefix})
		for i := range 250 {
			if err := old.Record(ctx, audit.Entry{Actor: "x", Action: audit.ActionSearch, Detail: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
		// A trail whose retention cut-off lies between the two batches.
		cut := time.Now().Add(-5 * time.Millisecond)
		later := audit.New(rdb, audit.Options{Prefix: prefix, Retention: time.Hour, Now: func() time.Time { return cut.Add(time.Hour) }})
		for range 150 {
			if err := later.Record(ctx, audit.Entry{Actor: "y", Action: audit.ActionSearch}); err != nil {
				t.Fatal(err)
			}
		}
		// Redis trims whole stream nodes ("MINID ~"), so some old entries
		// may stay; most must go, and none of the new ones.
		x, err := later.Find(ctx, audit.Query{Actor: "x", Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(x.Entries) > 150 {
			t.Errorf("%d old entries left of 250, want them trimmed", len(x.Entries))
		}
		y, err := later.Find(ctx, audit.Query{Actor: "y", Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(y.Entries) != 150 {
			t.Errorf("%d new entries, want 150", len(y.Entries))
		}
	})
}
