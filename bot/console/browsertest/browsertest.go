// Package browsertest runs console screens in a real browser for tests:
// one headless Debian Chromium per test binary, an isolated browser
// context (own cookies) per session, an axe-core accessibility scan, a
// check that the page broke no Content-Security-Policy rule, screenshots,
// and the demo sign-in.
//
// Use it from any package's tests:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
//
//	func TestMyScreen(t *testing.T) {
//		b := browsertest.New(t)               // skips without Chromium (fails on CI)
//		b.SignInDemo(baseURL, "Anne", "werkplaats")
//		b.Go(baseURL + "/console/queue")
//		b.AssertAccessible()                  // 0 serious or critical axe violations
//	}
package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

//go:embed axe/axe.min.js
var axeSource string

// DefaultChromium is Debian's chromium; SEINTJE_CHROMIUM overrides it.
const DefaultChromium = "/usr/bin/chromium"

// Widths for screenshots and layout checks.
const (
	DesktopWidth = 1280
	PhoneWidth   = 375
)

// shared is the one browser of this test binary, started by the first
// New and stopped by Main. Test-support state: production code keeps
// none at package level.
var shared struct {
	once    sync.Once
	ctx     context.Context
	cancel  func()
	err     error
	skipped string
}

func chromiumPath() string {
	if p := os.Getenv("SEINTJE_CHROMIUM"); p != "" {
		return p
	}
	return DefaultChromium
}

func start() {
	path := chromiumPath()
	if _, err := exec.LookPath(path); err != nil {
		shared.skipped = fmt.Sprintf("no Chromium at %s (install Debian's chromium, or set SEINTJE_CHROMIUM)", path)
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("lang", "nl-NL"),
		chromedp.WindowSize(DesktopWidth, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil { // start the browser
		cancelCtx()
		cancelAlloc()
		shared.err = fmt.Errorf("start %s: %w", path, err)
		return
	}
	shared.ctx = ctx
	shared.cancel = func() { cancelCtx(); cancelAlloc() }
}

// Main runs the tests and then stops the shared browser. Call it from
// TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
	}
	os.Exit(code)
}

// Browser is one browser session (its own cookies) in one tab.
type Browser struct {
	t   testing.TB
	ctx context.Context
	// Timeout bounds each step (default 20 s).
	Timeout time.Duration
}

