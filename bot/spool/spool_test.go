package spool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func rec(i int) Record {
	return Record{Kind: "sms", Body: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), At: time.Unix(int64(i), 0)}
}

func TestSpoolKeepsOrderAcrossReopenAndBound(t *testing.T) {
	dir := t.TempDir()
	sp, err := Open(dir, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := sp.Append(rec(i)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if err := sp.Append(rec(100)); !errors.Is(err, ErrFull) {
		t.Fatalf("append beyond the bound: %v, want ErrFull", err)
	}
	sp.Close()

	sp, err = Open(dir, 100) // a restart: everything is still there
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if sp.Len() != 100 {
		t.Fatalf("after reopen: %d records, want 100", sp.Len())
	}
	for i := range 100 {
		seq, r, ok, err := sp.Oldest()
		if err != nil || !ok {
			t.Fatalf("oldest: %v %v", ok, err)
		}
		if string(r.Body) != fmt.Sprintf(`{"n":%d}`, i) {
			t.Fatalf("record %d = %s: out of order", i, r.Body)
		}
		if err := sp.Delete(seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, ok, _ := sp.Oldest(); ok || sp.Len() != 0 {
		t.Fatalf("not empty after deleting all: %d", sp.Len())
	}
}

// fakeRedis is a handler whose Redis can be down; it records what it handled.
type fakeRedis struct {
	down    atomic.Bool
	stall   atomic.Bool
	mu      sync.Mutex
	handled []string
}

func (f *fakeRedis) handle(ctx context.Context, r Record) error {
	for f.stall.Load() { // a stalled Redis answers once it resumes
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	if f.down.Load() {
		return errors.New("connection refused")
	}
	f.mu.Lock()
	f.handled = append(f.handled, string(r.Body))
	f.mu.Unlock()
	return nil
}

func (f *fakeRedis) ping(context.Context) error {
	if f.down.Load() || f.stall.Load() {
		return errors.New("down")
	}
	return nil
}

func (f *fakeRedis) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.handled...)
}

func TestIntakeSpoolsWhileRedisIsAwayAndReplaysInOrder(t *testing.T) {
	sp, err := Open(t.TempDir(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	f := &fakeRedis{}
	in := NewIntake(sp, f.handle, IntakeOptions{Deadline: 100 * time.Millisecond, Ping: f.ping})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go in.Run(ctx, 0)

	if spooled, err := in.Accept(ctx, rec(0)); err != nil || spooled {
		t.Fatalf("with Redis up: spooled %v err %v", spooled, err)
	}
	f.stall.Store(true)
	for i := 1; i <= 5; i++ {
		start := time.Now()
		spooled, err := in.Accept(ctx, rec(i))
		if err != nil || !spooled {
			t.Fatalf("stalled: spooled %v err %v", spooled, err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("accept took %v while Redis stalled", d)
		}
	}
	if st := in.Status(); st.State != "in_use" || st.Records == 0 {
		t.Errorf("status while spooling = %+v", st)
	}
	f.stall.Store(false)
	f.down.Store(true)
	spooled, err := in.Accept(ctx, rec(6)) // behind the others, even if Redis came back
	if err != nil || !spooled {
		t.Fatalf("down: %v %v", spooled, err)
	}
	f.down.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for in.Status().Records > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	want := []string{`{"n":0}`, `{"n":1}`, `{"n":2}`, `{"n":3}`, `{"n":4}`, `{"n":5}`, `{"n":6}`}
	got := f.got()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("handled %v, want %v in order", got, want)
	}
}

func TestIntakeRefusesOnlyWhenTheSpoolCannotWrite(t *testing.T) {
	sp, err := Open(t.TempDir(), 100)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	f := &fakeRedis{}
	f.down.Store(true)
	in := NewIntake(sp, f.handle, IntakeOptions{Deadline: 50 * time.Millisecond, Ping: f.ping})
	for i := range 100 {
		if _, err := in.Accept(context.Background(), rec(i)); err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
	}
	if _, err := in.Accept(context.Background(), rec(100)); !errors.Is(err, ErrFull) {
		t.Fatalf("full spool: %v, want ErrFull", err)
	}
	if st := in.Status(); st.State != "full" || st.Records != 100 {
		t.Errorf("status = %+v, want full with 100", st)
	}
}

func TestRecordThatKeepsFailingWhileRedisAnswersIsSetAside(t *testing.T) {
	sp, err := Open(t.TempDir(), 100)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var calls atomic.Int32
	h := func(_ context.Context, r Record) error {
		calls.Add(1)
		if string(r.Body) == `{"n":0}` {
			return errors.New("cannot be handled")
		}
		return nil
	}
	in := NewIntake(sp, h, IntakeOptions{Ping: func(context.Context) error { return nil }})
	_ = sp.Append(rec(0))
	_ = sp.Append(rec(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go in.Run(ctx, 3)
	for sp.Len() > 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if sp.Dead() != 1 || sp.Len() != 0 {
		t.Errorf("dead %d waiting %d, want 1 set aside and none waiting", sp.Dead(), sp.Len())
	}
}
