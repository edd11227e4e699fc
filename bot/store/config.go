package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"
)

// RedisSetting is a Redis configuration setting Seintje's key layout is
// made for.
type RedisSetting struct {
	Name  string // as in redis.conf and CONFIG GET
	Value int64  // at least this
	Why   string
}

// RecommendedRedis lists the settings a Redis for Seintje should have. A
// recipient's messages and conversations are one hash (store.go); with
// Redis's default hash-max-listpack-value (64) any value longer than 64
// bytes, such as a message text, turns the hash into a hash table, which
// costs about 300 bytes of pointers and headers per recipient besides the
// data. Up to 1,024 bytes the hash stays a compact listpack (still at most
// hash-max-listpack-entries fields, 128 by default, so a long history does
// not make one listpack slow to search). deploy/compose.yaml sets it;
// docs/performance.md has the figures with and without.
var RecommendedRedis = []RedisSetting{
	{Name: "hash-max-listpack-value", Value: 1024,
		Why: "a waiting conversation then takes about 1,930 instead of 2,200 bytes of Redis"},
}

// RedisArgs are RecommendedRedis as redis-server arguments.
func RedisArgs() []string {
	var out []string
	for _, s := range RecommendedRedis {
		out = append(out, "--"+s.Name, strconv.FormatInt(s.Value, 10))
	}
	return out
}

// CheckRedisConfig compares the Redis configuration with RecommendedRedis
// and returns one line of advice per setting that is lower (none when all
// are set, or when Redis does not allow CONFIG GET, as managed services
// often do: then there is nothing to read).
func (s *Store) CheckRedisConfig(ctx context.Context) []string {
	var (
		mu     sync.Mutex // the masters of a cluster are asked at once
		advice []string
	)
	_ = s.eachMaster(ctx, func(ctx context.Context, c redis.UniversalClient) error {
		for _, rs := range RecommendedRedis {
			v, err := c.ConfigGet(ctx, rs.Name).Result()
			if err != nil {
				return err
			}
			n, err := strconv.ParseInt(v[rs.Name], 10, 64)
			if err != nil || n >= rs.Value {
				continue
			}
			mu.Lock()
			advice = append(advice, fmt.Sprintf("Redis %s is %d, set it to %d or more: %s", rs.Name, n, rs.Value, rs.Why))
			mu.Unlock()
		}
		return nil
	})
	slices.Sort(advice)
	return slices.Compact(advice) // the same on every master of a cluster
}
