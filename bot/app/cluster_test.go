package app_test

// Seintje on a real three-master Redis Cluster (started here, on loopback):
// every Lua script and pipeline must stay within one slot per recipient,
// the worker (asynq) must run on the cluster, and erasure must find a
// recipient's keys on whichever master owns its slot.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/internal/testflows"
)

// quickFlow has a wait that times out after one second, so the timer path
// runs on asynq's real clock.
const quickFlow = `id: quick
version: 1
simple: {nl: "Stuur 2, dan bellen wij u."}
steps:
  - id: ask
    say: {nl: "Hallo {{.FirstName}}, eerste bericht. Bel {{.CallbackNumber}}."}
    replies:
      - match: ["2"]
        goto: done
    wait: {timeout: 1s, then: later}
  - id: later
    say: {nl: "Hallo {{.FirstName}}, herinnering."}
    action: end
  - id: done
    action: end
`

// freeClusterPort returns a loopback port below 55535 whose cluster bus
// port (port+10000) is free as well.
func freeClusterPort(t *testing.T, taken map[int]bool) int {
	t.Helper()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if p >= 55535 || taken[p] || taken[p+10000] {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		bus.Close()
		taken[p], taken[p+10000] = true, true
		return p
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// startRedisCluster starts a three-master Redis Cluster on loopback and
// returns its node addresses. Without redis-server the test is skipped
// locally and fails on CI.
func startRedisCluster(t *testing.T) []string {
	t.Helper()
	start := time.Now()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the cluster test needs redis-server on PATH (apt-get install redis-server): %v", err)
		}
		t.Skipf("no redis-server on PATH: install it to run the Redis Cluster test")
	}
	dir := t.TempDir()
	taken := map[int]bool{}
	var addrs []string
	for i := range 3 {
		port := freeClusterPort(t, taken)
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("redis-%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		defer logf.Close()
		cmd := exec.Command("redis-server", "--cluster-enabled", "yes", "--port", strconv.Itoa(port),
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)),
			"--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--dir", dir)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(port))
	}
	// Forming a cluster is gossip: on two busy cores (CI runs every
	// package's tests at once) it can take well over ten seconds, so the
	// deadline is generous; a healthy machine is done in about a second.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	nodes := make([]*redis.Client, len(addrs))
	for i, a := range addrs {
		nodes[i] = redis.NewClient(&redis.Options{Addr: a, DialTimeout: time.Second})
		defer nodes[i].Close()
		for nodes[i].Ping(ctx).Err() != nil {
			if ctx.Err() != nil {
				out, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("redis-%d.log", i)))
				t.Fatalf("redis-server on %s did not answer PING:\n%s", a, out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// What redis-cli --cluster create does, without its fixed waits: each
	// master takes a third of the slots and its own config epoch, then the
	// first node meets the others.
	const slots = 16384
	for i, n := range nodes {
		lo, hi := i*slots/len(nodes), (i+1)*slots/len(nodes)-1
		if err := n.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			t.Fatalf("CLUSTER ADDSLOTSRANGE %d %d on %s: %v", lo, hi, addrs[i], err)
		}
		if err := n.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			t.Fatalf("CLUSTER SET-CONFIG-EPOCH on %s: %v", addrs[i], err)
		}
	}
	for _, a := range addrs[1:] {
		host, port, _ := net.SplitHostPort(a)
		if err := nodes[0].ClusterMeet(ctx, host, port).Err(); err != nil {
			t.Fatalf("CLUSTER MEET %s: %v", a, err)
		}
	}
	// Ready when every node knows all three, sees all slots served and
	// says ok.
	for _, n := range nodes {
		for {
			info, _ := n.ClusterInfo(ctx).Result()
			if strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", len(nodes))) &&
				strings.Contains(info, fmt.Sprintf("cluster_slots_ok:%d", slots)) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("cluster not ok on %s after %s:\n%s", n.Options().Addr, time.Since(start).Round(time.Millisecond), info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return addrs
}

// clusterFlows is a flows directory with the fixture flows plus quickFlow.
func clusterFlows(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	testflows.Copy(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "quick.yaml"), []byte(quickFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRedisCluster(t *testing.T) {
	t.Parallel()
	start := time.Now()
	addrs := startRedisCluster(t)
	t.Logf("cluster up in %s", time.Since(start).Round(time.Millisecond))
	h := newHarness(t, map[string]string{
		"REDIS_CLUSTER_ADDRS": strings.Join(addrs, ","),
		"SEINTJE_FLOWS_DIR":   clusterFlows(t),
	})
	if _, ok := h.app.Redis.(*redis.ClusterClient); !ok {
		t.Fatalf("app runs on %T, want a cluster client", h.app.Redis)
	}
	const (
		phoneA = "+31612340501" // callback, claim race, STOP, erasure
		phoneB = "+31612340502" // the wait timer
	)

	// Trigger, first SMS, reply "2": a callback task is listed (the worker
	// indexes it after it takes the reply's send task).
	nudgeA, cb := t3Callback(t, h, phoneA)
	if v := h.nudgeView(nudgeA); v["state"] != "ended" && v["state"] != "waiting" {
		t.Errorf("nudge after reply: state %v", v["state"])
	}

	// A wait times out on asynq's clock and sends the follow-up once.
	h.nudge("quick", phoneB, nil)
	eventually(t, "first quick SMS", func() bool { return len(h.sentTo(phoneB)) == 1 })
	deadline := time.Now().Add(8 * time.Second)
	for len(h.sentTo(phoneB)) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := h.sentTo(phoneB); len(got) != 2 || !strings.Contains(got[1], "herinnering") {
		t.Fatalf("after the wait timed out, sent %q, want the follow-up", got)
	}

	// Two people claim the callback at once: one wins, one gets 409.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, tok := range []string{tokWerkplaats, tokAdmin} {
		wg.Go(func() { codes[i] = h.postJSON("/v1/callbacks/"+cb+"/claim", tok, map[string]any{}, nil).Status })
	}
	wg.Wait()
	winner := tokWerkplaats
	switch {
	case codes[0] == http.StatusOK && codes[1] == http.StatusConflict:
	case codes[0] == http.StatusConflict && codes[1] == http.StatusOK:
		winner = tokAdmin
	default:
		t.Fatalf("claims: %v, want one 200 and one 409", codes)
	}
	// The claimer records no answer: the task reopens (a note on the nudge
	// is committed through the recipient's script).
	if r := h.postJSON("/v1/callbacks/"+cb+"/complete", winner, map[string]any{"outcome": "no_answer"}, nil); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	// A delivery status for A's first SMS is recorded.
	first := h.twilio.Requests()[0]
	if r := h.status(first.SID, phoneA, "delivered", 0); r.Status/100 != 2 {
		t.Fatalf("status webhook: %d %s", r.Status, r.Body)
	}
	eventually(t, "delivered status", func() bool { return messagesOf(h.nudgeView(nudgeA))[0]["status"] == "delivered" })
	if r := h.get("/readyz", ""); r.Status != http.StatusOK {
		t.Errorf("readyz on the cluster: %d %s", r.Status, r.Body)
	}

	// STOP, then a later trigger is refused.
	if r := h.sms(phoneA, "STOP", "SM"+randHex(16)); r.Status != http.StatusOK {
		t.Fatalf("STOP webhook: %d %s", r.Status, r.Body)
	}
	eventually(t, "STOP confirmation", func() bool {
		s := h.sentTo(phoneA)
		return len(s) > 0 && strings.Contains(s[len(s)-1], "START")
	})
	r := h.postJSON("/v1/nudges", tokCaseworker, nudgeBody("missing-form", phoneA,
		map[string]any{"form": "het formulier", "due_date": "2031-01-31"}), nil)
	if r.Status != http.StatusConflict || r.JSON(t)["code"] != "recipient_opted_out" {
		t.Fatalf("trigger after STOP: %d %s", r.Status, r.Body)
	}

	// Erasure removes every key of A, whichever master holds its slot, and
	// leaves B alone.
	tagA, _, _ := strings.Cut(nudgeA, "-")
	before := 0
	for _, k := range h.keys() {
		if strings.Contains(k, tagA) {
			before++
		}
	}
	if before == 0 {
		t.Fatal("no keys of A before erasure")
	}
	if r := h.do(http.MethodDelete, "/v1/recipients/C-0501", tokAdmin, "", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("erase: %d %s", r.Status, r.Body)
	}
	for _, k := range h.keys() {
		if strings.Contains(k, tagA) {
			t.Errorf("key left after erasure: %s", k)
		}
	}
	if r := h.get("/v1/nudges/"+nudgeA, tokCaseworker); r.Status != http.StatusNotFound {
		t.Errorf("nudge still readable after erasure: %d", r.Status)
	}
	if n := len(h.get("/v1/callbacks?status=claimed", tokWerkplaats).JSON(t)["callbacks"].([]any)); n != 0 {
		t.Errorf("claimed list has %d tasks after erasure", n)
	}
	if n := len(h.keys()); n == 0 {
		t.Error("erasure removed B's keys too")
	}
	t.Logf("scenario done in %s", time.Since(start).Round(time.Millisecond))
}
