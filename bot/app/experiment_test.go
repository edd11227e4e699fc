package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestExperimentEndToEnd: a flow with two text arms and a hold-out, 2,000
// people nudged, outcomes reported by the case system (by nudge id and by
// case reference), some replies; the report's counts match exactly what was
// sent and posted, and the hold-out group received no message.
func TestExperimentEndToEnd(t *testing.T) {
	h := newHarness(t, map[string]string{"SEINTJE_FLOWS_DIR": "testdata/experiment"})
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
		st, m, err := post(c.path, c.body)
		if err != nil || st != c.status || m["code"] != c.code {
			t.Errorf("POST %s %v: %d %v, want %d %s", c.path, c.body, st, m, c.status, c.code)
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
