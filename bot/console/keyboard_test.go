package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/seintje/seintje/bot/console/browsertest"
)

// Kees works without a mouse (he uses a screen reader and the keyboard) and
// at 200 % zoom. On every screen Tab reaches each link, button and field in
// reading order, each shows where the focus is, and nothing needs sideways
// scrolling at 200 % zoom or 320 CSS px. He signs in, claims a task and
// records "no answer"; as a case worker he sends a nudge, adds a note,
// marks a question handled and searches; as an admin he filters the trail:
// all with keys alone.
func TestKeyboardOnlyEveryScreen(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil)
	task := s.CallbackTask("+31612349971", "Sanne de Vries", "C-9971")
	const asker = "+31612349972"
	nudge := s.Nudge("missing-form", asker, "Piet Jansen", "C-9972", map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	s.Eventually("first SMS", func() bool { return len(s.SentTo(asker)) == 1 })
	s.SMS(asker, "Moet ik ook mijn loonstrook sturen?")
	s.Eventually("the question in the inbox", func() bool {
		_, m := s.API(http.MethodGet, "/v1/inbox", tokCaseworker, nil)
		msgs, _ := m["messages"].([]any)
		return len(msgs) == 1
	})

	b := browsertest.New(t)
	check := func(t *testing.T) {
		t.Helper()
		b.AssertKeyboard()
		b.AssertReflow()
	}

	t.Run("sign in", func(t *testing.T) {
		b.Go(s.URL + "/console/login")
		check(t)
		b.Go(s.URL + "/console/login")
		b.TabTo("#name", 10)
		b.Key("Kees")
		b.Key(kb.Tab) // into the role group: the first role
		for !browsertest.Eval[bool](b, `document.activeElement.id === "role-werkplaats"`) {
			b.Key(kb.ArrowDown)
		}
		b.Key(" ")
		b.TabTo("#demo-submit", 3)
		b.KeyNav(kb.Enter)
		if !strings.Contains(b.Body(), "Welkom, Kees") {
			t.Fatalf("after a keyboard sign-in: %s", b.Body())
		}
		check(t)
	})

	t.Run("queue: claim and record an outcome", func(t *testing.T) {
		b.Go(s.URL + "/console/queue")
		check(t)
		// The list refreshes itself every 2 s: keyboard focus stays on the
		// task Kees reached, so he does not start again from the top.
		b.Go(s.URL + "/console/queue")
		b.TabTo(`#task-`+task+` h3 a`, 40)
		before := b.Focused()
		b.Do(chromedp.Evaluate[chromedp.Void](`window.__swapped = false; document.body.addEventListener("htmx:afterSettle", function () { window.__swapped = true; }); undefined`))
		b.WaitFor("a refresh of the list", `window.__swapped`, 10*time.Second)
		if after := b.Focused(); after != before {
			t.Errorf("after the list refreshed, focus moved from %s to %q", before, after)
		}
		b.TabTo("#claim-"+task, 40)
		b.KeyNav(kb.Enter)
		if !b.Exists("#phone") {
			t.Fatalf("claim by keyboard: no number on %s: %s", b.URL(), b.Body())
		}
		check(t)
		b.TabTo("#outcome-reached", 40)
		b.Key(kb.ArrowDown) // reached → no answer, checked as it moves
		if !browsertest.Eval[bool](b, `document.getElementById("outcome-no_answer").checked`) {
			t.Fatalf("arrow key did not choose no answer (focus %s)", b.Focused())
		}
		b.TabTo("#note", 3)
		b.Key("Geen gehoor")
		b.TabTo("#save-outcome", 3)
		b.KeyNav(kb.Enter)
		if !strings.Contains(b.Body(), "Het resultaat is opgeslagen") {
			t.Fatalf("outcome by keyboard: %s", b.Body())
		}
		_, m := s.API(http.MethodGet, "/v1/callbacks/"+task, tokAdmin, nil)
		if at, _ := m["attempts"].([]any); len(at) != 1 || at[0].(map[string]any)["outcome"] != "no_answer" || at[0].(map[string]any)["note"] != "Geen gehoor" {
			t.Errorf("task after the keyboard outcome: %v", m)
		}
		b.Go(s.URL + "/console/queue/" + task)
		check(t) // an open task: claim and reschedule
		b.Go(s.URL + "/console/search?q=C-9971")
		check(t)
	})

	// Kees signs out with the keyboard and in again in another role.
	switchTo := func(t *testing.T, role string) {
		t.Helper()
		b.Go(s.URL + "/console/")
		b.TabTo(`form[action="/console/logout"] button`, 20)
		b.KeyNav(kb.Enter)
		if !strings.HasPrefix(browsertest.Eval[string](b, "location.pathname"), "/console/login") {
			t.Fatalf("sign out by keyboard: at %s", b.URL())
		}
		b.SignInDemo(s.URL, "Kees", role)
	}
	switchTo(t, "caseworker")
	t.Run("send a nudge", func(t *testing.T) {
		b.Go(s.URL + "/console/send")
		check(t)
		b.TabTo("#choose-flow", 30)
		for !browsertest.Eval[bool](b, `document.activeElement.value === "missing-form"`) {
			b.Key(kb.ArrowDown)
		}
		b.TabTo("#choose", 3)
		b.KeyNav(kb.Enter)
		check(t)
		for _, f := range []struct{ id, text string }{
			{"phone", "0612349973"}, {"name", "Joël Bakker"}, {"ref", "C-9973"}, {"var.form", "het formulier"},
		} {
			b.TabTo(`[id="`+f.id+`"]`, 40)
			b.Key(f.text)
		}
		b.TabTo(`[id="var.due_date"]`, 6)
		// The digits of 31 January 2031 in the order the browser's date
		// field asks for them (dd-mm-jjjj in Dutch).
		b.Key(browsertest.Eval[string](b, `new Intl.DateTimeFormat(navigator.language, {year: "numeric", month: "2-digit", day: "2-digit"})
			.formatToParts(new Date(2031, 0, 31)).filter(p => p.type !== "literal").map(p => p.value).join("")`))
		b.TabTo("#send-button", 10)
		b.KeyNav(kb.Enter)
		if !strings.HasPrefix(browsertest.Eval[string](b, "location.pathname"), "/console/nudges/") {
			t.Fatalf("send by keyboard, at %s: %s", b.URL(), b.Body())
		}
		s.Eventually("the SMS", func() bool { return len(s.SentTo("+31612349973")) == 1 })
	})

	t.Run("nudge page: add a note", func(t *testing.T) {
		b.Go(s.URL + "/console/nudges/" + nudge)
		check(t)
		b.TabTo("#text", 60)
		b.Key("Gebeld, belt zelf terug")
		b.TabTo("#add-note", 3)
		b.KeyNav(kb.Enter)
		if !strings.Contains(b.Text("#notes"), "Gebeld, belt zelf terug") {
			t.Errorf("note by keyboard: %s", b.Body())
		}
	})

	t.Run("inbox: mark handled", func(t *testing.T) {
		b.Go(s.URL + "/console/inbox")
		check(t)
		b.TabTo(`[id^="handle-"]`, 40)
		b.KeyNav(kb.Enter)
		_, m := s.API(http.MethodGet, "/v1/inbox", tokCaseworker, nil)
		if msgs, _ := m["messages"].([]any); len(msgs) != 1 || msgs[0].(map[string]any)["handled_by"] != "demo:Kees" {
			t.Errorf("not handled after Enter: %v", msgs)
		}
		check(t)
	})

	t.Run("search", func(t *testing.T) {
		b.Go(s.URL + "/console/search")
		check(t)
		b.TabTo("#q", 30)
		b.Key("C-9972")
		b.KeyNav(kb.Enter)
		if !strings.Contains(b.Text("#results"), "Piet Jansen") {
			t.Errorf("search by keyboard: %s", b.Body())
		}
		check(t)
	})

	t.Run("batches", func(t *testing.T) {
		b.Go(s.URL + "/console/batches")
		check(t)
	})

	t.Run("home", func(t *testing.T) {
		b.Go(s.URL + "/console/")
		check(t)
	})

	switchTo(t, "admin")
	t.Run("admin", func(t *testing.T) {
		b.Go(s.URL + "/console/admin/audit")
		check(t)
		b.TabTo("#actor", 40)
		b.Key("demo:Kees")
		b.KeyNav(kb.Enter)
		if got := b.Text("#audit-table"); !strings.Contains(got, "demo:Kees") || strings.Contains(got, "demo:Anne") {
			t.Errorf("filtered trail: %s", got)
		}
		check(t)
		b.Go(s.URL + "/console/admin/optouts")
		check(t)
	})
}
