package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"licensedesk/accounts"
	"licensedesk/web"
)

// The self-service pages in headless Chromium, on the real accounts service
// and database (mail kept by accountstest.Ops), at a desktop and a phone
// width: sign-in, profile edit, add a contact, change password, sign-out,
// make myself primary, and the whole reset flow from the emailed link.
// Set LICENSEDESK_SCREENSHOTS to keep screenshots (see browser_test.go).
func TestBrowser_AccountPages(t *testing.T) {
	for _, size := range []struct {
		name          string
		width, height int64
	}{
		{"desktop", 1280, 900},
		{"phone", 375, 740},
	} {
		t.Run(size.name, func(t *testing.T) {
			ctx := web.StartBrowser(t, size.width, size.height)
			s := newSite(t, accounts.Options{})
			b := &browser{t: t, ctx: ctx, base: s.srv.URL, width: size.width, prefix: "account_" + size.name + "_"}

			// Sign in: a wrong password, then the right one.
			b.open("/account", http.StatusOK)
			b.wantPath("/signin")
			b.check("signin")
			b.step("type a wrong password",
				chromedp.SendKeys(chromedp.ID("email"), "alice@acme.test"),
				chromedp.SendKeys(chromedp.ID("password"), "not my password at all"))
			b.submit(`main button[type=submit]`, http.StatusUnprocessableEntity)
			b.wantText(`.alert`, "That email and password don't match an account.")
			if v := b.value("email"); v != "alice@acme.test" {
				t.Errorf("email after a failed sign-in: %q", v)
			}
			b.check("signin_error")
			b.step("type the right password", chromedp.SendKeys(chromedp.ID("password"), demoPassword))
			b.submit(`main button[type=submit]`, http.StatusOK)
			b.wantPath("/account")
			b.wantText(`h1`, "Your account")
			b.wantText(`#profile`, emailSentence)
			b.check("account")

			// Profile: HTML typed into a field stays text.
			b.step("edit the profile",
				chromedp.Clear(chromedp.ID("display_name")),
				chromedp.SendKeys(chromedp.ID("display_name"), "Alice <b>Bold</b>"),
				chromedp.SendKeys(chromedp.ID("phone"), "+1 555 0100"),
				chromedp.SendKeys(chromedp.ID("address"), "1 Road\nTown"))
			b.submit(`#profile button[type=submit]`, http.StatusOK)
			b.wantText(`#profile .alert-ok`, "Your changes are saved.")
			if v := b.value("display_name"); v != "Alice <b>Bold</b>" {
				t.Errorf("display name after saving: %q", v)
			}
			if n := BrowserInt(t, ctx, `document.querySelectorAll('main b').length`); n != 0 {
				t.Errorf("the display name became %d <b> elements", n)
			}
			if got := s.account("alice@acme.test"); got.Phone != "+1 555 0100" || got.Address != "1 Road\nTown" {
				t.Errorf("stored profile %+v", got)
			}
			b.check("profile_saved")

			// Add a contact: one that exists, then a new one.
			lic := `#lic-SEN-1000001`
			b.step("add an existing contact",
				chromedp.SetValue(chromedp.ID("lic-SEN-1000001-role"), "technical"),
				chromedp.SendKeys(chromedp.ID("lic-SEN-1000001-email"), "bob@acme.test"))
			b.submit(lic+` form:has(input[value=add_contact]) button`, http.StatusConflict)
			b.wantText(lic+` .alert`, "bob@acme.test is already a technical contact of SEN-1000001.")
			b.step("add a new contact",
				chromedp.SetValue(chromedp.ID("lic-SEN-1000001-role"), "billing"),
				chromedp.Clear(chromedp.ID("lic-SEN-1000001-email")),
				chromedp.SendKeys(chromedp.ID("lic-SEN-1000001-email"), "dana@new.test"))
			b.submit(lic+` form:has(input[value=add_contact]) button`, http.StatusOK)
			b.wantText(lic+` .alert-ok`, "dana@new.test is now a billing contact of SEN-1000001.")
			b.wantText(lic+` .people`, "dana@new.test")
			b.check("contact_added")

			// Change password: this browser stays signed in.
			const alicePassword = "purple tractor sings at dawn"
			b.step("change the password",
				chromedp.SendKeys(chromedp.ID("current_password"), demoPassword),
				chromedp.SendKeys(chromedp.ID("new_password"), alicePassword),
				chromedp.SendKeys(chromedp.ID("new_password_confirm"), alicePassword))
			b.submit(`#password button[type=submit]`, http.StatusOK)
			b.wantText(`#password .alert-ok`, "Your password has been changed.")
			b.check("password_changed")

			// Sign out, sign in as bob, make himself primary.
			b.submit(`.acct-who button`, http.StatusOK)
			b.wantText(`.alert-ok`, "You're signed out.")
			b.signIn("bob@acme.test", demoPassword)
			b.submit(lic+` form:has(input[value=promote]) button`, http.StatusOK)
			b.wantText(`h1`, "Become the primary technical contact?")
			b.wantText(`main`, "alice@acme.test")
			b.check("promote_confirm")
			b.submit(`form:has(input[value=promote]) button.btn-primary`, http.StatusOK)
			b.wantText(lic+` .alert-ok`, "You are now the primary technical contact of SEN-1000001.")
			b.check("promoted")
			b.submit(`.acct-who button`, http.StatusOK)

			// Reset bob's password from the emailed link.
			b.submit(`a[href="/password/forgot"]`, http.StatusOK)
			b.check("forgot")
			b.step("ask for a link", chromedp.SendKeys(chromedp.ID("email"), "bob@acme.test"))
			b.submit(`main button[type=submit]`, http.StatusOK)
			b.wantText(`main`, web.ResetSentMessage)
			b.check("reset_sent")
			link := s.ops.LastResetLink("bob@acme.test")
			if link == "" {
				t.Fatal("no reset email")
			}
			b.open(link, http.StatusOK)
			b.check("reset_form")
			const bobPassword = "seven green kites over the harbour"
			b.step("choose a mismatched password",
				chromedp.SendKeys(chromedp.ID("password"), bobPassword),
				chromedp.SendKeys(chromedp.ID("password_confirm"), bobPassword+"!"))
			b.submit(`main button[type=submit]`, http.StatusUnprocessableEntity)
			b.wantText(`.alert`, "The two passwords don't match")
			b.step("choose the new password",
				chromedp.SendKeys(chromedp.ID("password"), bobPassword),
				chromedp.SendKeys(chromedp.ID("password_confirm"), bobPassword))
			b.submit(`main button[type=submit]`, http.StatusOK)
			b.wantText(`main`, web.ResetDoneMessage)
			b.check("reset_done")
			b.open(link, http.StatusGone)
			b.check("reset_used")
			b.signIn("bob@acme.test", bobPassword)
			b.wantText(`.who`, "bob@acme.test")
		})
	}
}

