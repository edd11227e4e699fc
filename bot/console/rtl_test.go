package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/console/browsertest"
	"github.com/seintje/seintje/internal/testflows"
)

// An Arabic conversation in the werkplaats task screen: Seintje's Arabic
// messages are marked lang="ar" and shown right to left, the person's
// reply takes its direction from its own letters, and the recipient's name
// in the queue is isolated (<bdi>), so a right-to-left name cannot reorder
// the reference next to it.
func TestArabicTranscriptRightToLeft(t *testing.T) {
	dir := testflows.Dir(t)
	testflows.CopyExtra(t, dir, "ask-ar")
	s := newSite(t, map[string]string{"SEINTJE_FLOWS_DIR": dir})
	const phone = "+31612349977"
	st, m := s.API(http.MethodPost, "/v1/nudges", tokCaseworker, map[string]any{"flow": "ask-ar",
		"recipient":  map[string]any{"ref": "C-9977", "phone": phone, "name": "فاطمة الزهراء", "language": "ar"},
		"caseworker": map[string]any{"name": "Ahmed"}})
	if st != http.StatusAccepted {
		t.Fatalf("POST /v1/nudges: %d %v", st, m)
	}
	nudge := m["id"].(string)
	s.Eventually("the Arabic SMS", func() bool { return len(s.SentTo(phone)) >= 1 })
	s.SMS(phone, "٢") // Arabic-Indic 2: call me
	task := s.CallbackOf(nudge)

	b := browsertest.New(t)
	b.SignInDemo(s.URL, "Anne", "werkplaats")
	b.Go(s.URL + "/console/queue")
	if got := b.Text("#task-" + task + " bdi"); got != "فاطمة الزهراء" {
		t.Errorf("name in the queue: %q, want it inside <bdi>", got)
	}
	b.ClickNav("#claim-" + task)
	type bubble struct{ Lang, Dir, Direction, Text string }
	bubbles := browsertest.Eval[[]bubble](b, `[...document.querySelectorAll(".sj-msg__body")].map(e => ({
		Lang: e.getAttribute("lang") || "", Dir: e.getAttribute("dir") || "",
		Direction: getComputedStyle(e).direction, Text: e.textContent}))`)
	if len(bubbles) < 3 {
		t.Fatalf("transcript has %d messages, want the question, the reply and the answer: %v", len(bubbles), bubbles)
	}
	for _, bb := range bubbles {
		arabic := strings.ContainsAny(bb.Text, "مرحباشكر")
		switch {
		case arabic && (bb.Direction != "rtl" || bb.Lang != "ar"):
			t.Errorf("Arabic message %q: lang=%q direction %s, want ar and rtl", bb.Text, bb.Lang, bb.Direction)
		case bb.Text == "٢" && bb.Dir != "auto":
			t.Errorf("the reply %q has dir=%q, want auto", bb.Text, bb.Dir)
		}
	}
	b.AssertAccessible()
}

// The preview of a batch shows each row's first message the way the phone
// will: an Arabic row's message is marked lang="ar" and shown right to
// left, a Dutch one left to right, and a row in a language the flow does
// not have (French) shows the Dutch text it will really get, marked nl.
func TestBatchPreviewRightToLeft(t *testing.T) {
	dir := testflows.Dir(t)
	testflows.CopyExtra(t, dir, "ask-ar")
	s := newSite(t, map[string]string{"SEINTJE_FLOWS_DIR": dir})
	b := uploadFlowAs(t, s, "Fatima", "ask-ar", "Kenmerk;Telefoon;Naam;Taal\r\n"+
		"C-1;06 12345671;Sanne de Vries;nl\r\n"+
		"C-2;06 12345672;فاطمة الزهراء;ar\r\n"+
		"C-3;06 12345673;Julie Martin;fr\r\n", false)
	type para struct{ Row, Lang, Dir, Direction, Text string }
	paras := browsertest.Eval[[]para](b, `[...document.querySelectorAll("#previews .sj-sms")].map(e => ({
		Row: e.closest("[data-row]").dataset.row, Lang: e.getAttribute("lang") || "", Dir: e.getAttribute("dir") || "",
		Direction: getComputedStyle(e).direction, Text: e.textContent}))`)
	if len(paras) != 3 {
		t.Fatalf("%d preview messages, want one per row: %v\n%s", len(paras), paras, b.Body())
	}
	want := map[string]struct{ lang, dir, direction, start string }{
		"2": {"nl", "auto", "ltr", "Hallo Sanne"},
		"3": {"ar", "rtl", "rtl", "مرحبا فاطمة"},
		"4": {"nl", "auto", "ltr", "Hallo Julie"},
	}
	for _, p := range paras {
		w, ok := want[p.Row]
		if !ok {
			t.Errorf("preview of unexpected row %s: %v", p.Row, p)
			continue
		}
		if p.Lang != w.lang || p.Dir != w.dir || p.Direction != w.direction || !strings.HasPrefix(p.Text, w.start) {
			t.Errorf("row %s: lang=%q dir=%q direction %s text %.40q; want lang=%q dir=%q direction %s text starting %q",
				p.Row, p.Lang, p.Dir, p.Direction, p.Text, w.lang, w.dir, w.direction, w.start)
		}
	}
	b.AssertAccessible()
}
