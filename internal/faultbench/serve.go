//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
	"github.com/seintje/seintje/internal/redisproc"
	"github.com/seintje/seintje/internal/testflows"
)

// Fake credentials: they only ever go to the loopback fake Twilio.
const (
	twilioSID   = "AC00000000000000000000000000000fb1"
	twilioToken = "fb0123456789abcdef0123456789abcd"
	twilioFrom  = "+3197010000001"
	publicURL   = "https://seintje.test"
	apiToken    = "faultbench-caseworker-0001"
)

// moduleRoot is the directory of go.mod (./cmd/seintje is built there).
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the fault bench inside the Seintje module")
	}
	return filepath.Dir(mod), nil
}

// buildSeintje builds ./cmd/seintje into dir and returns the binary.
func buildSeintje(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "seintje")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/seintje")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/seintje: %w\n%s", err, out)
	}
	return bin, nil
}

// serve is one `seintje serve` child process; it can be SIGKILLed and
// started again on the same address, spool and Redis.
type serve struct {
	bin, addr, dir string
	env            []string
	cmd            *exec.Cmd
	logf           *os.File
	exited         chan struct{}
}

// newServe prepares a `seintje serve` on a free loopback port with its own
// spool, talking to the Redis given by redisEnv and to the fake Twilio.
func newServe(bin, dir string, redisEnv []string, tw *twiliotest.Server, smsRate float64) (*serve, error) {
	port, err := redisproc.FreePort()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"spool", "flows"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	// The frozen test fixtures of the shipped flows: a coordinator's edit
	// to flows/ does not change what the bench checks.
	if err := testflows.Write(filepath.Join(dir, "flows")); err != nil {
		return nil, fmt.Errorf("write flows: %w", err)
	}
	s := &serve{bin: bin, addr: "127.0.0.1:" + strconv.Itoa(port), dir: dir}
	// Only what is set here: a REDIS_URL in the caller's environment must
	// not reach the child.
	s.env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TMPDIR=" + os.TempDir(),
		"SEINTJE_ADDR=" + s.addr,
		"SEINTJE_PUBLIC_URL=" + publicURL,
		"SEINTJE_KEY_PREFIX=fb",
		"SEINTJE_HASH_KEY=faultbench-hash-key-0123456789abcdef0123",
		"SEINTJE_API_TOKENS=fb:caseworker:" + apiToken,
		"SEINTJE_CALLBACK_NUMBER=088 123 45 67",
		"SEINTJE_CALLBACK_HOURS=maandag tot en met vrijdag van 9 tot 17 uur",
		"SEINTJE_AGENCY=gemeente Utrecht",
		"SEINTJE_FLOWS_DIR=" + filepath.Join(dir, "flows"),
		"SEINTJE_QUIET_HOURS=off",
		"SEINTJE_WEEKLY_LIMIT=100",
		"SEINTJE_SMS_RATE=" + strconv.FormatFloat(smsRate, 'f', -1, 64),
		"SEINTJE_SPOOL_DIR=" + filepath.Join(dir, "spool"),
		"SEINTJE_LOG_LEVEL=warn",
		"TWILIO_ACCOUNT_SID=" + twilioSID,
		"TWILIO_AUTH_TOKEN=" + twilioToken,
		"TWILIO_FROM=" + twilioFrom,
		"TWILIO_API_URL=" + tw.URL,
	}, redisEnv...)
	return s, nil
}

// start starts the process and waits until it answers /healthz.
func (s *serve) start(ctx context.Context) error {
	logf, err := os.OpenFile(filepath.Join(s.dir, "seintje.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	s.logf = logf
	s.cmd = exec.Command(s.bin, "serve")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Its own process group: a Ctrl-C of the bench does not hit it first.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start seintje serve: %w", err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.exited)
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			out, _ := os.ReadFile(filepath.Join(s.dir, "seintje.log"))
			return fmt.Errorf("seintje serve exited at start:\n%s", tail(out, 2000))
		case <-ctx.Done():
			s.kill()
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return errors.New("seintje serve did not answer /healthz within 60 s")
		}
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// kill ends the process with SIGKILL: no shutdown, no deferred work.
func (s *serve) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.logf.Close()
	s.cmd = nil
}

// stop ends the process gracefully (SIGTERM), or kills it after 10 s.
func (s *serve) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		s.logf.Close()
		s.cmd = nil
	case <-time.After(10 * time.Second):
		s.kill()
	}
}

