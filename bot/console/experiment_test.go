package console_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/console/browsertest"
	"github.com/seintje/seintje/internal/testflows"
)

// Carla, a coordinator, opens the experiment of the missing-form test flow
// while it runs: she sees the people per group, a chart per outcome and, in
// plain Dutch, that there are too few people to conclude — no winner.
func TestExperimentReportScreen(t *testing.T) {
	s := newSite(t, map[string]string{"SEINTJE_FLOWS_DIR": testflows.ExperimentDir(t)})
	arms, received := map[string]int{}, map[string]int{}
	ids, armOf := map[int]string{}, map[int]string{}
	for i := range 60 {
		st, m := s.API(http.MethodPost, "/v1/nudges", tokCaseworker, map[string]any{"flow": "form-exp",
			"recipient":  map[string]any{"ref": fmt.Sprintf("CON-%03d", i), "phone": fmt.Sprintf("+3162%07d", 2000000+i), "name": "Sanne de Vries"},
			"vars":       map[string]any{"due_date": "2030-12-01"},
			"caseworker": map[string]any{"name": "Ahmed"}})
		if st != http.StatusAccepted {
			t.Fatalf("nudge: %d %v", st, m)
		}
		arms[m["arm"].(string)]++
		ids[i], armOf[i] = m["id"].(string), m["arm"].(string)
	}
	at := time.Now().Add(time.Minute).Format(time.RFC3339) // just after the nudges
	for i := 0; i < 60; i += 3 {
		received[armOf[i]]++
		if st, m := s.API(http.MethodPost, "/v1/nudges/"+ids[i]+"/outcomes", tokCaseworker, map[string]any{"outcome": "form_received", "at": at}); st != http.StatusCreated {
			t.Fatalf("outcome: %d %v", st, m)
		}
	}

	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Carla", "coordinator")
	b.Go(s.URL + "/console/")
	b.ClickNav(`a[href="/console/experiments"]`)
	if !strings.Contains(b.Body(), "form-exp-test") {
		t.Fatalf("list: %s", b.Body())
	}
	b.AssertAccessible()
	b.AssertKeyboard()
	b.AssertReflow()
	b.ClickNav(`a[href="/console/experiments/form-exp-test"]`)
	body := b.Body()
	for _, want := range []string{
		"Te weinig mensen om iets te concluderen",
		"Hoofduitkomst: form_received binnen 14d",
		"Bijkomende uitkomst: replied binnen 14d",
		"krijgt geen bericht",
		"controlegroep",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	for arm, n := range arms {
		cell := browsertest.Eval[string](b, fmt.Sprintf(`[...document.querySelectorAll("#arms tbody tr")].find(r => r.querySelector("th").textContent.trim().startsWith(%q)).children[2].textContent`, arm))
		if cell != fmt.Sprint(n) {
			t.Errorf("arm %s: page says %q people, %d were assigned", arm, cell, n)
		}
		got := browsertest.Eval[string](b, fmt.Sprintf(`[...document.querySelectorAll(".sj-exp-table")[0].querySelectorAll("tbody tr")].find(r => r.querySelector("th").textContent.trim() == %q).children[2].textContent`, arm))
		if got != fmt.Sprint(received[arm]) {
			t.Errorf("arm %s: page says %q with form_received, %d were reported", arm, got, received[arm])
		}
	}
	if n := browsertest.Eval[int](b, `document.querySelectorAll("svg[role=img] title").length`); n != 3 {
		t.Errorf("%d charts with a title, want 3 (primary and two secondary outcomes)", n)
	}
	if n := browsertest.Eval[int](b, `document.querySelectorAll("svg[role=img]")[0].querySelectorAll("rect").length`); n != 3 {
		t.Errorf("the first chart has %d bars, want 3", n)
	}
	if strings.Contains(body, "Vaker form_received") || strings.Contains(body, "Minder vaak") {
		t.Error("a winner is named with too few people")
	}
	b.AssertAccessible()
	b.AssertNoCSPViolations()
	if p := os.Getenv("SEINTJE_SHOT"); p != "" {
		b.Screenshot(p, browsertest.DesktopWidth)
	}
	b.AssertKeyboard()
	b.AssertReflow()
	b.Viewport(browsertest.PhoneWidth, 800)
	b.AssertAccessible()
	b.Viewport(browsertest.DesktopWidth, 900)

	// Ahmed, a case worker, opens a nudge of the experiment: the page
	// names its group and experiment and lists the reported outcome.
	cw := browsertest.New(t)
	cw.SignInDemo(s.URL, "Ahmed", "caseworker")
	cw.Go(s.URL + "/console/nudges/" + ids[0])
	if got, want := browsertest.Eval[string](cw, `document.querySelector("#nudge-arm").textContent`), "groep "+armOf[0]+" · form-exp-test"; got != want {
		t.Errorf("nudge page: arm %q, want %q", got, want)
	}
	if got := browsertest.Eval[string](cw, `document.querySelector("#outcomes").textContent`); !strings.Contains(got, "form_received · gemeld door cw · telt mee in het experiment") {
		t.Errorf("nudge page: outcomes %q", got)
	}
	cw.AssertAccessible()

	// Werkplaats staff do not see experiments.
	w := browsertest.New(t)
	w.SignInDemo(s.URL, "Wim", "werkplaats")
	w.Go(s.URL + "/console/experiments/form-exp-test")
	if st := w.Status(); st != http.StatusForbidden {
		t.Errorf("werkplaats opens the experiment: %d", st)
	}
	w.AssertKeyboard() // the 403 page
	w.AssertReflow()
	// An unknown experiment is a plain 404.
	b.Go(s.URL + "/console/experiments/nope")
	if st := b.Status(); st != http.StatusNotFound {
		t.Errorf("unknown experiment: %d", st)
	}
	b.AssertKeyboard() // the 404 page
	b.AssertReflow()
}
