package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/console/browsertest"
)

// Ahmed, a case worker, sends Sanne a missing-form nudge. The preview
// shows the first message as it will arrive; the fake Twilio receives
// exactly that text.
func TestSendWithPreview(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Ahmed", "caseworker")
	b.Go(s.URL + "/console/send")
	b.AssertAccessible()
	b.Fill("#choose-flow", "missing-form")
	b.ClickNav("#choose")
	for _, id := range []string{"phone", "name", "ref", "var.form", "var.due_date"} {
		if !b.Exists(`[id="` + id + `"]`) {
			t.Fatalf("no field %s: %s", id, b.Body())
		}
	}
	if typ := browsertest.Eval[string](b, `document.getElementById("var.due_date").type`); typ != "date" {
		t.Errorf("due_date input type %q, want a date picker", typ)
	}
	if !strings.Contains(b.Text(`label[for="var.form"]`), "verplicht") {
		t.Error("required variable not marked")
	}
	// A landline: the error shows next to the field, with the API's code.
	b.Fill("#phone", "030 123 4567")
	b.Fill("#name", "Sanne de Vries")
	b.Fill("#ref", "C-4711")
	b.Fill(`[id="var.form"]`, "het formulier Wijzigingen")
	b.Fill(`[id="var.due_date"]`, "2031-01-31")
	b.ClickNav("#send-button")
	if code := browsertest.Eval[string](b, `document.getElementById("phone-error").dataset.code`); code != "not_mobile" {
		t.Errorf("phone error code %q, want not_mobile", code)
	}
	if b.Status() != http.StatusUnprocessableEntity {
		t.Errorf("status %d", b.Status())
	}
	b.AssertAccessible()
	if len(s.Twilio.Requests()) != 0 {
		t.Fatal("something was sent")
	}

	// A mobile number: the live preview shows the message (htmx).
	b.Fill("#phone", "06 1234 9931")
	b.WaitFor("the preview", `document.getElementById("preview-text") !== null && document.getElementById("preview-text").innerText.includes("Sanne")`, 5*time.Second)
	preview := browsertest.Eval[string](b, `document.getElementById("preview-text").textContent`)
	if !strings.Contains(preview, "het formulier Wijzigingen") || !strings.Contains(preview, "Groet, Ahmed") {
		t.Errorf("preview: %q", preview)
	}
	if seg := b.Text("#preview-segments"); seg != "2" && seg != "1" && seg != "3" {
		t.Errorf("segments %q", seg)
	}
	if enc := b.Text("#preview-encoding"); !strings.HasPrefix(enc, "GSM-7") {
		t.Errorf("encoding %q", enc)
	}
	b.AssertAccessible()
	b.Screenshot("../../docs/console/send-desktop.png", browsertest.DesktopWidth)
	b.Screenshot("../../docs/console/send-phone.png", browsertest.PhoneWidth)

	b.ClickNav("#send-button")
	if !strings.HasPrefix(browsertest.Eval[string](b, "location.pathname"), "/console/nudges/") {
		t.Fatalf("after send at %s: %s", b.URL(), b.Body())
	}
	s.Eventually("the SMS", func() bool { return len(s.SentTo("+31612349931")) == 1 })
	if got := s.SentTo("+31612349931")[0]; got != preview {
		t.Errorf("sent text differs from the preview:\nsent:    %q\npreview: %q", got, preview)
	}
	// The nudge page: the message with its status, the flow and version.
	b.WaitFor("delivery status", `document.querySelector(".sj-msg--out .sj-msg__status") !== null`, 5*time.Second)
	if flow := b.Text("#nudge-flow"); !strings.HasPrefix(flow, "missing-form v") {
		t.Errorf("flow %q", flow)
	}
	b.AssertAccessible()
	b.Fill("#text", "Gebeld met de bibliotheek voor hulp")
	b.ClickNav("#add-note")
	if !strings.Contains(b.Text("#notes"), "Gebeld met de bibliotheek") {
		t.Errorf("notes: %s", b.Text("#notes"))
	}
	b.Screenshot("../../docs/console/nudge-desktop.png", browsertest.DesktopWidth)
	b.Screenshot("../../docs/console/nudge-phone.png", browsertest.PhoneWidth)
	b.ClickNav("#end")
	if st := b.Text("#nudge-state"); !strings.Contains(st, "afgelopen") {
		t.Errorf("state after ending: %q", st)
	}
	trail := s.AuditActions("actor=demo:Ahmed")
	for _, want := range []string{"demo:Ahmed trigger", "demo:Ahmed note", "demo:Ahmed end"} {
		if !contains(trail, want) {
			t.Errorf("trail %v lacks %q", trail, want)
		}
	}
	raw := strings.Join(s.AuditActions(""), " ")
	if strings.Contains(raw, "bibliotheek") {
		t.Error("the note text is in the audit trail")
	}
}

// Arabic text is shown right to left, in the preview and in the chat.
func TestArabicRightToLeft(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Ahmed", "caseworker")
	b.Go(s.URL + "/console/send?flow=greeting")
	b.Fill("#phone", "06 1234 9941")
	b.Fill("#name", "Fatima el Amrani")
	b.Fill("#ref", "C-9941")
	b.Fill("#lang", "ar")
	b.ClickNav("#preview-button")
	if got := browsertest.Eval[[]string](b, `(e => [e.lang, e.dir, getComputedStyle(e).direction])(document.getElementById("preview-text"))`); strings.Join(got, ",") != "ar,rtl,rtl" {
		t.Errorf("preview lang/dir/direction %v, want ar,rtl,rtl", got)
	}
	if !strings.Contains(b.Text("#preview-encoding"), "UCS-2") {
		t.Errorf("encoding %q", b.Text("#preview-encoding"))
	}
	b.ClickNav("#send-button")
	s.Eventually("the SMS", func() bool { return len(s.SentTo("+31612349941")) == 1 })
	s.SMS("+31612349941", "شكرا، أرسل 2")
	s.Eventually("the reply stored", func() bool {
		b.Go(b.URL())
		return browsertest.Eval[int](b, `document.querySelectorAll(".sj-msg--in").length`) > 0
	})
	got := browsertest.Eval[[]string](b, `[...document.querySelectorAll(".sj-msg__body")].map(e => (e.lang || "-") + "/" + e.dir + "/" + getComputedStyle(e).direction)`)
	if len(got) < 2 || got[0] != "ar/rtl/rtl" || !strings.HasSuffix(got[1], "/rtl") {
		t.Errorf("bubbles lang/dir/direction %v: want the message ar/rtl/rtl and the Arabic reply right to left", got)
	}
	b.AssertAccessible()
}
