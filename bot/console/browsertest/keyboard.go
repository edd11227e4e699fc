package browsertest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Stop is one place the Tab key brings keyboard focus to.
type Stop struct {
	// Name says which element: tag#id, or tag "text" without an id.
	Name string `json:"name"`
	// Index is the element's place among the page's focusable elements in
	// document order (-1 when it is not one of them).
	Index int `json:"index"`
	// Indicator is how focus shows (an outline, a shadow, a changed
	// border or background); empty when nothing visible changes.
	Indicator string `json:"indicator"`
	// InView is false when the focused element is off screen or has no size.
	InView bool `json:"inView"`
}

// focusJS defines window.__kb: the page's focusable elements in document
// order (one per radio group, as Tab treats them), a description of an
// element, and the look of an element with and without focus.
const focusJS = `window.__kb = window.__kb || (function () {
	var sel = 'a[href], button, input, select, textarea, summary, [tabindex]';
	function shown(e) {
		if (e.closest('[hidden], [inert]')) { return false; }
		var s = getComputedStyle(e);
		if (s.visibility === 'hidden' || s.display === 'none') { return false; }
		return e.getClientRects().length > 0;
	}
	function focusable() {
		var seen = {}, out = [];
		document.querySelectorAll(sel).forEach(function (e) {
			if (e.disabled || e.tabIndex < 0 || (e.type === 'hidden') || !shown(e)) { return; }
			if (e.type === 'radio' && e.name) {
				var k = (e.form ? e.form.action : '') + '|' + e.name;
				if (seen[k]) { return; }
				seen[k] = true;
			}
			out.push(e);
		});
		return out;
	}
	function name(e) {
		if (!e || e === document.body || e === document.documentElement) { return ''; }
		var n = e.tagName.toLowerCase();
		if (e.id) { return n + '#' + e.id; }
		if (e.name) { return n + '[name=' + e.name + ']'; }
		return n + ' "' + (e.innerText || e.value || '').trim().replace(/\s+/g, ' ').slice(0, 40) + '"';
	}
	function look(e) {
		var s = getComputedStyle(e);
		return {outline: s.outlineStyle === 'none' || parseFloat(s.outlineWidth) === 0 ? '' : s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor,
			shadow: s.boxShadow === 'none' ? '' : s.boxShadow,
			border: s.borderTopColor + ' ' + s.borderTopWidth + ' ' + s.borderBottomColor + ' ' + s.borderBottomWidth,
			bg: s.backgroundColor, color: s.color, deco: s.textDecorationLine + ' ' + s.textDecorationThickness};
	}
	return {focusable: focusable, name: name, look: look};
})();`

// stopJS describes the focused element: its name, its place, whether it
// is in view, and how it looks with focus and, after a blur, without.
const stopJS = `(function () {
	var e = document.activeElement, kb = window.__kb;
	if (!e || e === document.body || e === document.documentElement) { return JSON.stringify(null); }
	var with_ = kb.look(e), r = e.getBoundingClientRect();
	var inView = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
	var label = e.type === 'radio' || e.type === 'checkbox' ? document.querySelector('label[for="' + e.id + '"]') : null;
	var lwith = label ? kb.look(label) : null;
	// Focus shows only for keyboard focus (:focus-visible); compare with
	// the same element unfocused by looking at a clone beside it.
	var c = e.cloneNode(true);
	c.removeAttribute('id');
	c.setAttribute('aria-hidden', 'true');
	c.tabIndex = -1;
	e.after(c);
	var without = kb.look(c);
	c.remove();
	var ind = [];
	if (with_.outline && with_.outline !== without.outline) { ind.push('outline ' + with_.outline); }
	if (with_.shadow !== without.shadow) { ind.push('shadow'); }
	if (with_.border !== without.border) { ind.push('border'); }
	if (with_.bg !== without.bg || with_.color !== without.color) { ind.push('colour'); }
	if (lwith && lwith.outline) { ind.push('label outline'); }
	var idx = kb.focusable().indexOf(e);
	if (idx < 0 && e.type === 'radio') {
		kb.focusable().forEach(function (f, i) { if (f.type === 'radio' && f.name === e.name && f.form === e.form) { idx = i; } });
	}
	return JSON.stringify({name: kb.name(e), index: idx, indicator: ind.join(', '), inView: inView});
})()`

// Key presses keys (see chromedp/kb: kb.Tab, kb.Enter, " ", kb.ArrowDown)
// on whatever has focus, as a person at the keyboard would.
func (b *Browser) Key(keys string, opts ...chromedp.KeyOption) {
	b.t.Helper()
	b.Do(chromedp.KeyEvent(keys, opts...))
}

// KeyNav presses keys and waits for the next page to load (Enter on a
// link or a submit button).
func (b *Browser) KeyNav(keys string) {
	b.t.Helper()
	b.Do(chromedp.Evaluate[chromedp.Void](`window.__oldPage = true; undefined`))
	b.Key(keys)
	b.WaitFor("the next page after pressing a key", `window.__oldPage === undefined && document.readyState === "complete"`, b.Timeout)
}

