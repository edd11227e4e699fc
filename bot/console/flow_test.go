package console_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/seintje/seintje/bot/console/browsertest"
)

// Carla, a coordinator, edits no-show and makes a mistake: the file waits
// with its error while version 3 stays live, and one conversation still
// runs on it. On the flow page (Dutch first) she sees the running version,
// the error at its file:line:column with how to fix it, every text side by
// side with its SMS parts, and the graph drawn by Mermaid. Then she plays
// the recipient in the simulator, which runs the service's own code path:
// HELP and STOP are answered as keywords, a digit by the flow.
func TestFlowPage(t *testing.T) {
	s := newSite(t, nil)
	vars := map[string]any{"appointment_at": "2030-03-01T10:00:00+01:00"}
	s.Nudge("no-show", "+31612340001", "Sanne de Vries", "C-0001", vars)
	dir := s.App.Config.FlowsDir
	src, err := os.ReadFile(filepath.Join(dir, "no-show.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(from, to string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "no-show.yaml"), []byte(strings.Replace(string(src), from, to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.Registry.Reload(context.Background(), dir, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// Version 4 goes live; one person gets it, Sanne's conversation stays
	// on version 3.
	edit("version: 3", "version: 4")
	s.Nudge("no-show", "+31612340002", "Henk Bakker", "C-0002", vars)
	// Then a mistake: the file waits with its error, version 4 stays live.
	edit("version: 3", "version: drie")

	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Carla", "coordinator")
	b.Go(s.URL + "/console/")
	b.ClickNav(`a[href="/console/flows"]`)
	row := func(col int) string {
		return strings.TrimSpace(browsertest.Eval[string](b, `document.querySelector('tr[data-flow="no-show"]').children[`+string(rune('0'+col))+`].textContent`))
	}
	if got := row(1); got != "versie 4" {
		t.Errorf("live version in the list: %q", got)
	}
	if got := row(2); got != "v4: 1 · v3: 1" {
		t.Errorf("running conversations per version: %q, want v4: 1 · v3: 1", got)
	}
	if got := row(3); !strings.Contains(got, "1 fout") {
		t.Errorf("errors in the list: %q", got)
	}
	b.AssertAccessible()
	b.AssertKeyboard()
	b.AssertReflow()

	b.ClickNav(`a[href="/console/flows/no-show"]`)
	body := b.Body()
	for _, want := range []string{"Flow no-show", "Versies in gebruik", "Fouten in het bestand", "Versie 4 blijft live",
		"no-show.yaml:11:10", "Zo lost u het op:", "Teksten", "Zelf proberen"} {
		if !strings.Contains(body, want) {
			t.Errorf("the flow page lacks %q", want)
		}
	}
	if got := browsertest.Eval[string](b, `[...document.querySelectorAll('#versions-table tbody tr')].map(r => r.querySelector("th").textContent + "=" + r.lastElementChild.textContent).join("|")`); got != "versie 4 (live)=1|versie 3=1" {
		t.Errorf("versions in use: %q, want versie 4 (live)=1|versie 3=1", got)
	}
	// Every text in every language side by side, Dutch first.
	if got := browsertest.Eval[string](b, `[...document.querySelectorAll('table[data-step="ask"] thead th')].map(e => e.textContent).join("|")`); got != "Tekst|Nederlands|Engels" {
		t.Errorf("language columns: %q", got)
	}
	if got := browsertest.Eval[string](b, `document.querySelector('table[data-step="ask"] td[data-lang="nl"] .sj-text').textContent`); !strings.Contains(got, "Hallo Annemarieke") || !strings.Contains(got, "088 123 45 67") {
		t.Errorf("the Dutch first message: %q", got)
	}
	if got := browsertest.Eval[string](b, `document.querySelector('table[data-step="ask"] td[data-lang="en"] .sj-text').getAttribute("lang")`); got != "en" {
		t.Errorf("the English text has lang %q", got)
	}
	if got := browsertest.Eval[string](b, `document.querySelector('table[data-step="ask"] td[data-lang="nl"] .sj-text-lint').textContent`); !strings.Contains(got, "sms-deel") || !strings.Contains(got, "€") {
		t.Errorf("lint result of the Dutch text: %q", got)
	}
	// The graph is drawn in the page by the vendored Mermaid.
	b.WaitFor("the graph to be drawn", `document.getElementById("flow-graph").dataset.drawn !== undefined`, 20*time.Second)
	if e := browsertest.Eval[string](b, `document.getElementById("flow-graph").dataset.drawn + " " + (document.getElementById("flow-graph").dataset.error || "")`); e != "true " {
		t.Fatalf("mermaid: %s", e)
	}
	labels := browsertest.Eval[string](b, `document.querySelector("#flow-graph svg").textContent`)
	for _, want := range []string{"ask", "reminder", "new-appointment", "callback", "na 48h"} {
		if !strings.Contains(labels, want) {
			t.Errorf("the graph lacks %q: %s", want, labels)
		}
	}
	if n := browsertest.Eval[int](b, `document.querySelectorAll("#flow-graph svg .node").length`); n < 7 {
		t.Errorf("the graph has %d nodes, want the 7 steps and 2 notes", n)
	}
	b.AssertNoCSPViolations()
	b.AssertAccessible()
	b.AssertKeyboard()
	b.AssertReflow()

	// The simulator: start, then HELP, STOP and a digit.
	b.ClickNav(`#sim-start-button`)
	if !strings.Contains(b.URL(), "sim=") {
		t.Fatalf("no simulation started: %s\n%s", b.URL(), b.Body())
	}
	log := func() string { return browsertest.Eval[string](b, `document.getElementById("sim-log").textContent`) }
	if got := log(); !strings.Contains(got, "een consulent start no-show") || !strings.Contains(got, "Hallo Samira") {
		t.Fatalf("the transcript does not start with the first message:\n%s", got)
	}
	b.Do(chromedp.Click(chromedp.CSS(`#sim-run button[value="HELP"]`)))
	b.WaitFor("the HELP answer", `document.getElementById("sim-log").textContent.includes("Stoppen? Stuur STOP.")`, 10*time.Second)
	if got := browsertest.Eval[string](b, `[...document.querySelectorAll("#sim-log .sj-sim-in .sj-msg__body")].map(e => e.textContent).join("|")`); got != "HELP" {
		t.Errorf("the recipient's messages in the transcript: %q, want HELP", got)
	}
	if got := log(); !strings.Contains(got, "no-show versie 4") {
		t.Errorf("the simulator does not play the live version 4 (the file on disk has an error):\n%s", got)
	}
	// The answer box keeps the focus, so the keyboard alone plays on.
	b.WaitFor("focus back in the answer box", `document.activeElement && document.activeElement.id === "answer"`, 5*time.Second)
	b.Do(chromedp.SendKeys(chromedp.CSS(`#answer`), "2\r"))
	b.WaitFor("the answer to 2", `document.getElementById("sim-log").textContent.includes("Wij bellen u")`, 10*time.Second)
	if got := log(); !strings.Contains(got, "terugbeltaak voor de werkplaats") {
		t.Errorf("no call task after 2:\n%s", got)
	}
	b.Do(chromedp.Click(chromedp.CSS(`#sim-run button[value="STOP"]`)))
	b.WaitFor("the STOP confirmation", `document.getElementById("sim-log").textContent.includes("geen berichten meer")`, 10*time.Second)
	b.AssertNoCSPViolations()
	b.AssertAccessible()
	b.AssertKeyboard()
	b.AssertReflow()
	b.Viewport(browsertest.PhoneWidth, 800)
	b.AssertAccessible()
	b.Viewport(browsertest.DesktopWidth, 900)

	// Someone else's simulation is not there for Carla's colleague.
	sim := b.URL()[strings.Index(b.URL(), "sim=")+4:]
	if i := strings.IndexAny(sim, "&#"); i >= 0 {
		sim = sim[:i]
	}
	o := browsertest.New(t)
	o.SignInDemo(s.URL, "Olaf", "coordinator")
	o.Go(s.URL + "/console/flows/no-show?sim=" + sim)
	if o.Exists("#sim-log") {
		t.Error("another coordinator sees Carla's simulation")
	}
	// Werkplaats staff do not see flows.
	w := browsertest.New(t)
	w.SignInDemo(s.URL, "Wim", "werkplaats")
	w.Go(s.URL + "/console/flows/no-show")
	if st := w.Status(); st != http.StatusForbidden {
		t.Errorf("werkplaats opens the flow page: %d", st)
	}
}

// The large vendored assets are stored gzip-compressed: a browser gets
// them as they are, any other client unpacked; both with the right type.
func TestCompressedStaticAssets(t *testing.T) {
	s := newSite(t, nil)
	for _, tc := range []struct{ path, ctype, start string }{
		{"/console/static/vendor/mermaid/mermaid.min.js", "text/javascript", `"use strict"`},
		{"/console/static/vendor/utrecht/component-library.css", "text/css", "/**"},
		{"/console/static/vendor/tokens/theme.css", "text/css", "/**"},
		{"/console/static/vendor/htmx/htmx.min.js", "text/javascript", "var htmx"},
	} {
		for _, gz := range []bool{true, false} {
			req, err := http.NewRequest(http.MethodGet, s.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if gz {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			enc := resp.Header.Get("Content-Encoding")
			switch {
			case resp.StatusCode != http.StatusOK:
				t.Errorf("%s gzip %v: %d", tc.path, gz, resp.StatusCode)
			case gz && (enc != "gzip" || len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b):
				t.Errorf("%s: a gzip client gets encoding %q, %d bytes", tc.path, enc, len(body))
			case !gz && (enc != "" || !strings.HasPrefix(string(body), tc.start)):
				t.Errorf("%s: a plain client gets encoding %q, starting %q", tc.path, enc, body[:min(20, len(body))])
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("%s: content type %q", tc.path, ct)
			}
		}
	}
	if resp, err := http.Get(s.URL + "/console/static/vendor/nothing.css"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing asset: %v %v", resp.StatusCode, err)
	}
}
