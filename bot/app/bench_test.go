package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/channel/twilio"
	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
	"github.com/seintje/seintje/bot/jobs"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/store"
	"github.com/seintje/seintje/internal/testflows"
)

// The inbound-reply benchmark: a signed Twilio webhook → signature check →
// dedupe and store → engine transition → atomic commit → reply queued,
// through a real HTTP server on loopback and real Redis. The floor is a gin
// handler doing one Redis round trip, measured the same way in the same run;
// FloorDurable is the least a reply path can do under Seintje's durability
// rules (see its comment).
//
//	go test -run '^$' -bench 'Inbound|Floor' -benchtime 20000x ./bot/app
//
// Each reports req/s and p50/p99 latency. Concurrency: 32 client goroutines
// with keep-alive connections.
const benchConcurrency = 32

func BenchmarkFloor(b *testing.B) { benchFloor(b, 1) }

// BenchmarkFloor3 is the floor with three sequential round trips, as many
// as the reply path makes: what the round trips alone cost.
func BenchmarkFloor3(b *testing.B) { benchFloor(b, 3) }

func benchFloor(b *testing.B, trips int) {
	u := redisURL(b)
	opt, _ := redis.ParseURL(u)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	rdb.Set(context.Background(), "bench:floor", "1", time.Minute)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/floor", func(c *gin.Context) {
		var v string
		for i := 0; i < trips; i++ {
			var err error
			if v, err = rdb.Get(c.Request.Context(), "bench:floor").Result(); err != nil {
				c.Status(500)
				return
			}
		}
		c.String(200, v)
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	load(b, rdb, func(i int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/floor", nil)
		return req
	})
}

