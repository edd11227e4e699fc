package jobs

import (
	"testing"
	"time"
)

func TestProcessAt(t *testing.T) {
	now := time.Date(2026, 12, 2, 13, 0, 0, 400_000_000, time.UTC)
	for _, tc := range []struct {
		name      string
		due, want time.Time
	}{
		{"due in the past: at once", now.Add(-time.Minute), time.Time{}},
		{"due now: at once", now, time.Time{}},
		{"due later in this second: the next second", now.Add(100 * time.Millisecond), time.Date(2026, 12, 2, 13, 0, 1, 0, time.UTC)},
		{"due on a whole second: that second", time.Date(2026, 12, 2, 13, 0, 3, 0, time.UTC), time.Date(2026, 12, 2, 13, 0, 3, 0, time.UTC)},
		{"due just after a whole second: the next one", time.Date(2026, 12, 2, 13, 0, 3, 1, time.UTC), time.Date(2026, 12, 2, 13, 0, 4, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := processAt(tc.due, now)
			if !got.Equal(tc.want) {
				t.Fatalf("processAt(%v) = %v, want %v", tc.due, got, tc.want)
			}
			if !got.IsZero() && got.Before(tc.due) {
				t.Fatalf("scheduled %v, before its due time %v", got, tc.due)
			}
		})
	}
}
