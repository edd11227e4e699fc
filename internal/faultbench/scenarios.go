//go:build unix

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
	"github.com/seintje/seintje/internal/redisproc"
)

// workerConcurrency is the job worker's default concurrency: the most
// sends that can be in flight at a crash, so the most duplicates one
// crash may cause (docs/reliability.md).
const workerConcurrency = 20

// bench is what every scenario shares.
type bench struct {
	bin, work string
	log       func(format string, args ...any)
	// converge is how long a scenario waits for Seintje to catch up after
	// the fault (recovery pass: 30 s grace, every 10 s).
	converge time.Duration
}

// result is one row of the summary.
type result struct {
	Scenario string
	Run      int
	Detail   string // where the fault fell
	Items    int    // nudges accepted, or replies sent
	Lost     int    // nudges without their first SMS, or replies not processed
	Doubled  int    // nudges whose first SMS went out more than once, or replies processed twice
	// MaxDoubled is the allowed number of duplicates (at-least-once window).
	MaxDoubled int
	Webhooks   webhookStats
	Took       time.Duration
	Err        error
}

func (r result) ok() bool {
	return r.Err == nil && r.Lost == 0 && r.Doubled <= r.MaxDoubled && r.Webhooks.late == 0 && r.Webhooks.failed == 0
}

type webhookStats struct {
	n, late, failed int // late: over 2 s; failed: not 200
	max             time.Duration
}

func (w *webhookStats) add(status int, d time.Duration) {
	w.n++
	if d > w.max {
		w.max = d
	}
	if d > 2*time.Second {
		w.late++
	}
	if status != http.StatusOK {
		w.failed++
	}
}

func phone(i int) string { return fmt.Sprintf("+316%08d", 10000000+i) }

func randInt(n int) int {
	if n <= 0 {
		return 0
	}
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

func newSID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "SM" + hex.EncodeToString(b[:])
}

// sentPerPhone counts the messages the fake Twilio accepted per number.
func sentPerPhone(tw *twiliotest.Server) map[string]int {
	out := map[string]int{}
	for _, r := range tw.Requests() {
		if r.HTTPStatus == http.StatusCreated {
			out[r.To]++
		}
	}
	return out
}

func countSent(tw *twiliotest.Server) int {
	n := 0
	for _, r := range tw.Requests() {
		if r.HTTPStatus == http.StatusCreated {
			n++
		}
	}
	return n
}

// sendTimeline says when the sends after t went out: first, median,
// 99th percentile, last (seconds after t).
func sendTimeline(tw *twiliotest.Server, t time.Time) string {
	var ds []time.Duration
	for _, r := range tw.Requests() {
		if r.HTTPStatus == http.StatusCreated && r.Time.After(t) {
			ds = append(ds, r.Time.Sub(t))
		}
	}
	if len(ds) == 0 {
		return "none"
	}
	slices.Sort(ds)
	at := func(q float64) string { return fmt.Sprintf("%.1f s", ds[int(q*float64(len(ds)-1))].Seconds()) }
	return fmt.Sprintf("%d, first at %s, median %s, p99 %s, last %s", len(ds), at(0), at(0.5), at(0.99), at(1))
}

// waitFor polls cond every 100 ms until it holds or d passed.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// settle waits until the fake Twilio got nothing new for quiet (at most
// max), so late duplicates are counted.
func settle(ctx context.Context, tw *twiliotest.Server, quiet, max time.Duration) {
	last, since := len(tw.Requests()), time.Now()
	waitFor(ctx, max, func() bool {
		if n := len(tw.Requests()); n != last {
			last, since = n, time.Now()
		}
		return time.Since(since) >= quiet
	})
}

