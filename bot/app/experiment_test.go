package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/internal/testflows"
)

// TestExperimentEndToEnd: a flow with two text arms and a hold-out, 2,000
// people nudged, outcomes reported by the case system (by nudge id and by
// case reference), some replies; the report's counts match exactly what was
// sent and posted, and the hold-out group received no message.
func TestExperimentEndToEnd(t *testing.T) {
	h := newHarness(t, map[string]string{"SEINTJE_FLOWS_DIR": testflows.ExperimentDir(t)})
	t0 := time.Now().UTC().Truncate(time.Second)
	h.clock.Set(t0)

	const people = 2000
	type person struct {
		ref, phone, nudge, arm string
	}
	ps := make([]person, people)
	for i := range ps {
		ps[i] = person{ref: fmt.Sprintf("EXP-%05d", i), phone: fmt.Sprintf("+3161%07d", 1000000+i)}
	}
	// Eight case workers at once.
	post := func(path string, body any) (int, map[string]any, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tokCaseworker)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return resp.StatusCode, nil, fmt.Errorf("%s: not JSON: %s", path, raw)
		}
		return resp.StatusCode, m, nil
	}
	parallel := func(f func(i int) error) {
		var wg sync.WaitGroup
		errs := make(chan error, people)
		next := make(chan int)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					if err := f(i); err != nil {
						errs <- err
					}
				}
			}()
		}
		for i := range ps {
			next <- i
		}
		close(next)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	start := time.Now()
	parallel(func(i int) error {
		st, m, err := post("/v1/nudges", map[string]any{"flow": "form-exp",
			"recipient":  map[string]any{"ref": ps[i].ref, "phone": ps[i].phone, "name": "Sanne de Vries", "language": "nl"},
			"vars":       map[string]any{"due_date": "2030-12-01"},
			"caseworker": map[string]any{"name": "Ahmed"}})
		if err != nil {
			return err
		}
		if st != http.StatusAccepted {
			return fmt.Errorf("POST /v1/nudges: %d %v", st, m)
		}
		ps[i].nudge, ps[i].arm = m["id"].(string), m["arm"].(string)
		return nil
	})
	t.Logf("%d nudges triggered in %v", people, time.Since(start))
	people_ := map[string]int{}
	for _, p := range ps {
		people_[p.arm]++
	}
	t.Logf("assigned: %v", people_)
	messaged := people - people_["holdout"]
	if people_["standard"] == 0 || people_["short"] == 0 || people_["holdout"] == 0 {
		t.Fatalf("every arm needs people: %v", people_)
	}

	// Everyone outside the hold-out gets exactly the first message of
	// their arm; the hold-out gets nothing.
	reqs := h.twilio.WaitForRequests(t, messaged, 20*time.Second)
	t.Logf("%d messages at the fake Twilio after %v", messaged, time.Since(start))
	time.Sleep(100 * time.Millisecond) // anything extra would arrive now
	byPhone := map[string][]string{}
	for _, r := range h.twilio.Requests() {
		if r.HTTPStatus == http.StatusCreated {
			byPhone[r.To] = append(byPhone[r.To], r.Body)
		}
	}
	if len(reqs) != messaged || len(h.twilio.Requests()) != messaged {
		t.Fatalf("Twilio got %d messages, want %d (one per person outside the hold-out)", len(h.twilio.Requests()), messaged)
	}
	for _, p := range ps {
		got := byPhone[p.phone]
		switch p.arm {
		case "holdout":
			if len(got) != 0 {
				t.Fatalf("%s is in the hold-out but got %q", p.ref, got)
			}
		case "short":
			if len(got) != 1 || !strings.HasPrefix(got[0], "KORT: Sanne") {
				t.Fatalf("%s (short) got %q", p.ref, got)
			}
		default:
			if len(got) != 1 || !strings.HasPrefix(got[0], "Hallo Sanne, wij missen") {
				t.Fatalf("%s (standard) got %q", p.ref, got)
			}
		}
	}
	// The arm is shown on the nudge; the hold-out nudge ended unsent.
	for _, p := range ps[:20] {
		v := h.nudgeView(p.nudge)
		if v["arm"] != p.arm || v["experiment"] != "form-exp-test" {
			t.Fatalf("nudge %s shows arm %v experiment %v, want %s", p.nudge, v["arm"], v["experiment"], p.arm)
		}
		if p.arm == "holdout" && (v["outcome"] != "held_out" || len(messagesOf(v)) != 0) {
			t.Fatalf("hold-out nudge: outcome %v, %d messages", v["outcome"], len(messagesOf(v)))
		}
	}
	// A second nudge for the same person keeps their arm.
	again := h.postJSON("/v1/nudges", tokCaseworker, map[string]any{"flow": "form-exp",
		"recipient":  map[string]any{"ref": ps[7].ref, "phone": ps[7].phone, "name": "Sanne de Vries"},
		"vars":       map[string]any{"due_date": "2031-01-15"},
		"caseworker": map[string]any{"name": "Ahmed"}}, nil).JSON(t)
	if again["arm"] != ps[7].arm || again["id"] == ps[7].nudge {
		t.Fatalf("second nudge: %v, want a new nudge in arm %s", again, ps[7].arm)
	}

	// Some people answer (a secondary outcome, Seintje's own): every
	// 50th person outside the hold-out, "2" asks for a call.
	replied := map[string]int{}
	for i, p := range ps {
		if p.arm != "holdout" && i%50 == 0 {
			if r := h.sms(p.phone, "2", fmt.Sprintf("SMexp%05d", i)); r.Status != http.StatusOK && r.Status != http.StatusNoContent {
				t.Fatalf("inbound: %d %s", r.Status, r.Body)
			}
			replied[p.arm]++
		}
	}

	// The case system reports forms, 20 days later: within 14 days for
	// every 3rd person (by nudge id, or every 6th by case reference), too
	// late for every 10th of the others.
	h.clock.Set(t0.Add(20 * 24 * time.Hour))
	counted, late := map[string]int{}, map[string]int{}
	parallel(func(i int) error {
		p := ps[i]
		var st int
		var m map[string]any
		var err error
		switch {
		case i%6 == 0:
			st, m, err = post("/v1/recipients/"+p.ref+"/outcomes", map[string]any{"flow": "form-exp", "outcome": "form_received", "at": t0.Add(3 * 24 * time.Hour).Format(time.RFC3339)})
		case i%3 == 0:
			st, m, err = post("/v1/nudges/"+p.nudge+"/outcomes", map[string]any{"outcome": "form_received", "at": t0.Add(5 * 24 * time.Hour).Format(time.RFC3339)})
		case i%10 == 1:
			st, m, err = post("/v1/nudges/"+p.nudge+"/outcomes", map[string]any{"outcome": "form_received", "at": t0.Add(16 * 24 * time.Hour).Format(time.RFC3339)})
		default:
			return nil
		}
		if err != nil {
			return err
		}
		if st != http.StatusCreated {
			return fmt.Errorf("outcome for %s: %d %v", p.ref, st, m)
		}
		return nil
	})
	t.Logf("outcomes posted after %v", time.Since(start))
	for i, p := range ps {
		switch {
		case i%3 == 0:
			counted[p.arm]++
		case i%10 == 1:
			late[p.arm]++
		}
	}

	// Idempotent: the same report again answers 200 with the first record.
	st, m, _ := post("/v1/nudges/"+ps[3].nudge+"/outcomes", map[string]any{"outcome": "form_received", "at": t0.Add(6 * 24 * time.Hour).Format(time.RFC3339)})
	if st != http.StatusOK || m["existing"] != true || !strings.HasPrefix(m["outcome"].(map[string]any)["at"].(string), t0.Add(5*24*time.Hour).Format("2006-01-02T15")) {
		t.Errorf("repeat: %d %v", st, m)
	}
	// Validated against the flow, with stable codes.
	for _, c := range []struct {
		path   string
		body   map[string]any
		status int
		code   string
	}{
		{"/v1/nudges/" + ps[1].nudge + "/outcomes", map[string]any{"outcome": "attended", "at": t0.Format(time.RFC3339)}, 422, "unknown_outcome"},
		{"/v1/nudges/" + ps[1].nudge + "/outcomes", map[string]any{"outcome": "replied", "at": t0.Format(time.RFC3339)}, 422, "unknown_outcome"},
		{"/v1/nudges/" + ps[1].nudge + "/outcomes", map[string]any{"outcome": "form_received", "at": "yesterday"}, 422, "invalid_field"},
		{"/v1/nudges/nope-123/outcomes", map[string]any{"outcome": "form_received", "at": t0.Format(time.RFC3339)}, 404, "not_found"},
		{"/v1/recipients/NOBODY/outcomes", map[string]any{"flow": "form-exp", "outcome": "form_received", "at": t0.Format(time.RFC3339)}, 404, "not_found"},
		{"/v1/recipients/" + ps[1].ref + "/outcomes", map[string]any{"outcome": "form_received", "at": t0.Format(time.RFC3339)}, 422, "invalid_field"},
	} {
		r := h.postJSON(c.path, tokCaseworker, c.body, nil)
		var m map[string]any
		_ = json.Unmarshal(r.Body, &m)
		if r.Status != c.status || m["code"] != c.code || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("POST %s %v: %d %s %v, want %d application/problem+json %s", c.path, c.body, r.Status, r.Header.Get("Content-Type"), m, c.status, c.code)
		}
	}
	// Audited: one report_outcome entry per outcome the case system
	// reported first (by its token name, with the arm); none for the
	// repeat, the refused reports or Seintje's own outcomes (replies).
	reported := 0
	for i := range ps {
		if i%3 == 0 || i%10 == 1 {
			reported++
		}
	}
	if got := h.countAudit(t, "action=report_outcome"); got != reported {
		t.Errorf("%d report_outcome entries in the audit trail, want %d", got, reported)
	}
	if got := h.countAudit(t, "action=report_outcome&actor=cw"); got != reported {
		t.Errorf("%d report_outcome entries by cw, want %d", got, reported)
	}
	for _, i := range []int{1, 3} { // 1: late, then refused three times; 3: reported twice
		es := h.auditEntries(t, "action=report_outcome&nudge="+ps[i].nudge)
		if want := "form_received (form-exp-test: " + ps[i].arm + ")"; len(es) != 1 || es[0]["detail"] != want || es[0]["subject"] == "" {
			t.Errorf("audit entries of nudge %d: %v, want one with detail %q", i, es, want)
		}
	}
	// The nudge shows its outcomes.
	v := h.nudgeView(ps[3].nudge)
	if os, _ := v["outcomes"].([]any); len(os) != 1 || os[0].(map[string]any)["outcome"] != "form_received" || os[0].(map[string]any)["counted"] != "counted" {
		t.Errorf("nudge outcomes: %v", v["outcomes"])
	}

	// The report counts exactly what was sent and posted.
	r := h.get("/v1/experiments/form-exp-test", tokCoordinator)
	if r.Status != http.StatusOK {
		t.Fatalf("GET experiment: %d %s", r.Status, r.Body)
	}
	var out struct {
		Report struct {
			Arms []struct {
				Name   string `json:"name"`
				People int    `json:"people"`
			} `json:"arms"`
			SampleRatio struct {
				Mismatch bool    `json:"mismatch"`
				P        float64 `json:"p"`
			} `json:"sample_ratio"`
			Primary struct {
				Outcome string `json:"outcome"`
				Arms    []struct {
					Arm     string `json:"arm"`
					People  int    `json:"people"`
					Count   int    `json:"count"`
					Verdict string `json:"verdict"`
				} `json:"arms"`
			} `json:"primary"`
			Secondary []struct {
				Outcome   string `json:"outcome"`
				Secondary bool   `json:"secondary"`
				Arms      []struct {
					Arm   string `json:"arm"`
					Count int    `json:"count"`
				} `json:"arms"`
			} `json:"secondary"`
			Conclusion string `json:"conclusion"`
		} `json:"report"`
		Late map[string]map[string]int `json:"late_outcomes"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	rep := out.Report
	for _, a := range rep.Arms {
		if a.People != people_[a.Name] {
			t.Errorf("arm %s: report says %d people, %d were assigned", a.Name, a.People, people_[a.Name])
		}
	}
	for _, a := range rep.Primary.Arms {
		if a.Count != counted[a.Arm] || a.People != people_[a.Arm] {
			t.Errorf("primary, arm %s: %d of %d, want %d of %d", a.Arm, a.Count, a.People, counted[a.Arm], people_[a.Arm])
		}
	}
	for arm, n := range late {
		if out.Late["form_received"][arm] != n {
			t.Errorf("late, arm %s: %d, want %d", arm, out.Late["form_received"][arm], n)
		}
	}
	if len(rep.Secondary) != 2 || !rep.Secondary[0].Secondary || rep.Secondary[0].Outcome != "replied" {
		t.Fatalf("secondary: %+v", rep.Secondary)
	}
	for _, sec := range rep.Secondary {
		for _, a := range sec.Arms {
			if a.Count != replied[a.Arm] {
				t.Errorf("%s, arm %s: %d, want %d", sec.Outcome, a.Arm, a.Count, replied[a.Arm])
			}
		}
	}
	if rep.SampleRatio.Mismatch {
		t.Errorf("a fair assignment is flagged: p = %g", rep.SampleRatio.P)
	}
	if !strings.Contains(rep.Conclusion, "Too few people to conclude") {
		t.Errorf("conclusion: %s", rep.Conclusion)
	}
	t.Logf("conclusion: %s", rep.Conclusion)

	// GET /v1/flows lists the declared outcomes and the experiment.
	fl := h.get("/v1/flows", tokCoordinator)
	if !strings.Contains(string(fl.Body), `"name":"form_received"`) || !strings.Contains(string(fl.Body), `"id":"form-exp-test"`) {
		t.Errorf("GET /v1/flows: %s", fl.Body)
	}
}

// TestExperimentOwnOutcomesAndStop: Seintje's own events become outcomes of
// the nudge (opted out, undelivered, reached by the werkplaats; replied and
// asked for a call are in TestExperimentEndToEnd), also outside an
// experiment; stopping the experiment, and then removing its block, keeps
// its data and report while new nudges get the flow's own text.
func TestExperimentOwnOutcomesAndStop(t *testing.T) {
	dir := testflows.ExperimentDir(t)
	h := newHarness(t, map[string]string{"SEINTJE_FLOWS_DIR": dir})
	type person struct{ ref, phone, nudge, arm string }
	trigger := func(i int, due string) person {
		p := person{ref: fmt.Sprintf("OWN-%03d", i), phone: fmt.Sprintf("+3163%07d", 3000000+i)}
		m := h.postJSON("/v1/nudges", tokCaseworker, map[string]any{"flow": "form-exp",
			"recipient":  map[string]any{"ref": p.ref, "phone": p.phone, "name": "Sanne de Vries", "language": "nl"},
			"vars":       map[string]any{"due_date": due},
			"caseworker": map[string]any{"name": "Ahmed"}}, nil).JSON(t)
		p.nudge, _ = m["id"].(string)
		p.arm, _ = m["arm"].(string)
		return p
	}
	// Three people who get a message, and everyone assigned on the way.
	var msgd []person
	people := map[string]int{}
	for i := 0; len(msgd) < 3; i++ {
		p := trigger(i, "2030-12-01")
		if p.nudge == "" || p.arm == "" {
			t.Fatalf("nudge %d: %+v", i, p)
		}
		people[p.arm]++
		if p.arm != "holdout" {
			msgd = append(msgd, p)
			eventually(t, "first SMS to "+p.ref, func() bool { return len(h.sentTo(p.phone)) == 1 })
			h.waitHandedOver(p.nudge)
		}
	}
	outcomes := func(id string) map[string]string { // outcome → by|counted
		out := map[string]string{}
		for _, o := range asList(h.nudgeView(id)["outcomes"]) {
			m := o.(map[string]any)
			c, _ := m["counted"].(string)
			out[m["outcome"].(string)] = m["by"].(string) + "|" + c
		}
		return out
	}
	waitOutcome := func(p person, name, want string) {
		t.Helper()
		eventually(t, name+" on "+p.ref+"'s nudge", func() bool { return outcomes(p.nudge)[name] == want })
	}

	// opted_out: the person sends STOP (not measured by this experiment).
	if r := h.sms(msgd[0].phone, "STOP", "SM"+randHex(16)); r.Status >= 300 {
		t.Fatalf("stop: %d %s", r.Status, r.Body)
	}
	waitOutcome(msgd[0], "opted_out", "seintje|")
	// undelivered: the provider reports the first message undelivered.
	var sid string
	for _, r := range h.twilio.Requests() {
		if r.To == msgd[1].phone {
			sid = r.SID
		}
	}
	if r := h.status(sid, msgd[1].phone, "undelivered", 30003); r.Status >= 300 {
		t.Fatalf("status: %d %s", r.Status, r.Body)
	}
	waitOutcome(msgd[1], "undelivered", "seintje|")
	// reached_by_werkplaats: the person asks for a call ("2"), the
	// werkplaats reaches them; replied and asked_for_call are counted.
	if r := h.sms(msgd[2].phone, "2", "SM"+randHex(16)); r.Status >= 300 {
		t.Fatalf("inbound: %d %s", r.Status, r.Body)
	}
	var task string
	eventually(t, "callback task", func() bool {
		if cbs := callbacksOfNudge(h.nudgeView(msgd[2].nudge)); len(cbs) == 1 {
			task, _ = cbs[0]["id"].(string)
		}
		return task != ""
	})
	if r := h.postJSON("/v1/callbacks/"+task+"/claim", tokWerkplaats, map[string]any{}, nil); r.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}
	if r := h.postJSON("/v1/callbacks/"+task+"/complete", tokWerkplaats, map[string]any{"outcome": "reached"}, nil); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	waitOutcome(msgd[2], "reached_by_werkplaats", "seintje|")
	waitOutcome(msgd[2], "replied", "seintje|counted")
	waitOutcome(msgd[2], "asked_for_call", "seintje|counted")
	// Seintje's own outcomes are not audit entries (case-system reports are).
	if es := h.auditEntries(t, "action=report_outcome"); len(es) != 0 {
		t.Errorf("Seintje's own outcomes in the audit trail: %v", es)
	}

	type report struct {
		Report struct {
			Stopped bool `json:"stopped"`
			Arms    []struct {
				Name   string `json:"name"`
				People int    `json:"people"`
			} `json:"arms"`
			Secondary []struct {
				Outcome string `json:"outcome"`
				Arms    []struct {
					Arm   string `json:"arm"`
					Count int    `json:"count"`
				} `json:"arms"`
			} `json:"secondary"`
		} `json:"report"`
	}
	check := func(when string, stopped bool) {
		t.Helper()
		r := h.get("/v1/experiments/form-exp-test", tokCoordinator)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: GET experiment: %d %s", when, r.Status, r.Body)
		}
		var rep report
		if err := json.Unmarshal(r.Body, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Report.Stopped != stopped {
			t.Errorf("%s: stopped %v, want %v", when, rep.Report.Stopped, stopped)
		}
		for _, a := range rep.Report.Arms {
			if a.People != people[a.Name] {
				t.Errorf("%s: arm %s has %d people, want %d", when, a.Name, a.People, people[a.Name])
			}
		}
		for _, sec := range rep.Report.Secondary {
			for _, a := range sec.Arms {
				if want := map[bool]int{true: 1}[a.Arm == msgd[2].arm]; a.Count != want {
					t.Errorf("%s: %s in arm %s: %d, want %d", when, sec.Outcome, a.Arm, a.Count, want)
				}
			}
		}
	}
	check("running", false)

	// Stop it: a new version of the flow says `stopped: true`.
	file := filepath.Join(dir, "form-exp.yaml")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	restartWith := func(s string) {
		t.Helper()
		h.stop()
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		h.start()
	}
	stopped := strings.Replace(string(src), "version: 1\n", "version: 2\n", 1) + "  stopped: true\n"
	restartWith(stopped)
	check("stopped", true)
	// A new person is not assigned and gets the flow's own text; a
	// person assigned before (the one the werkplaats reached) gets no arm
	// on a new nudge either.
	var before int
	if _, err := fmt.Sscanf(msgd[2].ref, "OWN-%d", &before); err != nil {
		t.Fatal(err)
	}
	after := []person{trigger(900, "2031-01-15"), trigger(before, "2031-01-15")}
	for _, p := range after {
		if p.nudge == "" || p.arm != "" {
			t.Errorf("%s: nudge %q arm %q after the stop", p.ref, p.nudge, p.arm)
		}
		if v := h.nudgeView(p.nudge); v["arm"] != nil || v["experiment"] != nil {
			t.Errorf("%s: nudge shows experiment %v arm %v after the stop", p.ref, v["experiment"], v["arm"])
		}
	}
	np := after[0]
	eventually(t, "the flow's own text after the stop", func() bool {
		s := h.sentTo(np.phone)
		return len(s) == 1 && strings.HasPrefix(s[0], "Hallo Sanne, wij missen")
	})
	// Outside an experiment a reply is an outcome too (written with the
	// reply's own commit).
	h.waitHandedOver(np.nudge)
	if r := h.sms(np.phone, "ja", "SM"+randHex(16)); r.Status >= 300 {
		t.Fatalf("inbound: %d %s", r.Status, r.Body)
	}
	waitOutcome(np, "replied", "seintje|")
	check("stopped, after a reply outside the experiment", true)

	// Remove the block: the report still answers from the stored design.
	i := strings.Index(stopped, "experiment:\n")
	restartWith(strings.Replace(stopped[:i], "version: 2\n", "version: 3\n", 1))
	check("block removed", true)
	if r := h.get("/v1/experiments", tokCoordinator); !strings.Contains(string(r.Body), "form-exp-test") {
		t.Errorf("GET /v1/experiments after the block was removed: %d %s", r.Status, r.Body)
	}
}

// TestExperimentBatchResultsShowArm: a batch for a flow with an experiment;
// results.csv names each person's arm, the same as the nudge; a hold-out
// person's nudge ended as held_out without a message.
func TestExperimentBatchResultsShowArm(t *testing.T) {
	h := newHarness(t, map[string]string{"SEINTJE_FLOWS_DIR": testflows.ExperimentDir(t)})
	rows := []string{"Kenmerk;Telefoon;Naam;Taal;Consulent;due_date"}
	for i := range 30 {
		rows = append(rows, fmt.Sprintf("BAT-%02d;06 4%07d;Sanne de Vries;nl;Ahmed;01-12-2030", i, 4000000+i))
	}
	r := h.upload("?flow=form-exp&start=true", csvCT, []byte(strings.Join(rows, "\r\n")+"\r\n"), nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	id := batchOf(t, r.JSON(t))["id"].(string)
	// It ends although the hold-out people never get a first message.
	b := h.waitBatch(id, "done")
	res := h.get("/v1/batches/"+id+"/results.csv", tokCaseworker)
	recs, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
	if err != nil || res.Status != http.StatusOK || len(recs) != 31 || recs[0][11] != "arm" {
		t.Fatalf("results: %d %v %v", res.Status, err, recs)
	}
	arms := map[string]int{}
	for _, rec := range recs[1:] {
		v := h.nudgeView(rec[2])
		if rec[11] == "" || v["arm"] != rec[11] {
			t.Errorf("row %s: results.csv says arm %q, the nudge %v", rec[0], rec[11], v["arm"])
		}
		arms[rec[11]]++
		if rec[11] == "holdout" && (rec[4] != "ended" || rec[5] != "held_out" || rec[6] != "held_out" || len(messagesOf(v)) != 0) {
			t.Errorf("hold-out row %v: %d messages", rec, len(messagesOf(v)))
		}
		if rec[11] != "holdout" && (rec[4] != "waiting" || rec[6] != "sent") {
			t.Errorf("row %v, want waiting and sent", rec)
		}
	}
	if arms["standard"] == 0 || arms["short"] == 0 || arms["holdout"] == 0 {
		t.Errorf("arms in the batch: %v", arms)
	}
	if count(b, "held_out") != arms["holdout"] || count(b, "sent") != 30-arms["holdout"] || count(b, "pending") != 0 ||
		count(b, "ended") != arms["holdout"] || count(b, "still_waiting") != 30-arms["holdout"] {
		t.Errorf("batch counts %v, %d held out", b["counts"], arms["holdout"])
	}
}

// TestExperimentHoldoutCapAtStartAndReload: the hold-out cap setting
// (SEINTJE_EXPERIMENT_MAX_HOLDOUT, default 20%) holds at start and on a
// hot reload: a larger hold-out arm keeps the previous version live, and
// Seintje does not start with one above the setting.
func TestExperimentHoldoutCapAtStartAndReload(t *testing.T) {
	dir := testflows.ExperimentDir(t)
	h := newHarness(t, map[string]string{"SEINTJE_FLOWS_DIR": dir}) // 20%: the default allows it
	file := filepath.Join(dir, "form-exp.yaml")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	live, _ := h.app.Registry.Current("form-exp")
	bigger := strings.Replace(string(src), "version: 1\n", "version: 2\n", 1)
	bigger = strings.Replace(bigger, "      share: 40\n", "      share: 35\n", 2)
	bigger = strings.Replace(bigger, "      share: 20\n      holdout: true", "      share: 30\n      holdout: true", 1)
	if err := os.WriteFile(file, []byte(bigger), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.app.Registry.Reload(context.Background(), dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	if cur, _ := h.app.Registry.Current("form-exp"); cur.Digest != live.Digest {
		t.Errorf("a 30%% hold-out went live on reload (version %d)", cur.Version)
	}
	fl := h.get("/v1/flows", tokCoordinator)
	if !strings.Contains(string(fl.Body), `gets 30% of the people, more than the 20% allowed`) {
		t.Errorf("GET /v1/flows does not show the refused reload: %s", fl.Body)
	}
	// At start, with the setting at 10%, the 20% hold-out is refused.
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	h.stop()
	h.env["SEINTJE_EXPERIMENT_MAX_HOLDOUT"] = "10"
	a, err := app.New(context.Background(), h.config(), app.Options{Now: h.clock.Now})
	if err == nil {
		a.Close()
		t.Fatal("Seintje started with a 20% hold-out above the 10% setting")
	}
	if !strings.Contains(err.Error(), `gets 20% of the people, more than the 10% allowed`) {
		t.Errorf("start: %v", err)
	}
}
