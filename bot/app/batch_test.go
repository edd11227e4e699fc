package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/batch"
	"github.com/seintje/seintje/bot/store"
)

const csvCT = "text/csv"

func (h *harness) upload(query, contentType string, body []byte, hdr map[string]string) response {
	h.t.Helper()
	return h.do(http.MethodPost, "/v1/batches"+query, tokCaseworker, contentType, bytes.NewReader(body), hdr)
}

func (h *harness) batchView(id string) map[string]any {
	h.t.Helper()
	r := h.get("/v1/batches/"+id, tokCaseworker)
	if r.Status != http.StatusOK {
		h.t.Fatalf("GET batch: %d %s", r.Status, r.Body)
	}
	return r.JSON(h.t)
}

func batchOf(t testing.TB, v map[string]any) map[string]any {
	t.Helper()
	b, ok := v["batch"].(map[string]any)
	if !ok {
		t.Fatalf("no batch in %v", v)
	}
	return b
}

func count(b map[string]any, path ...string) int {
	var v any = b["counts"]
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	f, _ := v.(float64)
	return int(f)
}

func rejectedCodes(v map[string]any) map[int]string {
	out := map[int]string{}
	for _, r := range v["rejected"].([]any) {
		m := r.(map[string]any)
		out[int(m["row"].(float64))] += m["code"].(string) + "@" + m["field"].(string) + " "
	}
	return out
}

