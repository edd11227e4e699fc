package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The admins' list of opt-outs: a global index (tag|channel, scored by
// when), so the list needs no scan. It holds no personal data; entries
// whose recipient expired are dropped when read.

func (s *Store) optOutsKey() string { return s.gkey("optouts") }

func (s *Store) indexOptOut(ctx context.Context, tag, channel string, on bool, at time.Time) error {
	var err error
	if on {
		err = s.rdb.ZAdd(ctx, s.optOutsKey(), redis.Z{Score: float64(at.UnixMilli()), Member: tag + "|" + channel}).Err()
	} else {
		err = s.rdb.ZRem(ctx, s.optOutsKey(), tag+"|"+channel).Err()
	}
	if err != nil {
		return fmt.Errorf("index opt-out: %w", err)
	}
	return nil
}

// OptOut is one person's opt-out on one channel.
type OptOut struct {
	Tag     string
	Ref     string
	Name    string
	Channel string
	At      time.Time
}

// OptOuts lists up to limit opt-outs, newest first, skipping offset.
func (s *Store) OptOuts(ctx context.Context, offset, limit int64) ([]OptOut, bool, error) {
	zs, err := s.rdb.ZRevRangeWithScores(ctx, s.optOutsKey(), offset, offset+limit).Result()
	if err != nil {
		return nil, false, fmt.Errorf("list opt-outs: %w", err)
	}
	more := int64(len(zs)) > limit
	if more {
		zs = zs[:limit]
	}
	out := make([]OptOut, 0, len(zs))
	for _, z := range zs {
		tag, ch, _ := strings.Cut(z.Member.(string), "|")
		rcp, err := s.Recipient(ctx, tag)
		if errors.Is(err, ErrNotFound) || err == nil && !rcp.OptedOut(ch) {
			s.rdb.ZRem(ctx, s.optOutsKey(), z.Member)
			continue
		}
		if err != nil {
			return nil, false, err
		}
		out = append(out, OptOut{Tag: tag, Ref: rcp.Ref, Name: rcp.Name, Channel: ch, At: time.UnixMilli(int64(z.Score)).UTC()})
	}
	return out, more, nil
}
