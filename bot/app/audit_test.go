package app_test

// The audit trail end to end: every API action on a person's data leaves
// an entry (who, what, which nudge or task), none holds a phone number or
// a message body, and admins read it through GET /v1/audit with filters.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAuditTrailRecordsEveryAction(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const phone = "+31612340901"
	nudge, task := t3Callback(t, h, phone) // trigger by cw, the person asks for a call

	// The werkplaats (token wp) claims, sees the number, records no answer.
	if r := h.postJSON("/v1/callbacks/"+task+"/claim", tokWerkplaats, map[string]any{}, nil); r.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", r.Status, r.Body)
	}
	if r := h.postJSON("/v1/callbacks/"+task+"/complete", tokWerkplaats, map[string]any{"outcome": "no_answer", "note": "Voicemail vol, 0612340901"}, nil); r.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	// The person sends STOP; then an admin erases everything on request.
	if r := h.sms(phone, "STOP", "SM"+randHex(16)); r.Status >= 300 {
		t.Fatalf("stop: %d", r.Status)
	}
	eventually(t, "opt-out recorded", func() bool {
		return len(h.auditEntries(t, "action=opt_out")) == 1
	})
	ref := h.nudgeView(nudge)["recipient"].(map[string]any)["ref"].(string)
	if r := h.do(http.MethodDelete, "/v1/recipients/"+url.PathEscape(ref), tokAdmin, "", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("erase: %d %s", r.Status, r.Body)
	}

	all := h.auditEntries(t, "")
	var got []string
	for i := len(all) - 1; i >= 0; i-- { // oldest first reads like the story
		e := all[i]
		got = append(got, e["actor"].(string)+" "+e["action"].(string))
	}
	want := []string{"cw trigger", "wp claim", "wp view_phone", "wp outcome", "recipient opt_out", "ad erase"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("trail:\n got %v\nwant %v", got, want)
	}
	for _, e := range all {
		switch e["action"] {
		case "trigger":
			if e["nudge"] != nudge || e["role"] != "caseworker" || e["via"] != "api" {
				t.Errorf("trigger entry %v", e)
			}
		case "claim", "view_phone", "outcome":
			if e["task"] != task || e["nudge"] != nudge {
				t.Errorf("%s entry %v, want task %s of nudge %s", e["action"], e, task, nudge)
			}
		}
		if e["subject"] == nil || e["subject"] == "" {
			t.Errorf("%s entry names no person: %v", e["action"], e)
		}
	}
	// Never a phone number or a message body, not even in part.
	raw, _ := json.Marshal(all)
	for _, leak := range []string{"612340901", "Voicemail", ref} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("the trail holds %q: %s", leak, raw)
		}
	}

	// Filters and pages.
	if es := h.auditEntries(t, "actor=wp"); len(es) != 3 {
		t.Errorf("actor=wp: %d entries, want 3", len(es))
	}
	if es := h.auditEntries(t, "actor=wp&action=view_phone"); len(es) != 1 {
		t.Errorf("actor=wp&action=view_phone: %d entries, want 1", len(es))
	}
	if es := h.auditEntries(t, "from=2000-01-01&to=2000-01-02"); len(es) != 0 {
		t.Errorf("a day in 2000: %d entries", len(es))
	}
	p1 := h.get("/v1/audit?limit=4", tokAdmin).JSON(t)
	next, _ := p1["next"].(string)
	if len(p1["entries"].([]any)) != 4 || next == "" {
		t.Fatalf("first page: %v", p1)
	}
	p2 := h.get("/v1/audit?limit=4&cursor="+url.QueryEscape(next), tokAdmin).JSON(t)
	if n := len(p2["entries"].([]any)); n != 2 {
		t.Errorf("second page: %d entries, want 2", n)
	}

	// Only admins read it; wrong filters are problems with a field.
	if r := h.get("/v1/audit", tokCaseworker); r.Status != http.StatusForbidden {
		t.Errorf("caseworker reads the trail: %d", r.Status)
	}
	for q, field := range map[string]string{"from=gisteren": "from", "limit=0": "limit", "cursor=x": "cursor"} {
		r := h.get("/v1/audit?"+q, tokAdmin)
		if r.Status != http.StatusBadRequest || r.JSON(t)["field"] != field {
			t.Errorf("?%s: %d %s", q, r.Status, r.Body)
		}
	}
}

// auditEntries reads every entry matching query (as admin), newest first.
func (h *harness) auditEntries(t *testing.T, query string) []map[string]any {
	t.Helper()
	r := h.get("/v1/audit?limit=500&"+query, tokAdmin)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/audit?%s: %d %s", query, r.Status, r.Body)
	}
	var out []map[string]any
	for _, e := range r.JSON(t)["entries"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// countAudit counts every entry matching query (as admin), page by page.
func (h *harness) countAudit(t *testing.T, query string) int {
	t.Helper()
	n, cursor := 0, ""
	for range 100 {
		r := h.get("/v1/audit?limit=500&"+query+cursor, tokAdmin)
		if r.Status != http.StatusOK {
			t.Fatalf("GET /v1/audit?%s: %d %s", query, r.Status, r.Body)
		}
		m := r.JSON(t)
		n += len(m["entries"].([]any))
		next, _ := m["next"].(string)
		if next == "" {
			return n
		}
		cursor = "&cursor=" + url.QueryEscape(next)
	}
	t.Fatalf("GET /v1/audit?%s: more than 100 pages", query)
	return n
}