// waitBatch polls the batch until it reaches state.
func (h *harness) waitBatch(id, state string) map[string]any {
	h.t.Helper()
	var b map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b = batchOf(h.t, h.batchView(id))
		if b["state"] == state {
			return b
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("batch %s is %v, want %s: %v", id, b["state"], state, b)
	return nil
}

// A case worker uploads a spreadsheet saved by Dutch Excel (semicolons,
// Windows-1252, Dutch headers and dates): every bad row is listed with its
// spreadsheet row number before anything is sent; starting sends only the
// valid rows; the same file again sends nothing twice.
func TestBatchSpreadsheetCheckedThenSent(t *testing.T) {
	h := newHarness(t, nil)
	// Someone who opted out, and someone who already got this event.
	h.nudge("no-show", "+31611111111", map[string]any{"appointment_at": "2026-11-20T10:00:00+01:00"})
	eventually(t, "first nudge sent", func() bool { return len(h.twilio.Requests()) == 1 })
	if r := h.sms("+31611111111", "STOP", "SMstop1"); r.Status != http.StatusOK {
		t.Fatalf("STOP: %d %s", r.Status, r.Body)
	}
	h.nudge("no-show", "+31622222222", map[string]any{"appointment_at": "2026-11-20T09:00:00Z"})
	eventually(t, "first nudges sent", func() bool { return len(h.twilio.Requests()) >= 3 })
	before := len(h.twilio.Requests())

	rows := []string{
		"Kenmerk;Telefoon;Naam;Taal;Consulent;appointment_at",
		"C-1;06 12345601;Sanne de Vries;nl;Ahmed;20-11-2026 10:00",       // 2 ok (Dutch date)
		"C-2;0612345602;Jo\xebl Bakker;;Ahmed;2026-11-20T10:00:00+01:00", // 3 ok (Windows-1252 ë)
		"C-3;06 1234;Piet;nl;Ahmed;20-11-2026 10:00",                     // 4 invalid phone
		"C-4;020 1234567;Kees;nl;Ahmed;20-11-2026 10:00",                 // 5 landline
		"C-5;0612345605;Mila;nl;Ahmed;",                                  // 6 missing var
		"C-6;0612345606;Noor;nl;Ahmed;20 november",                       // 7 wrong date
		"C-7;06-12345601;Eva;nl;Ahmed;20-11-2026 10:00",                  // 8 same phone as row 2
		"C-8;0611111111;Stop Persoon;nl;Ahmed;20-11-2026 10:00",          // 9 opted out
		"C-9;0622222222;Al Gehad;nl;Ahmed;20-11-2026 10:00",              // 10 already sent
		"C-10;612345610;Lotte;en;Ahmed;20-11-2026 10:00",                 // 11 ok (Excel dropped the 0)
	}
	file := []byte(strings.Join(rows, "\r\n") + "\r\n")
	r := h.upload("?flow=no-show", csvCT, file, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	v := r.JSON(t)
	b := batchOf(t, v)
	id := b["id"].(string)
	if b["state"] != "checked" || b["valid"] != 3.0 || b["rejected"] != 7.0 || b["rows"] != 10.0 {
		t.Fatalf("batch = %v", b)
	}
	want := map[int]string{
		4: "invalid_phone@Telefoon ", 5: "not_mobile@Telefoon ", 6: "missing_var@appointment_at ", 7: "invalid_var@appointment_at ",
		8: "duplicate_row@Telefoon ", 9: "opted_out@Telefoon ", 10: "already_sent@Telefoon ",
	}
	got := rejectedCodes(v)
	for row, code := range want {
		if got[row] != code {
			t.Errorf("row %d: got %q, want %q (all: %v)", row, got[row], code, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rejected rows %v, want %v", got, want)
	}
	for _, rj := range v["rejected"].([]any) {
		if msg := rj.(map[string]any)["message"].(string); msg == "" || strings.Contains(msg, "0612345") {
			t.Errorf("rejection message empty or with a phone number: %q", msg)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(h.twilio.Requests()); n != before {
		t.Fatalf("%d messages sent before the batch was started", n-before)
	}

	// The same file again: the same batch, nothing new.
	again := h.upload("?flow=no-show", csvCT, file, nil)
	if again.Status != http.StatusOK || again.JSON(t)["existing"] != true || batchOf(t, again.JSON(t))["id"] != id {
		t.Fatalf("second upload: %d %s", again.Status, again.Body)
	}

	if r := h.postJSON("/v1/batches/"+id+"/start", tokCaseworker, "", nil); r.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	b = h.waitBatch(id, "done")
	if count(b, "accepted") != 3 || count(b, "sent") != 3 || count(b, "still_waiting") != 3 || count(b, "pending") != 0 {
		t.Fatalf("counts = %v", b["counts"])
	}
	sent := h.twilio.Requests()[before:]
	if len(sent) != 3 {
		t.Fatalf("%d messages sent, want 3", len(sent))
	}
	for _, want := range []string{"+31612345601", "+31612345602", "+31612345610"} {
		if len(h.sentTo(want)) != 1 {
			t.Errorf("%s got %d messages", want, len(h.sentTo(want)))
		}
	}
	if !strings.Contains(h.sentTo("+31612345602")[0], "Joël") {
		t.Errorf("Windows-1252 name not decoded: %q", h.sentTo("+31612345602")[0])
	}
	if r := h.postJSON("/v1/batches/"+id+"/start", tokCaseworker, "", nil); r.Status != http.StatusConflict {
		t.Errorf("second start: %d %s", r.Status, r.Body)
	}

	// Uploaded again after it ran: still the same batch, nothing resent.
	again = h.upload("?flow=no-show&start=true", csvCT, file, nil)
	if again.Status != http.StatusOK || again.JSON(t)["existing"] != true {
		t.Fatalf("upload after the run: %d %s", again.Status, again.Body)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(h.twilio.Requests()) - before; n != 3 {
		t.Fatalf("%d messages after the repeated upload, want 3", n)
	}

	// Results: one row per person by case reference; no phone numbers or bodies.
	res := h.get("/v1/batches/"+id+"/results.csv", tokCaseworker)
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("results: %d %s", res.Status, res.Body)
	}
	recs, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], ",") != strings.Join(batch.ResultsHeader, ",") {
		t.Fatalf("results = %v", recs)
	}
	for _, rec := range recs[1:] {
		if rec[3] != "created" || rec[2] == "" || rec[4] != "waiting" || rec[6] != "sent" {
			t.Errorf("result row %v", rec)
		}
	}
	for _, bad := range []string{"06123456", "+316", "gemist"} {
		if bytes.Contains(res.Body, []byte(bad)) {
			t.Errorf("results.csv contains %q", bad)
		}
	}
	list := h.get("/v1/batches", tokCaseworker).JSON(t)
	if bs := list["batches"].([]any); len(bs) != 1 || bs[0].(map[string]any)["id"] != id {
		t.Errorf("list = %v", list)
	}
}

// A case system posts JSON with "start": true; the figures follow the
// people: delivery reports, replies, callback requests, STOP.
func TestBatchJSONFiguresFollowThePeople(t *testing.T) {
	h := newHarness(t, nil)
	items := []map[string]any{}
	for i := range 4 {
		items = append(items, map[string]any{
			"recipient":  map[string]any{"ref": fmt.Sprintf("R-%d", i), "phone": fmt.Sprintf("+3163333333%d", i), "name": "Sam"},
			"vars":       map[string]any{"appointment_at": "2026-11-20T10:00:00+01:00"},
			"caseworker": map[string]any{"name": "Ahmed"},
		})
	}
	items = append(items, map[string]any{"recipient": map[string]any{"ref": "R-x", "phone": "+31633333339", "name": "Bo"},
		"vars": map[string]any{}, "caseworker": map[string]any{"name": "Ahmed"}})
	r := h.postJSON("/v1/batches", tokCaseworker, map[string]any{"flow": "no-show", "items": items, "start": true}, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	v := r.JSON(t)
	if got := rejectedCodes(v); got[5] != "missing_var@vars.appointment_at " || len(got) != 1 {
		t.Fatalf("rejected = %v", got)
	}
	id := batchOf(t, v)["id"].(string)
	h.waitBatch(id, "done")
	sid := func(to string) string {
		for _, q := range h.twilio.Requests() {
			if q.To == to {
				return q.SID
			}
		}
		t.Fatalf("nothing sent to %s", to)
		return ""
	}
	h.status(sid("+31633333330"), "+31633333330", "delivered", 0)
	h.status(sid("+31633333331"), "+31633333331", "undelivered", 30003)
	h.sms("+31633333332", "2", "SMr2")    // call me back
	h.sms("+31633333333", "STOP", "SMr3") // opt out
	var b map[string]any
	eventually(t, "figures", func() bool {
		b = batchOf(t, h.batchView(id))
		return count(b, "delivered") == 1 && count(b, "failed") == 1 && count(b, "replied") == 1 &&
			count(b, "asked_to_be_called") == 1 && count(b, "opted_out") == 1 && count(b, "ended") == 1
	})
	if count(b, "sent") != 2 || count(b, "still_waiting") != 3 || count(b, "accepted") != 4 {
		t.Errorf("counts = %v", b["counts"])
	}
	if fr := b["counts"].(map[string]any)["failed_by_reason"].(map[string]any); len(fr) != 1 {
		t.Errorf("failed by reason = %v", fr)
	}
	hours := h.batchView(id)["replies_per_hour"].([]any)
	if len(hours) != 1 || hours[0].(map[string]any)["replies"] != 1.0 {
		t.Errorf("replies per hour = %v", hours)
	}
	// The same request with the same Idempotency-Key: the batch again.
	k := map[string]string{"Idempotency-Key": "cs-2026-11-20"}
	r1 := h.postJSON("/v1/batches", tokCaseworker, map[string]any{"flow": "no-show", "items": items[:2]}, k)
	r2 := h.postJSON("/v1/batches", tokCaseworker, map[string]any{"flow": "no-show", "items": items[:2]}, k)
	if r1.Status != http.StatusUnprocessableEntity {
		// every row was sent already by the first batch
		t.Fatalf("re-post of sent rows: %d %s", r1.Status, r1.Body)
	}
	if r2.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r2.Body), "already_sent") {
		t.Fatalf("second re-post: %d %s", r2.Status, r2.Body)
	}
}

// Cancel stops what has not gone out: a scheduled batch sends nothing; a
// sending one stops part-way and ends the conversations it did not start.
func TestBatchCancel(t *testing.T) {
	h := newHarness(t, map[string]string{"SEINTJE_SMS_RATE": "5"})
	var lines []string
	lines = append(lines, "ref,phone,name,caseworker,appointment_at")
	for i := range 12 {
		lines = append(lines, fmt.Sprintf("K-%d,+3164444%04d,Sam,Ahmed,2026-11-20T10:00:00+01:00", i, i))
	}
	file := []byte(strings.Join(lines, "\n"))
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	r := h.upload("?flow=no-show&start=true&send_at="+later, csvCT, file, nil)
	if r.Status != http.StatusCreated || batchOf(t, r.JSON(t))["state"] != "scheduled" {
		t.Fatalf("scheduled upload: %d %s", r.Status, r.Body)
	}
	sched := batchOf(t, r.JSON(t))["id"].(string)
	if r := h.postJSON("/v1/batches/"+sched+"/cancel", tokCaseworker, "", nil); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if b := batchOf(t, h.batchView(sched)); b["state"] != "cancelled" {
		t.Fatalf("state %v", b["state"])
	}

	r = h.upload("?flow=no-show&start=true", csvCT, file, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	id := batchOf(t, r.JSON(t))["id"].(string)
	eventually(t, "a few sent", func() bool { return len(h.twilio.Requests()) >= 2 })
	if r := h.postJSON("/v1/batches/"+id+"/cancel", tokCaseworker, "", nil); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	var b map[string]any
	eventually(t, "all first messages sent or cancelled", func() bool {
		b = batchOf(t, h.batchView(id))
		return count(b, "sent")+count(b, "cancelled") == 12 && count(b, "ended") == count(b, "cancelled")
	})
	sent := len(h.twilio.Requests())
	if sent >= 12 || count(b, "sent") != sent || count(b, "cancelled") != 12-sent {
		t.Fatalf("sent %d, counts %v", sent, b["counts"])
	}
	if count(b, "ended") != 12-sent || b["state"] != "cancelled" {
		t.Errorf("counts %v state %v", b["counts"], b["state"])
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(h.twilio.Requests()); n != sent {
		t.Errorf("%d more sent after the cancel", n-sent)
	}
}

// Files and requests that cannot be a batch: a clear problem naming the row
// and column, and nothing stored.
func TestBatchBadInput(t *testing.T) {
	h := newHarness(t, nil)
	big := &bytes.Buffer{}
	big.WriteString("ref,phone,name,caseworker,appointment_at\n")
	for i := 0; i <= batch.MaxRows; i++ {
		fmt.Fprintf(big, "R%d,+316%08d,Sam,Ahmed,2026-11-20T10:00:00+01:00\n", i, i)
	}
	huge := bytes.Repeat([]byte("x"), 50<<20)
	cases := []struct {
		name, ct string
		body     []byte
		status   int
		code     string
		row      int
		column   string
	}{
		{"png", csvCT, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), 422, "not_a_table", 0, ""},
		{"zip that is no xlsx", "application/octet-stream", []byte("PK\x03\x04garbage"), 422, "not_a_table", 0, ""},
		{"empty", csvCT, nil, 422, "empty_file", 0, ""},
		{"header only", csvCT, []byte("ref,phone,name\n"), 422, "no_rows", 0, ""},
		{"no phone column", csvCT, []byte("ref,name\nR1,Sam\n"), 422, "no_phone_column", 1, ""},
		{"unknown column", csvCT, []byte("ref,phone,name,bsn\nR1,0612345678,Sam,123\n"), 422, "unknown_column", 1, "bsn"},
		{"broken quotes", csvCT, []byte("ref,phone,name\nR1,\"0612345678,Sam\nR2,x\"y,z\n"), 422, "not_a_table", 2, ""},
		{"too many rows", csvCT, big.Bytes(), 422, "too_many_rows", batch.MaxRows + 2, ""},
		{"50 MB", csvCT, huge, 413, "request_too_large", 0, ""},
		{"wrong type", "image/png", []byte("x"), 415, "unsupported_media_type", 0, ""},
		{"all rows bad (wrong date)", csvCT, []byte("ref,phone,name,caseworker,appointment_at\nR1,0612345678,Sam,Ahmed,31-02-2026 10:00\n"), 422, "no_valid_rows", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.upload("?flow=no-show", c.ct, c.body, nil)
			if r.Status != c.status || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s, want %d problem+json", r.Status, trunc(r.Body), c.status)
			}
			p := r.JSON(t)
			if p["code"] != c.code || p["detail"] == "" {
				t.Fatalf("problem %v, want code %s", p, c.code)
			}
			if c.row != 0 && p["row"] != float64(c.row) {
				t.Errorf("row %v, want %d (%v)", p["row"], c.row, p)
			}
			if c.column != "" && p["column"] != c.column {
				t.Errorf("column %v, want %s", p["column"], c.column)
			}
			if c.code == "no_valid_rows" {
				rej := p["rejected"].([]any)[0].(map[string]any)
				if rej["row"] != 2.0 || rej["field"] != "appointment_at" || rej["code"] != "invalid_var" {
					t.Errorf("rejected %v", rej)
				}
			}
		})
	}
	for _, k := range h.keys() {
		if !strings.HasPrefix(k, h.prefix+":flows:") {
			t.Errorf("bad input left key %s", k)
		}
	}
	if n := len(h.twilio.Requests()); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

func trunc(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// failingQueue loses every task, like a crash right after the state change.
type failingQueue struct{}

func (failingQueue) EnqueueTask(context.Context, string, string, []byte, time.Time, time.Duration) error {
	return errors.New("connection lost")
}

// startLost creates a batch of n no-show rows (ref and phone from the
// format row, given the row's index twice) with svc, whose queue is lost,
// and starts it: the start is stored, its run not queued.
func startLost(t *testing.T, h *harness, svc *batch.Service, row string, n int) string {
	t.Helper()
	lines := []string{"ref,phone,name,caseworker,appointment_at"}
	for i := range n {
		lines = append(lines, fmt.Sprintf(row, i, i)+",Sam,Ahmed,2026-11-20T10:00:00+01:00")
	}
	ctx := context.Background()
	f, _ := h.app.Registry.Current("no-show")
	tb, _ := batch.ReadTable([]byte(strings.Join(lines, "\n")))
	cols, err := batch.MapColumns(f, tb.Header, nil, tb.Rows)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := svc.Create(ctx, batch.NewRequest{Flow: "no-show", Source: "csv", Items: batch.Items(f, tb, cols, time.UTC), Names: cols.Name, By: "cw"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx, cr.Batch.ID, time.Time{}); err == nil {
		t.Fatal("start with a lost queue: no error")
	}
	return cr.Batch.ID
}

// Starting a batch is crash-safe: when the process dies after the state
// change but before its run is queued, recovery queues it; when it dies
// in the middle of a run (nudges created, cursor not moved), the next run
// continues from the cursor without sending anyone twice or counting twice.
func TestBatchStartSurvivesCrashes(t *testing.T) {
	h := newHarness(t, nil)
	a := h.app
	opts := func(crash func(int) bool) batch.Options {
		return batch.Options{Redis: a.Redis, Prefix: h.prefix, Retention: time.Hour, Outreach: a.Service, Store: a.Store,
			Queue: failingQueue{}, Chunk: 4, Workers: 3, CrashAfterCreate: crash, SMSRate: 10}
	}
	ctx := context.Background()

	// Crash in the middle of a run, in chunk 1 (rows 5-8).
	crashing := batch.New(opts(func(chunk int) bool { return chunk == 1 }))
	id := startLost(t, h, crashing, "Z-%d,+3165555%04d", 10)
	if err := crashing.Run(ctx, id); err == nil {
		t.Fatal("the crash hook did not stop the run")
	}
	// The app's own recovery pass (every 15 s) may pick the run up before
	// the explicit Recover below: then more than chunk 0 is counted
	// already. Either way every row must go out exactly once.
	eventually(t, "chunks 0 and 1 sent", func() bool { return len(h.twilio.Requests()) >= 8 })
	if b, _ := crashing.Get(ctx, id); b.Counts.Accepted < 4 || (b.State != batch.Sending && b.State != batch.Done) {
		t.Fatalf("after the crash: %s, counts %+v", b.State, b.Counts)
	}

	// The app's worker recovers the lost run and continues from the cursor.
	if err := a.Batches.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	b := h.waitBatch(id, "done")
	if count(b, "accepted") != 10 || count(b, "sent") != 10 || count(b, "still_waiting") != 10 {
		t.Fatalf("counts %v", b["counts"])
	}
	for i := range 10 {
		if n := len(h.sentTo(fmt.Sprintf("+3165555%04d", i))); n != 1 {
			t.Errorf("row %d: %d messages", i+2, n)
		}
	}
}

// cutPipeline makes the first pipeline that runs k scripts or more (and at
// least four) stop after its k-th script, as if the process died while sending a chunk's
// creates: Redis gets the commands up to the k-th create and the two after
// it (its case reference and one of its timers), and nothing after.
type cutPipeline struct {
	k    int
	done atomic.Bool
}

var errCut = errors.New("process died in the middle of the pipeline")

func (c *cutPipeline) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (c *cutPipeline) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (c *cutPipeline) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		script := func(cmd redis.Cmder) bool { return cmd.Name() == "evalsha" || cmd.Name() == "eval" }
		n := 0
		for _, cmd := range cmds {
			if script(cmd) {
				n++
			}
		}
		if n < max(4, c.k) || c.done.Load() {
			return next(ctx, cmds)
		}
		c.done.Store(true)
		cut, seen := len(cmds), 0
		for i, cmd := range cmds {
			if script(cmd) {
				if seen++; seen == c.k {
					cut = min(i+3, len(cmds))
					break
				}
			}
		}
		if err := next(ctx, cmds[:cut]); err != nil {
			return err
		}
		for _, cmd := range cmds[cut:] {
			cmd.SetErr(errCut)
		}
		return errCut
	}
}

// A crash in the middle of a chunk's pipeline of creates strands nothing:
// the nudges created before it keep their outbox pointer, the recovery
// pass queues their work, the next run of the batch counts them and
// creates the rest, and everyone gets exactly one message.
func TestBatchCrashInTheMiddleOfAChunk(t *testing.T) {
	h := newHarness(t, nil)
	a := h.app
	h.nudge("no-show", "+31655590000", map[string]any{"appointment_at": "2026-11-20T10:00:00+01:00"}) // the create script is known to Redis
	opt, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	const k = 5
	rdb.AddHook(&cutPipeline{k: k})
	out := *a.Service
	out.Store = store.New(rdb, store.Options{Prefix: h.prefix, Retention: time.Hour})
	crashing := batch.New(batch.Options{Redis: a.Redis, Prefix: h.prefix, Retention: time.Hour, Outreach: &out, Store: out.Store,
		Queue: failingQueue{}, Chunk: 8, Workers: 3, SMSRate: 10})
	ctx := context.Background()
	id := startLost(t, h, crashing, "Y-%d,+3165556%04d", 12)
	if err := crashing.Run(ctx, id); !errors.Is(err, errCut) {
		t.Fatalf("run: %v, want the cut", err)
	}
	if b, _ := crashing.Get(ctx, id); b.Counts.Accepted != 0 {
		t.Fatalf("counted before the chunk was done: %+v", b.Counts)
	}
	// The k nudges created before the cut are stored with their pointers,
	// their work not queued: the recovery pass (no grace) queues it.
	if n, err := a.Store.PendingCount(ctx); err != nil || n < k {
		t.Fatalf("pending pointers %d (%v), want at least %d", n, err, k)
	}
	if _, err := a.Service.Recover(ctx, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the nudges created before the cut sent", func() bool { return len(h.twilio.Requests()) >= 1+k })

	// The next run (the app's worker, queued by the batch recovery pass)
	// continues from the cursor: the chunk again, then the rest.
	if err := a.Batches.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	b := h.waitBatch(id, "done")
	if count(b, "accepted") != 12 || count(b, "sent") != 12 || count(b, "still_waiting") != 12 {
		t.Fatalf("counts %v", b["counts"])
	}
	for i := range 12 {
		if n := len(h.sentTo(fmt.Sprintf("+3165556%04d", i))); n != 1 {
			t.Errorf("row %d: %d messages", i+2, n)
		}
	}
	if _, err := a.Service.Recover(ctx, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "no pointer left", func() bool {
		n, err := a.Store.PendingCount(ctx)
		return err == nil && n == 0
	})
}

// failMeta fails every pipeline that writes a batch's meta (HSET), as a
// Redis that stalls right after the rows were stored.
type failMeta struct{}

var errMeta = errors.New("redis stalled while the batch was stored")

func (failMeta) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (failMeta) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (failMeta) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if c.Name() == "hset" {
				for _, c := range cmds {
					c.SetErr(errMeta)
				}
				return errMeta
			}
		}
		return next(ctx, cmds)
	}
}

// An upload whose batch cannot be stored in full answers an error and
// leaves none of the people's rows behind in Redis.
func TestBatchNotStoredLeavesNoRows(t *testing.T) {
	h := newHarness(t, nil)
	opt, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	rdb.AddHook(failMeta{})
	svc := batch.New(batch.Options{Redis: rdb, Prefix: h.prefix, Retention: time.Hour, Outreach: h.app.Service, Store: h.app.Store,
		Queue: failingQueue{}, Chunk: 4, SMSRate: 10})
	f, _ := h.app.Registry.Current("no-show")
	lines := []string{"ref,phone,name,caseworker,appointment_at"}
	for i := range 10 {
		lines = append(lines, fmt.Sprintf("R-%d,+3165557%04d,Sam,Ahmed,2026-11-20T10:00:00+01:00", i, i))
	}
	tb, _ := batch.ReadTable([]byte(strings.Join(lines, "\n")))
	cols, err := batch.MapColumns(f, tb.Header, nil, tb.Rows)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Create(context.Background(), batch.NewRequest{Flow: "no-show", Source: "csv", Items: batch.Items(f, tb, cols, time.UTC), Names: cols.Name, By: "cw"})
	if !errors.Is(err, errMeta) {
		t.Fatalf("create: %v, want the stall", err)
	}
	if keys, err := h.scan(context.Background(), h.prefix+":{b:*"); err != nil || len(keys) > 0 {
		t.Errorf("left behind: %v (%v)", keys, err)
	}
}