// BenchmarkFloorDurable is the least any reply path can do that keeps
// Seintje's rules (a text stored before the 2xx, deduplicated by the
// provider's id; the transition computed in Go from the stored state and
// committed with the work it queues in one script, at the revision read),
// with none of Seintje's other work: no engine, no routing, no
// compression, no audit, no outcomes, no TTL but one, no answer rendered
// or queued. A signed Twilio webhook, the signature checked, then two
// round trips: a script that stores and deduplicates the text and returns
// the conversation's state (a JSON document of the size of a real one;
// keys named by a keyed hash of the number, as Seintje's),
// and, after the state is decoded and encoded again, a script that
// compares the revision and writes the state, the answer and an outbox
// entry. Its req/s over the floor's bounds the ratio issue 12 asks of the
// reply path (docs/performance.md).
func BenchmarkFloorDurable(b *testing.B) {
	u := redisURL(b)
	opt, _ := redis.ParseURL(u)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	state := map[string]any{"id": "x", "flow": map[string]any{"id": "no-show", "version": 1, "digest": strings.Repeat("d", 64)},
		"lang": "nl", "first_name": "Sanne", "caseworker": "Ahmed", "vars": map[string]any{"appointment_at": appointmentAt},
		"status": "waiting", "step": "ask", "started_at": time.Now(), "updated_at": time.Now(), "deadline": time.Now(),
		"timer_seq": 1, "unanswered": 1, "rev": 1, "tag": strings.Repeat("t", 24), "ref": strings.Repeat("r", 43),
		"channel": "sms", "triggered_by": "bench", "event_key": strings.Repeat("e", 43)}
	raw, _ := json.Marshal(state)
	// Keys are named by a keyed hash of the number, as Seintje's are
	// (phone.Keyer): no phone number in a key name.
	keyer, err := phone.NewKeyer([]byte("test-hash-key-0123456789abcdef0123456789"))
	if err != nil {
		b.Fatal(err)
	}
	key := func(number, kind string) string { return "bench:dur:{" + keyer.Hash("phone", number) + "}:" + kind }
	phones := make([]string, b.N)
	pipe := rdb.Pipeline()
	for i := range phones {
		phones[i] = fmt.Sprintf("+3161%07d", i)
		pipe.HSet(ctx, key(phones[i], "msgs"), "c", "1|"+string(raw))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() {
		pipe := rdb.Pipeline()
		for _, p := range phones {
			pipe.Del(ctx, key(p, "msgs"), key(p, "dedupe"))
		}
		_, _ = pipe.Exec(ctx)
	}()
	store := redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', 604800000) then return false end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2], 'pending:' .. ARGV[1], '1')
return redis.call('HGET', KEYS[2], 'c')`)
	commit := redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'c')
if not cur or string.sub(cur, 1, string.find(cur, '|', 1, true) - 1) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'c', ARGV[2], ARGV[3], ARGV[4], 'ob', ARGV[5])
redis.call('HDEL', KEYS[1], 'pending:' .. ARGV[6])
redis.call('PEXPIRE', KEYS[1], 604800000)
return 1`)
	validator := twilio.NewValidator(testAuthToken)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/webhooks/twilio/sms", func(c *gin.Context) {
		form, err := validator.Validate(c.Request, testPublicURL+"/webhooks/twilio/sms")
		if err != nil {
			c.Status(http.StatusForbidden)
			return
		}
		from, sid := form.Get("From"), form.Get("MessageSid")
		msgs := key(from, "msgs")
		in, _ := json.Marshal(map[string]any{"id": sid, "from": from, "body": form.Get("Body"), "at": time.Now()})
		v, err := store.Run(c.Request.Context(), rdb, []string{key(from, "dedupe"), msgs}, sid, in).Text()
		if err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		rev, doc, _ := strings.Cut(v, "|")
		var st map[string]any
		if err := json.Unmarshal([]byte(doc), &st); err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		st["status"], st["step"], st["rev"] = "ended", "done", 2
		next, _ := json.Marshal(st)
		answer, _ := json.Marshal(map[string]any{"id": sid + "a", "to": from, "body": strings.Repeat("a", 160), "at": time.Now()})
		if err := commit.Run(c.Request.Context(), rdb, []string{msgs}, rev, "2|"+string(next), sid+"a", answer, `{"send":["`+sid+`a"]}`, sid).Err(); err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		c.Data(http.StatusOK, "text/xml; charset=utf-8", []byte(twilio.EmptyTwiML))
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	load(b, rdb, replyRequest(srv.URL, phones))
	// Every text made its transition.
	for _, p := range []string{phones[0], phones[b.N-1]} {
		if v, err := rdb.HGet(ctx, key(p, "msgs"), "c").Result(); err != nil || !strings.HasPrefix(v, "2|") {
			b.Fatalf("a state was not committed: %.20q %v", v, err)
		}
	}
}

func BenchmarkInboundReply(b *testing.B) {
	h, phones, lastNudge := replyBench(b)
	srv := httptest.NewServer(h.app.Handler)
	defer srv.Close()
	load(b, h.rdb, replyRequest(srv.URL, phones))
	checkReplies(b, h, lastNudge)
}

// BenchmarkInboundReplyAt1000 offers the replies at a steady 1,000 per
// second (open loop: request i is due at start + i ms, whether or not the
// earlier ones have been answered) and reports the latency from the moment
// each request was due, so time spent waiting behind a slow request counts
// (no coordinated omission). The latency goal is p99 ≤ 10 ms at
// this rate.
//
//	go test -run '^$' -bench InboundReplyAt1000 -benchtime 10000x ./bot/app
func BenchmarkInboundReplyAt1000(b *testing.B) {
	h, phones, lastNudge := replyBench(b)
	srv := httptest.NewServer(h.app.Handler)
	defer srv.Close()
	paced(b, h.rdb, 1000, replyRequest(srv.URL, phones))
	checkReplies(b, h, lastNudge)
}