// trigger is the case system: it sends nudges for phones [from, to) with
// `workers` requests at once and retries each until it is answered 202
// (same Idempotency-Key). accepted[i-from] is set on 202.
func trigger(ctx context.Context, c *client, from, to, workers int, ids []string, accepted *atomic.Int64) {
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range workers {
		wg.Go(func() {
			for i := range next {
				for ctx.Err() == nil {
					id, err := c.trigger(ctx, phone(i), fmt.Sprintf("FB-%d", i), fmt.Sprintf("faultbench-%d", i))
					if err == nil {
						mu.Lock()
						ids[i-from] = id
						mu.Unlock()
						accepted.Add(1)
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
	for i := from; i < to && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// waitHandedOver waits until every nudge's first message was handed to
// the provider and recorded (a reply is routed only then).
func waitHandedOver(ctx context.Context, c *client, ids []string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for _, id := range ids {
		for {
			v, err := c.nudge(ctx, id)
			if err == nil && v.handedOver() {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("nudge %s: first message not handed over after %v", id, d)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// startServe starts a fake Twilio and `seintje serve` on it and on the
// Redis named by redisEnv.
func (b *bench) startServe(ctx context.Context, dir string, redisEnv []string, smsRate float64) (*rig, error) {
	tw := twiliotest.Start(twilioSID, twilioToken)
	sv, err := newServe(b.bin, dir, redisEnv, tw, smsRate)
	if err == nil {
		err = sv.start(ctx)
	}
	if err != nil {
		tw.Close()
		return nil, err
	}
	return &rig{tw: tw, sv: sv, cl: newClient(sv.addr)}, nil
}

// rig is a running `seintje serve`, its fake Twilio and a client.
type rig struct {
	tw *twiliotest.Server
	sv *serve
	cl *client
}

func (r *rig) close() {
	r.sv.stop()
	r.tw.Close()
}

// runKill is scenario "kill": `seintje serve` is SIGKILLed at a random
// moment while a batch of n nudges is being accepted (phase "accept") or
// while they are being sent (phase "send"), and started again. Every
// accepted nudge's first SMS must go out; at most the sends in flight at
// the kill may go out twice.
func (b *bench) runKill(ctx context.Context, run, n int, phase string, smsRate float64) (res result) {
	start := time.Now()
	res = result{Scenario: "kill", Run: run, MaxDoubled: workerConcurrency}
	defer func() { res.Took = time.Since(start) }()
	dir := filepath.Join(b.work, fmt.Sprintf("kill-%d", run))
	rs, err := redisproc.Start(dir, "redis")
	if err != nil {
		res.Err = err
		return res
	}
	defer rs.Close()
	rg, err := b.startServe(ctx, dir, []string{"REDIS_URL=redis://" + rs.Addr() + "/0"}, smsRate)
	if err != nil {
		res.Err = err
		return res
	}
	defer rg.close()
	tw, sv, cl := rg.tw, rg.sv, rg.cl

	ids := make([]string, n)
	var accepted atomic.Int64
	done := make(chan struct{})
	if phase == "batch" {
		// One batch of n rows, started at once: its first messages go
		// out fifty to a grouped send task, eight at a time each.
		res.MaxDoubled = workerConcurrency * 8
		id, err := cl.batch(ctx, n, phone)
		if err != nil {
			res.Err = err
			return res
		}
		for i := range ids {
			ids[i] = id
		}
		accepted.Store(int64(n))
		close(done)
	} else {
		go func() {
			defer close(done)
			trigger(ctx, cl, 0, n, 8, ids, &accepted)
		}()
	}

	// Choose the moment.
	var acceptedAtKill, sentAtKill int
	switch phase {
	case "send", "batch":
		select {
		case <-done:
		case <-ctx.Done():
			res.Err = ctx.Err()
			return res
		}
		sent := countSent(tw)
		target := sent + randInt(n-sent)
		waitFor(ctx, 10*time.Minute, func() bool { return countSent(tw) >= target })
	default:
		target := int64(n/10 + randInt(n*8/10))
		waitFor(ctx, 10*time.Minute, func() bool { return accepted.Load() >= target })
	}
	acceptedAtKill, sentAtKill = int(accepted.Load()), countSent(tw)
	sv.kill()
	killed := time.Now()
	res.Detail = fmt.Sprintf("%s: killed at %d accepted, %d sent", phase, acceptedAtKill, sentAtKill)
	b.log("kill run %d: %s", run, res.Detail)
	if err := sv.start(ctx); err != nil {
		res.Err = fmt.Errorf("restart: %w", err)
		return res
	}
	<-done
	res.Items = int(accepted.Load())

	// Every accepted nudge's first SMS goes out (the recovery pass may
	// need its 30 s grace after the kill).
	allSent := func() bool {
		sent := sentPerPhone(tw)
		for i := range n {
			if ids[i] != "" && sent[phone(i)] == 0 {
				return false
			}
		}
		return true
	}
	waitFor(ctx, b.converge, allSent)
	settle(ctx, tw, 3*time.Second, 30*time.Second)
	sent := sentPerPhone(tw)
	for i := range n {
		switch c := sent[phone(i)]; {
		case ids[i] != "" && c == 0:
			res.Lost++
		case c > 1:
			res.Doubled++
		}
	}
	if v := tw.Violations(); len(v) > 0 {
		res.Err = fmt.Errorf("%d Twilio API violations, first: %s", len(v), v[0])
	}
	b.log("kill run %d: %d accepted, %d stranded, %d doubled; sends after the kill: %s", run, res.Items, res.Lost, res.Doubled, sendTimeline(tw, killed))
	return res
}

// outage is how Redis fails in scenario "stall" or "down".
type outage struct {
	mode                  string // "stall" (SIGSTOP) or "down" (SIGKILL, restart)
	before, length, after time.Duration
	rate                  float64 // replies per second
}

// runOutage is scenarios "stall" and "down": signed replies arrive at
// o.rate while Redis is stalled or killed for o.length. Every webhook
// answers 200 within 2 s; every reply is processed exactly once (one
// transcript entry, one callback), also when every tenth is delivered
// again after the outage.
func (b *bench) runOutage(ctx context.Context, run int, o outage) (res result) {
	start := time.Now()
	res = result{Scenario: o.mode, Run: run}
	defer func() { res.Took = time.Since(start) }()
	dir := filepath.Join(b.work, fmt.Sprintf("%s-%d", o.mode, run))
	rs, err := redisproc.Start(dir, "redis")
	if err != nil {
		res.Err = err
		return res
	}
	defer rs.Close()
	rg, err := b.startServe(ctx, dir, []string{"REDIS_URL=redis://" + rs.Addr() + "/0"}, 1000)
	if err != nil {
		res.Err = err
		return res
	}
	defer rg.close()
	cl := rg.cl

	m := int((o.before + o.length + o.after).Seconds() * o.rate)
	ids := make([]string, m)
	var accepted atomic.Int64
	trigger(ctx, cl, 0, m, 4, ids, &accepted)
	if err := waitHandedOver(ctx, cl, ids, 2*time.Minute); err != nil {
		res.Err = err
		return res
	}
	b.log("%s run %d: %d nudges handed over; replies at %.0f/s, Redis %s for %v", o.mode, run, m, o.rate, o.mode, o.length)

	faultErr := make(chan error, 1)
	go func() {
		select {
		case <-time.After(o.before):
		case <-ctx.Done():
			faultErr <- ctx.Err()
			return
		}
		var err error
		if o.mode == "stall" {
			err = rs.Pause()
		} else {
			err = rs.Kill()
		}
		if err != nil {
			faultErr <- err
			return
		}
		select {
		case <-time.After(o.length):
		case <-ctx.Done():
		}
		if o.mode == "stall" {
			err = rs.Resume()
		} else {
			err = rs.Restart()
		}
		faultErr <- err
	}()
	sids := make([]string, m)
	res.Webhooks = b.replies(ctx, cl, 0, m, o.rate, sids)
	if err := <-faultErr; err != nil {
		res.Err = err
		return res
	}
	res.Items = m
	b.log("%s run %d: %d replies sent; slowest webhook %v", o.mode, run, m, res.Webhooks.max.Round(time.Millisecond))

	// Twilio re-delivers (a connection override): every tenth reply
	// again, with the same MessageSid, after the outage.
	for i := 0; i < m; i += 10 {
		st, d := cl.sms(ctx, phone(i), "2", sids[i])
		res.Webhooks.add(st, d)
	}
	res.Lost, res.Doubled, res.Err = b.checkReplies(ctx, cl, ids)
	if res.Err == nil && !waitFor(ctx, 30*time.Second, func() bool { return cl.spoolRecords(ctx) == 0 }) {
		res.Err = fmt.Errorf("spool not drained: %d records", cl.spoolRecords(ctx))
	}
	res.Detail = fmt.Sprintf("Redis %s %v; %d re-delivered", map[string]string{"stall": "stalled (SIGSTOP)", "down": "killed, restarted after"}[o.mode], o.length, (m+9)/10)
	return res
}

// replies sends "2" from phones [from, to) at rate per second, each in its
// own request (a slow answer does not slow the next), and returns how the
// webhooks answered. sids[i-from] is the MessageSid used.
func (b *bench) replies(ctx context.Context, cl *client, from, to int, rate float64, sids []string) webhookStats {
	var (
		mu sync.Mutex
		st webhookStats
		wg sync.WaitGroup
	)
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for i := from; i < to; i++ {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return st
		}
		sid := newSID()
		sids[i-from] = sid
		wg.Go(func() {
			code, d := cl.sms(ctx, phone(i), "2", sid)
			mu.Lock()
			st.add(code, d)
			mu.Unlock()
		})
	}
	wg.Wait()
	return st
}

// checkReplies waits until every nudge ended with its callback, then
// counts the nudges whose reply was lost (not ended, no callback) or
// processed twice (two callbacks or two transcript entries).
func (b *bench) checkReplies(ctx context.Context, cl *client, ids []string) (lost, doubled int, err error) {
	views := make([]nudgeView, len(ids))
	deadline := time.Now().Add(b.converge)
	for i, id := range ids {
		for {
			v, err := cl.nudge(ctx, id)
			if err == nil {
				views[i] = v
				if v.State == "ended" && len(v.Callbacks) >= 1 {
					break
				}
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Late duplicates (a replay, a recovery pass) would show now.
	time.Sleep(2 * time.Second)
	for i, id := range ids {
		v, err := cl.nudge(ctx, id)
		if err != nil {
			v = views[i]
		}
		switch {
		case v.State != "ended" || len(v.Callbacks) == 0:
			lost++
		case len(v.Callbacks) > 1 || v.inbound() > 1:
			doubled++
		}
	}
	return lost, doubled, ctx.Err()
}

// runFailover is scenario "failover": a master, a replica and three
// Sentinels; the master is SIGKILLed while n nudges are being triggered
// and replies to n earlier nudges arrive at 20/s.
func (b *bench) runFailover(ctx context.Context, run, n int) (res result) {
	start := time.Now()
	res = result{Scenario: "failover", Run: run, MaxDoubled: workerConcurrency}
	defer func() { res.Took = time.Since(start) }()
	dir := filepath.Join(b.work, fmt.Sprintf("failover-%d", run))
	st, err := redisproc.StartSentinels(dir, time.Second)
	if err != nil {
		res.Err = err
		return res
	}
	defer st.Close()
	rg, err := b.startServe(ctx, dir, []string{"REDIS_SENTINEL_ADDRS=" + strings.Join(st.Addrs(), ","),
		"REDIS_SENTINEL_MASTER=" + st.Name}, 1000)
	if err != nil {
		res.Err = err
		return res
	}
	defer rg.close()
	tw, cl := rg.tw, rg.cl

	first := make([]string, n)
	var accepted atomic.Int64
	trigger(ctx, cl, 0, n, 4, first, &accepted)
	if err := waitHandedOver(ctx, cl, first, 2*time.Minute); err != nil {
		res.Err = err
		return res
	}
	b.log("failover run %d: %d nudges handed over; killing the master under load", run, n)

	second := make([]string, n)
	var wg sync.WaitGroup
	wg.Go(func() { trigger(ctx, cl, n, 2*n, 2, second, &accepted) })
	old := st.Master.Addr()
	wg.Go(func() {
		time.Sleep(time.Duration(float64(n)/20/4*float64(time.Second)) + 200*time.Millisecond)
		if err := st.Master.Kill(); err != nil {
			res.Err = err
		}
	})
	sids := make([]string, n)
	res.Webhooks = b.replies(ctx, cl, 0, n, 20, sids)
	wg.Wait()
	if res.Err != nil {
		return res
	}
	if !waitFor(ctx, 30*time.Second, func() bool { a, err := st.CurrentMaster(ctx); return err == nil && a != old }) {
		res.Err = fmt.Errorf("no failover")
		return res
	}
	lost, doubled, err := b.checkReplies(ctx, cl, first)
	res.Lost, res.Doubled, res.Err = lost, doubled, err
	sent := sentPerPhone(tw)
	waitFor(ctx, b.converge, func() bool {
		sent = sentPerPhone(tw)
		for i, id := range second {
			if id != "" && sent[phone(n+i)] == 0 {
				return false
			}
		}
		return true
	})
	for i, id := range second {
		switch c := sent[phone(n+i)]; {
		case id != "" && c == 0:
			res.Lost++
		case c > 1:
			res.Doubled++
		}
	}
	res.Items = 2 * n
	res.Detail = fmt.Sprintf("master killed; %d replies + %d new nudges", n, n)
	return res
}
