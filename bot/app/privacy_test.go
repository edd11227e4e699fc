package app_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// No raw phone number (or chat id) ever appears in a Redis key name, and
// every key holding a recipient's data expires (retention).
func TestPrivacyKeyNamesAndTTL(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.nudge("no-show", "06 12345678", noShowVars())
	h.waitHandedOver(id) // a reply belongs to a conversation once its message was handed over
	h.sms(phoneSanne, "Ik ben ziek, kan het later?", "SM00000000000000000000000000000p01")
	h.sms("+31699999999", "wie is dit", "SM00000000000000000000000000000p02")
	h.waitSMS(t, 3, 5*time.Second)
	eventually(t, "answered", func() bool { return h.nudgeView(id)["state"] == "ended" })

	ctx := context.Background()
	keys := h.keys()
	if len(keys) < 10 {
		t.Fatalf("expected the scenario to write keys, got %v", keys)
	}
	for _, k := range keys {
		for _, digits := range []string{"612345678", "699999999", "0612345678"} {
			if strings.Contains(k, digits) {
				t.Errorf("key name contains a phone number: %s", k)
			}
		}
		if !strings.Contains(k, ":{r:") {
			continue // indexes and flow sources: no personal data
		}
		ttl, err := h.rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 {
			t.Errorf("recipient key without TTL: %s (%v)", k, ttl)
		}
		if ttl > 91*24*time.Hour {
			t.Errorf("recipient key lives longer than the retention: %s (%v)", k, ttl)
		}
	}
}

// lockedBuffer collects log output from concurrent goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// Logs at debug level never contain a phone number or a message body.
func TestLogsHoldNoPhoneNumbersOrBodies(t *testing.T) {
	t.Parallel()
	var buf lockedBuffer
	h := newHarness(t, nil, func(h *harness) {
		h.log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	id := h.nudge("no-show", "06 12345678", noShowVars())
	req := h.waitSMS(t, 1, 5*time.Second)[0]
	h.status(req.SID, phoneSanne, "undelivered", 30003)
	h.sms(phoneSanne, "Mijn dochter is ziek geworden", "SM00000000000000000000000000000p11")
	h.sms("+31699999999", "Geheim bericht van onbekende", "SM00000000000000000000000000000p12")
	h.sms(phoneSanne, "STOP", "SM00000000000000000000000000000p13")
	h.waitSMS(t, 3, 5*time.Second)
	eventually(t, "answered", func() bool { return h.nudgeView(id)["state"] == "ended" })
	time.Sleep(100 * time.Millisecond)
	logs := buf.String()
	if !strings.Contains(logs, "inbound stored") {
		t.Fatalf("expected log lines, got %q", logs)
	}
	for _, secret := range []string{"612345678", "699999999", "dochter is ziek", "Geheim bericht", "Hallo Sanne", "Sanne"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}
