package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"licensedesk/bot"
	"licensedesk/internal/browsertest"
	"licensedesk/licensing"
)

// Two stories on the real stack (dev: PostgreSQL, Temporal, the payments
// sandbox), walked in headless Chromium at a phone's width, as a customer
// lives them (issue 12). Screenshots with LICENSEDESK_SCREENSHOTS=dir.

// TestDev_PastDueStoryInABrowser: gina's card is declined again; her
// account page opens with the banner (amount, licence, when and why, the
// date to act by) and its button, which leads straight to the sandbox's
// card page; she pays there, comes back to the real outcome, and the
// banner is gone.
func TestDev_PastDueStoryInABrowser(t *testing.T) {
	s := startDev(t)
	today := licensing.ShortDate(s.clock.Now())

	// A failed charge: sales retries with the declining card on file.
	if got := bot.PlainText(s.slack(t, "charge SEN-1000003")); strings.Contains(got, "nothing") {
		t.Fatalf("charge: %s", got)
	}
	failure := s.waitMail(t, "gina@initech.test", "Payment for SEN-1000003 failed")
	if !strings.Contains(failure.Text, "failed on "+s.clock.Now().UTC().Format("Monday 2 January 2006")+": card declined.") {
		t.Errorf("failure mail without today's failed charge:\n%s", failure.Text)
	}

	b := browsertest.NewPage(t, s.state.HTTPURL, browsertest.PhoneWidth, "story-past-due-")
	b.Open("/signin", http.StatusOK)
	b.Step("sign in as gina", chromedp.SendKeys(chromedp.ID("email"), "gina@initech.test"),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery staple"))
	b.Click(`main button[type=submit]`, http.StatusOK)
	b.WantPath("/account")
	b.WantText(".banner", "Payment of USD 10.00 for SEN-1000003 failed on "+today+": card declined.")
	b.WantText(".banner", "Update your card before")
	if btn := browsertest.Box(t, b.Ctx, ".banner .btn-primary"); btn.Bottom > browsertest.PhoneHeight {
		t.Errorf("the banner's button ends %v px down a phone's screen", btn.Bottom)
	}
	b.CheckWithAction("1-banner", ".banner .btn-primary")

	// Update card goes straight to the (sandbox's) card page (review #9).
	b.Click(".banner .btn-primary", http.StatusOK)
	if n := b.Int(`location.pathname.startsWith('/sandbox/checkout/') ? 1 : 0`); n != 1 {
		t.Fatalf("Update card did not lead straight to the card page: %s", b.Text("main"))
	}
	b.Step("pick a working card", chromedp.Click(chromedp.CSS(`input[value=pm_card_visa]`)))
	b.Check("3-sandbox")
	b.Click(`button.btn-primary`, http.StatusOK) // back at /card/saved
	b.WantPath("/card/saved")
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(b.Text("h1"), "the invoice is paid"); {
		if time.Now().After(deadline) {
			t.Fatalf("the card page never said the invoice is paid: %s", b.Text("main"))
		}
		time.Sleep(300 * time.Millisecond)
		b.Open("/card/saved", http.StatusOK) // its Check again button
	}
	b.WantText("main", "is paid, and SEN-1000003 is in good standing")
	b.CheckWithAction("4-paid", "")

	// The account page has no banner any more.
	b.Click(`a.btn-primary[href="/account"]`, http.StatusOK)
	if n := b.Int(`document.querySelectorAll('.banner').length`); n != 0 {
		t.Errorf("%d banners after paying", n)
	}
	b.WantText("#lic-SEN-1000003", "Active")
	b.Check("5-account-paid")
	if st := s.license(t, "SEN-1000003")["status"]; st != "active" {
		t.Errorf("licence status %v", st)
	}
}

// TestDev_MoveStoryFromTheNewOwnersSide: a move of SEN-1000001 to
// zoe@new.test, seen by zoe. Her mail and page say who asked and when,
// that alice approved, who is demoted and what primary means. She declines:
// the move ends, nothing changed, alice is told, the link is used. Asked
// again, she sets up her account and accepts: the move completes.
func TestDev_MoveStoryFromTheNewOwnersSide(t *testing.T) {
	s := startDev(t)
	const zoe = "zoe@new.test"
	today := licensing.ShortDate(s.clock.Now())
	before := contactsOf(s.license(t, "SEN-1000001"))
	askAndApprove := func(n int) keptMail {
		t.Helper()
		s.press(t, s.slack(t, "move SEN-1000001 "+zoe))
		confirms := s.waitMails(t, "alice@acme.test", "Please confirm moving SEN-1000001", n)
		if code, page := follow(t, confirms[0].Links[0], url.Values{"decision": {"approve"}}); code != 200 || !strings.Contains(page, "You confirmed moving SEN-1000001 to "+zoe) {
			t.Fatalf("approve: %d\n%s", code, page)
		}
		return s.waitMails(t, zoe, "Set up your account and take over SEN-1000001", n)[0]
	}
	b := browsertest.NewPage(t, s.state.HTTPURL, browsertest.PhoneWidth, "story-move-")

	// The decline branch.
	mail := askAndApprove(1)
	for _, want := range []string{"Our sales team asked on", "alice@acme.test approved the move on", "What the primary contact does", "Decline"} {
		if !strings.Contains(strings.Join(strings.Fields(mail.Text), " "), want) {
			t.Errorf("promotion mail lacks %q:\n%s", want, mail.Text)
		}
	}
	b.Open(s.rebase(mail.Links[0]), http.StatusOK)
	b.WantText("main", "Our sales team asked on "+today+" to move SEN-1000001 (Jira Software) to your address, "+zoe+", and alice@acme.test approved the move on "+today+".")
	b.WantText("main", "alice@acme.test, the primary contact now, becomes a secondary contact and is then removed from the licence.")
	b.WantText("main", "The primary billing contact receives the invoices")
	b.CheckWithAction("1-promote-page", "button[value=accept]")
	b.Click("button[value=decline]", http.StatusOK)
	b.WantText("h1", "You declined to take over SEN-1000001")
	b.WantText("main", "The move of SEN-1000001 to you is called off.")
	b.CheckWithAction("2-declined", "")
	s.waitStatus(t, "move/SEN-1000001/"+zoe, "declined")
	if got := contactsOf(s.license(t, "SEN-1000001")); got != before {
		t.Errorf("contacts after the decline: %s; want %s", got, before)
	}
	told := s.waitMail(t, "alice@acme.test", "The move of SEN-1000001 was cancelled")
	if !strings.Contains(told.Text, zoe+" declined to become the primary contact") {
		t.Errorf("alice's mail:\n%s", told.Text)
	}
	b.Open(s.rebase(mail.Links[0]), http.StatusGone)
	b.WantText("h1", "You have already used this link")
	b.Check("3-link-used")
	recordHistory(t, s.temporalClient(t), "move/SEN-1000001/"+zoe, "move-promotion-declined")

	// The accept branch: asked again, zoe sets up her account and accepts.
	mail = askAndApprove(2)
	b.Open(s.rebase(mail.Links[0]), http.StatusOK)
	b.Step("set up the account", chromedp.SendKeys(chromedp.ID("display_name"), "Zoe New"),
		chromedp.SendKeys(chromedp.ID("password"), "a long enough passphrase here"),
		chromedp.SendKeys(chromedp.ID("password_confirm"), "a long enough passphrase here"))
	b.Click("button[value=accept]", http.StatusOK)
	// Review #11: the page says the account was made too, and how to sign in.
	b.WantText("h1", "Your account is set up, and you are now the primary billing and technical contact of SEN-1000001")
	b.WantText("main", "Sign in with "+zoe+" and the password you just chose")
	b.WantText("main", "alice@acme.test became a secondary contact")
	b.CheckWithAction("4-accepted", "")
	s.waitStatus(t, "move/SEN-1000001/"+zoe, "completed")
	if got := contactsOf(s.license(t, "SEN-1000001")); !strings.Contains(got, zoe+"/billing*") || !strings.Contains(got, zoe+"/technical*") || strings.Contains(got, "alice") {
		t.Errorf("contacts after the move: %s", got)
	}
	done := s.waitMail(t, zoe, "has moved to")
	if !strings.Contains(done.Text, "Visa ending 4242, added by alice@acme.test, stays on the licence and keeps paying for it") {
		t.Errorf("zoe's completion mail does not offer the card update:\n%s", done.Text)
	}
}
