package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/console/browsertest"
)

// Anne and Bert work the queue at the same time. Anne claims Sanne's
// task; Bert's list shows it claimed within 5 s and he cannot claim it.
// Anne calls, nobody answers: the task goes back to the queue for later.
func TestQueueTwoColleagues(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	const phone = "+31612349901"
	task := s.CallbackTask(phone, "Sanne de Vries", "C-9901")
	other := s.CallbackTask("+31612349902", "Piet Jansen", "C-9902")

	anne, bert := browsertest.New(t), browsertest.New(t)
	anne.SignInDemo(s.URL, "Anne", "werkplaats")
	bert.SignInDemo(s.URL, "Bert", "werkplaats")
	for _, b := range []*browsertest.Browser{anne, bert} {
		b.Go(s.URL + "/console/queue")
		if !b.Exists("#claim-" + task) {
			t.Fatalf("queue without a claim button for the task: %s", b.Body())
		}
	}
	if got := anne.Text(`[data-count="open"]`); got != "2" {
		t.Errorf("open count %q, want 2", got)
	}
	if body := anne.Body(); strings.Contains(body, phone) || strings.Contains(body, "12349901") {
		t.Errorf("the list shows the phone number")
	}
	anne.AssertAccessible()
	anne.Screenshot("../../docs/console/queue-desktop.png", browsertest.DesktopWidth)
	anne.Screenshot("../../docs/console/queue-phone.png", browsertest.PhoneWidth)

	// Anne claims: she sees the number as a tel: link.
	anne.ClickNav("#claim-" + task)
	if href := browsertest.Eval[string](anne, `document.querySelector("#phone").getAttribute("href")`); href != "tel:"+phone {
		t.Errorf("phone link %q, want tel:%s", href, phone)
	}
	anne.AssertAccessible()
	anne.Screenshot("../../docs/console/task-desktop.png", browsertest.DesktopWidth)
	anne.Screenshot("../../docs/console/task-phone.png", browsertest.PhoneWidth)

	// Bert's list, untouched, shows the claim within 5 s.
	start := time.Now()
	bert.WaitFor("Bert sees Anne's claim", `document.querySelector("#task-`+task+` [data-claimed-by]") !== null`, 5*time.Second)
	t.Logf("Bert saw the claim after %s", time.Since(start).Round(10*time.Millisecond))
	if bert.Exists("#claim-" + task) {
		t.Error("Bert can still claim Anne's task")
	}
	if !bert.Exists("#claim-" + other) {
		t.Error("the other task is no longer claimable")
	}
	if got := bert.Text("#task-" + task + " [data-claimed-by]"); !strings.Contains(got, "Anne") {
		t.Errorf("claimed by: %q", got)
	}
	// Posting a claim anyway (an old page) is refused: 409, nothing changes.
	bert.Go(s.URL + "/console/queue/" + task)
	if bert.Exists("#claim-"+task) || bert.Exists("#phone") {
		t.Error("Bert's task page offers the claim or shows the number")
	}
	st := browsertest.Eval[int](bert, `fetch("/console/queue/`+task+`/claim", {method: "POST", body: new URLSearchParams({csrf: document.body.dataset.csrf}), redirect: "manual"}).then(r => r.status)`)
	if st != http.StatusConflict {
		t.Errorf("Bert's claim: %d, want 409", st)
	}
	bert.Go(s.URL + "/console/queue")

	// Anne: no answer. The task is open again (due later) for everyone.
	anne.Fill("#outcome-no_answer", "")
	anne.Fill("#note", "Twee keer geprobeerd")
	anne.ClickNav("#save-outcome")
	if !strings.Contains(anne.Body(), "Het resultaat is opgeslagen") {
		t.Errorf("after saving: %s", anne.Body())
	}
	bert.WaitFor("Bert sees the task open again", `document.querySelector("#claim-`+task+`") !== null`, 5*time.Second)
	_, m := s.API(http.MethodGet, "/v1/callbacks/"+task, tokAdmin, nil)
	if m["status"] != "open" || len(m["attempts"].([]any)) != 1 {
		t.Errorf("task after no answer: %v", m)
	}
	trail := s.AuditActions("task=" + task)
	want := []string{"demo:Anne claim", "demo:Anne view_phone", "demo:Anne outcome"} // one view: the task page after the claim
	if strings.Join(trail, ",") != strings.Join(want, ",") {
		t.Errorf("audit for the task: %v, want %v", trail, want)
	}
}

// Release, reschedule, the filters, and a field error.
func TestQueueReleaseRescheduleFilters(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	task := s.CallbackTask("+31612349911", "Fatima el Amrani", "C-9911")
	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Anne", "werkplaats")
	b.Go(s.URL + "/console/queue/" + task)
	b.ClickNav("#claim-" + task)
	b.Go(s.URL + "/console/queue?filter=mine")
	if got := b.Text(`[data-count="mine"]`); got != "1" {
		t.Errorf("mine count %q", got)
	}
	if !b.Exists("#task-" + task) {
		t.Error("my task is not under 'mine'")
	}
	b.AssertAccessible()
	b.Go(s.URL + "/console/queue/" + task)
	// Save without an outcome: the error is next to the field.
	b.ClickNav("#save-outcome")
	if b.Status() != http.StatusUnprocessableEntity || !b.Exists("#outcome-error") {
		t.Errorf("no outcome: status %d, %s", b.Status(), b.Body())
	}
	b.AssertAccessible()
	b.ClickNav("#release")
	if !strings.Contains(b.Body(), "weer in de lijst") {
		t.Errorf("after release: %s", b.Body())
	}
	// Reschedule to tomorrow 10:00.
	b.Go(s.URL + "/console/queue/" + task)
	tomorrow := time.Now().Add(24*time.Hour).Format("2006-01-02") + "T10:00"
	b.Fill("#at", tomorrow)
	b.ClickNav("#reschedule")
	_, m := s.API(http.MethodGet, "/v1/callbacks/"+task, tokAdmin, nil)
	due, _ := time.Parse(time.RFC3339, m["due"].(string))
	if due.In(time.Local).Format("2006-01-02") != time.Now().Add(24*time.Hour).Format("2006-01-02") && due.Before(time.Now().Add(12*time.Hour)) {
		t.Errorf("due after reschedule: %v", m["due"])
	}
	if trail := s.AuditActions("task=" + task + "&actor=demo:Anne"); !contains(trail, "demo:Anne release") || !contains(trail, "demo:Anne reschedule") {
		t.Errorf("trail %v", trail)
	}
	// A case worker may not use the queue.
	cw := browsertest.New(t)
	cw.SignInDemo(s.URL, "Ahmed", "caseworker")
	cw.Go(s.URL + "/console/queue")
	if cw.Status() != http.StatusForbidden {
		t.Errorf("caseworker opens the queue: %d", cw.Status())
	}
}
