// Package browsertest drives headless Chromium for tests that must see a
// page as a person does: that it lays out on a phone and on a desktop, that
// its forms work under our Content-Security-Policy, and what it looks like
// (screenshots). The web tests and the end-to-end tests share it.
//
// Set LICENSEDESK_SCREENSHOTS to a directory to keep PNG screenshots of the
// pages the tests visit.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where the tests look for the browser first (Debian's
// chromium package); then "chromium" and "chromium-browser" on PATH.
const ChromiumPath = "/usr/bin/chromium"

// Widths every customer page is checked and photographed at: a phone and a
// desktop.
const (
	PhoneWidth, PhoneHeight     = 375, 740
	DesktopWidth, DesktopHeight = 1280, 900
)

// findChromium returns the browser's path, or "" when none is installed.
func findChromium() string {
	if _, err := os.Stat(ChromiumPath); err == nil {
		return ChromiumPath
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start starts a headless Chromium for the test, with a fresh profile, and
// returns a chromedp context for one tab whose viewport is width×height CSS
// pixels, emulating a phone (mobile layout, 2× pixels). It skips the test
// when Chromium is not installed or under -short. The browser stops when
// the test ends.
func Start(t *testing.T, width, height int64) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path := findChromium()
	if path == "" {
		t.Skip("chromium not installed: apt-get install chromium")
	}
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(int(width), int(height)),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		// Chromium's helpers can still write to the profile for a moment
		// after the browser exits; empty it before TempDir's own cleanup
		// reports "directory not empty".
		for range 50 {
			if err := os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// Start the browser without a deadline (a deadline on the first Run
	// would bound the browser's whole life), then set up the viewport.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium (%s): %v", path, err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		t.Fatalf("set viewport: %v", err)
	}
	return ctx
}

// Step runs actions with a time limit, failing the test on error.
func Step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Value runs one action that returns a value, with a time limit.
func Value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Submit runs actions that load a page (a click, a navigation), waits for
// it and returns its HTTP status.
func Submit(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return res.Status
}

// CheckFitsWidth fails the test when the page scrolls sideways at width.
func CheckFitsWidth(t *testing.T, ctx context.Context, width int) {
	t.Helper()
	sw := Value(t, ctx, "read scrollWidth", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if sw > width {
		t.Errorf("page is %d px wide on a %d px screen (horizontal scroll)", sw, width)
	}
}

// SaveScreenshot writes a full-page PNG to $LICENSEDESK_SCREENSHOTS/name.png
// when that variable names a directory (made if missing); otherwise it does
// nothing.
func SaveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("LICENSEDESK_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot folder: %v", err)
	}
	png := Value(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot: %s", file)
}

// Rect is an element's box in CSS pixels.
type Rect struct {
	Left, Right, Top, Bottom, Width, Height float64
}

// Box measures the first element matching selector.
func Box(t *testing.T, ctx context.Context, selector string) Rect {
	t.Helper()
	js := fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
		return {Left: r.left, Right: r.right, Top: r.top, Bottom: r.bottom, Width: r.width, Height: r.height}; })()`, selector)
	return Value(t, ctx, "measure "+selector, chromedp.Evaluate[Rect](js))
}

// CheckStyled fails when the inline stylesheet did not apply, as happens
// when the Content-Security-Policy blocks it.
func CheckStyled(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	font := Value(t, ctx, "body font", chromedp.Evaluate[string](`getComputedStyle(document.body).fontFamily`))
	if !strings.Contains(font, "system-ui") {
		t.Errorf("%s: the stylesheet did not apply (font %q)", name, font)
	}
}

// CheckControls fails when a control is off screen or a button, a
// button-styled link, an input or a select is less than 44 px high (too
// small to tap).
func CheckControls(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	bad := Value(t, ctx, "controls", chromedp.Evaluate[[]string](`
		[...document.querySelectorAll('button, a.btn, input:not([type=hidden]):not(.visually-hidden), select, textarea')]
		.filter(e => { const r = e.getBoundingClientRect();
			if (r.width === 0 && r.height === 0) return false; // not shown (a closed <details>)
			// A checkbox or radio button is tapped through its label.
			const h = e.matches('input[type=checkbox], input[type=radio]') && e.closest('label') ? e.closest('label').getBoundingClientRect().height : r.height;
			return r.left < 0 || r.right > innerWidth + 0.5 || (h < 44 && e.matches('button, a.btn, input, select')); })
		.map(e => e.outerHTML.slice(0, 100))`))
	if len(bad) > 0 {
		t.Errorf("%s: controls off screen or smaller than 44 px: %q", name, bad)
	}
}

// CheckPrimaryAction fails when the page has no visible primary button
// (selector, ".btn-primary" when empty) inside the screen's width: a page
// that lost its way on.
func CheckPrimaryAction(t *testing.T, ctx context.Context, name, selector string) {
	t.Helper()
	if selector == "" {
		selector = ".btn-primary"
	}
	ok := Value(t, ctx, "primary action", chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const e = document.querySelector(%q); if (!e) return false;
		const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
		return r.width > 0 && r.height >= 44 && r.left >= 0 && r.right <= innerWidth + 0.5 && s.visibility !== 'hidden' && s.display !== 'none'; })()`, selector)))
	if !ok {
		t.Errorf("%s: no visible primary action (%s)", name, selector)
	}
}

