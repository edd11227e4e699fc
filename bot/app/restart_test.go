package app_test

// A timer scheduled before the process is killed (SIGKILL, no graceful
// shutdown) fires exactly once after it is started again.

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
)

const t3Flow = `id: quick
version: 1
simple: {nl: "Stuur 2, dan bellen wij u."}
steps:
  - id: ask
    say: {nl: "Hallo {{.FirstName}}, eerste bericht. Bel {{.CallbackNumber}}."}
    replies:
      - match: ["2"]
        goto: done
    wait: {timeout: 3s, then: later}
  - id: later
    say: {nl: "Hallo {{.FirstName}}, herinnering."}
    action: end
  - id: done
    action: end
`

func TestTimerFiresOnceAfterKill(t *testing.T) {
	ru := redisURL(t)
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "seintje")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/seintje")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	flows := filepath.Join(dir, "flows")
	if err := os.MkdirAll(flows, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flows, "quick.yaml"), []byte(t3Flow), 0o644); err != nil {
		t.Fatal(err)
	}
	tw := twiliotest.New(t, testSID, testAuthToken)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	prefix := "t" + randHex(6)
	h := &harness{t: t, prefix: prefix}
	opt, err := redis.ParseURL(ru)
	if err != nil {
		t.Fatal(err)
	}
	h.rdb = redis.NewClient(opt)
	t.Cleanup(func() { h.rdb.Close() })
	t.Cleanup(h.flush)
	env := append(os.Environ(),
		"REDIS_URL="+ru, "SEINTJE_KEY_PREFIX="+prefix, "SEINTJE_ADDR="+addr, "SEINTJE_PUBLIC_URL="+testPublicURL,
		"SEINTJE_HASH_KEY=test-hash-key-0123456789abcdef0123456789", "SEINTJE_API_TOKENS=cw:caseworker:"+tokCaseworker,
		"SEINTJE_CALLBACK_NUMBER=088 123 45 67", "SEINTJE_CALLBACK_HOURS=9 tot 17 uur", "SEINTJE_FLOWS_DIR="+flows,
		"SEINTJE_QUIET_HOURS=off", "SEINTJE_JOBS_QUEUE="+prefix,
		"TWILIO_ACCOUNT_SID="+testSID, "TWILIO_AUTH_TOKEN="+testAuthToken, "TWILIO_FROM="+testFrom, "TWILIO_API_URL="+tw.URL)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve")
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		waitReady(t, "http://"+addr, 10*time.Second, &out)
		return cmd
	}
	cmd := start()
	body := `{"flow":"quick","recipient":{"ref":"C-1","phone":"+31612340399","name":"Sanne"},"caseworker":{"name":"Ahmed"}}`
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+"/v1/nudges", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tokCaseworker)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/nudges: %d", resp.StatusCode)
	}
	tw.WaitForRequests(t, 1, 5*time.Second)
	// Kill it hard while the 3 s timer is pending, then start it again.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if n := len(tw.Requests()); n != 1 {
		t.Fatalf("before restart: %d requests", n)
	}
	start()
	tw.WaitForRequests(t, 2, 15*time.Second)
	time.Sleep(2 * time.Second) // a duplicate would show up within a poll or two
	reqs := tw.Requests()
	n := 0
	for _, r := range reqs {
		if strings.Contains(r.Body, "herinnering") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("timer message sent %d times, want exactly once (%d requests)", n, len(reqs))
	}
}
