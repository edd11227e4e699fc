package app_test

// Faults injected on Redis servers this test starts itself (never the
// shared one): a stall (SIGSTOP) and a kill with a restart. Signed replies
// keep arriving; every webhook answers within 2 seconds and no reply is
// lost. The full-size runs are in internal/faultbench.

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/seintje/seintje/internal/redisproc"
)

// ownRedis starts a durable redis-server for one test.
func ownRedis(t *testing.T) *redisproc.Server {
	t.Helper()
	if err := redisproc.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	srv, err := redisproc.Start(t.TempDir(), "redis")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func faultPhone(i int) string { return fmt.Sprintf("+316876%05d", i) }

// replyAll sends "2" from recipients [from, to) at 20 per second and
// checks every webhook answers 200 within 2 seconds.
func (h *harness) replyAll(t *testing.T, from, to int, tag string) {
	t.Helper()
	for i := from; i < to; i++ {
		start := time.Now()
		r := h.smsNow(faultPhone(i), "2", fmt.Sprintf("SM%s%028d", tag, i))
		if d := time.Since(start); r.Status != http.StatusOK || d > 2*time.Second {
			t.Errorf("reply %d: %d after %v, want 200 within 2s (%s)", i, r.Status, d, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestNoReplyLostWhileRedisStallsOrIsDown(t *testing.T) {
	t.Parallel()
	srv := ownRedis(t)
	h := newHarness(t, map[string]string{"REDIS_URL": "redis://" + srv.Addr() + "/0", "SEINTJE_SPOOL_DIR": t.TempDir()})
	const n = 12
	ids := make([]string, n)
	for i := range n {
		ids[i] = h.nudge("no-show", faultPhone(i), noShowVars())
	}
	for _, id := range ids {
		h.waitHandedOver(id)
	}

	// Redis stalls for 3 seconds while replies arrive.
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	stalled := time.Now()
	h.replyAll(t, 0, n/2, "st")
	time.Sleep(3*time.Second - time.Since(stalled))
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}

	// Redis is killed, and restarted 2 seconds later.
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	h.replyAll(t, n/2, n, "kl")
	if st := h.app.Intake.Status(); st.Records == 0 || st.State != "in_use" {
		t.Errorf("spool while Redis is down: %+v, want in use", st)
	}
	time.Sleep(2*time.Second - time.Since(killed))
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}

	// Every reply is processed once: every conversation ends with one
	// callback, and the spool drains.
	deadline := time.Now().Add(20 * time.Second)
	for i, id := range ids {
		for {
			r := h.get("/v1/nudges/"+id, tokCaseworker)
			if r.Status == http.StatusOK {
				v := r.JSON(t)
				if cbs, _ := v["callbacks"].([]any); v["state"] == "ended" && len(cbs) == 1 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("reply %d was lost: nudge %s is %s", i, id, r.Body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	eventually(t, "spool drained", func() bool { return h.app.Intake.Status().Records == 0 })
}
