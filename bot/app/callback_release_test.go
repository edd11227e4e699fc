package app_test

// Release and reschedule through the API: the same rules, problems and
// audit entries as the console's buttons (they share the service calls).

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Wim (token wp) claims Sanne's task, cannot call now and gives it back;
// Sanne asks to be called tomorrow at 10:00, so Ada (token ad) moves it.
// Every refusal is a problem with a stable code; each change is audited.
func TestWerkplaatsReleaseAndRescheduleThroughTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	loc := t3Amsterdam(t)
	now := time.Date(2031, 1, 6, 10, 0, 0, 0, loc)
	h.clock.Set(now)
	nudge, id := t3Callback(t, h, "+31612340311")
	path := "/v1/callbacks/" + id

	post := func(what, tok string, body any) response {
		t.Helper()
		if body == nil {
			return h.do(http.MethodPost, path+"/"+what, tok, "", nil, nil)
		}
		return h.postJSON(path+"/"+what, tok, body, nil)
	}
	wantProblem := func(r response, status int, code, field string) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("status %d %s, want %d %s", r.Status, r.Body, status, code)
		}
		p := r.JSON(t)
		if p["code"] != code || (field != "" && p["field"] != field) || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("problem %v (%s), want code %s field %q", p, r.Header.Get("Content-Type"), code, field)
		}
	}

	// Releasing a task nobody holds: 409 callback_not_claimed.
	wantProblem(post("release", tokWerkplaats, nil), http.StatusConflict, "callback_not_claimed", "")

	// Wim claims; Ada cannot release or reschedule his task.
	if r := post("claim", tokWerkplaats, nil); r.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}
	wantProblem(post("release", tokAdmin, nil), http.StatusConflict, "callback_claimed", "")
	wantProblem(post("reschedule", tokAdmin, map[string]any{"at": now.Add(24 * time.Hour).Format(time.RFC3339)}), http.StatusConflict, "callback_claimed", "")
	// A case worker may not touch the queue.
	if r := post("release", tokCaseworker, nil); r.Status != http.StatusForbidden {
		t.Errorf("caseworker release: %d", r.Status)
	}

	// Wim gives it back: open again, at its old due time, nobody holds it.
	before := h.get(path, tokAdmin).JSON(t)
	r := post("release", tokWerkplaats, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("release: %d %s", r.Status, r.Body)
	}
	if v := r.JSON(t); v["status"] != "open" || v["due"] != before["due"] || v["claimed_by"] != nil && v["claimed_by"] != "" {
		t.Errorf("after release: %v (due before %v)", v, before["due"])
	}

	// Bad moments: not a moment, yesterday, in three months.
	wantProblem(post("reschedule", tokAdmin, map[string]any{"at": "morgen 10 uur"}), http.StatusUnprocessableEntity, "invalid_field", "at")
	wantProblem(post("reschedule", tokAdmin, map[string]any{"at": now.Add(-24 * time.Hour).Format(time.RFC3339)}), http.StatusUnprocessableEntity, "callback_moment_out_of_range", "at")
	wantProblem(post("reschedule", tokAdmin, map[string]any{"at": now.Add(90 * 24 * time.Hour).Format(time.RFC3339)}), http.StatusUnprocessableEntity, "callback_moment_out_of_range", "at")
	wantProblem(post("reschedule", tokAdmin, map[string]any{"at": "2031-01-07T10:00:00+01:00", "when": "x"}), http.StatusBadRequest, "malformed_request", "")

	// Tomorrow at 10:00 (an open task: anyone in the werkplaats may move it).
	tomorrow := time.Date(2031, 1, 7, 10, 0, 0, 0, loc)
	r = post("reschedule", tokAdmin, map[string]any{"at": tomorrow.Format(time.RFC3339)})
	if r.Status != http.StatusOK {
		t.Fatalf("reschedule: %d %s", r.Status, r.Body)
	}
	v := r.JSON(t)
	if due, _ := time.Parse(time.RFC3339, v["due"].(string)); !due.Equal(tomorrow) || v["status"] != "open" {
		t.Errorf("after reschedule: %v, want due %s", v, tomorrow)
	}
	if strings.Contains(string(r.Body), "612340311") {
		t.Error("the answer holds the full phone number")
	}

	// Done tasks stay done.
	post("claim", tokWerkplaats, nil)
	if r := post("complete", tokWerkplaats, map[string]any{"outcome": "reached"}); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	wantProblem(post("release", tokWerkplaats, nil), http.StatusConflict, "callback_done", "")
	wantProblem(post("reschedule", tokWerkplaats, map[string]any{"at": tomorrow.Format(time.RFC3339)}), http.StatusConflict, "callback_done", "")
	wantProblem(h.do(http.MethodPost, "/v1/callbacks/nope/release", tokWerkplaats, "", nil, nil), http.StatusNotFound, "not_found", "")

	// The trail: who released and rescheduled which task of which nudge,
	// the new moment, and nothing for the refused attempts.
	var got []string
	for _, e := range h.auditEntries(t, "task="+id) {
		if e["task"] != id || e["nudge"] != nudge {
			t.Errorf("entry %v, want task %s of nudge %s", e, id, nudge)
		}
		got = append([]string{e["actor"].(string) + " " + e["action"].(string)}, got...)
		if e["action"] == "reschedule" && e["detail"] != tomorrow.UTC().Format(time.RFC3339) {
			t.Errorf("reschedule detail %v, want the new moment", e["detail"])
		}
	}
	want := "wp claim, wp view_phone, wp release, ad reschedule, wp claim, wp view_phone, wp outcome"
	if strings.Join(got, ", ") != want {
		t.Errorf("trail:\n got %s\nwant %s", strings.Join(got, ", "), want)
	}
}
