package registry_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/flowtest"
	"github.com/seintje/seintje/bot/registry"
	"github.com/seintje/seintje/internal/testflows"
)

// TestWatchReload: a valid edit is picked up, an invalid edit is refused
// (the previous version stays live, its errors are pending) and a waiting
// conversation finishes on the version it started with.
func TestWatchReload(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })

	dir := t.TempDir()
	src := testflows.Source(t, "no-show")
	path := filepath.Join(dir, "no-show.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(string(src))

	reg := registry.New(rdb, "test", time.Hour)
	flows, ds, err := flow.LoadDir(dir)
	if err != nil || ds.HasErrors() {
		t.Fatalf("load: %v %v", err, ds.Err())
	}
	if err := reg.Install(ctx, flows, time.Now()); err != nil {
		t.Fatal(err)
	}
	old, _ := reg.Current("no-show")

	// A conversation starts on the old version and waits.
	e, err := flowtest.Engine()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, e.Location)
	p, err := flowtest.NewPlayer(e, old, "nl", "Samira", "Anouk", map[string]any{"appointment_at": "2026-11-23T09:00:00+01:00"}, start)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Start(); err != nil {
		t.Fatal(err)
	}

	reloaded := make(chan []string, 10)
	var logs lockedBuffer
	w, err := reg.Watch(dir, registry.WatchOptions{Debounce: 20 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(&logs, nil)),
		OnReload: func(changed []string, err error) {
			if err != nil {
				t.Errorf("reload: %v", err)
			}
			reloaded <- changed
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	waitReload := func() []string {
		t.Helper()
		select {
		case c := <-reloaded:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no reload after the change")
			return nil
		}
	}

	// 1. Valid edit: picked up.
	edited := strings.Replace(string(src), "We hebben u gemist.", "Wij hebben u gemist.", 1)
	edited = strings.Replace(edited, "\nversion: ", "\nversion: 1", 1) // 3 → 13
	write(edited)
	if got := waitReload(); len(got) != 1 || got[0] != "no-show" {
		t.Fatalf("changed = %v, want [no-show]", got)
	}
	cur, _ := reg.Current("no-show")
	if cur.Digest == old.Digest || !strings.Contains(cur.Steps[0].Say["nl"], "Wij hebben u gemist.") {
		t.Fatalf("the valid edit was not installed: %s", cur.Ref())
	}

	// 2. Invalid edit: refused, previous version live, error pending.
	write(strings.Replace(edited, "goto: callback", "goto: calback", 1))
	waitReload()
	if now, _ := reg.Current("no-show"); now.Digest != cur.Digest {
		t.Fatalf("an invalid edit replaced the live version: %s", now.Ref())
	}
	list := reg.List()
	if len(list) != 1 || len(list[0].PendingError) == 0 || !strings.Contains(list[0].PendingError[0], `there is no step "calback"`) {
		t.Fatalf("List() = %+v, want a pending error about calback", list)
	}

	// 3. The waiting conversation finishes on its own version.
	ver, err := reg.Version(ctx, p.Conv.Flow)
	if err != nil {
		t.Fatal(err)
	}
	if ver.Digest != old.Digest {
		t.Fatalf("conversation got %s, want %s", ver.Ref(), old.Ref())
	}
	p.Flow = ver
	turn, err := p.Say("2")
	if err != nil {
		t.Fatal(err)
	}
	if turn.State != engine.Ended || !turn.Has(engine.Callback{}) {
		t.Fatalf("conversation did not finish on the old version: %+v", turn)
	}

	// 4. Fixing the file clears the pending error. The content differs from
	// the live version but the version did not go up: live anyway, with a
	// warning in List and in the log.
	write(edited + "\n")
	waitReload()
	l := reg.List()
	if len(l[0].PendingError) != 0 {
		t.Fatalf("pending error not cleared: %v", l[0].PendingError)
	}
	if now, _ := reg.Current("no-show"); now.Digest == cur.Digest {
		t.Fatalf("the change without a new version was not installed")
	}
	if len(l[0].Warnings) != 1 || !strings.Contains(l[0].Warnings[0], "version 13 did not go up") {
		t.Fatalf("Warnings = %q, want one about version 13", l[0].Warnings)
	}
	if got := logs.String(); !strings.Contains(got, "level=WARN msg=\"flow changed without a higher version\" flow=no-show version=13") {
		t.Fatalf("no warning logged:\n%s", got)
	}
}

// lockedBuffer is a log destination the watcher's goroutine may write to
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestReloadVersionWarning: a changed file whose version did not go up is
// installed with a warning; raising the version clears it. The steps run
// in order on one file.
func TestReloadVersionWarning(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	src := testflows.Source(t, "no-show")
	dir := t.TempDir()
	path := filepath.Join(dir, "no-show.yaml")
	// flowSrc is no-show with version v and a greeting.
	flowSrc := func(v int, greeting string) string {
		s := strings.Replace(string(src), "\nversion: 3\n", fmt.Sprintf("\nversion: %d\n", v), 1)
		return strings.Replace(s, "We hebben u gemist.", greeting, 1)
	}
	if !strings.Contains(string(src), "\nversion: 3\n") || !strings.Contains(string(src), "We hebben u gemist.") {
		t.Fatal("internal/testflows/testdata/no-show.yaml changed: adapt flowSrc")
	}
	reg := registry.New(rdb, "test", time.Hour)
	tests := []struct {
		name        string
		src         string
		wantChanged bool
		wantVersion int
		wantWarning string // "" for none
	}{
		{"first load", flowSrc(3, "We hebben u gemist."), true, 3, ""},
		{"text and version changed", flowSrc(4, "Wij hebben u gemist."), true, 4, ""},
		{"text changed, same version", flowSrc(4, "We misten u."), true, 4, "version 4 did not go up"},
		{"nothing changed since", flowSrc(4, "We misten u."), false, 4, "version 4 did not go up"},
		{"version raised clears it", flowSrc(5, "We misten u."), true, 5, ""},
		{"version went down", flowSrc(2, "We misten u vandaag."), true, 2, "version 2 went down from 5"},
		{"an invalid file changes nothing", strings.Replace(flowSrc(2, "We misten u."), "goto: callback", "goto: calback", 1), false, 2, "went down from 5"},
	}
	for i, tc := range tests {
		if err := os.WriteFile(path, []byte(tc.src), 0o644); err != nil {
			t.Fatal(err)
		}
		changed, err := reg.Reload(ctx, dir, time.Now())
		if err != nil {
			t.Fatalf("%d %s: %v", i, tc.name, err)
		}
		if got := len(changed) == 1; got != tc.wantChanged {
			t.Errorf("%d %s: changed = %v, want changed %v", i, tc.name, changed, tc.wantChanged)
		}
		l := reg.List()
		if len(l) != 1 || l[0].Version != tc.wantVersion {
			t.Fatalf("%d %s: List() = %+v, want version %d live", i, tc.name, l, tc.wantVersion)
		}
		switch {
		case tc.wantWarning == "" && len(l[0].Warnings) > 0:
			t.Errorf("%d %s: unexpected warnings %q", i, tc.name, l[0].Warnings)
		case tc.wantWarning != "" && (len(l[0].Warnings) != 1 || !strings.Contains(l[0].Warnings[0], tc.wantWarning)):
			t.Errorf("%d %s: warnings %q, want one containing %q", i, tc.name, l[0].Warnings, tc.wantWarning)
		}
	}
}
