package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
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
// test process (Seintje, the fake Twilio and the client), so an upper
// bound for Seintje.
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

// BenchmarkBatch100k: a case worker uploads 100,000 rows as CSV; every row
// is checked; the batch is started; all first SMS are handed to an
// unthrottled fake Twilio. Reports the seconds to check (upload answered),
// to accept (every row stored and its work queued) and to hand over (every
// SMS accepted by the fake), and the peak RSS.
//
//	go test -run '^$' -bench Batch100k -benchtime 1x -timeout 20m ./bot/app
func BenchmarkBatch100k(b *testing.B) {
	const rows = 100_000
	tw, sent := countingTwilio(b)
	h := newHarness(b, map[string]string{"TWILIO_API_URL": tw.URL, "SEINTJE_SMS_RATE": "1000000", "SEINTJE_LOG_LEVEL": "error"})
	var csv bytes.Buffer
	csv.WriteString("ref;telefoon;naam;consulent;appointment_at\n")
	for i := range rows {
		fmt.Fprintf(&csv, "Z-%06d;06 %08d;Sam de Vries;Ahmed;20-11-2026 10:00\n", i, 20000000+i)
	}
	file := csv.Bytes()
	for range b.N {
		t0 := time.Now()
		r := h.upload("?flow=no-show", csvCT, file, nil)
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
		t1 := time.Now()
		if r := h.postJSON("/v1/batches/"+v.Batch.ID+"/start", tokCaseworker, "", nil); r.Status != http.StatusAccepted {
			b.Fatalf("start: %d %s", r.Status, r.Body)
		}
		var accepted, handed time.Duration
		rss := peakRSS()
		for {
			time.Sleep(100 * time.Millisecond)
			rss = max(rss, peakRSS())
			g := batchOf(b, h.batchView(v.Batch.ID))
			if accepted == 0 && count(g, "accepted") == rows {
				accepted = time.Since(t1)
			}
			if sent.Load() >= rows && accepted != 0 {
				handed = time.Since(t1)
				break
			}
			if time.Since(t1) > 10*time.Minute {
				b.Fatalf("not done after 10 minutes: %v, %d sent", g["counts"], sent.Load())
			}
		}
		b.ReportMetric(checked.Seconds(), "s-check")
		b.ReportMetric(accepted.Seconds(), "s-accept")
		b.ReportMetric(handed.Seconds(), "s-handover")
		b.ReportMetric(peakRSS(), "MiB-peak-rss")
		h.waitBatch(v.Batch.ID, "done")
	}
}
