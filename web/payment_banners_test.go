package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"licensedesk/accounts"
	"licensedesk/internal/clock/clocktest"
)

// A payment waiting for the bank's confirmation is a banner whose main
// button leads to the bank's check (a confirm-payment link of the person's
// own, made now), with another card as the second way.
func TestAccount_PaymentWaitingForTheBankHasItsOwnButton(t *testing.T) {
	s := newSite(t, accounts.Options{SuspendAfter: 15 * 24 * time.Hour})
	ctx := t.Context()
	if _, err := s.db.Pool().Exec(ctx, `UPDATE charge_attempts SET decline_code = 'authentication_required', provider_ref = 'pi_sb_1'`); err != nil {
		t.Fatal(err)
	}
	c := s.client()
	p := c.signIn("gina@initech.test", demoPassword)
	wantStatus(t, p, http.StatusOK)
	wantText(t, p, "Confirm your payment for SEN-1000003", "waits for the cardholder", "(or use another card) to keep Jira Service Management running", "Use another card")
	banner := p.Body[strings.Index(p.Body, `class="banner"`):strings.Index(p.Body, `id="licences"`)]
	if i, j := strings.Index(banner, `value="confirm_payment"`), strings.Index(banner, `value="card"`); i < 0 || j < i ||
		!strings.Contains(banner[:j], `class="btn btn-primary"`) {
		t.Errorf("the banner's main button is not Confirm the payment:\n%s", banner)
	}
	r := c.post("/account", url.Values{"action": {"confirm_payment"}, "sen": {"SEN-1000003"}})
	wantStatus(t, r, http.StatusSeeOther)
	if !strings.HasPrefix(r.Location, "/l/") {
		t.Fatalf("confirm_payment went to %q; want a link page of ours", r.Location)
	}
	var purpose, wf, origin string
	if err := s.db.Pool().QueryRow(ctx, `SELECT purpose, workflow_id, data->>'origin' FROM link_tokens ORDER BY id DESC LIMIT 1`).Scan(&purpose, &wf, &origin); err != nil {
		t.Fatal(err)
	}
	if purpose != "confirm_payment" || !strings.HasPrefix(wf, "invoice/SEN-1000003-") || origin != "account" {
		t.Errorf("link %s %s %s", purpose, wf, origin)
	}

	// Someone else's licence: the same answer as a licence that does not
	// exist; a licence whose payment waits for no bank: said plainly.
	a := s.client()
	a.signIn("alice@acme.test", demoPassword)
	x := a.post("/account", url.Values{"action": {"confirm_payment"}, "sen": {"SEN-1000003"}})
	y := a.post("/account", url.Values{"action": {"confirm_payment"}, "sen": {"SEN-9999999"}})
	if x.Status != y.Status || x.Status < 400 {
		t.Errorf("stranger: %d vs unknown %d", x.Status, y.Status)
	}
	wantText(t, a.post("/account", url.Values{"action": {"confirm_payment"}, "sen": {"SEN-1000001"}}), "No payment of SEN-1000001 is waiting for your bank")
}

// A card that expires within 30 days is a banner with the update-card
// button, and a tag on the licence; a day earlier there is none.
func TestAccount_ExpiringCardBanner(t *testing.T) {
	now := clocktest.Now(t)
	expires := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 2, 0)
	last := expires.AddDate(0, 0, -1)
	for _, tt := range []struct {
		at     time.Time
		banner bool
	}{{expires.AddDate(0, 0, -31), false}, {expires.AddDate(0, 0, -30), true}, {expires.AddDate(0, 0, 3), true}} {
		s := newSite(t, accounts.Options{Now: func() time.Time { return tt.at }})
		if _, err := s.db.Pool().Exec(t.Context(), `UPDATE payment_methods p SET exp_month = $1, exp_year = $2 FROM licenses l
			WHERE l.id = p.license_id AND l.sen = 'SEN-1000001'`, int(last.Month()), last.Year()); err != nil {
			t.Fatal(err)
		}
		p := s.client().signIn("bob@acme.test", demoPassword)
		if !tt.banner {
			noText(t, p, "The card for SEN-1000001")
			continue
		}
		title := "The card for SEN-1000001 expires soon"
		if !tt.at.Before(expires) {
			title = "The card for SEN-1000001 has expired"
		}
		wantText(t, p, title, "Visa ending 4242", "Update the card for")
		banner := p.Body[strings.Index(p.Body, `class="banner banner-warn"`):strings.Index(p.Body, `id="licences"`)]
		if !strings.Contains(banner, `name="action" value="card"`) || !strings.Contains(banner, `value="SEN-1000001"`) {
			t.Errorf("banner without the update-card button:\n%s", banner)
		}
	}
}
