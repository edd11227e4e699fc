package app_test

// Redis Sentinel failover with a real master, a replica and three
// Sentinels on loopback (started here): the master is killed while nudges
// are being triggered and replies are arriving. After the failover no
// reply is lost, every nudge goes out, and nothing is sent more than once
// beyond the at-least-once window (docs/reliability.md).

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/seintje/seintje/internal/redisproc"
)

func TestSentinelFailoverLosesNothing(t *testing.T) {
	t.Parallel()
	if err := redisproc.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	st, err := redisproc.StartSentinels(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	h := newHarness(t, map[string]string{"REDIS_SENTINEL_ADDRS": strings.Join(st.Addrs(), ","),
		"REDIS_SENTINEL_MASTER": st.Name, "SEINTJE_SPOOL_DIR": t.TempDir()})

	const n = 10 // n nudges answered during the failover, n triggered during it
	ids := make([]string, n)
	for i := range n {
		ids[i] = h.nudge("no-show", faultPhone(100+i), noShowVars())
	}
	for _, id := range ids {
		h.waitHandedOver(id)
	}

	var wg sync.WaitGroup
	wg.Go(func() { // the case system triggers more, retrying on errors
		for i := range n {
			for deadline := time.Now().Add(30 * time.Second); ; {
				r := h.postJSON("/v1/nudges", tokCaseworker, nudgeBody("no-show", faultPhone(200+i), noShowVars()), nil)
				if r.Status == http.StatusAccepted {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("trigger %d: %d %s", i, r.Status, r.Body)
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	time.Sleep(250 * time.Millisecond)
	old := st.Master.Addr()
	if err := st.Master.Kill(); err != nil {
		t.Fatal(err)
	}
	for i := range n { // replies at 20/s: each answered within 2 s
		start := time.Now()
		r := h.smsNow(faultPhone(100+i), "2", fmt.Sprintf("SMfo%030d", i))
		if d := time.Since(start); r.Status != http.StatusOK || d > 2*time.Second {
			t.Errorf("reply %d: %d after %v", i, r.Status, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	eventually(t, "failover", func() bool {
		a, err := st.CurrentMaster(t.Context())
		return err == nil && a != old
	})

	// A send task that the old master had handed to a worker just before
	// it died can reach the new master as active, with no worker behind
	// it: asynq's recoverer gives it back after its lease (30 s), looking
	// once a minute, so such a message may go out up to about 90 s later
	// (the kill fault bench measures 62–64 s; docs/reliability.md).
	deadline := time.Now().Add(120 * time.Second)
	wait := func(what string, ok func() bool) {
		for !ok() {
			if time.Now().After(deadline) {
				qi, err := asynq.NewInspectorFromRedisClient(h.app.Redis).GetQueueInfo(h.prefix)
				t.Fatalf("after the failover: %s (queue %+v, err %v)", what, qi, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for i, id := range ids {
		wait(fmt.Sprintf("reply %d lost (nudge %s)", i, id), func() bool {
			r := h.get("/v1/nudges/"+id, tokCaseworker)
			if r.Status != http.StatusOK {
				return false
			}
			v := r.JSON(t)
			cbs, _ := v["callbacks"].([]any)
			return v["state"] == "ended" && len(cbs) == 1
		})
	}
	for i := range n {
		wait(fmt.Sprintf("nudge %d never sent", i), func() bool { return len(h.sentTo(faultPhone(200+i))) >= 1 })
	}
	dups := 0
	for i := range n {
		dups += max(0, len(h.sentTo(faultPhone(100+i)))-2) // the nudge and the callback confirmation
		dups += max(0, len(h.sentTo(faultPhone(200+i)))-1)
	}
	t.Logf("messages sent twice after the failover: %d", dups)
	if dups > 4 {
		t.Errorf("%d duplicates, more than the sends in flight at the failover", dups)
	}
}
