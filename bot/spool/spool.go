// Package spool is Seintje's durable inbound buffer: a webhook request that
// could not be handled in Redis within a short deadline is written to a
// local bbolt file (fsync'd before the webhook answers) and replayed, in
// arrival order, as soon as Redis answers again.
package spool

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrFull is returned by Append when the spool holds Max records.
var ErrFull = errors.New("spool: full")

// Record is one spooled webhook request, already verified (signature,
// secret) and parsed by the webhook: Body is what the Handler needs.
type Record struct {
	Kind string          `json:"k"` // "sms", "status", "telegram", ...
	Body json.RawMessage `json:"b"`
	At   time.Time       `json:"at"` // when the webhook received it
}

var (
	bucketRecords = []byte("records")
	bucketDead    = []byte("dead")
)

// Spool is an ordered, durable queue of records in one bbolt file. It is
// safe for concurrent use. Only one process may open a file (bbolt holds an
// exclusive lock): every instance needs its own directory.
type Spool struct {
	db   *bolt.DB
	max  int64
	n    atomic.Int64
	dead atomic.Int64
}

// DefaultMax bounds the spool: at 20 texts a second it bridges 83 minutes.
const DefaultMax = 100_000

// Open opens (or creates) the spool in dir with room for max records
// (DefaultMax when max <= 0).
func Open(dir string, max int) (*Spool, error) {
	if max <= 0 {
		max = DefaultMax
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: create %s: %w", dir, err)
	}
	db, err := bolt.Open(filepath.Join(dir, "inbound.spool"), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("spool: open %s (another Seintje using the same directory?): %w", dir, err)
	}
	s := &Spool{db: db, max: int64(max)}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRecords, bucketDead} {
			bk, err := tx.CreateBucketIfNotExists(b)
			if err != nil {
				return err
			}
			n := int64(bk.Stats().KeyN)
			if string(b) == string(bucketRecords) {
				s.n.Store(n)
			} else {
				s.dead.Store(n)
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("spool: init: %w", err)
	}
	return s, nil
}

// Close closes the file.
func (s *Spool) Close() error { return s.db.Close() }

// Len is the number of records waiting.
func (s *Spool) Len() int64 { return s.n.Load() }

// Dead is the number of records set aside after repeated failures.
func (s *Spool) Dead() int64 { return s.dead.Load() }

// Max is the bound.
func (s *Spool) Max() int64 { return s.max }

// Append writes r durably (fsync) after every record before it. Concurrent
// appends share one fsync. It returns ErrFull when the spool is full.
func (s *Spool) Append(r Record) error {
	if s.n.Load() >= s.max {
		return ErrFull
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("spool: encode: %w", err)
	}
	err = s.db.Batch(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketRecords)
		seq, err := bk.NextSequence()
		if err != nil {
			return err
		}
		return bk.Put(key(seq), b)
	})
	if err != nil {
		return fmt.Errorf("spool: write: %w", err)
	}
	s.n.Add(1)
	return nil
}

// Oldest returns the oldest waiting record (ok false when empty).
func (s *Spool) Oldest() (seq uint64, r Record, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bucketRecords).Cursor().First()
		if k == nil {
			return nil
		}
		ok, seq = true, binary.BigEndian.Uint64(k)
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return 0, Record{}, false, fmt.Errorf("spool: read: %w", err)
	}
	return seq, r, ok, nil
}

// Delete removes a replayed record.
func (s *Spool) Delete(seq uint64) error {
	return s.move(seq, nil)
}

// Bury moves a record that keeps failing while Redis answers to the dead
// bucket, so it no longer blocks the ones after it. An operator reads it
// with `seintje spool` tools or bbolt; it stays on disk.
func (s *Spool) Bury(seq uint64) error {
	return s.move(seq, bucketDead)
}

func (s *Spool) move(seq uint64, to []byte) error {
	removed := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketRecords)
		v := bk.Get(key(seq))
		if v == nil {
			return nil
		}
		if to != nil {
			if err := tx.Bucket(to).Put(key(seq), append([]byte(nil), v...)); err != nil {
				return err
			}
		}
		removed = true
		return bk.Delete(key(seq))
	})
	if err != nil {
		return fmt.Errorf("spool: delete: %w", err)
	}
	if removed {
		s.n.Add(-1)
		if to != nil {
			s.dead.Add(1)
		}
	}
	return nil
}

