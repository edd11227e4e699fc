package registry_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/flowtest"
	"github.com/seintje/seintje/bot/registry"
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
	src, err := os.ReadFile("../../flows/no-show.yaml")
	if err != nil {
		t.Fatal(err)
	}
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
	w, err := reg.Watch(dir, registry.WatchOptions{Debounce: 20 * time.Millisecond,
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

	// 4. Fixing the file clears the pending error.
	write(edited + "\n")
	waitReload()
	if l := reg.List(); len(l[0].PendingError) != 0 {
		t.Fatalf("pending error not cleared: %v", l[0].PendingError)
	}
}
