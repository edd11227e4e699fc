package outreach

import (
	"testing"

	"github.com/seintje/seintje/bot/store"
)

func TestFailureReason(t *testing.T) {
	for _, tc := range []struct {
		st   store.Status
		want string
	}{
		{store.Status{State: "suppressed", Reason: "recipient opted out (STOP)"}, "opted_out"},
		{store.Status{State: "failed", Reason: "recipient unsubscribed (opted out at the provider)"}, "opted_out"},
		{store.Status{State: "failed", Reason: "rejected by the provider"}, "rejected"},
		{store.Status{State: "failed", Reason: "gave up after retries: temporary errors"}, "gave_up"},
		{store.Status{State: "error", Reason: "no address for this channel"}, "no_address"},
		{store.Status{State: "error", Reason: "channel not configured: whatsapp"}, "not_configured"},
		{store.Status{State: "canceled", Reason: "the batch was cancelled before this message went out"}, "canceled"},
		{store.Status{State: "error", Reason: "something new"}, "other"},
	} {
		if got := failureReason(tc.st); got != tc.want {
			t.Errorf("failureReason(%+v) = %q, want %q", tc.st, got, tc.want)
		}
	}
}
