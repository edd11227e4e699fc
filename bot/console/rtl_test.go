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
