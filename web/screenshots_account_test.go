package web_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"licensedesk/accounts"
	"licensedesk/internal/browsertest"
	"licensedesk/internal/clock/clocktest"
	"licensedesk/licensing"
)

// TestScreenshots_AccountPages photographs and checks every self-service
// page at 375 and 1280 px (with TestScreenshots_LinkPages, one command:
// LICENSEDESK_SCREENSHOTS=docs/screenshots go run ./cmd/withpostgres -- go test ./web -run Screenshots),
// on the real accounts service and the demo data; and checks, as a person
// sees them, the past-due banner (defect 1), the confirmations and their
// destructive buttons (defect 3) and the page's order (defect 8).
func TestScreenshots_AccountPages(t *testing.T) {
	for _, width := range []int64{browsertest.PhoneWidth, browsertest.DesktopWidth} {
		t.Run(strconv.Itoa(int(width)), func(t *testing.T) {
			s := newSite(t, accounts.Options{})
			b := browsertest.NewPage(t, s.srv.URL, width, "")
			shot := func(name, action string) { b.CheckWithAction(name+"-"+strconv.Itoa(int(width)), action) }

			b.Open("/", http.StatusOK)
			shot("home", `a.btn-primary[href="/signin"]`)
			b.Open("/signin", http.StatusOK)
			shot("signin", "")
			b.Step("a wrong password", chromedp.SendKeys(chromedp.ID("email"), "alice@acme.test"),
				chromedp.SendKeys(chromedp.ID("password"), "not my password at all"))
			b.Click(`main button[type=submit]`, http.StatusUnprocessableEntity)
			shot("signin-error", "")
			b.Open("/password/forgot", http.StatusOK)
			shot("reset-forgot", "")
			b.Step("ask for a link", chromedp.SendKeys(chromedp.ID("email"), "bob@acme.test"))
			b.Click(`main button[type=submit]`, http.StatusOK)
			shot("reset-sent", ".btn-secondary")
			link := s.ops.LastResetLink("bob@acme.test")
			b.Open(link, http.StatusOK)
			shot("reset-form", "")
			b.Step("a new password", chromedp.SendKeys(chromedp.ID("password"), "seven green kites over the harbour"),
				chromedp.SendKeys(chromedp.ID("password_confirm"), "seven green kites over the harbour"))
			b.Click(`main button[type=submit]`, http.StatusOK)
			shot("reset-done", "")
			b.Open(link, http.StatusGone)
			shot("reset-used", "")
			b.Open("/password/reset/a/b", http.StatusNotFound)
			shot("account-page-not-found", "")

			// gina's licence is past due: the banner comes first, with its
			// button on the first screen, even on a phone.
			signInPage(b, "gina@initech.test", demoPassword)
			due := clocktest.Now(t).Truncate(24*time.Hour).AddDate(0, 0, -3) // the demo invoice's due date
			aliceInv, ginaInv, month := demoInvoices(t)
			b.WantText(".banner", "Payment of USD 10.00 for SEN-1000003 failed on "+licensing.ShortDate(due)+": card declined.")
			if btn := browsertest.Box(t, b.Ctx, ".banner .btn-primary"); btn.Bottom > float64(browsertest.PhoneHeight) {
				t.Errorf("the banner's Update card button ends %v px down; want it on the first screen", btn.Bottom)
			}
			shot("account-past-due", ".banner .btn-primary")
			// Her open invoice: past due, what is owed, and its PDF.
			b.Open("/account/invoices/"+ginaInv, http.StatusOK)
			b.WantText(".receipt", "USD 10.00 was due on "+licensing.ShortDate(due)+" and charging the card on file failed.")
			shot("invoice-past-due", `a.btn-primary[download]`)
			b.Open("/account/invoices/"+aliceInv, http.StatusNotFound)
			shot("invoice-not-found", `a.btn-primary[href="/account"]`)
			b.Click(`.acct-who button`, http.StatusOK)

			// Making oneself primary asks first, naming who is demoted.
			signInPage(b, "bob@acme.test", "seven green kites over the harbour") // reset above
			b.Click(`form:has(input[value=promote]) button`, http.StatusOK)
			b.WantText("main", "alice@acme.test, the primary technical contact now, becomes a secondary contact.")
			shot("account-promote-confirm", "")
			b.Click(`.acct-who button`, http.StatusOK)

			// alice: My licences above the profile, each contact once.
			signInPage(b, "alice@acme.test", demoPassword)
			if lic, prof := browsertest.Box(t, b.Ctx, "#licences").Top, browsertest.Box(t, b.Ctx, "#profile").Top; lic > prof {
				t.Errorf("My licences at %v px, the profile at %v px: want the licences first", lic, prof)
			}
			if n := b.Int(`[...document.querySelectorAll('#lic-SEN-1000001 .person')].filter(e => e.textContent.includes('alice@acme.test')).length`); n != 1 {
				t.Errorf("alice is listed %d times on her licence", n)
			}
			shot("account", "")
			// Removing someone asks first, with a red button.
			b.Click(`#lic-SEN-1000001 button[aria-label="Remove bob@acme.test as technical contact"]`, http.StatusOK)
			b.WantText("main", "bob@acme.test will no longer be a technical contact of SEN-1000001.")
			if bg := browsertest.Value(t, b.Ctx, "remove button colour", chromedp.Evaluate[string](
				`getComputedStyle(document.querySelector('form:has(input[value=remove_contact]) button[type=submit]')).backgroundColor`)); bg != "rgb(180, 35, 24)" {
				t.Errorf("the Remove button's background is %s; want the destructive red", bg)
			}
			shot("account-remove-confirm", "button.btn-danger-solid")
			b.Click(`form:has(input[value=remove_contact]) button[type=submit]`, http.StatusOK)
			b.WantText("#lic-SEN-1000001 .alert-ok", "bob@acme.test is no longer a technical contact of SEN-1000001.")
			shot("account-contact-removed", "")
			b.Click(`.acct-who button`, http.StatusOK)

			// bob, no longer a contact: the empty list says why.
			signInPage(b, "bob@acme.test", "seven green kites over the harbour") // reset above
			b.WantText("main", "No licences are attached to bob@acme.test.")
			shot("account-no-licences", "")
			b.Click(`.acct-who button`, http.StatusOK)

			// carol, site admin: what the licence pays, its invoices, a
			// receipt, and the billing address form with an error at its field.
			signInPage(b, "carol@acme.test", demoPassword)
			b.WantText("#lic-SEN-1000001 .facts", "USD 10.00 on "+licensing.ShortDate(month.AddDate(0, 1, 0)))
			shot("account-site-admin", "")
			b.Open("/account/licences/SEN-1000001/invoices", http.StatusOK)
			shot("invoices", `.invoices a.inv-number`)
			b.Open("/account/invoices/"+aliceInv, http.StatusOK)
			b.WantText(".receipt", "Visa ending 4242")
			shot("invoice-paid", `a.btn-primary[download]`)
			b.Open("/account", http.StatusOK)
			b.Step("a VAT number of the wrong shape", chromedp.SetValue(chromedp.ID("lic-SEN-1000001-bill-tax"), "DE12"))
			b.Click(`#lic-SEN-1000001-billing button[type=submit]`, http.StatusUnprocessableEntity)
			b.WantText("#lic-SEN-1000001-billing .alert", "is not a valid VAT number for United Kingdom")
			if v := b.Int(`document.querySelectorAll('#lic-SEN-1000001-bill-tax[aria-invalid=true]').length`); v != 1 {
				t.Error("the tax ID field is not marked aria-invalid")
			}
			shot("account-billing-address-error", "")

		})
	}
}
