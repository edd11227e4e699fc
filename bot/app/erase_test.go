package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestEraseRecipient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.nudge("no-show", phoneSanne, noShowVars())
	h.waitSMS(t, 1, 5*time.Second)
	h.sms(phoneSanne, "2", "SM00000000000000000000000000000e01")
	h.sms(phoneSanne, "Ik heb een vraag", "SM00000000000000000000000000000e02")
	h.waitSMS(t, 3, 5*time.Second)
	other := h.nudge("no-show", "+31687654321", noShowVars())

	// The case worker can list what Seintje did for this person.
	list := h.get("/v1/recipients/C-5678/nudges", tokCaseworker)
	if list.Status != http.StatusOK {
		t.Fatalf("list nudges: %d %s", list.Status, list.Body)
	}
	if ns := list.JSON(t)["nudges"].([]any); len(ns) != 1 || ns[0].(map[string]any)["id"] != id || ns[0].(map[string]any)["triggered_by"] != "cw" {
		t.Errorf("nudges of C-5678 = %v", ns)
	}
	if r := h.get("/v1/recipients/C-0000/nudges", tokCaseworker); r.Status != http.StatusNotFound {
		t.Errorf("unknown ref: %d", r.Status)
	}
	if r := h.do(http.MethodDelete, "/v1/recipients/C-5678", tokCaseworker, "", nil, nil); r.Status != http.StatusForbidden {
		t.Fatalf("caseworker may not erase: %d", r.Status)
	}
	r := h.do(http.MethodDelete, "/v1/recipients/C-5678", tokAdmin, "", nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("erase: %d %s", r.Status, r.Body)
	}
	if r := h.get("/v1/nudges/"+id, tokCaseworker); r.Status != http.StatusNotFound {
		t.Errorf("nudge still readable after erasure: %d", r.Status)
	}
	tag, _, _ := strings.Cut(id, "-")
	for _, k := range h.keys() {
		if strings.Contains(k, tag) {
			t.Errorf("key left after erasure: %s", k)
		}
	}
	for _, idx := range []string{":inbox", ":callbacks:open"} {
		members, _ := h.rdb.ZRange(context.Background(), h.prefix+idx, 0, -1).Result()
		for _, m := range members {
			if strings.HasPrefix(m, tag) {
				t.Errorf("index %s still lists %s", idx, m)
			}
		}
	}
	// Other people are untouched.
	if v := h.nudgeView(other); v["state"] != "waiting" {
		t.Errorf("other nudge: %v", v["state"])
	}
	if r := h.do(http.MethodDelete, "/v1/recipients/C-5678", tokAdmin, "", nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("second erase: %d", r.Status)
	}
	if r := h.get("/v1/recipients/C-5678/nudges", tokCaseworker); r.Status != http.StatusNotFound {
		t.Errorf("nudges after erasure: %d", r.Status)
	}
}
