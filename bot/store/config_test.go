package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/store"
	"github.com/seintje/seintje/internal/redisproc"
)

// A Redis with its default hash-max-listpack-value gets one line of advice
// naming the setting and the value to set; a Redis started with
// store.RedisArgs (as deploy/compose.yaml starts it) gets none.
func TestCheckRedisConfig(t *testing.T) {
	if err := redisproc.Available(); err != nil {
		itest.Skip(t, err.Error())
	}
	for _, tc := range []struct {
		name   string
		args   []string
		advice int
	}{
		{"redis defaults", nil, 1},
		{"recommended", store.RedisArgs(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := redisproc.Start(t.TempDir(), "cfg", append([]string{"--appendonly", "no"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
			t.Cleanup(func() { rdb.Close() })
			advice := store.New(rdb, store.Options{}).CheckRedisConfig(context.Background())
			if len(advice) != tc.advice {
				t.Fatalf("advice = %q, want %d line(s)", advice, tc.advice)
			}
			for _, a := range advice {
				if !strings.Contains(a, "hash-max-listpack-value is 64, set it to 1024") {
					t.Errorf("advice %q does not say what to set", a)
				}
			}
		})
	}
}
