package store

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
)

// FlowUse counts the waiting conversations by the flow version they are
// pinned to (a conversation finishes on the version it started with), so a
// coordinator sees which older versions are still in use. It walks the
// recipients' hashes (their "a:<flow>" fields) with SCAN (on every master of a cluster) and
// reads each waiting conversation once: its cost grows with the number of
// recipients that have one, so it is for a coordinator's page, not for a
// hot path. No index is kept for it: nothing is added to the transitions.
func (s *Store) FlowUse(ctx context.Context) (map[flow.Ref]int, error) {
	var (
		mu  sync.Mutex
		out = map[flow.Ref]int{}
	)
	pattern := s.prefix + ":{r:*}:rcp"
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		var keys []string
		flush := func() error {
			if len(keys) == 0 {
				return nil
			}
			refs, err := s.activeRefs(ctx, keys)
			keys = keys[:0]
			if err != nil {
				return err
			}
			mu.Lock()
			for _, r := range refs {
				out[r]++
			}
			mu.Unlock()
			return nil
		}
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 200 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		return flush()
	}
	if err := s.eachMaster(ctx, scan); err != nil {
		return nil, fmt.Errorf("count conversations per flow version: %w", err)
	}
	return out, nil
}

// activeRefs reads the waiting conversations named in the "a:<flow>"
// fields of recipient hashes keys.
func (s *Store) activeRefs(ctx context.Context, keys []string) ([]flow.Ref, error) {
	pipe := s.rdb.Pipeline()
	hs := make([]*redis.MapStringStringCmd, len(keys))
	for i, k := range keys {
		hs[i] = pipe.HGetAll(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, err
	}
	var ids []string
	for i, h := range hs {
		tag, _, _ := strings.Cut(strings.TrimPrefix(keys[i], s.prefix+":{r:"), "}")
		for f, id := range h.Val() {
			if strings.HasPrefix(f, activeField("")) {
				ids = append(ids, fullID(tag, id))
			}
		}
	}
	var refs []flow.Ref
	for i := 0; i < len(ids); i += 200 {
		batch := ids[i:min(i+200, len(ids))]
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(batch))
		for j, id := range batch {
			tag, ok := TagOf(id)
			if !ok {
				continue
			}
			cmds[j] = pipe.HGet(ctx, s.msgsKey(tag), convField(id))
		}
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			return nil, err
		}
		for j, cmd := range cmds {
			if cmd == nil {
				continue
			}
			if cmd.Err() != nil {
				continue // ended and expired meanwhile
			}
			tag, _ := TagOf(batch[j])
			n, err := s.decodeStored(tag, cmd.Val())
			if err != nil || n.Status != engine.Waiting || strings.TrimSpace(n.Flow.ID) == "" {
				continue
			}
			refs = append(refs, n.Flow)
		}
	}
	return refs, nil
}