// Focused names the element that has keyboard focus ("" for none).
func (b *Browser) Focused() string {
	b.t.Helper()
	b.Do(chromedp.Evaluate[chromedp.Void](focusJS + ";undefined"))
	return Eval[string](b, `window.__kb.name(document.activeElement)`)
}

// TabTo presses Tab until the element matching css has focus, failing
// after max presses. It proves the element can be reached by keyboard.
func (b *Browser) TabTo(css string, max int) {
	b.t.Helper()
	sel, _ := json.Marshal(css)
	for range max {
		b.Key(kb.Tab)
		if Eval[bool](b, fmt.Sprintf(`document.activeElement !== null && document.activeElement.matches(%s)`, sel)) {
			return
		}
	}
	b.t.Fatalf("%s not reached with %d presses of Tab at %s (focus on %s)", css, max, b.URL(), b.Focused())
}

// TabStops puts focus at the top of the page and presses Tab until focus
// leaves the page or comes back round, returning every stop in order.
func (b *Browser) TabStops() []Stop {
	b.t.Helper()
	b.focusTop()
	var stops []Stop
	for range 200 {
		b.Key(kb.Tab)
		raw := Eval[string](b, stopJS)
		var s *Stop
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			b.t.Fatalf("tab stop: %v", err)
		}
		if s == nil || (len(stops) > 0 && s.Name == stops[0].Name) {
			break
		}
		stops = append(stops, *s)
	}
	return stops
}

// focusTop puts focus on the document itself, at the top, so the next Tab
// goes to the first element of the page (as right after loading it).
func (b *Browser) focusTop() {
	b.t.Helper()
	b.Do(chromedp.Evaluate[chromedp.Void](focusJS + `;
		if (document.activeElement) { document.activeElement.blur(); }
		window.scrollTo(0, 0);
		document.documentElement.tabIndex = -1;
		document.documentElement.focus();
		document.documentElement.removeAttribute("tabindex");
		undefined`))
}

// AssertKeyboard tabs through the page and fails unless the first stop is
// the skip link, every focusable element is reached, in document order
// (no tabindex reshuffles what a sighted user sees), each shows a visible
// focus indicator and is scrolled into view, and the skip link moves focus
// to the main content. It returns the stops, for checks of a screen's own.
func (b *Browser) AssertKeyboard() []Stop {
	b.t.Helper()
	stops := b.TabStops()
	if len(stops) == 0 {
		b.t.Errorf("keyboard at %s: Tab reaches nothing", b.URL())
		return nil
	}
	all := Eval[[]string](b, `window.__kb.focusable().map(window.__kb.name)`)
	var bad []string
	if !strings.Contains(stops[0].Name, "skip") && !Eval[bool](b, `document.querySelector("a.utrecht-skip-link") !== null && window.__kb.focusable()[0] === document.querySelector("a.utrecht-skip-link")`) {
		bad = append(bad, "the first stop is "+stops[0].Name+", not the skip link")
	}
	reached := map[int]bool{}
	last := -1
	for _, s := range stops {
		switch {
		case s.Index < 0:
			bad = append(bad, s.Name+" gets focus but is not a visible focusable element")
		case s.Index < last:
			bad = append(bad, fmt.Sprintf("%s comes after %s: not in reading order", s.Name, all[last]))
		}
		if s.Index >= 0 {
			reached[s.Index] = true
			last = max(last, s.Index)
		}
		if s.Indicator == "" {
			bad = append(bad, s.Name+" shows no visible focus indicator")
		}
		if !s.InView {
			bad = append(bad, s.Name+" has focus but is not in view")
		}
	}
	for i, name := range all {
		if !reached[i] {
			bad = append(bad, name+" cannot be reached with Tab")
		}
	}
	if len(bad) > 0 {
		b.t.Errorf("keyboard at %s (%d stops):\n  %s", b.URL(), len(stops), strings.Join(bad, "\n  "))
	}
	// The skip link takes focus past the header to the main content.
	b.focusTop()
	b.Key(kb.Tab)
	if Eval[bool](b, `document.activeElement !== null && document.activeElement.matches("a.utrecht-skip-link")`) {
		b.Key(kb.Enter)
		if got := b.Focused(); got != "main#main" {
			b.t.Errorf("keyboard at %s: the skip link moves focus to %q, want main#main", b.URL(), got)
		}
	}
	return stops
}

// Zoom widths: 200 % zoom of a 1280 px window, and the 320 CSS px of
// WCAG's reflow criterion (1280 px at 400 %).
const (
	Zoom200Width = 640
	ReflowWidth  = 320
)

// AssertReflow fails when the page needs sideways scrolling at 200 % zoom
// or at 320 CSS px, then restores the desktop width.
func (b *Browser) AssertReflow() {
	b.t.Helper()
	defer b.Viewport(DesktopWidth, 900)
	for _, w := range []int{Zoom200Width, ReflowWidth} {
		b.Viewport(w, 640)
		b.AssertNoHorizontalScroll()
	}
}