// browser drives one tab through the pages.
type browser struct {
	t      *testing.T
	ctx    context.Context
	base   string
	width  int64
	prefix string // of screenshot names
}

func (b *browser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	web.BrowserStep(b.t, b.ctx, what, actions...)
}

func (b *browser) open(path string, status int) {
	b.t.Helper()
	if got := web.BrowserSubmit(b.t, b.ctx, "open "+path, chromedp.Navigate(b.base+path)); got != int64(status) {
		b.t.Fatalf("open %s: status %d, want %d", path, got, status)
	}
}

// submit clicks selector (a button or link) and checks the next page's status.
func (b *browser) submit(selector string, status int) {
	b.t.Helper()
	if got := web.BrowserSubmit(b.t, b.ctx, "click "+selector, chromedp.Click(chromedp.CSS(selector))); got != int64(status) {
		b.t.Fatalf("click %s: status %d, want %d: %s", selector, got, status, b.text(`main`))
	}
}

func (b *browser) signIn(email, password string) {
	b.t.Helper()
	b.open("/signin", http.StatusOK)
	b.step("sign in as "+email,
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password))
	b.submit(`main button[type=submit]`, http.StatusOK)
	b.wantPath("/account")
}

func (b *browser) text(selector string) string {
	b.t.Helper()
	return web.BrowserValue(b.t, b.ctx, "read "+selector, chromedp.Text(chromedp.CSS(selector)))
}

func (b *browser) value(id string) string {
	b.t.Helper()
	return web.BrowserValue(b.t, b.ctx, "value of "+id, chromedp.Value(chromedp.ID(id)))
}

func (b *browser) wantText(selector, want string) {
	b.t.Helper()
	if got := b.text(selector); !strings.Contains(strings.Join(strings.Fields(got), " "), want) {
		b.t.Errorf("%s says %q; want %q in it", selector, got, want)
	}
}

func (b *browser) wantPath(path string) {
	b.t.Helper()
	if got := web.BrowserValue(b.t, b.ctx, "location", chromedp.Evaluate[string](`location.pathname`)); got != path {
		b.t.Fatalf("at %s, want %s", got, path)
	}
}

// check looks at the page as a person would: styled (the CSP let the
// stylesheet through), no sideways scrolling, every control inside the
// screen and every button big enough to tap. It saves a screenshot when
// asked to.
func (b *browser) check(name string) {
	b.t.Helper()
	web.SaveScreenshot(b.t, b.ctx, b.prefix+name)
	web.CheckFitsWidth(b.t, b.ctx, int(b.width))
	font := web.BrowserValue(b.t, b.ctx, "body font", chromedp.Evaluate[string](`getComputedStyle(document.body).fontFamily`))
	if !strings.Contains(font, "system-ui") {
		b.t.Errorf("%s: the stylesheet did not apply (font %q)", name, font)
	}
	bad := web.BrowserValue(b.t, b.ctx, "controls", chromedp.Evaluate[[]string](`
		[...document.querySelectorAll('button, a.btn, input:not([type=hidden]):not(.visually-hidden), select, textarea')]
		.filter(e => { const r = e.getBoundingClientRect();
			// A checkbox is tapped through its label.
			const h = e.matches('input[type=checkbox]') && e.closest('label') ? e.closest('label').getBoundingClientRect().height : r.height;
			return r.left < 0 || r.right > innerWidth + 0.5 || (h < 44 && e.matches('button, a.btn, input, select')); })
		.map(e => e.outerHTML.slice(0, 100))`))
	if len(bad) > 0 {
		b.t.Errorf("%s: controls off screen or smaller than 44 px: %q", name, bad)
	}
}

// BrowserInt evaluates a JavaScript expression that gives a number.
func BrowserInt(t *testing.T, ctx context.Context, js string) int {
	t.Helper()
	return web.BrowserValue(t, ctx, js, chromedp.Evaluate[int](js))
}
