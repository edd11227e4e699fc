package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/store"
)

// A timer goes in once however often it is written, keeps its kind,
// sequence, index, conversation and tag through the set, and a claimed
// timer is not claimed again until its lease ends.
func TestTimerSetsClaimAndLease(t *testing.T) {
	rdb, prefix := testRedis(t)
	st := store.New(rdb, store.Options{Prefix: prefix})
	ctx := context.Background()
	now := time.Date(2031, 1, 6, 9, 0, 0, 0, time.UTC)
	tag := fmt.Sprintf("%024x", 7)
	cid := store.NewScopedID(tag, now)
	timers := []store.Timer{
		{Tag: tag, Conv: cid, Kind: "", Seq: 1, At: now.Add(-time.Minute)},
		{Tag: tag, Conv: cid, Kind: "reminder", Seq: 1, Index: 2, At: now.Add(-time.Second)},
		{Tag: tag, Conv: cid, Kind: "expire", At: now.Add(time.Hour)},
		// An id that does not carry its tag keeps the tag in the member.
		{Tag: tag, Conv: "legacy-conversation", Kind: "", Seq: 3, At: now.Add(-time.Hour)},
	}
	for range 2 { // written twice: still one each
		if err := st.AddTimers(ctx, timers); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.TimerCount(ctx); err != nil || n != 4 {
		t.Fatalf("TimerCount = %d, %v; want 4", n, err)
	}
	next, err := st.NextTimers(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Timer{timers[3], timers[0], timers[1], timers[2]} // soonest first
	if fmt.Sprint(next) != fmt.Sprint(want) {
		t.Fatalf("NextTimers =\n%v\nwant\n%v", next, want)
	}

	lease := time.Minute
	tests := []struct {
		name string
		at   time.Time
		want int
	}{
		{"the three due ones", now, 3},
		{"claimed: not again within the lease", now.Add(30 * time.Second), 0},
		{"after the lease: due again, and the expiry now too", now.Add(2 * time.Hour), 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.ClaimDueTimers(ctx, tc.at, lease, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Fatalf("claimed %d (%v), want %d", len(got), got, tc.want)
			}
		})
	}
	got, _ := st.NextTimers(ctx, 10)
	if err := st.RemoveTimers(ctx, got); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.TimerCount(ctx); n != 0 {
		t.Fatalf("%d timers left after removing all", n)
	}
	if took, err := st.TakeTimer(ctx, timers[0]); err != nil || took {
		t.Fatalf("TakeTimer of a removed timer = %v, %v; want false", took, err)
	}
}