// client is the case system and Twilio's webhook caller.
type client struct {
	base string
	hc   *http.Client
}

func newClient(addr string) *client {
	// Twilio gives up on a webhook after 15 s.
	return &client{base: "http://" + addr, hc: &http.Client{Timeout: 15 * time.Second}}
}

// post sends body to path as the API client (with an Idempotency-Key
// when key is set) and returns the answer's body when its status is want.
func (c *client) post(ctx context.Context, path, contentType, key string, body io.Reader, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+apiToken)
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return nil, fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, tail(b, 300))
	}
	return b, nil
}

// trigger is POST /v1/nudges for the no-show flow; it returns the nudge
// id on 202.
func (c *client) trigger(ctx context.Context, phone, ref, key string) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"flow":       "no-show",
		"recipient":  map[string]any{"ref": ref, "phone": phone, "name": "Sanne de Vries", "language": "nl"},
		"vars":       map[string]any{"appointment_at": "2026-11-30T10:00:00+01:00"},
		"caseworker": map[string]any{"name": "Ahmed"},
	})
	b, err := c.post(ctx, "/v1/nudges", "application/json", key, bytes.NewReader(body), http.StatusAccepted)
	if err != nil {
		return "", err
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ID == "" {
		return "", fmt.Errorf("POST /v1/nudges: no id in %s", tail(b, 300))
	}
	return out.ID, nil
}

// batch uploads n people as a CSV batch of the no-show flow, started at
// once, and returns the batch id.
func (c *client) batch(ctx context.Context, n int, phone func(int) string) (string, error) {
	var b bytes.Buffer
	b.WriteString("ref,phone,name,caseworker,appointment_at\n")
	for i := range n {
		fmt.Fprintf(&b, "FB-%d,%s,Sanne de Vries,Ahmed,2026-11-30T10:00:00+01:00\n", i, phone(i))
	}
	body, err := c.post(ctx, "/v1/batches?flow=no-show&start=true", "text/csv", "", &b, http.StatusCreated)
	if err != nil {
		return "", err
	}
	var out struct {
		Batch struct {
			ID    string `json:"id"`
			Valid int    `json:"valid"`
		} `json:"batch"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Batch.Valid != n {
		return "", fmt.Errorf("POST /v1/batches: %d of %d rows valid: %s", out.Batch.Valid, n, tail(body, 300))
	}
	return out.Batch.ID, nil
}

// sms posts an inbound SMS signed as Twilio signs it. It returns the
// status (0 on a transport error) and how long the answer took.
func (c *client) sms(ctx context.Context, from, body, sid string) (int, time.Duration) {
	form := url.Values{"MessageSid": {sid}, "AccountSid": {twilioSID}, "From": {from}, "To": {twilioFrom}, "Body": {body}, "NumMedia": {"0"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, 0
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Sign(twilioToken, publicURL+"/webhooks/twilio/sms", form))
	start := time.Now()
	resp, err := c.hc.Do(req)
	d := time.Since(start)
	if err != nil {
		return 0, d
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, d
}

// nudgeView is the part of GET /v1/nudges/{id} the bench checks.
type nudgeView struct {
	State    string `json:"state"`
	Messages []struct {
		Direction string `json:"direction"`
		Status    string `json:"status"`
	} `json:"messages"`
	Callbacks []json.RawMessage `json:"callbacks"`
}

func (v nudgeView) handedOver() bool {
	for _, m := range v.Messages {
		if m.Direction == "out" && m.Status != "pending" && m.Status != "deferred" {
			return true
		}
	}
	return false
}

func (v nudgeView) inbound() int {
	n := 0
	for _, m := range v.Messages {
		if m.Direction == "in" {
			n++
		}
	}
	return n
}

func (c *client) nudge(ctx context.Context, id string) (nudgeView, error) {
	var v nudgeView
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/nudges/"+id, nil)
	if err != nil {
		return v, err
	}
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := c.hc.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return v, fmt.Errorf("GET nudge: %d %s", resp.StatusCode, tail(b, 300))
	}
	return v, json.Unmarshal(b, &v)
}

// spoolRecords reads the spool's record count from /readyz (-1: unknown).
func (c *client) spoolRecords(ctx context.Context) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/readyz", nil)
	if err != nil {
		return -1
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var out struct {
		Spool *struct {
			Records int `json:"records"`
		} `json:"spool"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil || out.Spool == nil {
		return -1
	}
	return out.Spool.Records
}
