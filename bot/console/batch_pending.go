package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// pendingTTL is how long an uploaded file waits for its column mapping.
// It holds personal data (phone numbers), so it goes soon.
const pendingTTL = 30 * time.Minute

// pendingUpload is a file whose columns the case worker still has to map.
// It is kept in Redis under a hash of a random id, for the person who
// uploaded it only, and deleted once the batch is made (or after
// pendingTTL).
type pendingUpload struct {
	Actor      string
	Flow       string
	Caseworker string
	Data       []byte
}

var errNoPending = errors.New("no such upload")

func (c *Console) pendingKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return c.d.Prefix + ":console:upload:" + hex.EncodeToString(sum[:16])
}

// savePending stores an upload and returns its id.
func (c *Console) savePending(ctx context.Context, p pendingUpload) (string, error) {
	id := randomToken()
	key := c.pendingKey(id)
	_, err := c.d.Redis.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		tx.HSet(ctx, key, "actor", p.Actor, "flow", p.Flow, "caseworker", p.Caseworker, "data", p.Data)
		tx.Expire(ctx, key, pendingTTL)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("keep upload: %w", err)
	}
	return id, nil
}

// loadPending returns the upload id of actor (errNoPending when there is
// none, it expired, or it is someone else's).
func (c *Console) loadPending(ctx context.Context, id, actor string) (*pendingUpload, error) {
	if id == "" || len(id) > 100 {
		return nil, errNoPending
	}
	m, err := c.d.Redis.HGetAll(ctx, c.pendingKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("load upload: %w", err)
	}
	if len(m) == 0 || m["actor"] != actor {
		return nil, errNoPending
	}
	return &pendingUpload{Actor: m["actor"], Flow: m["flow"], Caseworker: m["caseworker"], Data: []byte(m["data"])}, nil
}

func (c *Console) dropPending(ctx context.Context, id string) error {
	if err := c.d.Redis.Del(ctx, c.pendingKey(id)).Err(); err != nil {
		return fmt.Errorf("delete upload: %w", err)
	}
	return nil
}
