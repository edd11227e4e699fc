package console_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/seintje/seintje/bot/console/browsertest"
	"github.com/seintje/seintje/bot/console/consoletest"
)

// uploadAs signs name in as a case worker and uploads csv for flow no-show
// on the batches screen (checking that screen first when check is set).
func uploadAs(t *testing.T, s *consoletest.Site, name, csv string, check bool) *browsertest.Browser {
	t.Helper()
	return uploadFlowAs(t, s, name, "no-show", csv, check)
}

// uploadFlowAs is uploadAs for flow flowID.
func uploadFlowAs(t *testing.T, s *consoletest.Site, name, flowID, csv string, check bool) *browsertest.Browser {
	t.Helper()
	file := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	b.SignInDemo(s.URL, name, "caseworker")
	b.Go(s.URL + "/console/batches")
	if check {
		b.AssertAccessible()
	}
	b.Do(chromedp.SetValue(chromedp.ID("flow"), flowID), chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}))
	b.ClickNav("#check")
	return b
}

// Fatima, a case worker, uploads the list of people who missed their
// intake, as Dutch Excel saves it. She sees the one bad row with its reason,
// the message the others will get, sends it, follows the progress to the
// end and downloads the results.
func TestBatchUploadToResults(t *testing.T) {
	s := newSite(t, nil)
	b := uploadAs(t, s, "Fatima", "Kenmerk;Telefoon;Naam;appointment_at\r\n"+
		"C-1;06 12345671;Sanne de Vries;20-11-2026 10:00\r\n"+
		"C-2;06 1234;Piet Jansen;20-11-2026 10:00\r\n"+
		"C-3;0612345673;Jo\xebl Bakker;20-11-2026 11:00\r\n", true)

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

// Fatima's list comes from another system: "Mobiel nr.", "Roepnaam" and
// "Datum afspraak" mean nothing to Seintje, and there is a column of notes
// she does not need. The console asks what each unknown column holds
// (recognised ones come preselected); she leaves one open and is told
// which; she maps them with the keyboard and goes on to the rejected rows
// and the preview. Nothing is sent, and the kept file is gone afterwards.
func TestBatchColumnMapping(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	b := uploadAs(t, s, "Fatima", "Dossier;Mobiel nr.;Roepnaam;Datum afspraak;Opmerking\r\n"+
		"D-1;06 12345681;Sanne;20-11-2026 10:00;belt liever\r\n"+
		"D-2;06 1234;Piet;20-11-2026 10:00;\r\n"+
		"D-3;0612345683;Joël;20-11-2026 11:00;\r\n", false)

	// The mapping step: one choice per column, the known one preselected.
	if p := browsertest.Eval[string](b, "location.pathname"); !strings.HasPrefix(p, "/console/uploads/") || !strings.HasSuffix(p, "/columns") {
		t.Fatalf("no mapping step after uploading unknown columns, at %s: %s", b.URL(), b.Body())
	}
	choice := func(header string) string {
		return browsertest.Eval[string](b, `document.querySelector('select[name="column.`+header+`"]').value`)
	}
	if got := choice("Dossier"); got != "ref" {
		t.Errorf("Dossier preselected as %q, want ref", got)
	}
	for _, h := range []string{"Mobiel nr.", "Roepnaam", "Datum afspraak", "Opmerking"} {
		if got := choice(h); got != "" {
			t.Errorf("%s preselected as %q, want no choice", h, got)
		}
		if !strings.Contains(b.Text(`[data-header="`+h+`"]`), "niet herkend") {
			t.Errorf("%s not marked as unknown", h)
		}
	}
	if got := b.Text(`[data-header="Datum afspraak"]`); !strings.Contains(got, "Bijvoorbeeld: 20-11-2026 10:00") {
		t.Errorf("no example value: %q", got)
	}
	if !strings.Contains(b.Text("#vars"), "When the missed appointment was") {
		t.Errorf("the variable's description is missing: %s", b.Text("#vars"))
	}
	b.AssertAccessible()
	b.AssertKeyboard()
	b.AssertReflow()
	b.Screenshot("../../docs/console/batch-columns-desktop.png", browsertest.DesktopWidth)
	b.Screenshot("../../docs/console/batch-columns-phone.png", browsertest.PhoneWidth)

	// With the keyboard: type-ahead in each select picks the option.
	pick := func(header, field string) {
		t.Helper()
		b.TabTo(`select[name="column.`+header+`"]`, 40)
		for range 20 {
			if choice(header) == field {
				return
			}
			b.Key(kb.ArrowDown)
		}
		t.Fatalf("%s: arrow keys never reached %s (at %q)", header, field, choice(header))
	}
	pick("Mobiel nr.", "phone")
	pick("Roepnaam", "name")
	pick("Datum afspraak", "appointment_at")
	// "Opmerking" left open: the error says which column.
	b.TabTo("#map-continue", 20)
	b.KeyNav(kb.Enter)
	if b.Status() != http.StatusUnprocessableEntity || !strings.Contains(b.Text("#error-summary"), "Kolom Opmerking") {
		t.Fatalf("an unchosen column: status %d, %s", b.Status(), b.Body())
	}
	if got := choice("Mobiel nr."); got != "phone" {
		t.Errorf("the choices were not kept: Mobiel nr. is %q", got)
	}
	b.AssertAccessible()
	pick("Opmerking", "-")
	b.TabTo("#map-continue", 20)
	b.KeyNav(kb.Enter)

	// The checked batch: the bad row with its reason, the preview, nothing sent.
	if got := b.Text(`#rejected-table tbody tr[data-row="3"]`); !strings.Contains(got, "Geen geldig telefoonnummer") || !strings.Contains(got, "Mobiel nr.") {
		t.Fatalf("rejected row 3: %q\n%s", got, b.Body())
	}
	if preview := b.Text("#previews"); !strings.Contains(preview, "Sanne") || !strings.Contains(preview, "Joël") {
		t.Errorf("preview: %q", preview)
	}
	if got := b.Text("#send"); got != "Verstuur 2 berichten" {
		t.Errorf("send button %q", got)
	}
	if n := len(s.Twilio.Requests()); n != 0 {
		t.Errorf("%d messages sent before Verstuur", n)
	}
	keys, _ := s.Redis.Keys(context.Background(), s.Prefix+":console:upload:*").Result()
	if len(keys) != 0 {
		t.Errorf("the kept upload is still in Redis: %v", keys)
	}
	// The same mapping step is gone now: going back says so.
	b.Go(s.URL + "/console/batches")
	if st := b.Status(); st != http.StatusOK {
		t.Errorf("batches: %d", st)
	}
}

// The kept file is the uploader's alone, and a mapping through the API's
// query parameters (column.<header>=<field>) gives the same batch.
func TestBatchColumnMappingIsPrivateAndMatchesTheAPI(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	csv := "Dossier;Mobiel nr.;Roepnaam;Datum afspraak\r\nD-9;06 12345691;Sanne;20-11-2026 10:00\r\n"
	b := uploadAs(t, s, "Fatima", csv, false)
	step := b.URL()
	other := browsertest.New(t)
	other.SignInDemo(s.URL, "Ahmed", "caseworker")
	other.Go(step)
	if other.Status() != http.StatusNotFound || !strings.Contains(other.Body(), "Upload het bestand opnieuw") {
		t.Errorf("another case worker opens Fatima's upload: %d %s", other.Status(), other.Body())
	}

	q := url.Values{"flow": {"no-show"}, "caseworker": {"Fatima"}, "column.Mobiel nr.": {"phone"}, "column.Roepnaam": {"name"}, "column.Datum afspraak": {"appointment_at"}}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/batches?"+q.Encode(), strings.NewReader(csv))
	req.Header.Set("Authorization", "Bearer "+tokCaseworker)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("API with the mapping: %d %s", resp.StatusCode, raw)
	}
	b.Fill("#col-1", "phone")
	b.Fill("#col-2", "name")
	b.Fill("#col-3", "appointment_at")
	b.ClickNav("#map-continue")
	if got := b.Text("#send"); got != "Verstuur 1 bericht" {
		t.Errorf("console after mapping: send button %q (%s)", got, b.Body())
	}
}
