package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"licensedesk/accounts"
	"licensedesk/internal/clock/clocktest"
	"licensedesk/licensing"
)

// TestAccount_PastDueBannerAtTheTop (defect 1): gina's past-due licence is
// a banner above everything else on her page, naming the amount, the
// licence, when and why the charge failed and the suspension date, with the
// primary button that updates the card.
func TestAccount_PastDueBannerAtTheTop(t *testing.T) {
	s := newSite(t, accounts.Options{SuspendAfter: 15 * 24 * time.Hour})
	c := s.client()
	p := c.signIn("gina@initech.test", demoPassword)
	wantStatus(t, p, http.StatusOK)
	// The demo's invoice fell due three days before the day the data was
	// loaded (the test's day), and its charge failed then.
	due := clocktest.Now(t).Truncate(24*time.Hour).AddDate(0, 0, -3)
	sentence := fmt.Sprintf("Payment of USD 10.00 for SEN-1000003 failed on %s: card declined. Update your card before %s to keep Jira Service Management running.",
		licensing.ShortDate(due), licensing.ShortDate(due.AddDate(0, 0, 15)))
	wantText(t, p, "Payment failed for SEN-1000003", sentence, "Update the card for")
	banner := strings.Index(p.Body, `class="banner"`)
	licences := strings.Index(p.Body, `id="licences"`)
	profile := strings.Index(p.Body, `id="profile"`)
	if banner < 0 || banner > licences || licences > profile {
		t.Errorf("order on the page: banner %d, licences %d, profile %d; want banner first, then licences, then the profile", banner, licences, profile)
	}
	// The banner's button is the primary one and updates the card.
	form := p.Body[banner:licences]
	if !strings.Contains(form, `class="btn btn-primary"`) || !strings.Contains(form, `name="action" value="card"`) || !strings.Contains(form, `value="SEN-1000003"`) {
		t.Errorf("banner has no primary update-card button:\n%s", form)
	}
	// In the licence itself the status says the same, and its button is primary too.
	lic := p.Body[strings.Index(p.Body, `id="lic-SEN-1000003"`):]
	if !strings.Contains(lic, `tag-bad`) || !strings.Contains(lic, `<button class="btn btn-primary" type="submit">Update card</button>`) {
		t.Errorf("licence card does not flag the status")
	}
	wantStatus(t, c.post("/account", url.Values{"action": {"card"}, "sen": {"SEN-1000003"}}), http.StatusSeeOther)

	// A paid-up licence has no banner.
	a := s.client().signIn("alice@acme.test", demoPassword)
	noText(t, a, "Payment failed", "is suspended")
	if strings.Contains(a.Body, `class="banner"`) {
		t.Error("alice's page has a banner")
	}
}

// TestAccount_PastDueBannerForSomeoneWhoMayNotUpdateTheCard: a contact who
// may not update the card (annual licence, not a site admin) is told whom to
// ask instead of getting a button that would refuse.
func TestAccount_PastDueBannerForSomeoneWhoMayNotUpdateTheCard(t *testing.T) {
	s := newSite(t, accounts.Options{})
	ctx := t.Context()
	if _, err := s.db.Pool().Exec(ctx, `UPDATE licenses SET status = 'suspended' WHERE sen = 'SEN-1000002'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Pool().Exec(ctx, `
		INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency)
		SELECT id, 'SEN-1000002-2026-10-01', '2026-10-01', '2027-10-01', '2026-10-01', 10000, 'USD' FROM licenses WHERE sen = 'SEN-1000002'`); err != nil {
		t.Fatal(err)
	}
	p := s.client().signIn("erin@globex.test", demoPassword)
	wantText(t, p, "SEN-1000002 is suspended", "SEN-1000002 is suspended: invoice SEN-1000002-2026-10-01 (USD 100.00) is unpaid.",
		"Only a site admin (frank@globex.test) can update the card of this licence")
	noText(t, p, "Update the card for")
}

// TestAccount_EachContactOnceWithTheirRoles (defect 8): alice, primary in
// both roles, is one line with two tags, not two lines.
func TestAccount_EachContactOnceWithTheirRoles(t *testing.T) {
	s := newSite(t, accounts.Options{})
	p := s.client().signIn("bob@acme.test", demoPassword)
	lic := p.Body[strings.Index(p.Body, `id="lic-SEN-1000001"`):]
	lic = lic[:strings.Index(lic, `</ul>`)]
	if n := strings.Count(lic, `<span class="person">alice@acme.test`); n != 1 {
		t.Errorf("alice listed %d times", n)
	}
	for _, tag := range []string{`>Primary billing</span>`, `>Primary technical</span>`, `>Secondary technical</span>`} {
		if !strings.Contains(lic, tag) {
			t.Errorf("no tag %s in\n%s", tag, lic)
		}
	}
}
