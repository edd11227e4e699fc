package store

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/channel"
)

// Erase deletes everything Seintje keeps about one recipient (the right to
// erasure, AVG/GDPR art. 17): every key under the recipient's hash tag, its
// entries in the cross-recipient indexes, and the lookups that point to it
// (refHash, and the address lookups in addrs: channel → address hash). It returns the number
// of keys deleted. On Redis Cluster all the recipient's keys live in one slot,
// so the scan finds them on the one master that owns it.
func (s *Store) Erase(ctx context.Context, tag, refHash string, addrs map[channel.Name]string) (int, error) {
	pattern := s.key(tag, "*")
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	if err := s.eachMaster(ctx, scan); err != nil {
		return 0, fmt.Errorf("erase: scan: %w", err)
	}
	deleted := 0
	// Same slot: one DEL per batch is fine on a cluster too.
	for i := 0; i < len(keys); i += 500 {
		n, err := s.rdb.Del(ctx, keys[i:min(i+500, len(keys))]...).Result()
		if err != nil {
			return deleted, fmt.Errorf("erase: delete: %w", err)
		}
		deleted += int(n)
	}
	// Index entries: members start with the tag.
	for _, idx := range []string{s.inboxKey(), s.callbacksKey(CallbackOpen), s.callbacksKey(CallbackClaimed), s.callbacksKey(CallbackDone), s.suggestionsKey(), s.doneAtKey(), s.optOutsKey()} {
		var members []any
		iter := s.rdb.ZScan(ctx, idx, 0, tag+"*", 1000).Iterator()
		for iter.Next(ctx) {
			v := iter.Val()
			if strings.HasPrefix(v, tag) {
				members = append(members, v)
			}
			iter.Next(ctx) // skip the score
		}
		if err := iter.Err(); err != nil {
			return deleted, fmt.Errorf("erase: index: %w", err)
		}
		if len(members) > 0 {
			if err := s.rdb.ZRem(ctx, idx, members...).Err(); err != nil {
				return deleted, fmt.Errorf("erase: index: %w", err)
			}
		}
	}
	lookups := []string{s.gkey("ref", refHash)}
	for ch, h := range addrs {
		if h != "" {
			lookups = append(lookups, s.addrKey(ch, h))
		}
	}
	for _, k := range lookups {
		if strings.HasSuffix(k, ":") {
			continue
		}
		n, err := s.rdb.Del(ctx, k).Result()
		if err != nil {
			return deleted, fmt.Errorf("erase: lookup: %w", err)
		}
		deleted += int(n)
	}
	return deleted, nil
}

// eachMaster runs fn on the one Redis, or on every master of a cluster
// (a SCAN sees only the node it runs on).
func (s *Store) eachMaster(ctx context.Context, fn func(ctx context.Context, c redis.UniversalClient) error) error {
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return fn(ctx, c) })
	}
	return fn(ctx, s.rdb)
}
