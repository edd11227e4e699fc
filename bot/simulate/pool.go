package simulate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/flow"
)

// Pool keeps the console's simulations (the flow page): one Session each
// on its own Sandbox, owned by the person who started it, dropped after
// Idle without use, at most Max at once (default 10: about 4 MB of heap
// each, docs/performance.md). Nothing a simulation does reaches the live
// service's Redis or a provider.
type Pool struct {
	cfg  *config.Config
	log  *slog.Logger
	Max  int
	Idle time.Duration
	// Flows gives the flows to play (the live versions); nil: the files
	// in the flows directory. Set it before the first Start.
	Flows func() map[string]*flow.Flow

	mu   sync.Mutex
	sims map[string]*pooled
}

type pooled struct {
	mu    sync.Mutex
	owner string
	s     *Session
	out   bytes.Buffer
	used  time.Time
}

// ErrNoSimulation: the simulation is unknown, ended, or someone else's.
var ErrNoSimulation = errors.New("no such simulation")

// ErrTooMany: Max simulations run already.
var ErrTooMany = errors.New("too many simulations at once; try again in a few minutes")

// NewPool returns a pool whose sandboxes use the settings of cfg (sending
// hours, weekly limit, callback number, flows directory).
func NewPool(cfg *config.Config, log *slog.Logger) *Pool {
	return &Pool{cfg: cfg, log: log, Max: 10, Idle: 30 * time.Minute, sims: map[string]*pooled{}}
}

// Start plays flow for owner from start; dutch picks the Dutch transcript.
func (p *Pool) Start(ctx context.Context, owner, flowID, lang string, vars map[string]any, start time.Time, dutch bool) (string, error) {
	p.evict()
	p.mu.Lock()
	if len(p.sims) >= p.Max {
		p.mu.Unlock()
		return "", ErrTooMany
	}
	id := newID()
	ps := &pooled{owner: owner, used: time.Now()}
	p.sims[id] = ps // reserve the place
	p.mu.Unlock()
	labels := &English
	if dutch {
		labels = &Dutch
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	box := NewSandbox(p.cfg, p.log)
	box.Flows = p.Flows
	s, err := New(ctx, box, Options{Flow: flowID, Lang: lang, Name: "Samira", Caseworker: "Anouk de Vries",
		Vars: vars, Start: start, Labels: labels}, &ps.out)
	if err != nil {
		p.mu.Lock()
		delete(p.sims, id)
		p.mu.Unlock()
		return "", err
	}
	ps.s = s
	return id, nil
}

// Do types line into owner's simulation id.
func (p *Pool) Do(ctx context.Context, owner, id, line string) error {
	ps, err := p.get(owner, id)
	if err != nil {
		return err
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.s == nil {
		return ErrNoSimulation
	}
	_, err = ps.s.Do(ctx, line)
	return err
}

// Transcript is what owner's simulation id showed so far.
func (p *Pool) Transcript(owner, id string) (string, error) {
	ps, err := p.get(owner, id)
	if err != nil {
		return "", err
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.out.String(), nil
}

func (p *Pool) get(owner, id string) (*pooled, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ps, ok := p.sims[id]
	if !ok || ps.owner != owner {
		return nil, ErrNoSimulation
	}
	ps.used = time.Now() // under p.mu, as evict reads it
	return ps, nil
}

// evict closes the simulations idle for longer than Idle.
func (p *Pool) evict() {
	p.mu.Lock()
	var old []*pooled
	for id, ps := range p.sims {
		if time.Since(ps.used) > p.Idle {
			old = append(old, ps)
			delete(p.sims, id)
		}
	}
	p.mu.Unlock()
	closeAll(old)
}

func closeAll(sims []*pooled) {
	for _, ps := range sims {
		ps.mu.Lock()
		if ps.s != nil {
			ps.s.Close()
		}
		ps.mu.Unlock()
	}
}

// Close ends every simulation.
func (p *Pool) Close() {
	p.mu.Lock()
	var all []*pooled
	for _, ps := range p.sims {
		all = append(all, ps)
	}
	p.sims = map[string]*pooled{}
	p.mu.Unlock()
	closeAll(all)
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
