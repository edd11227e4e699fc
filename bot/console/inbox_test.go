package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/console/browsertest"
)

// Sanne asks a question; Ahmed sees it in the inbox with the message it
// answers, marks it handled (audited); it leaves the "to do" list. The
// API answers the same.
func TestInboxHandled(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	const phone = "+31612349951"
	s.Nudge("missing-form", phone, "Sanne de Vries", "C-9951", map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	s.Eventually("first SMS", func() bool { return len(s.SentTo(phone)) == 1 })
	s.SMS(phone, "Moet ik ook mijn loonstrook sturen?")
	s.SMS("+31612349959", "Wie is dit?") // an unknown number
	s.Eventually("two inbox items", func() bool {
		_, m := s.API(http.MethodGet, "/v1/inbox", tokCaseworker, nil)
		msgs, _ := m["messages"].([]any)
		return len(msgs) == 2
	})

	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Ahmed", "caseworker")
	b.Go(s.URL + "/console/inbox")
	body := b.Text("#inbox")
	for _, want := range []string{"Moet ik ook mijn loonstrook sturen?", "Sanne de Vries", "C-9951", "Wie is dit?", "Onbekend nummer", "Groet, Ahmed"} {
		if !strings.Contains(body, want) {
			t.Errorf("inbox lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "12349959") {
		t.Error("the unknown number is shown in full")
	}
	b.AssertAccessible()
	b.Screenshot("../../docs/console/inbox-desktop.png", browsertest.DesktopWidth)
	b.Screenshot("../../docs/console/inbox-phone.png", browsertest.PhoneWidth)
	_, m := s.API(http.MethodGet, "/v1/inbox", tokCaseworker, nil)
	var id string
	for _, it := range m["messages"].([]any) {
		if x := it.(map[string]any); x["body"] == "Moet ik ook mijn loonstrook sturen?" {
			id = x["inbox_id"].(string)
		}
	}
	b.ClickNav("#handle-" + id)
	if b.Exists("#item-" + id) {
		t.Error("a handled item is still under 'to do'")
	}
	b.ClickNav("#show-all")
	if !strings.Contains(b.Text("#item-"+id), "Afgehandeld door demo:Ahmed") {
		t.Errorf("handled item: %s", b.Text("#item-"+id))
	}
	_, m = s.API(http.MethodGet, "/v1/inbox?handled=false", tokCaseworker, nil)
	if n := len(m["messages"].([]any)); n != 1 {
		t.Errorf("unhandled by the API: %d, want 1", n)
	}
	// The API marks the other one; repeating changes nothing.
	_, m = s.API(http.MethodGet, "/v1/inbox?handled=false", tokCaseworker, nil)
	other := m["messages"].([]any)[0].(map[string]any)["inbox_id"].(string)
	for range 2 {
		if st, r := s.API(http.MethodPost, "/v1/inbox/"+other+"/handled", tokCaseworker, nil); st != http.StatusOK || r["handled_by"] != "cw" {
			t.Errorf("POST handled: %d %v", st, r)
		}
	}
	if st, r := s.API(http.MethodPost, "/v1/inbox/nope/handled", tokCaseworker, nil); st != http.StatusNotFound || r["code"] != "not_found" {
		t.Errorf("unknown item: %d %v", st, r)
	}
	trail := s.AuditActions("action=inbox_handled")
	if strings.Join(trail, ",") != "demo:Ahmed inbox_handled,cw inbox_handled" {
		t.Errorf("trail %v", trail)
	}
	// A werkplaats member may not open the inbox.
	wp := browsertest.New(t)
	wp.SignInDemo(s.URL, "Anne", "werkplaats")
	wp.Go(s.URL + "/console/inbox")
	if wp.Status() != http.StatusForbidden {
		t.Errorf("werkplaats opens the inbox: %d", wp.Status())
	}
}

// Search by case reference and by phone number; the admin's opt-outs.
func TestSearchAndOptOuts(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	const phone = "+31612349961"
	s.Nudge("missing-form", phone, "Piet Jansen", "C-9961", map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	s.Eventually("first SMS", func() bool { return len(s.SentTo(phone)) == 1 })
	s.SMS(phone, "STOP")
	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Iris", "admin")
	for _, q := range []string{"C-9961", "06 1234 9961"} {
		b.Go(s.URL + "/console/search")
		b.Fill("#q", q)
		b.ClickNav("#search")
		if got := b.Text("#results"); !strings.Contains(got, "Piet Jansen") || !strings.Contains(got, "missing-form") {
			t.Errorf("search %q: %s", q, got)
		}
	}
	b.AssertAccessible()
	b.Screenshot("../../docs/console/search-desktop.png", browsertest.DesktopWidth)
	b.Screenshot("../../docs/console/search-phone.png", browsertest.PhoneWidth)
	b.Go(s.URL + "/console/search?q=C-0000")
	if !strings.Contains(b.Text("#results"), "Niets gevonden") {
		t.Errorf("unknown ref: %s", b.Text("#results"))
	}
	if trail := s.AuditActions("action=search"); len(trail) != 3 {
		t.Errorf("searches in the trail: %v", trail)
	}
	raw := strings.Join(s.AuditActions(""), " ")
	if strings.Contains(raw, "C-9961") {
		t.Error("the search query is in the audit trail")
	}
	b.Go(s.URL + "/console/admin/optouts")
	if got := b.Text("#optouts"); !strings.Contains(got, "Piet Jansen") || !strings.Contains(got, "sms") {
		t.Errorf("opt-outs: %s", got)
	}
	b.AssertAccessible()
	b.Screenshot("../../docs/console/optouts-desktop.png", browsertest.DesktopWidth)
	b.Screenshot("../../docs/console/optouts-phone.png", browsertest.PhoneWidth)
}
