package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/console/consoletest"
	"github.com/seintje/seintje/bot/store"
)

// Speed of the werkplaats queue with 10,000 open tasks (real Redis):
//
//	go test ./bot/console -run '^$' -bench Queue -benchtime 50x
//
// Figures are in docs/performance.md.

// seedTasks writes n open callback tasks straight into Redis, in the
// store's own format (a benchmark fixture: the real path is covered by
// the browser tests).
func seedTasks(b *testing.B, s *consoletest.Site, n int) []string {
	ctx := context.Background()
	now := time.Now()
	ids := make([]string, n)
	pipe := s.Redis.Pipeline()
	for i := range n {
		tag := fmt.Sprintf("%024x", i+1)
		id := store.NewScopedID(tag, now)
		ids[i] = id
		cb := store.Callback{ID: id, Ref: fmt.Sprintf("C-%05d", i), Name: fmt.Sprintf("Persoon %d", i), Reason: "asked to be called back",
			Status: store.CallbackOpen, Priority: 1 + i%3, AskedAt: now, Due: now.Add(time.Duration(i) * time.Minute)}
		raw, _ := json.Marshal(cb)
		pipe.HSet(ctx, s.Prefix+":{r:"+tag+"}:cb", id, raw)
		pipe.HSet(ctx, s.Prefix+":{r:"+tag+"}:rcp", "phone", fmt.Sprintf("+316%08d", i), "ref", cb.Ref, "name", cb.Name)
		pipe.ZAdd(ctx, s.Prefix+":callbacks:open", redis.Z{Score: float64(cb.Due.UnixMilli()), Member: id})
		if i%1000 == 999 {
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	return ids
}

// client signs in with the demo form and returns a client with the
// session cookie and the CSRF token.
func benchClient(b *testing.B, s *consoletest.Site) (func(method, path string, form url.Values) (int, string), string) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.URL + "/console/login")
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	var login string
	for _, ck := range resp.Cookies() {
		if ck.Name == "seintje_login" {
			login = ck.Value
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/console/login/demo", strings.NewReader(url.Values{"csrf": {login}, "name": {"Bench"}, "role": {"werkplaats"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "seintje_login", Value: login})
	resp, err = c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "seintje_session" {
			sess = ck
		}
	}
	do := func(method, path string, form url.Values) (int, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, s.URL+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.AddCookie(sess)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	_, page := do(http.MethodGet, "/console/", nil)
	m := regexp.MustCompile(`data-csrf="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		b.Fatal("no CSRF token")
	}
	return do, m[1]
}

func BenchmarkQueuePage10k(b *testing.B) {
	s := consoletest.New(b, nil)
	seedTasks(b, s, 10000)
	do, _ := benchClient(b, s)
	for _, path := range []string{"/console/queue", "/console/queue?page=150", "/console/queue/list?filter=overdue"} {
		b.Run(strings.NewReplacer("/", "_", "?", "_").Replace(path), func(b *testing.B) {
			for b.Loop() {
				if st, body := do(http.MethodGet, path, nil); st != http.StatusOK || !strings.Contains(body, "sj-task") {
					b.Fatalf("%s: %d", path, st)
				}
			}
		})
	}
}

func BenchmarkQueueClaimOutcome10k(b *testing.B) {
	s := consoletest.New(b, nil)
	ids := seedTasks(b, s, 10000)
	do, csrf := benchClient(b, s)
	var claim, outcome time.Duration
	i := 0
	for b.Loop() {
		id := ids[i%len(ids)]
		i++
		t0 := time.Now()
		if st, _ := do(http.MethodPost, "/console/queue/"+id+"/claim", url.Values{"csrf": {csrf}}); st != http.StatusSeeOther {
			b.Fatalf("claim: %d", st)
		}
		t1 := time.Now()
		if st, _ := do(http.MethodPost, "/console/queue/"+id+"/outcome", url.Values{"csrf": {csrf}, "outcome": {"reached"}}); st != http.StatusSeeOther {
			b.Fatalf("outcome: %d", st)
		}
		claim += t1.Sub(t0)
		outcome += time.Since(t1)
	}
	b.ReportMetric(float64(claim.Microseconds())/float64(i)/1000, "claim-ms/op")
	b.ReportMetric(float64(outcome.Microseconds())/float64(i)/1000, "outcome-ms/op")
}
