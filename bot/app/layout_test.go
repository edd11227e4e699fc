package app_test

import (
	"context"
	"testing"

	"github.com/seintje/seintje/bot/store"
)

// A conversation started before the active marker moved into the
// recipient hash (it was kept in the hash {r:<tag>}:active) keeps the rule
// "one active conversation per flow": a new event of the same flow
// replaces it, and the old marker is cleared when it ends.
func TestActiveMarkerWrittenBeforeTheLayoutChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := context.Background()
	a := h.nudge("no-show", phoneSanne, noShowVars())
	tag, _ := store.TagOf(a)
	rcp, legacy := h.prefix+":{r:"+tag+"}:rcp", h.prefix+":{r:"+tag+"}:active"
	if got, _ := h.rdb.HGet(ctx, rcp, "active:no-show").Result(); got != a {
		t.Fatalf("active marker in the recipient hash = %q, want %s", got, a)
	}
	// Put the marker where the previous version kept it.
	h.rdb.HDel(ctx, rcp, "active:no-show")
	h.rdb.HSet(ctx, legacy, "no-show", a)

	b := h.nudge("no-show", phoneSanne, map[string]any{"appointment_at": "2026-11-27T14:00:00+01:00"})
	if b == a {
		t.Fatal("new event reused the old nudge")
	}
	if v := h.nudgeView(a); v["state"] != "ended" || v["outcome"] != "superseded" {
		t.Errorf("old nudge: %v %v, want ended superseded", v["state"], v["outcome"])
	}
	if n, _ := h.rdb.HLen(ctx, legacy).Result(); n != 0 {
		t.Errorf("old marker left: %d fields", n)
	}
	if got, _ := h.rdb.HGet(ctx, rcp, "active:no-show").Result(); got != b {
		t.Errorf("active marker = %q, want %s", got, b)
	}
}
