package web_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"licensedesk/accounts"
	"licensedesk/internal/browsertest"
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
			s := newSite(t, accounts.Options{})
			b := browsertest.NewPage(t, s.srv.URL, size.width, "account_"+size.name+"_")

			// Sign in: a wrong password, then the right one.
			b.Open("/account", http.StatusOK)
			b.WantPath("/signin")
			b.Check("signin")
			b.Step("type a wrong password",
				chromedp.SendKeys(chromedp.ID("email"), "alice@acme.test"),
				chromedp.SendKeys(chromedp.ID("password"), "not my password at all"))
			b.Click(`main button[type=submit]`, http.StatusUnprocessableEntity)
			// Review #16: the error sits beside the fields it is about, both marked.
			b.WantText(`#credentials-error`, "That email and password don't match an account.")
			if n := b.Int(`document.querySelectorAll('#email[aria-invalid=true], #password[aria-invalid=true]').length`); n != 2 {
				t.Errorf("%d of email and password are marked aria-invalid, want both", n)
			}
			if v := b.InputValue("email"); v != "alice@acme.test" {
				t.Errorf("email after a failed sign-in: %q", v)
			}
			b.Check("signin_error")
			b.Step("type the right password", chromedp.SendKeys(chromedp.ID("password"), demoPassword))
			b.Click(`main button[type=submit]`, http.StatusOK)
			b.WantPath("/account")
			b.WantText(`h1`, "Your account")
			b.WantText(`#profile`, emailSentence)
			b.Check("account")

			// Profile: HTML typed into a field stays text.
			b.Step("edit the profile",
				chromedp.Clear(chromedp.ID("display_name")),
				chromedp.SendKeys(chromedp.ID("display_name"), "Alice <b>Bold</b>"),
				chromedp.SendKeys(chromedp.ID("phone"), "+1 555 0100"),
				chromedp.SendKeys(chromedp.ID("address"), "1 Road\nTown"))
			b.Click(`#profile button[type=submit]`, http.StatusOK)
			b.WantText(`#profile .alert-ok`, "Your changes are saved.")
			if v := b.InputValue("display_name"); v != "Alice <b>Bold</b>" {
				t.Errorf("display name after saving: %q", v)
			}
			if n := b.Int(`document.querySelectorAll('main b').length`); n != 0 {
				t.Errorf("the display name became %d <b> elements", n)
			}
			if got := s.account("alice@acme.test"); got.Phone != "+1 555 0100" || got.Address != "1 Road\nTown" {
				t.Errorf("stored profile %+v", got)
			}
			b.Check("profile_saved")

			// Add a contact: one that exists, then a new one.
			lic := `#lic-SEN-1000001`
			b.Step("add an existing contact",
				chromedp.SetValue(chromedp.ID("lic-SEN-1000001-role"), "technical"),
				chromedp.SendKeys(chromedp.ID("lic-SEN-1000001-email"), "bob@acme.test"))
			b.Click(lic+` form:has(input[value=add_contact]) button`, http.StatusConflict)
			b.WantText(lic+` .alert`, "bob@acme.test is already a technical contact of SEN-1000001.")
			b.Step("add a new contact",
				chromedp.SetValue(chromedp.ID("lic-SEN-1000001-role"), "billing"),
				chromedp.Clear(chromedp.ID("lic-SEN-1000001-email")),
				chromedp.SendKeys(chromedp.ID("lic-SEN-1000001-email"), "dana@new.test"))
			b.Click(lic+` form:has(input[value=add_contact]) button`, http.StatusOK)
			b.WantText(lic+` .alert-ok`, "dana@new.test is now a billing contact of SEN-1000001.")
			b.WantText(lic+` .people`, "dana@new.test")
			b.Check("contact_added")

			// Change password: this browser stays signed in.
			const alicePassword = "purple tractor sings at dawn"
			b.Step("change the password",
				chromedp.SendKeys(chromedp.ID("current_password"), demoPassword),
				chromedp.SendKeys(chromedp.ID("new_password"), alicePassword),
				chromedp.SendKeys(chromedp.ID("new_password_confirm"), alicePassword))
			b.Click(`#password button[type=submit]`, http.StatusOK)
			b.WantText(`#password .alert-ok`, "Your password has been changed.")
			b.Check("password_changed")

			// Sign out, sign in as bob, make himself primary.
			b.Click(`.acct-who button`, http.StatusOK)
			b.WantText(`.alert-ok`, "You're signed out.")
			signInPage(b, "bob@acme.test", demoPassword)
			b.Click(lic+` form:has(input[value=promote]) button`, http.StatusOK)
			b.WantText(`h1`, "Become the primary technical contact?")
			b.WantText(`main`, "alice@acme.test")
			b.Check("promote_confirm")
			b.Click(`form:has(input[value=promote]) button.btn-primary`, http.StatusOK)
			b.WantText(lic+` .alert-ok`, "You are now the primary technical contact of SEN-1000001.")
			b.Check("promoted")
			b.Click(`.acct-who button`, http.StatusOK)

			// Reset bob's password from the emailed link.
			b.Click(`a[href="/password/forgot"]`, http.StatusOK)
			b.Check("forgot")
			b.Step("ask for a link", chromedp.SendKeys(chromedp.ID("email"), "bob@acme.test"))
			b.Click(`main button[type=submit]`, http.StatusOK)
			b.WantText(`main`, web.ResetSentMessage)
			b.Check("reset_sent")
			link := s.ops.LastResetLink("bob@acme.test")
			if link == "" {
				t.Fatal("no reset email")
			}
			b.Open(link, http.StatusOK)
			b.Check("reset_form")
			const bobPassword = "seven green kites over the harbour"
			b.Step("choose a mismatched password",
				chromedp.SendKeys(chromedp.ID("password"), bobPassword),
				chromedp.SendKeys(chromedp.ID("password_confirm"), bobPassword+"!"))
			b.Click(`main button[type=submit]`, http.StatusUnprocessableEntity)
			b.WantText(`#password_confirm-error`, "The two passwords don't match")
			if n := b.Int(`document.querySelectorAll('#password_confirm[aria-invalid=true]').length`); n != 1 {
				t.Error("the second password field is not marked aria-invalid")
			}
			b.Step("choose the new password",
				chromedp.SendKeys(chromedp.ID("password"), bobPassword),
				chromedp.SendKeys(chromedp.ID("password_confirm"), bobPassword))
			b.Click(`main button[type=submit]`, http.StatusOK)
			b.WantText(`main`, web.ResetDoneMessage)
			b.Check("reset_done")
			b.Open(link, http.StatusGone)
			b.Check("reset_used")
			signInPage(b, "bob@acme.test", bobPassword)
			b.WantText(`.who`, "bob@acme.test")
		})
	}
}

// signInPage signs in on the page's tab and lands on the account page.
func signInPage(b *browsertest.Page, email, password string) {
	b.T.Helper()
	b.Open("/signin", http.StatusOK)
	b.Step("sign in as "+email,
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password))
	b.Click(`main button[type=submit]`, http.StatusOK)
	b.WantPath("/account")
}
