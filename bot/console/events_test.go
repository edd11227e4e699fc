package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"github.com/seintje/seintje/bot/console/browsertest"
	"github.com/seintje/seintje/bot/events"
)

// The case system was down for the whole retry period, so a message.sent
// event became a dead letter. Iris (admin) sees it in the console, sends
// it again once the case system is back, and the replay is in the audit
// trail.
func TestEventsReplayFromTheConsole(t *testing.T) {
	t.Parallel()
	const secret = "console-events-secret-0123456789"
	var down atomic.Bool
	var delivered atomic.Int32
	down.Store(true)
	zaken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := events.Verify([]byte(secret), body, r.Header.Get(events.SignatureHeader), time.Now(), events.DefaultTolerance); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if down.Load() {
			http.Error(w, "onderhoud", http.StatusServiceUnavailable)
			return
		}
		delivered.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(zaken.Close)
	s := newSite(t, map[string]string{
		"SEINTJE_EVENTS_SUBSCRIBERS":  "zaken",
		"SEINTJE_EVENTS_ZAKEN_URL":    zaken.URL + "/events",
		"SEINTJE_EVENTS_ZAKEN_SECRET": secret,
		"SEINTJE_EVENTS_ZAKEN_TYPES":  events.MessageSent,
		"SEINTJE_EVENTS_RETRY_BASE":   "20ms",
		"SEINTJE_EVENTS_RETRY_FOR":    "300ms",
	})
	const phone = "+31612349971"
	s.Nudge("missing-form", phone, "Sanne de Vries", "C-9971", map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	ctx := context.Background()
	s.Eventually("a dead letter", func() bool { n, _ := s.App.Events.DeadLetterCount(ctx); return n == 1 })
	letters, err := s.App.Events.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	id := letters[0].ID

	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Iris", "admin")
	b.Go(s.URL + "/console/admin/events")
	row := b.Text("#letter-" + id)
	for _, want := range []string{"message.sent", "zaken", "503"} {
		if !strings.Contains(row, want) {
			t.Errorf("dead letter row lacks %q: %s", want, row)
		}
	}
	b.AssertAccessible()
	b.AssertKeyboard()
	b.AssertReflow()
	b.Screenshot("../../docs/console/events-desktop.png", browsertest.DesktopWidth)
	b.Screenshot("../../docs/console/events-phone.png", browsertest.PhoneWidth)

	down.Store(false) // the case system is back
	// Iris sends it again with the keyboard.
	b.TabTo("#replay-"+id, 40)
	b.KeyNav(kb.Enter)
	if got := b.Text(".sj-flash"); !strings.Contains(got, "opnieuw verstuurd") {
		t.Errorf("flash after the replay: %q", got)
	}
	if b.Exists("#letter-" + id) {
		t.Error("the replayed event is still listed")
	}
	s.Eventually("the event delivered", func() bool { return delivered.Load() == 1 })
	if trail := s.AuditActions("action=event_replay"); len(trail) != 1 {
		t.Errorf("replays in the audit trail: %v", trail)
	}
}