// New opens a fresh browser session for t. Without Chromium the test is
// skipped, unless CI is set: then it fails.
func New(t testing.TB) *Browser {
	t.Helper()
	shared.once.Do(start)
	if shared.skipped != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser tests need Chromium: %s", shared.skipped)
		}
		t.Skip(shared.skipped)
	}
	if shared.err != nil {
		t.Fatalf("browser: %v", shared.err)
	}
	ctx, cancel := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first run opens the tab; it must not carry a timeout (the tab
	// would close when the timeout's context ends).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser: open a tab: %v", err)
	}
	b := &Browser{t: t, ctx: ctx, Timeout: 20 * time.Second}
	// Collect Content-Security-Policy violations on every page.
	b.Do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__csp = []; document.addEventListener("securitypolicyviolation", function (e) { window.__csp.push(e.violatedDirective + " " + e.blockedURI); });`,
		})
		return err
	}))
	b.Do(chromedp.EmulateViewport(DesktopWidth, 900))
	return b
}

// Context is the browser context, for chromedp actions of your own.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs actions, failing the test on an error.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.URL())
	}
}

// Try runs actions and returns the error (for steps that may fail).
func (b *Browser) Try(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// Go navigates to url and waits for the page to load.
func (b *Browser) Go(url string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(url))
}

// URL is the current location.
func (b *Browser) URL() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown)"
	}
	return u
}

// Eval evaluates a JavaScript expression and decodes its JSON value.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %q: %v", expr, err)
	}
	return v
}

// Text returns the visible text of the first element matching a CSS
// selector; the test fails when there is none.
func (b *Browser) Text(css string) string {
	b.t.Helper()
	sel, _ := json.Marshal(css)
	v := Eval[*string](b, fmt.Sprintf(`(function (e) { return e ? e.innerText : null; })(document.querySelector(%s))`, sel))
	if v == nil {
		b.t.Fatalf("no element %s at %s", css, b.URL())
	}
	return *v
}

// Exists reports whether an element matches a CSS selector.
func (b *Browser) Exists(css string) bool {
	b.t.Helper()
	sel, _ := json.Marshal(css)
	return Eval[bool](b, fmt.Sprintf(`document.querySelector(%s) !== null`, sel))
}

// Body returns the visible text of the page.
func (b *Browser) Body() string {
	b.t.Helper()
	return Eval[string](b, `document.body.innerText`)
}

// Status is the HTTP status of the current page (from the Navigation
// Timing API; 0 when unknown).
func (b *Browser) Status() int {
	b.t.Helper()
	return Eval[int](b, `(performance.getEntriesByType("navigation")[0] || {}).responseStatus || 0`)
}

// WaitFor polls a JavaScript condition until it is true or timeout passes.
func (b *Browser) WaitFor(what, cond string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited %s for %s (%s): err %v, at %s", timeout, what, cond, err, b.URL())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Fill sets the value of the form field matching css as typing would
// (input and change events fire, so htmx and scripts react).
func (b *Browser) Fill(css, value string) {
	b.t.Helper()
	sel, _ := json.Marshal(css)
	val, _ := json.Marshal(value)
	ok := Eval[bool](b, fmt.Sprintf(`(function (e) {
		if (!e) { return false; }
		e.focus();
		if (e.type === "radio" || e.type === "checkbox") { e.checked = true; } else { e.value = %s; }
		e.dispatchEvent(new Event("input", {bubbles: true}));
		e.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})(document.querySelector(%s))`, val, sel))
	if !ok {
		b.t.Fatalf("no field %s at %s", css, b.URL())
	}
}

// ClickNav clicks the element matching css and waits until the page it
// leads to has loaded (a new document, readyState complete).
func (b *Browser) ClickNav(css string) {
	b.t.Helper()
	b.Do(chromedp.Evaluate[chromedp.Void](`window.__oldPage = true; undefined`))
	// A list that refreshes itself (htmx polling) may swap the element out
	// between finding it and clicking it: find it again, a few times.
	var err error
	for range 5 {
		if err = b.Try(chromedp.Click(chromedp.CSS(css))); err == nil || !strings.Contains(err.Error(), "Could not find node") {
			break
		}
	}
	if err != nil {
		b.t.Fatalf("browser: click %s: %v (at %s)", css, err, b.URL())
	}
	b.WaitFor("the next page after clicking "+css, `window.__oldPage === undefined && document.readyState === "complete"`, b.Timeout)
}

// Violation is one axe-core rule a page breaks.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// Accessibility runs axe-core (WCAG 2.0/2.1 A and AA rules) on the page and
// returns every violation.
func (b *Browser) Accessibility() []Violation {
	b.t.Helper()
	if !Eval[bool](b, `typeof window.axe === "object"`) {
		b.Do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[chromedp.Void](axeSource+"\n;undefined")(ctx, tg)
			return err
		}))
	}
	raw := Eval[string](b, `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
		.then(function (r) { return JSON.stringify(r.violations.map(function (v) {
			return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(function (n) { return n.target.join(" ") + " :: " + (n.failureSummary || ""); })};
		})); })`)
	var vs []Violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		b.t.Fatalf("axe result: %v", err)
	}
	return vs
}

// AssertAccessible fails the test when axe-core finds a serious or
// critical violation, or when the page broke a Content-Security-Policy
// rule (an inline script or style, a resource from elsewhere).
func (b *Browser) AssertAccessible() {
	b.t.Helper()
	var bad []string
	for _, v := range b.Accessibility() {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, fmt.Sprintf("%s (%s): %s\n    %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n    ")))
		}
	}
	if len(bad) > 0 {
		b.t.Errorf("axe-core at %s:\n  %s", b.URL(), strings.Join(bad, "\n  "))
	}
	b.AssertNoCSPViolations()
}

// AssertNoCSPViolations fails when the page broke its CSP.
func (b *Browser) AssertNoCSPViolations() {
	b.t.Helper()
	if v := Eval[[]string](b, `window.__csp || []`); len(v) > 0 {
		b.t.Errorf("CSP violations at %s: %v", b.URL(), v)
	}
}

// Viewport sets the window size in CSS pixels (PhoneWidth, DesktopWidth).
func (b *Browser) Viewport(width, height int) {
	b.t.Helper()
	b.Do(chromedp.EmulateViewport(int64(width), int64(height)))
}

// ScreenshotsEnv turns screenshots on: SEINTJE_SCREENSHOTS=1 go test ./bot/console/
const ScreenshotsEnv = "SEINTJE_SCREENSHOTS"

// Screenshot saves a full-page PNG at path (directories are made) at
// width CSS pixels, then restores the desktop width. It does nothing
// unless SEINTJE_SCREENSHOTS is set, so a test run leaves the checkout
// unchanged.
func (b *Browser) Screenshot(path string, width int) {
	b.t.Helper()
	if os.Getenv(ScreenshotsEnv) == "" {
		return
	}
	b.Viewport(width, 900)
	defer b.Viewport(DesktopWidth, 900)
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// AssertNoHorizontalScroll fails when the page is wider than the window
// (at phone width or 200 % zoom nothing may need sideways scrolling).
func (b *Browser) AssertNoHorizontalScroll() {
	b.t.Helper()
	if w := Eval[[]int](b, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1]+1 {
		// Name the elements that stick out (the innermost ones).
		wide := Eval[[]string](b, `(function () {
			var out = [];
			document.querySelectorAll("body *").forEach(function (e) {
				if (e.getBoundingClientRect().right <= innerWidth + 1) { return; }
				for (var a = e.parentElement; a; a = a.parentElement) {
					if (getComputedStyle(a).overflowX !== "visible" && a.getBoundingClientRect().right <= innerWidth + 1) { return; }
				}
				for (var c of e.children) { if (c.getBoundingClientRect().right > innerWidth + 1) { return; } }
				out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + String(e.className).split(" ").join(".") : "") + " (" + Math.round(e.getBoundingClientRect().right) + " px)");
			});
			return out.slice(0, 5);
		})()`)
		b.t.Errorf("page is %d px wide in a %d px window at %s; too wide: %s", w[0], w[1], b.URL(), strings.Join(wide, ", "))
	}
}

// SignInDemo signs in with the demo form (serve --demo) as name with role.
func (b *Browser) SignInDemo(baseURL, name, role string) {
	b.t.Helper()
	b.Go(baseURL + "/console/login")
	b.Do(
		chromedp.SetValue(chromedp.ID("name"), name),
		chromedp.Click(chromedp.ID("role-"+role)),
	)
	b.ClickNav("#demo-submit")
	if strings.HasPrefix(Eval[string](b, "location.pathname"), "/console/login") {
		b.t.Fatalf("demo sign-in as %s (%s) failed: %s", name, role, b.Body())
	}
}

// PostWithoutCSRF submits a form to path from the page's own origin but
// without the CSRF token (as a forged form would), and returns the status.
func (b *Browser) PostWithoutCSRF(path string, fields map[string]string) int {
	b.t.Helper()
	body, _ := json.Marshal(fields)
	return Eval[int](b, fmt.Sprintf(`fetch(%q, {method: "POST", body: new URLSearchParams(%s), redirect: "manual"}).then(function (r) { return r.status; })`, path, body))
}
