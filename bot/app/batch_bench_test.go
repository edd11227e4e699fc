package app_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingTwilio is an unthrottled fake Twilio for the batch benchmark:
// it checks the account's basic auth and the path, answers 201 with a
// fresh sid and counts, keeping nothing (the full fake records every
// request, which would dominate the memory measured).
func countingTwilio(b *testing.B) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != testSID || pass != testAuthToken || !strings.HasSuffix(r.URL.Path, "/Messages.json") || r.ParseForm() != nil || r.PostForm.Get("To") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		k := n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"SM%032d","status":"queued"}`, k)
	}))
	b.Cleanup(srv.Close)
	return srv, &n
}

// peakRSS is the process's peak resident set (VmHWM) in MiB: the whole
// test process (Seintje, the fake Twilio and the client). The client
// streams its CSV and the fake keeps nothing, so nearly all of it is
// Seintje's.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// heapPeak samples the Go heap (live and not yet collected objects) every
// 50 ms until stop is called, and returns the highest sample in MiB.
func heapPeak() (stop func() float64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		<-finished
		return float64(peak.Load()) / (1 << 20)
	}
}

// csvRows streams a batch of n rows as a Dutch-Excel CSV, as a client
// reading it from disk would: the test process never holds the file.
func csvRows(n int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 64<<10)
		w.WriteString("ref;telefoon;naam;consulent;appointment_at\n")
		for i := range n {
			fmt.Fprintf(w, "Z-%06d;06 %08d;Sam de Vries;Ahmed;20-11-2026 10:00\n", i, 20000000+i)
		}
		pw.CloseWithError(w.Flush())
	}()
	return pr
}

// followBatch polls a started batch (view) until every row is accepted
// and all rows' SMS reached the fake Twilio (sent), and returns how long
// after start each took.
func followBatch(b *testing.B, start time.Time, rows int64, sent *atomic.Int64, view func() map[string]any) (accepted, handed time.Duration) {
	for {
		time.Sleep(100 * time.Millisecond)
		g := view()
		if accepted == 0 && int64(count(g, "accepted")) == rows {
			accepted = time.Since(start)
		}
		if sent.Load() >= rows && accepted != 0 {
			return accepted, time.Since(start)
		}
		if time.Since(start) > 10*time.Minute {
			b.Fatalf("not done after 10 minutes: %v, %d sent", g["counts"], sent.Load())
		}
	}
}

// BenchmarkBatch100k: a case worker uploads 100,000 rows as CSV; every row
// is checked; the batch is started; all first SMS are handed to an
// unthrottled fake Twilio. Reports the seconds to check (upload answered),
// to accept (every row stored and its work queued) and to hand over (every
// SMS accepted by the fake), the peak RSS of the process (VmHWM) and the
// peak of the Go heap, in all and until the upload was answered.
//
//	go test -run '^$' -bench Batch100k -benchtime 1x -timeout 20m ./bot/app
func BenchmarkBatch100k(b *testing.B) {
	const rows = 100_000
	tw, sent := countingTwilio(b)
	h := newHarness(b, map[string]string{"TWILIO_API_URL": tw.URL, "SEINTJE_SMS_RATE": "1000000", "SEINTJE_LOG_LEVEL": "error"})
	for range b.N {
		heap, heapCheck := heapPeak(), heapPeak()
		t0 := time.Now()
		r := h.do(http.MethodPost, "/v1/batches?flow=no-show", tokCaseworker, csvCT, csvRows(rows), nil)
		if r.Status != http.StatusCreated {
			b.Fatalf("upload: %d %.300s", r.Status, r.Body)
		}
		var v struct {
			Batch struct {
				ID    string `json:"id"`
				Valid int    `json:"valid"`
			} `json:"batch"`
		}
		if err := json.Unmarshal(r.Body, &v); err != nil || v.Batch.Valid != rows {
			b.Fatalf("batch: %v %.300s", err, r.Body)
		}
		checked := time.Since(t0)
		b.ReportMetric(heapCheck(), "MiB-peak-heap-check")
		t1 := time.Now()
		if r := h.postJSON("/v1/batches/"+v.Batch.ID+"/start", tokCaseworker, "", nil); r.Status != http.StatusAccepted {
			b.Fatalf("start: %d %s", r.Status, r.Body)
		}
		accepted, handed := followBatch(b, t1, rows, sent, func() map[string]any { return batchOf(b, h.batchView(v.Batch.ID)) })
		b.ReportMetric(checked.Seconds(), "s-check")
		b.ReportMetric(accepted.Seconds(), "s-accept")
		b.ReportMetric(handed.Seconds(), "s-handover")
		b.ReportMetric(peakRSS(), "MiB-peak-rss")
		b.ReportMetric(heap(), "MiB-peak-heap")
		h.waitBatch(v.Batch.ID, "done")
	}
}

// BenchmarkBatch100kProcess is BenchmarkBatch100k with Seintje as a
// process of its own (built from cmd/seintje and started with `serve`, as
// deployed), so the peak RSS it reports (`MiB-peak-rss`, VmHWM from
// /proc/<pid>/status) is Seintje's alone: the fake Twilio and the client
// run in the benchmark's process. The times are counted as in
// BenchmarkBatch100k; all three processes share the machine's cores.
//
//	go test -run '^$' -bench Batch100kProcess -benchtime 1x -timeout 20m ./bot/app
func BenchmarkBatch100kProcess(b *testing.B) {
	const rows = 100_000
	ru := redisURL(b)
	tw, sent := countingTwilio(b)
	p := startProcess(b, ru, map[string]string{"TWILIO_API_URL": tw.URL, "SEINTJE_SMS_RATE": "1000000", "SEINTJE_LOG_LEVEL": "error"})
	for range b.N {
		t0 := time.Now()
		status, body := p.call(http.MethodPost, "/v1/batches?flow=no-show", csvCT, csvRows(rows))
		if status != http.StatusCreated {
			b.Fatalf("upload: %d %.300s", status, body)
		}
		var v struct {
			Batch struct {
				ID    string `json:"id"`
				Valid int    `json:"valid"`
			} `json:"batch"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.Batch.Valid != rows {
			b.Fatalf("batch: %v %.300s", err, body)
		}
		checked := time.Since(t0)
		rssCheck := p.peakRSS()
		t1 := time.Now()
		if status, body := p.call(http.MethodPost, "/v1/batches/"+v.Batch.ID+"/start", "application/json", strings.NewReader("{}")); status != http.StatusAccepted {
			b.Fatalf("start: %d %s", status, body)
		}
		accepted, handed := followBatch(b, t1, rows, sent, func() map[string]any { return p.batch(v.Batch.ID) })
		for deadline, g := time.Now().Add(time.Minute), p.batch(v.Batch.ID); g["state"] != "done"; g = p.batch(v.Batch.ID) {
			if time.Now().After(deadline) {
				b.Fatalf("batch is %v a minute after the last SMS", g["state"])
			}
			time.Sleep(100 * time.Millisecond)
		}
		b.ReportMetric(checked.Seconds(), "s-check")
		b.ReportMetric(accepted.Seconds(), "s-accept")
		b.ReportMetric(handed.Seconds(), "s-handover")
		b.ReportMetric(rssCheck, "MiB-peak-rss-check")
		b.ReportMetric(p.peakRSS(), "MiB-peak-rss")
	}
}
