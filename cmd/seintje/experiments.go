package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/experiment"
)

// runExperiments runs `seintje experiments report <id>` (and `list`): it
// asks a running Seintje over its API and prints plain-text tables.
func runExperiments(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const use = "seintje experiments report <id> | list [--url http://localhost:8080] [--token ...] [--json]"
	fs := newFlagSet("experiments", use,
		"Shows an experiment's report: people per arm, outcome rates with 95% intervals, differences with the control arm, the sample-ratio check and how many more people are needed.", stdout, stderr)
	base := fs.String("url", "http://localhost:8080", "the running Seintje's base URL")
	token := fs.String("token", os.Getenv("SEINTJE_TOKEN"), "API token (default: $SEINTJE_TOKEN, or the one the demo left in a temp file)")
	asJSON := fs.Bool("json", false, "print the API's JSON instead of tables")
	pos, code, ok := parseArgs(fs, args, stdout, true)
	if !ok {
		return code
	}
	if len(pos) == 0 || (pos[0] == "report" && len(pos) != 2) || (pos[0] != "report" && pos[0] != "list") {
		fs.Usage()
		return 2
	}
	if *token == "" {
		port := (*base)[strings.LastIndex(*base, ":")+1:]
		if b, err := os.ReadFile(demoTokenFile(":" + port)); err == nil {
			*token = strings.TrimSpace(string(b))
		}
	}
	if *token == "" {
		fmt.Fprintln(stderr, "seintje experiments: no token: pass --token or set SEINTJE_TOKEN")
		return 2
	}
	path := "/v1/experiments"
	if pos[0] == "report" {
		path += "/" + url.PathEscape(pos[1])
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(*base, "/")+path, nil)
	if err != nil {
		fmt.Fprintln(stderr, "seintje experiments:", err)
		return 1
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "seintje experiments: is Seintje running? ", err)
		return 1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		fmt.Fprintln(stderr, "seintje experiments:", err)
		return 1
	}
	if resp.StatusCode != http.StatusOK {
		var p struct{ Detail, Code string }
		_ = json.Unmarshal(body, &p)
		fmt.Fprintf(stderr, "seintje experiments: %s: %s\n", resp.Status, p.Detail)
		return 1
	}
	if *asJSON {
		_, _ = stdout.Write(body)
		return 0
	}
	if pos[0] == "list" {
		var l struct{ Experiments []string }
		if err := json.Unmarshal(body, &l); err != nil {
			fmt.Fprintln(stderr, "seintje experiments:", err)
			return 1
		}
		if len(l.Experiments) == 0 {
			fmt.Fprintln(stdout, "No experiments: no flow declares one and nobody was assigned yet.")
		}
		for _, id := range l.Experiments {
			fmt.Fprintln(stdout, id)
		}
		return 0
	}
	var out struct {
		Report experiment.Report         `json:"report"`
		Late   map[string]map[string]int `json:"late_outcomes"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		fmt.Fprintln(stderr, "seintje experiments: unexpected answer:", err)
		return 1
	}
	if err := out.Report.WriteText(stdout, out.Late); err != nil {
		return 1
	}
	return 0
}
