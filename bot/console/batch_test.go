package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/seintje/seintje/bot/console/browsertest"
)

// Fatima, a case worker, uploads the list of people who missed their
// intake, as Dutch Excel saves it. She sees the one bad row with its reason,
// the message the others will get, sends it, follows the progress to the
// end and downloads the results.
func TestBatchUploadToResults(t *testing.T) {
	s := newSite(t, nil)
	dir := t.TempDir()
	file := filepath.Join(dir, "noshow.csv")
	csv := "Kenmerk;Telefoon;Naam;appointment_at\r\n" +
		"C-1;06 12345671;Sanne de Vries;20-11-2026 10:00\r\n" +
		"C-2;06 1234;Piet Jansen;20-11-2026 10:00\r\n" +
		"C-3;0612345673;Jo\xebl Bakker;20-11-2026 11:00\r\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Fatima", "caseworker")
	b.Go(s.URL + "/console/batches")
	b.AssertAccessible()
	b.Do(chromedp.SetValue(chromedp.ID("flow"), "no-show"), chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}))
	b.ClickNav("#check")

	// The rejected row, with its reason in the row; the preview; nothing sent.
	if got := b.Text(`#rejected-table tbody tr[data-row="3"]`); !strings.Contains(got, "Geen geldig telefoonnummer") || !strings.Contains(got, "Telefoon") {
		t.Fatalf("rejected row 3: %q\n%s", got, b.Body())
	}
	if n := browsertest.Eval[int](b, `document.querySelectorAll("#rejected-table tbody tr").length`); n != 1 {
		t.Errorf("%d rejected rows shown, want 1", n)
	}
	preview := b.Text("#previews")
	if !strings.Contains(preview, "Sanne") || !strings.Contains(preview, "Joël") || !strings.Contains(preview, "Fatima") {
		t.Errorf("preview: %q", preview)
	}
	if got := b.Text("#send"); got != "Verstuur 2 berichten" {
		t.Errorf("send button %q", got)
	}
	b.AssertAccessible()
	b.AssertKeyboard()
	b.AssertReflow()
	b.Screenshot("../../docs/console/batch-checked-desktop.png", browsertest.DesktopWidth)
	if n := len(s.Twilio.Requests()); n != 0 {
		t.Fatalf("%d messages sent before Verstuur", n)
	}

	// Send (with the keyboard): the progress updates by itself until done.
	b.TabTo("#send", 60)
	b.KeyNav(kb.Enter)
	b.WaitFor("the batch is done", `document.querySelector("#batch-live").dataset.state === "done"`, 15*time.Second)
	if got := b.Text(`[data-count="sent"]`); got != "2" {
		t.Errorf("sent %q, want 2", got)
	}
	if v := browsertest.Eval[string](b, `document.querySelector("#progress").getAttribute("value")`); v != "2" {
		t.Errorf("progress value %q", v)
	}
	s.Eventually("two SMS", func() bool { return len(s.Twilio.Requests()) == 2 })
	s.SMS("+31612345671", "2")
	b.Go(b.URL())
	b.WaitFor("the reply is counted", `document.querySelector('[data-count="replied"]').textContent === "1"`, 10*time.Second)
	if !b.Exists("#replies-chart rect") {
		t.Error("no bar in the replies chart")
	}
	b.AssertAccessible()
	b.AssertNoCSPViolations()
	b.AssertKeyboard()
	b.AssertReflow()
	b.Screenshot("../../docs/console/batch-done-desktop.png", browsertest.DesktopWidth)
	b.Screenshot("../../docs/console/batch-done-phone.png", browsertest.PhoneWidth)

	// The results download: one row per person, no phone numbers.
	res := browsertest.Eval[string](b, `fetch(document.querySelector("#results").href).then(r => r.text())`)
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(res, "\ufeff")), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "row;ref;nudge_id") {
		t.Fatalf("results: %q", res)
	}
	if !strings.Contains(res, "C-1;") || !strings.Contains(res, "C-3;") || strings.Contains(res, "612345") {
		t.Errorf("results: %q", res)
	}
}
