// Package registry holds the live flows and every older version a running
// conversation may still need. Flow sources are kept in Redis by digest, so
// a conversation that started on version 3 finishes on version 3 even after
// the file was edited and Seintje restarted.
package registry

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/experiment"
	"github.com/seintje/seintje/bot/flow"
)

// ErrUnknownFlow is returned for a flow id that is not loaded.
var ErrUnknownFlow = errors.New("unknown flow")

// Info describes a live flow for GET /v1/flows.
type Info struct {
	ID          string    `json:"id"`
	Version     int       `json:"version"`
	Digest      string    `json:"digest"`
	File        string    `json:"file"`
	Description string    `json:"description"`
	LoadedAt    time.Time `json:"loaded_at"`
	// PendingError is set when the file on disk changed but does not pass
	// the checks: the previous version keeps running.
	PendingError []string `json:"pending_error,omitempty"`
	// Warnings are about the live version but did not stop it, e.g. its
	// content changed while its `version:` did not go up.
	Warnings []string `json:"warnings,omitempty"`
	// Outcomes the case system can report, then Seintje's own.
	Outcomes []flow.Outcome `json:"outcomes,omitempty"`
	// Experiment is the flow's experiment as declared, if any.
	Experiment *experiment.Design `json:"experiment,omitempty"`
}

// Registry is safe for concurrent use.
type Registry struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration

	mu       sync.RWMutex
	current  map[string]*flow.Flow
	loadedAt map[string]time.Time
	pending  map[string][]string   // flow id or file → error lines
	warnings map[string][]string   // flow id → warnings about the live version
	versions map[string]*flow.Flow // digest → flow
	touched  map[string]time.Time  // digest → last TTL refresh (ttl.go)

	// Check, when set, adds this installation's checks to a reload (the
	// largest hold-out share); a flow with errors keeps its old version.
	Check func(*flow.Flow) flow.Diagnostics
}

// New returns an empty registry persisting sources under prefix in rdb.
// ttl bounds how long an old version is kept (retention plus the longest wait).
func New(rdb redis.UniversalClient, prefix string, ttl time.Duration) *Registry {
	return &Registry{rdb: rdb, prefix: prefix, ttl: ttl,
		current: map[string]*flow.Flow{}, loadedAt: map[string]time.Time{},
		pending: map[string][]string{}, warnings: map[string][]string{}, versions: map[string]*flow.Flow{}}
}

func (r *Registry) key(id, digest string) string {
	return fmt.Sprintf("%s:flows:%s:%s", r.prefix, id, digest)
}

// Install makes flows live (after they passed the checks) and persists
// their sources so old conversations can always find their version.
func (r *Registry) Install(ctx context.Context, flows map[string]*flow.Flow, now time.Time) error {
	return r.install(ctx, flows, now, nil)
}

// install is Install; warnings (by flow id) replace those of a flow whose
// live version changes.
func (r *Registry) install(ctx context.Context, flows map[string]*flow.Flow, now time.Time, warnings map[string][]string) error {
	pipe := r.rdb.Pipeline()
	for _, f := range flows {
		pipe.Set(ctx, r.key(f.ID, f.Digest), f.Source, r.ttl)
		pipe.Set(ctx, r.key(f.ID, f.Digest)+":file", f.File, r.ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("persist flow sources: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, f := range flows {
		if cur, ok := r.current[id]; !ok || cur.Digest != f.Digest {
			r.loadedAt[id] = now
			if w := warnings[id]; len(w) > 0 {
				r.warnings[id] = w
			} else {
				delete(r.warnings, id)
			}
		}
		r.current[id] = f
		r.versions[f.Digest] = f
		delete(r.pending, id)
	}
	return nil
}

// SetPending records that a changed file does not pass the checks.
func (r *Registry) SetPending(id string, lines []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(lines) == 0 {
		delete(r.pending, id)
		return
	}
	r.pending[id] = lines
}

// Current returns the live version of flow id.
func (r *Registry) Current(id string) (*flow.Flow, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.current[id]
	return f, ok
}

// Len returns the number of live flows.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.current)
}

// Version returns the exact version a conversation runs on, loading it
// from Redis when this process has not seen it.
func (r *Registry) Version(ctx context.Context, ref flow.Ref) (*flow.Flow, error) {
	r.touch(ctx, ref, time.Now())
	r.mu.RLock()
	f, ok := r.versions[ref.Digest]
	r.mu.RUnlock()
	if ok {
		return f, nil
	}
	pipe := r.rdb.Pipeline()
	src := pipe.Get(ctx, r.key(ref.ID, ref.Digest))
	file := pipe.Get(ctx, r.key(ref.ID, ref.Digest)+":file")
	if _, err := pipe.Exec(ctx); err != nil {
		if errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("flow %s: %w", ref, ErrUnknownFlow)
		}
		return nil, fmt.Errorf("load flow %s: %w", ref, err)
	}
	parsed, ds := flow.Parse(file.Val(), []byte(src.Val()))
	if parsed == nil {
		return nil, fmt.Errorf("stored flow %s no longer parses: %w", ref, ds.Err())
	}
	r.mu.Lock()
	r.versions[parsed.Digest] = parsed
	r.mu.Unlock()
	return parsed, nil
}

// All returns the live flows, sorted by id.
func (r *Registry) All() []*flow.Flow {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*flow.Flow, 0, len(r.current))
	for _, f := range r.current {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Live returns the live flows by id (a copy of the map).
func (r *Registry) Live() map[string]*flow.Flow {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]*flow.Flow, len(r.current))
	for id, f := range r.current {
		out[id] = f
	}
	return out
}

// List describes the live flows and pending errors, sorted by id.
func (r *Registry) List() []Info {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Info
	for id, f := range r.current {
		in := Info{ID: id, Version: f.Version, Digest: f.Digest, File: f.File,
			Description: f.Description, LoadedAt: r.loadedAt[id], PendingError: r.pending[id], Warnings: r.warnings[id],
			Outcomes: f.AllOutcomes()}
		if f.Experiment != nil {
			d := f.Design()
			in.Experiment = &d
		}
		out = append(out, in)
	}
	for id, lines := range r.pending {
		if _, ok := r.current[id]; !ok {
			out = append(out, Info{ID: id, File: id, PendingError: lines})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
