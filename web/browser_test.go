package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"licensedesk/licensing"
	"licensedesk/links"
)

// Browser tests drive the real pages in headless Chromium, to check what
// unit tests cannot: that they lay out on a phone and that their forms work
// in a browser under our Content-Security-Policy.
//
// Set LICENSEDESK_SCREENSHOTS to a directory to keep PNG screenshots of the
// pages the tests visit.

// ChromiumPath is where the tests look for the browser first (Debian's
// chromium package); then "chromium" and "chromium-browser" on PATH.
const ChromiumPath = "/usr/bin/chromium"

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

// StartBrowser starts a headless Chromium for the test, with a fresh
// profile, and returns a chromedp context for one tab whose viewport is
// width×height CSS pixels, emulating a phone (mobile layout, 2× pixels).
// It skips the test when Chromium is not installed or under -short. The
// browser stops when the test ends. Use it with chromedp.Do/chromedp.Run.
func StartBrowser(t *testing.T, width, height int64) context.Context {
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

// BrowserStep runs actions with a time limit, failing the test on error.
func BrowserStep(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// BrowserValue runs one action that returns a value, with a time limit.
func BrowserValue[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// BrowserSubmit runs actions that submit a form (a click, usually), waits
// for the next page and returns its HTTP status.
func BrowserSubmit(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) int64 {
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
	sw := BrowserValue(t, ctx, "read scrollWidth", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if sw > width {
		t.Errorf("page is %d px wide on a %d px screen (horizontal scroll)", sw, width)
	}
}

// SaveScreenshot writes a full-page PNG to $LICENSEDESK_SCREENSHOTS/name.png
// when that variable names a directory; otherwise it does nothing.
func SaveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("LICENSEDESK_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := BrowserValue(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot: %s", file)
}

// rect is an element's box in CSS pixels.
type rect struct {
	Left, Right, Top, Bottom, Width, Height float64
}

func boxOf(t *testing.T, ctx context.Context, selector string) rect {
	t.Helper()
	js := fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
		return {Left: r.left, Right: r.right, Top: r.top, Bottom: r.bottom, Width: r.width, Height: r.height}; })()`, selector)
	return BrowserValue(t, ctx, "measure "+selector, chromedp.Evaluate[rect](js))
}

const phoneWidth, phoneHeight = 375, 740

func TestBrowser_LinkPagesOnAPhone(t *testing.T) {
	ctx := StartBrowser(t, phoneWidth, phoneHeight)

	fake := newFakeLinks()
	fake.act = func(a links.Action) (links.Result, error) {
		if a.Password != a.PasswordConfirm {
			return links.Result{}, licensing.Errorf(licensing.Invalid, "The two passwords don't match; type the same password in both fields.")
		}
		if a.Password != "" {
			return links.Result{Title: "Your account is ready", Message: "You can now sign in with dana@new.test and the password you chose."}, nil
		}
		return links.Result{Title: "You are now the primary contact", Message: "You are the primary billing and technical contact for SEN-1000001. The previous primary contact is now a secondary contact."}, nil
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// securityHeaders too, so the CSP the server really sends is in force.
	srv := httptest.NewServer(securityHeaders(LinkPages(fake, logger)))
	t.Cleanup(srv.Close)

	t.Run("promote", func(t *testing.T) {
		BrowserStep(t, ctx, "open promote page",
			chromedp.Navigate(srv.URL+"/l/"+tokPromote),
			chromedp.WaitVisible(chromedp.CSS(`button[type=submit]`)),
		)
		SaveScreenshot(t, ctx, "promote")
		CheckFitsWidth(t, ctx, phoneWidth)
		checkStyled(t, ctx)
		btn := boxOf(t, ctx, `button[type=submit]`)
		if btn.Left < 0 || btn.Right > phoneWidth || btn.Height < 44 || btn.Width < 300 {
			t.Errorf("button box %+v: want within 0–%d px, at least 44 px high and full width", btn, phoneWidth)
		}
		if label := BrowserValue(t, ctx, "button label", chromedp.Text(chromedp.CSS(`button[type=submit]`))); !strings.Contains(label, "Make me the primary billing and technical contact for SEN-1000001") {
			t.Errorf("button says %q", label)
		}

		status := BrowserSubmit(t, ctx, "press the button", chromedp.Click(chromedp.CSS(`button[type=submit]`)))
		if status != http.StatusOK {
			t.Fatalf("result status %d", status)
		}
		SaveScreenshot(t, ctx, "promote_result")
		if h1 := BrowserValue(t, ctx, "result title", chromedp.Text(chromedp.CSS(`h1`))); h1 != "You are now the primary contact" {
			t.Fatalf("result page title %q", h1)
		}
		body := BrowserValue(t, ctx, "result text", chromedp.Text(chromedp.CSS(`main`)))
		if !strings.Contains(body, "The previous primary contact is now a secondary contact.") {
			t.Fatalf("result page says %q", body)
		}
		CheckFitsWidth(t, ctx, phoneWidth)
	})

	t.Run("complete account", func(t *testing.T) {
		BrowserStep(t, ctx, "open account page",
			chromedp.Navigate(srv.URL+"/l/"+tokComplete),
			chromedp.WaitVisible(chromedp.ID(`display_name`)),
		)
		CheckFitsWidth(t, ctx, phoneWidth)
		for _, sel := range []string{`#display_name`, `#password`, `#password_confirm`, `button[type=submit]`} {
			if b := boxOf(t, ctx, sel); b.Height < 44 || b.Right > phoneWidth {
				t.Errorf("%s box %+v: want at least 44 px high, within the screen", sel, b)
			}
		}
		BrowserStep(t, ctx, "fill in mismatched passwords",
			chromedp.SendKeys(chromedp.ID(`display_name`), "Dana Scully"),
			chromedp.SendKeys(chromedp.ID(`password`), "purple tractor sings at dawn"),
			chromedp.SendKeys(chromedp.ID(`password_confirm`), "purple tractor sings at dusk"),
		)
		SaveScreenshot(t, ctx, "account_filled")
		status := BrowserSubmit(t, ctx, "submit mismatched", chromedp.Click(chromedp.CSS(`button[type=submit]`)))
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422", status)
		}
		SaveScreenshot(t, ctx, "account_error")
		if msg := BrowserValue(t, ctx, "error message", chromedp.Text(chromedp.CSS(`.alert`))); !strings.Contains(msg, "The two passwords don't match") {
			t.Fatalf("error message %q", msg)
		}
		if v := BrowserValue(t, ctx, "name kept", chromedp.Value(chromedp.ID(`display_name`))); v != "Dana Scully" {
			t.Errorf("display name after the error is %q", v)
		}
		if v := BrowserValue(t, ctx, "password cleared", chromedp.Value(chromedp.ID(`password`))); v != "" {
			t.Errorf("password field kept %q", v)
		}
		CheckFitsWidth(t, ctx, phoneWidth)

		BrowserStep(t, ctx, "fill in matching passwords",
			chromedp.SendKeys(chromedp.ID(`password`), "purple tractor sings at dawn"),
			chromedp.SendKeys(chromedp.ID(`password_confirm`), "purple tractor sings at dawn"),
		)
		status = BrowserSubmit(t, ctx, "submit matching", chromedp.Click(chromedp.CSS(`button[type=submit]`)))
		if status != http.StatusOK {
			t.Fatalf("status %d, want 200", status)
		}
		if h1 := BrowserValue(t, ctx, "result title", chromedp.Text(chromedp.CSS(`h1`))); h1 != "Your account is ready" {
			t.Fatalf("result page title %q", h1)
		}
		_, acts := fake.calls()
		last := acts[len(acts)-1].Action
		if last.DisplayName != "Dana Scully" || last.Password != "purple tractor sings at dawn" || last.PasswordConfirm != last.Password {
			t.Fatalf("last action %+v", last)
		}
	})

	t.Run("confirm and errors", func(t *testing.T) {
		BrowserStep(t, ctx, "open confirm page",
			chromedp.Navigate(srv.URL+"/l/"+tokConfirmMove),
			chromedp.WaitVisible(chromedp.CSS(`button[value=decline]`)),
		)
		SaveScreenshot(t, ctx, "confirm_move")
		CheckFitsWidth(t, ctx, phoneWidth)
		approve, decline := boxOf(t, ctx, `button[value=approve]`), boxOf(t, ctx, `button[value=decline]`)
		if approve.Height < 44 || decline.Height < 44 || decline.Top < approve.Bottom {
			t.Errorf("buttons %+v and %+v: want at least 44 px high, stacked", approve, decline)
		}
		// A keyboard user sees where they are.
		// The header's home link comes first, then the first button.
		BrowserStep(t, ctx, "tab to the first button", chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t"))
		focus := BrowserValue(t, ctx, "focus style", chromedp.Evaluate[string](
			`document.activeElement.value + " " + getComputedStyle(document.activeElement).outlineStyle`))
		if focus != "approve solid" {
			t.Errorf("focused element and outline: %q, want Approve with a solid outline", focus)
		}

		status := BrowserSubmit(t, ctx, "decline", chromedp.Click(chromedp.CSS(`button[value=decline]`)))
		if status != http.StatusOK {
			t.Fatalf("decline status %d", status)
		}
		if _, acts := fake.calls(); acts[len(acts)-1].Action.Decision != "decline" {
			t.Fatalf("last action %+v, want decline", acts[len(acts)-1])
		}

		status = BrowserSubmit(t, ctx, "open a used link", chromedp.Navigate(srv.URL+"/l/"+tokUsed))
		if status != http.StatusGone {
			t.Fatalf("used link status %d", status)
		}
		SaveScreenshot(t, ctx, "used_link")
		CheckFitsWidth(t, ctx, phoneWidth)
	})
}

// checkStyled fails when the inline stylesheet did not apply, as happens
// when the Content-Security-Policy blocks it.
func checkStyled(t *testing.T, ctx context.Context) {
	t.Helper()
	font := BrowserValue(t, ctx, "body font", chromedp.Evaluate[string](`getComputedStyle(document.body).fontFamily`))
	if !strings.Contains(font, "system-ui") {
		t.Errorf("body font %q: the inline stylesheet did not apply (CSP?)", font)
	}
}