// Page is one tab going through a site: it opens pages, presses buttons,
// reads text, and checks every page it is asked to as a person would see
// it, saving a screenshot named Prefix+name.
type Page struct {
	T      *testing.T
	Ctx    context.Context
	Base   string // the site's URL
	Width  int64
	Prefix string // of screenshot names
}

// NewPage starts a browser at width (PhoneWidth or DesktopWidth) for the site at base.
func NewPage(t *testing.T, base string, width int64, prefix string) *Page {
	height := int64(DesktopHeight)
	if width <= PhoneWidth {
		height = PhoneHeight
	}
	return &Page{T: t, Ctx: Start(t, width, height), Base: base, Width: width, Prefix: prefix}
}

// Step runs actions.
func (b *Page) Step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	Step(b.T, b.Ctx, what, actions...)
}

// Open loads path (below Base, or a whole URL) and checks its status.
func (b *Page) Open(path string, status int) {
	b.T.Helper()
	u := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		u = b.Base + path
	}
	if got := Submit(b.T, b.Ctx, "open "+path, chromedp.Navigate(u)); got != int64(status) {
		b.T.Fatalf("open %s: status %d, want %d: %s", path, got, status, b.Text(`body`))
	}
}

// Click clicks selector (a button or link) and checks the next page's status.
func (b *Page) Click(selector string, status int) {
	b.T.Helper()
	if got := Submit(b.T, b.Ctx, "click "+selector, chromedp.Click(chromedp.CSS(selector))); got != int64(status) {
		b.T.Fatalf("click %s: status %d, want %d: %s", selector, got, status, b.Text(`main`))
	}
}

// Text is selector's text.
func (b *Page) Text(selector string) string {
	b.T.Helper()
	return Value(b.T, b.Ctx, "read "+selector, chromedp.Text(chromedp.CSS(selector)))
}

// InputValue is the value of the input with id.
func (b *Page) InputValue(id string) string {
	b.T.Helper()
	return Value(b.T, b.Ctx, "value of "+id, chromedp.Value(chromedp.ID(id)))
}

// WantText checks selector's text contains want (white space folded).
func (b *Page) WantText(selector, want string) {
	b.T.Helper()
	if got := b.Text(selector); !strings.Contains(strings.Join(strings.Fields(got), " "), want) {
		b.T.Errorf("%s says %q; want %q in it", selector, got, want)
	}
}

// NoText checks selector's text does not contain what.
func (b *Page) NoText(selector, what string) {
	b.T.Helper()
	if got := b.Text(selector); strings.Contains(strings.Join(strings.Fields(got), " "), what) {
		b.T.Errorf("%s says %q; it should not say %q", selector, got, what)
	}
}

// WantPath checks the tab is at path.
func (b *Page) WantPath(path string) {
	b.T.Helper()
	if got := Value(b.T, b.Ctx, "location", chromedp.Evaluate[string](`location.pathname`)); got != path {
		b.T.Fatalf("at %s, want %s", got, path)
	}
}

// Int evaluates a JavaScript expression that gives a number.
func (b *Page) Int(js string) int {
	b.T.Helper()
	return Value(b.T, b.Ctx, js, chromedp.Evaluate[int](js))
}

// Check looks at the page as a person would: styled (the CSP let the
// stylesheet through), no sideways scrolling, every control inside the
// screen and every button big enough to tap; and saves a screenshot
// when asked to.
func (b *Page) Check(name string) {
	b.T.Helper()
	SaveScreenshot(b.T, b.Ctx, b.Prefix+name)
	CheckFitsWidth(b.T, b.Ctx, int(b.Width))
	CheckStyled(b.T, b.Ctx, name)
	CheckControls(b.T, b.Ctx, name)
}

// CheckWithAction is Check, and that the page still offers its primary
// action (selector; ".btn-primary" when empty), visible and tappable.
func (b *Page) CheckWithAction(name, selector string) {
	b.T.Helper()
	b.Check(name)
	CheckPrimaryAction(b.T, b.Ctx, name, selector)
}
