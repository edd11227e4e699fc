package app_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingTransport counts the provider calls of one instance.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// Three Seintje instances share one Twilio account: together they send at
// the account's rate (SEINTJE_SMS_RATE), not three times it. The rate is
// measured from the times the fake Twilio received the messages, after the
// initial burst, over ten seconds of steady sending. All messages are queued
// before the workers start, so the limiter, not the supply, sets the pace.
func TestPaceSharedByThreeInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("measures a rate over ~10 s")
	}
	const (
		rate  = 50.0 // messages per second, for the account
		burst = 50   // pace.Limiter: one second's worth
		n     = 600
	)
	counters := []*countingTransport{{}, {}, {}}
	first := newHarness(t, map[string]string{"SEINTJE_SMS_RATE": fmt.Sprint(rate)}, func(h *harness) {
		h.noWorker = true
		h.httpClient = &http.Client{Transport: counters[0]}
	})
	shared := func(i int) func(h *harness) {
		return func(h *harness) {
			h.noWorker = true
			h.prefix = first.prefix
			h.env["SEINTJE_KEY_PREFIX"] = first.prefix
			h.env["TWILIO_API_URL"] = first.twilio.URL
			h.twilio = first.twilio
			h.httpClient = &http.Client{Transport: counters[i]}
		}
	}
	hs := []*harness{first,
		newHarness(t, map[string]string{"SEINTJE_SMS_RATE": fmt.Sprint(rate)}, shared(1)),
		newHarness(t, map[string]string{"SEINTJE_SMS_RATE": fmt.Sprint(rate)}, shared(2))}

	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := w; i < n; i += 6 {
				h := hs[i%3]
				h.nudge("no-show", fmt.Sprintf("+316%08d", 20000000+i), map[string]any{"appointment_at": "2026-11-20T10:00:00+01:00"})
			}
		})
	}
	wg.Wait()
	if got := len(first.twilio.Requests()); got != 0 {
		t.Fatalf("%d messages left before the workers started", got)
	}
	for _, h := range hs {
		h.stop()
		h.noWorker = false
		h.start()
	}
	reqs := first.twilio.WaitForRequests(t, n, 2*time.Minute)
	times := make([]time.Time, 0, n)
	for _, r := range reqs {
		times = append(times, r.Time)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	// Skip the start: the burst, and the catch-up while it went out.
	const skip = 2 * burst
	span := times[n-1].Sub(times[skip])
	got := float64(n-1-skip) / span.Seconds()
	t.Logf("combined rate %.2f/s over %v (setting %.0f/s); per instance %d, %d, %d",
		got, span.Round(time.Millisecond), rate, counters[0].n.Load(), counters[1].n.Load(), counters[2].n.Load())
	if got < rate*0.98 || got > rate*1.02 {
		t.Errorf("combined rate %.2f/s, want %.0f/s ± 2%%", got, rate)
	}
	for i, c := range counters {
		if c.n.Load() == 0 {
			t.Errorf("instance %d sent nothing: the test does not show sharing", i)
		}
	}
}
