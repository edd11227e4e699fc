// Package redistest finds the Redis the integration tests run against and,
// when there is none, skips them and says once per package how many were
// skipped and why.
package redistest

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is used when REDIS_URL is not set.
const DefaultURL = "redis://127.0.0.1:6379/0"

// Suite counts the integration tests of one test package. Declare one per
// package and run the package through it:
//
//	var itest = redistest.NewSuite("app")
//	func TestMain(m *testing.M) { os.Exit(itest.Main(m)) }
type Suite struct {
	name string

	mu      sync.Mutex
	checked bool
	url     string
	err     error
	skipped int
}

// NewSuite names the package in the summary line.
func NewSuite(name string) *Suite { return &Suite{name: name} }

// URL returns the Redis URL for an integration test. Without a Redis that
// answers, the test is skipped (and counted), or fails when CI is set.
func (s *Suite) URL(t testing.TB) string {
	t.Helper()
	u, err := s.probe()
	if err == nil {
		return u
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("integration tests need Redis at %s: %v", u, err)
	}
	s.mu.Lock()
	s.skipped++
	s.mu.Unlock()
	t.Skipf("no Redis at %s (%v); set REDIS_URL or run .ci/run", u, err)
	return ""
}

// Skip counts a test skipped for another reason a developer should know
// about (a missing redis-server binary, for example).
func (s *Suite) Skip(t testing.TB, why string) {
	t.Helper()
	s.mu.Lock()
	s.skipped++
	s.mu.Unlock()
	t.Skip(why)
}

// probe pings Redis once per test binary.
func (s *Suite) probe() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.checked {
		return s.url, s.err
	}
	s.checked = true
	s.url = os.Getenv("REDIS_URL")
	if s.url == "" {
		s.url = DefaultURL
	}
	opt, err := redis.ParseURL(s.url)
	if err != nil {
		s.err = fmt.Errorf("REDIS_URL: %w", err)
		return s.url, s.err
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.err = c.Ping(ctx).Err()
	return s.url, s.err
}

// Main runs the tests and, when some were skipped for want of Redis, prints
// one line saying how many and why. `go test ./...` hides a passing
// package's output, so the line goes to where the go command writes (its
// standard error) when that can be found, and to stdout under -v.
func (s *Suite) Main(m *testing.M) int {
	code := m.Run()
	s.mu.Lock()
	n, u, err := s.skipped, s.url, s.err
	s.mu.Unlock()
	if n == 0 {
		return code
	}
	why := "see the skip messages (go test -v)"
	if err != nil {
		why = fmt.Sprintf("no Redis at %s: %v", u, err)
	}
	line := fmt.Sprintf("%s: skipped %d integration test(s): %s; start redis-server or set REDIS_URL (CI=1 makes them fail instead)\n", s.name, n, why)
	if testing.Verbose() {
		fmt.Print(line)
		return code
	}
	if w := parentStderr(); w != nil {
		_, _ = io.WriteString(w, line)
		w.Close()
	} else {
		fmt.Print(line)
	}
	return code
}

// parentStderr opens the standard error of the process that started the
// test binary (the go command), where `go test` writes its summary. It is
// Linux-only (/proc); elsewhere the controlling terminal is tried.
func parentStderr() io.WriteCloser {
	if runtime.GOOS == "linux" {
		if f, err := os.OpenFile("/proc/"+strconv.Itoa(os.Getppid())+"/fd/2", os.O_WRONLY|os.O_APPEND, 0); err == nil {
			return f
		}
	}
	if f, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		return f
	}
	return nil
}