func key(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// Handler handles one record: it stores and processes it in Redis. It must
// be idempotent (records are replayed after a crash; the same request may
// also have reached Redis before its deadline ran out).
type Handler func(ctx context.Context, r Record) error

// Intake accepts webhook requests: it hands them to the Handler within a
// short deadline and spools what does not finish in time, then replays the
// spool (Run).
type Intake struct {
	sp       *Spool
	handle   Handler
	ping     func(ctx context.Context) error
	deadline time.Duration
	log      *slog.Logger
	kick     chan struct{}

	mu    sync.Mutex
	state string // "empty", "in_use", "full"
}

// IntakeOptions tune an Intake.
type IntakeOptions struct {
	// Deadline for handling a request in Redis before it is spooled
	// (default 1s, so a webhook answers well within 2s).
	Deadline time.Duration
	// Ping tells whether Redis answers; a record that fails while Redis
	// answers is retried MaxAttempts times and then set aside.
	Ping        func(ctx context.Context) error
	MaxAttempts int
	Log         *slog.Logger
}

// NewIntake returns an Intake that spools to sp.
func NewIntake(sp *Spool, h Handler, o IntakeOptions) *Intake {
	if o.Deadline <= 0 {
		o.Deadline = time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	in := &Intake{sp: sp, handle: h, ping: o.Ping, deadline: o.Deadline, log: o.Log, kick: make(chan struct{}, 1), state: "empty"}
	if sp.Len() > 0 {
		in.state = "in_use"
	}
	return in
}

// Accept handles r, or spools it. It returns an error only when r is
// neither handled nor spooled (the webhook then answers 503). While the
// spool holds records, new ones are spooled behind them, so they are
// handled in arrival order.
func (in *Intake) Accept(ctx context.Context, r Record) (spooled bool, err error) {
	if r.At.IsZero() {
		r.At = time.Now()
	}
	if in.sp.Len() == 0 {
		// The work is cut off at the deadline (the record is then spooled
		// and replayed in order; handling is idempotent). A handler that
		// must finish a provider call may detach its own context.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.deadline)
		done := make(chan error, 1)
		go func() {
			defer cancel()
			done <- in.handle(hctx, r)
		}()
		timer := time.NewTimer(in.deadline + 20*time.Millisecond)
		defer timer.Stop()
		select {
		case err := <-done:
			if err == nil {
				return false, nil
			}
			in.log.WarnContext(ctx, "webhook request spooled: not handled in Redis", "kind", r.Kind, "err", err)
		case <-timer.C:
			in.log.WarnContext(ctx, "webhook request spooled: Redis did not answer in time", "kind", r.Kind)
		}
	}
	if err := in.sp.Append(r); err != nil {
		if errors.Is(err, ErrFull) {
			in.setState("full")
		}
		return false, err
	}
	in.setState("in_use")
	select {
	case in.kick <- struct{}{}:
	default:
	}
	return true, nil
}

func (in *Intake) setState(st string) {
	in.mu.Lock()
	prev := in.state
	in.state = st
	in.mu.Unlock()
	if prev == st {
		return
	}
	switch st {
	case "in_use":
		if prev == "empty" {
			in.log.Warn("inbound spool in use: webhook requests are kept on local disk until Redis answers", "records", in.sp.Len())
		}
	case "full":
		in.log.Error("inbound spool full: webhooks answer 503 until it drains", "records", in.sp.Len(), "max", in.sp.Max())
	case "empty":
		in.log.Info("inbound spool drained: every spooled request was handled")
	}
}

// Status is the spool's state for /readyz and metrics.
type Status struct {
	State   string `json:"state"` // empty, in_use, full
	Records int64  `json:"records"`
	Max     int64  `json:"max"`
	Dead    int64  `json:"dead"`
}

// Status reports the spool's state.
func (in *Intake) Status() Status {
	in.mu.Lock()
	st := in.state
	in.mu.Unlock()
	return Status{State: st, Records: in.sp.Len(), Max: in.sp.Max(), Dead: in.sp.Dead()}
}

// Run replays the spool in arrival order until ctx ends: each record is
// handled and then deleted, so a crash during a replay replays that record
// again (the Handler is idempotent) and loses nothing.
func (in *Intake) Run(ctx context.Context, maxAttempts int) {
	if maxAttempts <= 0 {
		maxAttempts = 20
	}
	backoff := 50 * time.Millisecond
	var failedSeq uint64
	failures := 0
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-in.kick:
			return true
		case <-t.C:
			return true
		}
	}
	for ctx.Err() == nil {
		seq, r, ok, err := in.sp.Oldest()
		if err != nil {
			in.log.Error("read inbound spool", "err", err)
			if !wait(time.Second) {
				return
			}
			continue
		}
		if !ok {
			if in.Status().State != "empty" {
				in.setState("empty")
			}
			if !wait(time.Second) {
				return
			}
			continue
		}
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = in.handle(hctx, r)
		cancel()
		if err == nil {
			if err := in.sp.Delete(seq); err != nil {
				in.log.Error("delete replayed spool record", "err", err)
			}
			backoff, failures = 50*time.Millisecond, 0
			if in.Status().State == "full" {
				in.setState("in_use")
			}
			continue
		}
		if seq != failedSeq {
			failedSeq, failures = seq, 0
		}
		if in.ping != nil {
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			perr := in.ping(pctx)
			cancel()
			if perr == nil {
				failures++
			}
		}
		if failures >= maxAttempts {
			in.log.Error("spooled request keeps failing while Redis answers; set aside in the spool's dead bucket", "kind", r.Kind, "err", err)
			if err := in.sp.Bury(seq); err != nil {
				in.log.Error("set aside spool record", "err", err)
			}
			failures = 0
			continue
		}
		if !wait(backoff) {
			return
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}
