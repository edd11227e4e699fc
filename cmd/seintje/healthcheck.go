package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// runHealthcheck asks a running Seintje whether it is healthy. Container
// images without a shell or curl (distroless) use it as their HEALTHCHECK:
//
//	HEALTHCHECK CMD ["/seintje", "healthcheck"]
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("healthcheck", "seintje healthcheck [--ready] [--addr :8080] [--timeout 3s]",
		"Exits 0 when the Seintje listening on --addr answers /healthz (or /readyz with --ready) with 200, 1 otherwise.", stdout, stderr)
	addr := fs.String("addr", envOr("SEINTJE_ADDR", ":8080"), "the address Seintje listens on (default: $SEINTJE_ADDR)")
	ready := fs.Bool("ready", false, "check /readyz (Redis reachable, flows loaded) instead of /healthz (process up)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if _, code, ok := parseArgs(fs, args, stdout, false); !ok {
		return code
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "seintje healthcheck: --addr %q: %v\n", *addr, err)
		return 2
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "seintje healthcheck:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "seintje healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "seintje healthcheck: %s answered %s\n", url, resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", url)
	return 0
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
