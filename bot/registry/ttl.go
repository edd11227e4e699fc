package registry

import (
	"context"
	"time"

	"github.com/seintje/seintje/bot/flow"
)

// touchEvery bounds how often one version's TTL is refreshed.
const touchEvery = time.Hour

// touch refreshes the TTL of a stored version whenever a conversation on it
// is handled (Version), at most once an hour per version. A version is then
// kept until ttl after the last conversation on it was touched, i.e. until
// no conversation uses it (conversations themselves are deleted after the
// retention period, which ttl exceeds by 30 days). Errors are ignored: the
// version stays in memory and the next touch tries again.
func (r *Registry) touch(ctx context.Context, ref flow.Ref, now time.Time) {
	r.mu.Lock()
	if r.touched == nil {
		r.touched = map[string]time.Time{}
	}
	last, ok := r.touched[ref.Digest]
	if ok && now.Sub(last) < touchEvery {
		r.mu.Unlock()
		return
	}
	r.touched[ref.Digest] = now
	r.mu.Unlock()
	pipe := r.rdb.Pipeline()
	pipe.Expire(ctx, r.key(ref.ID, ref.Digest), r.ttl)
	pipe.Expire(ctx, r.key(ref.ID, ref.Digest)+":file", r.ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		r.mu.Lock()
		delete(r.touched, ref.Digest)
		r.mu.Unlock()
	}
}