// replyBench is a harness with one waiting conversation per request,
// created before the clock runs; it returns the people's numbers and the
// last nudge's id.
func replyBench(b *testing.B) (*harness, []string, string) {
	h := newBenchHarness(b)
	// One waiting conversation per request, created before the clock runs.
	phones := make([]string, b.N)
	ctx := context.Background()
	var lastNudge string
	for i := range phones {
		phones[i] = fmt.Sprintf("+3161%07d", i)
		res, err := h.app.Service.Trigger(ctx, outreach.TriggerRequest{Flow: "no-show", Ref: fmt.Sprintf("B-%d", i),
			Phone: phones[i], Name: "Sanne", Caseworker: "Ahmed", Vars: map[string]any{"appointment_at": appointmentAt}, TriggeredBy: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		lastNudge = res.ID
		markSent(b, h, res.ID)
	}
	return h, phones, lastNudge
}

// replyRequest makes request i: a signed Twilio webhook with the reply "2"
// from person i.
func replyRequest(base string, phones []string) func(i int) *http.Request {
	target := base + "/webhooks/twilio/sms"
	return func(i int) *http.Request {
		form := url.Values{"MessageSid": {fmt.Sprintf("SM%032d", i)}, "AccountSid": {testSID}, "From": {phones[i]}, "To": {testFrom}, "Body": {"2"}}
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twiliotest.Sign(testAuthToken, testPublicURL+"/webhooks/twilio/sms", form))
		return req
	}
}

// checkReplies fails the benchmark unless every reply made its transition
// and queued its answer: one send task per first message and one per reply
// (the worker is off here).
func checkReplies(b *testing.B, h *harness, lastNudge string) {
	b.Helper()
	b.StopTimer()
	ctx := context.Background()
	pending, err := h.rdb.LLen(ctx, "asynq:{"+h.prefix+"}:pending").Result()
	if err != nil || pending != int64(2*b.N) {
		b.Fatalf("queued sends = %d (err %v), want %d", pending, err, 2*b.N)
	}
	n, err := h.app.Store.Nudge(ctx, lastNudge)
	if err != nil || n.Status != "ended" || len(n.CallbackIDs) != 1 {
		b.Fatalf("last nudge not advanced: %+v %v", n, err)
	}
}

// BenchmarkCreateNudge is the load command for POST /v1/nudges: 32
// clients with keep-alive connections each create nudges for new people
// (real HTTP on loopback, the API token checked, the request validated,
// the nudge, its first message and its work stored, the send and timers
// queued, the audit entry written). The worker is off, so only accepting
// is measured.
//
//	go test -run '^$' -bench CreateNudge -benchtime 20000x ./bot/app
func BenchmarkCreateNudge(b *testing.B) {
	h := newBenchHarness(b)
	srv := httptest.NewServer(h.app.Handler)
	defer srv.Close()
	bodies := make([][]byte, b.N)
	for i := range bodies {
		body := nudgeBody("no-show", fmt.Sprintf("+3163%07d", i), map[string]any{"appointment_at": appointmentAt})
		body["recipient"].(map[string]any)["ref"] = fmt.Sprintf("N-%07d", i)
		var err error
		if bodies[i], err = json.Marshal(body); err != nil {
			b.Fatal(err)
		}
	}
	load(b, h.rdb, func(i int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/nudges", bytes.NewReader(bodies[i]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokCaseworker)
		return req
	}, http.StatusAccepted)
	b.StopTimer()
	pending, err := h.rdb.LLen(context.Background(), "asynq:{"+h.prefix+"}:pending").Result()
	if err != nil || pending != int64(b.N) {
		b.Fatalf("queued sends = %d (err %v), want %d", pending, err, b.N)
	}
}

// markSent records the first message of nudge id as handed to the
// provider, as the (stopped) worker would: a reply is routed to the
// conversation whose message the person saw.
func markSent(b *testing.B, h *harness, id string) {
	b.Helper()
	ctx := context.Background()
	tag, _ := store.TagOf(id)
	msgs, err := h.app.Store.Transcript(ctx, tag, id)
	if err != nil || len(msgs) == 0 {
		b.Fatalf("transcript of %s: %v (%d messages)", id, err, len(msgs))
	}
	if err := h.app.Store.SetStatus(ctx, tag, msgs[0].ID, "SM"+msgs[0].ID, store.Status{State: "sent", At: time.Now()}); err != nil {
		b.Fatal(err)
	}
}

// newBenchHarness is a harness without the job worker: replies are queued,
// not sent, so only the inbound path is measured.
func newBenchHarness(b *testing.B) *harness {
	h := &harness{t: b, prefix: "b" + randHex(6), clock: &clock{}}
	h.twilio = twiliotest.New(b, testSID, testAuthToken)
	h.env = map[string]string{
		"REDIS_URL": redisURL(b), "SEINTJE_KEY_PREFIX": h.prefix, "SEINTJE_PUBLIC_URL": testPublicURL,
		"SEINTJE_HASH_KEY": "test-hash-key-0123456789abcdef0123456789", "SEINTJE_API_TOKENS": "cw:caseworker:" + tokCaseworker,
		"SEINTJE_CALLBACK_NUMBER": "088 123 45 67", "SEINTJE_CALLBACK_HOURS": "ma-vr 9-17 uur", "SEINTJE_FLOWS_DIR": testflows.Dir(b), "SEINTJE_QUIET_HOURS": "off",
		"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": testAuthToken, "TWILIO_FROM": testFrom, "TWILIO_API_URL": h.twilio.URL,
	}
	opt, _ := redis.ParseURL(h.env["REDIS_URL"])
	h.rdb = redis.NewClient(opt)
	a, err := app.New(context.Background(), h.config(), app.Options{NoWorker: true, Jobs: jobs.Options{Queue: h.prefix}})
	if err != nil {
		b.Fatal(err)
	}
	h.app = a
	b.Cleanup(func() { h.stop(); h.flush(); h.rdb.Close() })
	return h
}

// load sends b.N requests from benchConcurrency goroutines, closed loop
// (drive).
func load(b *testing.B, rdb redis.UniversalClient, mk func(i int) *http.Request, status ...int) {
	want := http.StatusOK
	if len(status) > 0 {
		want = status[0]
	}
	drive(b, rdb, benchConcurrency, want, mk, nil)
}

// paced sends b.N requests at rate per second, open loop: request i is
// started at start + i/rate by whichever of a large pool of client
// goroutines is free, and its latency is counted from that due moment, so
// a stall shows in every request that had to wait for it. It reports the
// offered and achieved rates, latency percentiles and CPU per request.
func paced(b *testing.B, rdb redis.UniversalClient, rate int, mk func(i int) *http.Request) {
	const clients = 256 // enough that a stall of 250 ms does not block the schedule
	interval := time.Second / time.Duration(rate)
	drive(b, rdb, clients, http.StatusOK, mk, func(start time.Time, i int) time.Time {
		return start.Add(time.Duration(i) * interval)
	})
	b.ReportMetric(float64(rate), "offered-req/s") // after drive: ResetTimer clears reported metrics
}

// drive sends b.N requests made by mk from clients goroutines with
// keep-alive connections and reports throughput, latency percentiles and
// the CPU time spent per request by this process (server and load
// generator: cpu-us/op) and by Redis (redis-cpu-us/op, meaningful only
// with a Redis of its own). CPU time per request moves much less than
// req/s when other work shares the machine. With due nil each client sends
// its next request as soon as the last one is answered (closed loop);
// otherwise request i waits until due(start, i) and its latency counts from
// then (open loop).
func drive(b *testing.B, rdb redis.UniversalClient, clients, want int, mk func(i int) *http.Request, due func(start time.Time, i int) time.Time) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = mk(i)
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	cpu0, rcpu0 := processCPU(), redisCPU(rdb)
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				t0 := time.Now()
				if due != nil {
					t0 = due(start, i)
					time.Sleep(time.Until(t0))
				}
				resp, err := client.Do(reqs[i])
				if err != nil || resp.StatusCode != want {
					failed.Add(1)
				}
				if resp != nil {
					// Read to EOF so the keep-alive connection is reused.
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu, rcpu := processCPU()-cpu0, redisCPU(rdb)-rcpu0
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
	b.ReportMetric(float64(rcpu.Microseconds())/float64(b.N), "redis-cpu-us/op")
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// redisCPU is the user and system CPU time of the Redis server so far
// (INFO cpu), 0 when it cannot be read.
func redisCPU(rdb redis.UniversalClient) time.Duration {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		return 0
	}
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}
