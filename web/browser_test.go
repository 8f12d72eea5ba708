package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"licensedesk/internal/browsertest"
	"licensedesk/licensing"
	"licensedesk/links"
)

// Browser tests drive the real pages in headless Chromium
// (internal/browsertest), to check what unit tests cannot: that they lay
// out on a phone and that their forms work in a browser under our
// Content-Security-Policy.

const phoneWidth, phoneHeight = browsertest.PhoneWidth, browsertest.PhoneHeight

func TestBrowser_LinkPagesOnAPhone(t *testing.T) {
	ctx := browsertest.Start(t, phoneWidth, phoneHeight)

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
	srv := httptest.NewServer(securityHeaders(LinkPages(fake, logger), false))
	t.Cleanup(srv.Close)

	t.Run("promote", func(t *testing.T) {
		browsertest.Step(t, ctx, "open promote page",
			chromedp.Navigate(srv.URL+"/l/"+tokPromote),
			chromedp.WaitVisible(chromedp.CSS(`button[type=submit]`)),
		)
		browsertest.SaveScreenshot(t, ctx, "promote")
		browsertest.CheckFitsWidth(t, ctx, phoneWidth)
		browsertest.CheckStyled(t, ctx, "promote")
		btn := browsertest.Box(t, ctx, `button[type=submit]`)
		if btn.Left < 0 || btn.Right > phoneWidth || btn.Height < 44 || btn.Width < 300 {
			t.Errorf("button box %+v: want within 0–%d px, at least 44 px high and full width", btn, phoneWidth)
		}
		if label := browsertest.Value(t, ctx, "button label", chromedp.Text(chromedp.CSS(`button[type=submit]`))); !strings.Contains(label, "Make me the primary billing and technical contact for SEN-1000001") {
			t.Errorf("button says %q", label)
		}

		status := browsertest.Submit(t, ctx, "press the button", chromedp.Click(chromedp.CSS(`button[type=submit]`)))
		if status != http.StatusOK {
			t.Fatalf("result status %d", status)
		}
		browsertest.SaveScreenshot(t, ctx, "promote_result")
		if h1 := browsertest.Value(t, ctx, "result title", chromedp.Text(chromedp.CSS(`h1`))); h1 != "You are now the primary contact" {
			t.Fatalf("result page title %q", h1)
		}
		body := browsertest.Value(t, ctx, "result text", chromedp.Text(chromedp.CSS(`main`)))
		if !strings.Contains(body, "The previous primary contact is now a secondary contact.") {
			t.Fatalf("result page says %q", body)
		}
		browsertest.CheckFitsWidth(t, ctx, phoneWidth)
	})

	t.Run("complete account", func(t *testing.T) {
		browsertest.Step(t, ctx, "open account page",
			chromedp.Navigate(srv.URL+"/l/"+tokComplete),
			chromedp.WaitVisible(chromedp.ID(`display_name`)),
		)
		browsertest.CheckFitsWidth(t, ctx, phoneWidth)
		for _, sel := range []string{`#display_name`, `#password`, `#password_confirm`, `button[type=submit]`} {
			if b := browsertest.Box(t, ctx, sel); b.Height < 44 || b.Right > phoneWidth {
				t.Errorf("%s box %+v: want at least 44 px high, within the screen", sel, b)
			}
		}
		browsertest.Step(t, ctx, "fill in mismatched passwords",
			chromedp.SendKeys(chromedp.ID(`display_name`), "Dana Scully"),
			chromedp.SendKeys(chromedp.ID(`password`), "purple tractor sings at dawn"),
			chromedp.SendKeys(chromedp.ID(`password_confirm`), "purple tractor sings at dusk"),
		)
		browsertest.SaveScreenshot(t, ctx, "account_filled")
		status := browsertest.Submit(t, ctx, "submit mismatched", chromedp.Click(chromedp.CSS(`button[type=submit]`)))
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422", status)
		}
		browsertest.SaveScreenshot(t, ctx, "account_error")
		if msg := browsertest.Value(t, ctx, "error message", chromedp.Text(chromedp.CSS(`.alert`))); !strings.Contains(msg, "The two passwords don't match") {
			t.Fatalf("error message %q", msg)
		}
		if v := browsertest.Value(t, ctx, "name kept", chromedp.Value(chromedp.ID(`display_name`))); v != "Dana Scully" {
			t.Errorf("display name after the error is %q", v)
		}
		if v := browsertest.Value(t, ctx, "password cleared", chromedp.Value(chromedp.ID(`password`))); v != "" {
			t.Errorf("password field kept %q", v)
		}
		browsertest.CheckFitsWidth(t, ctx, phoneWidth)

		browsertest.Step(t, ctx, "fill in matching passwords",
			chromedp.SendKeys(chromedp.ID(`password`), "purple tractor sings at dawn"),
			chromedp.SendKeys(chromedp.ID(`password_confirm`), "purple tractor sings at dawn"),
		)
		status = browsertest.Submit(t, ctx, "submit matching", chromedp.Click(chromedp.CSS(`button[type=submit]`)))
		if status != http.StatusOK {
			t.Fatalf("status %d, want 200", status)
		}
		if h1 := browsertest.Value(t, ctx, "result title", chromedp.Text(chromedp.CSS(`h1`))); h1 != "Your account is ready" {
			t.Fatalf("result page title %q", h1)
		}
		_, acts := fake.calls()
		last := acts[len(acts)-1].Action
		if last.DisplayName != "Dana Scully" || last.Password != "purple tractor sings at dawn" || last.PasswordConfirm != last.Password {
			t.Fatalf("last action %+v", last)
		}
	})

	t.Run("confirm and errors", func(t *testing.T) {
		browsertest.Step(t, ctx, "open confirm page",
			chromedp.Navigate(srv.URL+"/l/"+tokConfirmMove),
			chromedp.WaitVisible(chromedp.CSS(`button[value=decline]`)),
		)
		browsertest.SaveScreenshot(t, ctx, "confirm_move")
		browsertest.CheckFitsWidth(t, ctx, phoneWidth)
		approve, decline := browsertest.Box(t, ctx, `button[value=approve]`), browsertest.Box(t, ctx, `button[value=decline]`)
		if approve.Height < 44 || decline.Height < 44 || decline.Top < approve.Bottom {
			t.Errorf("buttons %+v and %+v: want at least 44 px high, stacked", approve, decline)
		}
		// A keyboard user sees where they are.
		// The header's home link comes first, then the first button.
		browsertest.Step(t, ctx, "tab to the first button", chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t"))
		focus := browsertest.Value(t, ctx, "focus style", chromedp.Evaluate[string](
			`document.activeElement.value + " " + getComputedStyle(document.activeElement).outlineStyle`))
		if focus != "approve solid" {
			t.Errorf("focused element and outline: %q, want Approve with a solid outline", focus)
		}

		status := browsertest.Submit(t, ctx, "decline", chromedp.Click(chromedp.CSS(`button[value=decline]`)))
		if status != http.StatusOK {
			t.Fatalf("decline status %d", status)
		}
		if _, acts := fake.calls(); acts[len(acts)-1].Action.Decision != "decline" {
			t.Fatalf("last action %+v, want decline", acts[len(acts)-1])
		}

		status = browsertest.Submit(t, ctx, "open a used link", chromedp.Navigate(srv.URL+"/l/"+tokUsed))
		if status != http.StatusGone {
			t.Fatalf("used link status %d", status)
		}
		browsertest.SaveScreenshot(t, ctx, "used_link")
		browsertest.CheckFitsWidth(t, ctx, phoneWidth)
	})
}
