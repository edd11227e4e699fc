package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// runReply answers as a recipient in the demo: it posts the text to the
// running demo's console webhook, as if it came in by SMS.
func runReply(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("reply", "seintje reply [--url http://localhost:8080] <phone> <text...>",
		"Answers as a recipient in the demo. Example: seintje reply +31612345678 2", stdout, stderr)
	url := fs.String("url", "http://localhost:8080", "the running demo's base URL")
	token := fs.String("token", os.Getenv("SEINTJE_TOKEN"), "API token (default: $SEINTJE_TOKEN, or the one the demo left in a temp file)")
	if _, code, ok := parseArgs(fs, args, stdout, false); !ok {
		return code
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return 2
	}
	if *token == "" {
		port := (*url)[strings.LastIndex(*url, ":")+1:]
		b, err := os.ReadFile(demoTokenFile(":" + port))
		if err != nil {
			fmt.Fprintln(stderr, "seintje reply: no token: is the demo running (go run ./cmd/seintje serve --demo)? Or pass --token.")
			return 1
		}
		*token = strings.TrimSpace(string(b))
	}
	body, _ := json.Marshal(map[string]string{"from": fs.Arg(0), "body": strings.Join(fs.Args()[1:], " ")})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*url, "/")+"/webhooks/console", bytes.NewReader(body))
	if err != nil {
		fmt.Fprintln(stderr, "seintje reply:", err)
		return 1
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "seintje reply: is the demo running? ", err)
		return 1
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 300 {
		fmt.Fprintf(stderr, "seintje reply: %s: %s\n", resp.Status, out)
		return 1
	}
	fmt.Fprintln(stdout, "sent; the answer appears in the demo's terminal")
	return 0
}
