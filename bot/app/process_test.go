package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/internal/testflows"
)

// process is Seintje built from cmd/seintje and running as a process of
// its own (`seintje serve`) on real Redis, with its own key prefix and
// queue, for measurements that must see Seintje alone.
type process struct {
	tb   testing.TB
	cmd  *exec.Cmd
	base string
}

// startProcess builds and starts Seintje on Redis ru with the harness's
// settings plus env, and waits until /readyz answers 200. Its keys are
// removed afterwards.
func startProcess(tb testing.TB, ru string, env map[string]string) *process {
	tb.Helper()
	dir := tb.TempDir()
	bin := filepath.Join(dir, "seintje")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/seintje").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	prefix := "t" + randHex(6)
	opt, err := redis.ParseURL(ru)
	if err != nil {
		tb.Fatal(err)
	}
	h := &harness{t: tb, prefix: prefix, rdb: redis.NewClient(opt)}
	tb.Cleanup(func() { h.rdb.Close() })
	tb.Cleanup(h.flush)
	vars := map[string]string{
		"REDIS_URL": ru, "SEINTJE_KEY_PREFIX": prefix, "SEINTJE_JOBS_QUEUE": prefix, "SEINTJE_ADDR": addr,
		"SEINTJE_PUBLIC_URL": testPublicURL, "SEINTJE_HASH_KEY": "test-hash-key-0123456789abcdef0123456789",
		"SEINTJE_API_TOKENS":      "cw:caseworker:" + tokCaseworker,
		"SEINTJE_CALLBACK_NUMBER": "088 123 45 67", "SEINTJE_CALLBACK_HOURS": "maandag tot en met vrijdag van 9 tot 17 uur",
		"SEINTJE_FLOWS_DIR": testflows.Dir(tb), "SEINTJE_QUIET_HOURS": "off", "SEINTJE_WEEKLY_LIMIT": "100",
		"SEINTJE_AGENCY":     "gemeente Utrecht",
		"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": testAuthToken, "TWILIO_FROM": testFrom,
	}
	for k, v := range env {
		vars[k] = v
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = os.Environ()
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p := &process{tb: tb, cmd: cmd, base: "http://" + addr}
	waitReady(tb, p.base, 20*time.Second, &out)
	return p
}

// waitReady waits until Seintje at base answers /readyz with 200; out is
// its output, shown when it does not.
func waitReady(tb testing.TB, base string, within time.Duration, out *bytes.Buffer) {
	tb.Helper()
	for deadline := time.Now().Add(within); ; {
		r, err := http.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("seintje did not become ready: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call sends a request as the case worker and returns status and body.
func (p *process) call(method, path, contentType string, body io.Reader) (int, []byte) {
	p.tb.Helper()
	req, err := http.NewRequest(method, p.base+path, body)
	if err != nil {
		p.tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tokCaseworker)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.tb.Fatal(err)
	}
	return resp.StatusCode, b
}

// batch is GET /v1/batches/{id}'s batch object.
func (p *process) batch(id string) map[string]any {
	p.tb.Helper()
	status, body := p.call(http.MethodGet, "/v1/batches/"+id, "", nil)
	if status != http.StatusOK {
		p.tb.Fatalf("GET batch: %d %s", status, body)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		p.tb.Fatal(err)
	}
	return batchOf(p.tb, v)
}

// peakRSS is the process's peak resident set so far (VmHWM), in MiB.
func (p *process) peakRSS() float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		p.tb.Fatalf("read the process's status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	p.tb.Fatal("no VmHWM in the process's status")
	return 0
}
