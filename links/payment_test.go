package links_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"licensedesk/licensing"
	"licensedesk/links"
	"licensedesk/payments"
	"licensedesk/payments/sandbox"
	"licensedesk/postgres"
)

// payFixture is SEN-1000003 whose invoice's attempt 2 waits for the
// cardholder (pm_card_authenticationRequired, on the sandbox), with
// gina's confirm-payment link.
type payFixture struct {
	*fixture
	sb       *sandbox.Sandbox
	invoice  string
	chargeID string
	token    string
}

func newPayFixture(t *testing.T) *payFixture {
	t.Helper()
	ctx := context.Background()
	f := &payFixture{fixture: newFixture(t)}
	sb, err := sandbox.New(sandbox.Config{Store: sandbox.NewPGStore(f.db.Pool()), BaseURL: f.svc.PublicBaseURL, WebhookSecret: "whsec_test"})
	if err != nil {
		t.Fatal(err)
	}
	f.sb, f.svc.Payments = sb, sb
	inv, err := f.db.OpenInvoice(ctx, "SEN-1000003")
	if err != nil {
		t.Fatal(err)
	}
	f.invoice = inv.Number
	key := inv.Number + "/2"
	c, err := sb.Charge(ctx, payments.ChargeInput{CustomerID: "cus_demo_SEN-1000003", PaymentMethodID: "pm_card_authenticationRequired",
		AmountCents: inv.AmountCents, Currency: inv.Currency, IdempotencyKey: key, Metadata: map[string]string{"invoice": inv.Number}})
	if !errors.Is(err, payments.ErrNeedsAction) {
		t.Fatalf("charge: %v", err)
	}
	f.chargeID = c.ID
	if _, _, err := f.db.BeginAttempt(ctx, inv.Number, 2, key, "pm_card_authenticationRequired"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.FinishAttempt(ctx, key, postgres.AttemptResult{Status: "failed", DeclineCode: "authentication_required", ProviderRef: c.ID}); err != nil {
		t.Fatal(err)
	}
	f.token = f.link(t, "gina@initech.test", time.Hour)
	return f
}

func (f *payFixture) link(t *testing.T, email licensing.Email, ttl time.Duration) string {
	t.Helper()
	token, _, err := f.db.CreateLink(context.Background(), postgres.NewLink{Purpose: licensing.PurposeConfirmPayment, Email: email, SEN: "SEN-1000003",
		WorkflowID: "invoice/" + f.invoice, TTL: ttl, Data: map[string]any{"invoice": f.invoice, "amount": "USD 10.00", "card": "Visa ending 3184"}})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func (f *payFixture) charge(t *testing.T) sandbox.ChargeRecord {
	t.Helper()
	c, err := sandbox.NewPGStore(f.db.Pool()).SandboxCharge(context.Background(), f.chargeID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfirmPaymentLink_LeadsToTheBanksCheckOfTheSameCharge(t *testing.T) {
	ctx := context.Background()
	f := newPayFixture(t)
	r := f.get(f.token)
	if r.status != 200 || !strings.Contains(r.body, "Confirm your payment with your bank") || !strings.Contains(r.body, "USD 10.00") ||
		!strings.Contains(r.body, f.invoice) || !strings.Contains(r.body, "Visa ending 3184") {
		t.Fatalf("page %d:\n%s", r.status, r.body)
	}
	if f.charge(t).Status != payments.ChargeRequiresPaymentMethod {
		t.Fatal("GET changed the charge")
	}
	res, err := f.svc.Act(ctx, f.token, links.Action{})
	if err != nil || res.RedirectURL != f.svc.PublicBaseURL+"/sandbox/authenticate/"+f.chargeID || res.ReturnPath != "/payment/" || res.ReturnRef == "" {
		t.Fatalf("act = %+v, %v; want the bank's page of the same charge", res, err)
	}
	c := f.charge(t)
	if c.Status != payments.ChargeRequiresAction || c.ReturnURL != f.svc.PublicBaseURL+links.PaymentConfirmedPath || strings.Contains(c.ReturnURL, f.token) {
		t.Fatalf("charge %+v", c)
	}
	if n := f.count(t, `SELECT count(*) FROM sandbox_charges`); n != 1 {
		t.Fatalf("%d charges; the same one must be confirmed", n)
	}
	// Pressed again: the same challenge. The link is not spent.
	if again, err := f.svc.Act(ctx, f.token, links.Action{}); err != nil || again.RedirectURL != res.RedirectURL {
		t.Fatalf("again = %+v, %v", again, err)
	}
	// Back from the bank: the page says how it went, by the provider.
	page, err := f.svc.PaymentConfirmed(ctx, res.ReturnRef)
	if err != nil || page.Title != "Your bank is still waiting for you" {
		t.Fatalf("while the check is open: %+v, %v", page, err)
	}
	if _, err := sandbox.NewPGStore(f.db.Pool()).SandboxUpdateCharge(ctx, f.chargeID, func(c sandbox.ChargeRecord) (sandbox.ChargeRecord, bool, error) {
		c.Status, c.DeclineCode, c.UpdatedAt = payments.ChargeSucceeded, "", time.Now()
		return c, true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if page, _ := f.svc.PaymentConfirmed(ctx, res.ReturnRef); page.Title != "Your bank confirmed the payment" {
		t.Fatalf("confirmed, not yet recorded: %+v", page)
	}
	if _, err := f.db.FinishAttempt(ctx, f.invoice+"/2", postgres.AttemptResult{Status: "succeeded", ProviderRef: f.chargeID}); err != nil {
		t.Fatal(err)
	}
	if page, _ := f.svc.PaymentConfirmed(ctx, res.ReturnRef); page.Title != "Thank you: the payment went through" {
		t.Fatalf("recorded: %+v", page)
	}
	if page, _ := f.svc.PaymentConfirmed(ctx, "not-a-ref"); page.Title != "Thank you" {
		t.Fatalf("unknown ref: %+v", page)
	}
}

// Bad input: each a clear page, and the waiting charge left as it was.
func TestConfirmPaymentLink_Refusals(t *testing.T) {
	ctx := context.Background()
	t.Run("the invoice was paid another way", func(t *testing.T) {
		f := newPayFixture(t)
		if _, err := f.db.Pool().Exec(ctx, `UPDATE invoices SET status = 'paid', paid_at = $2 WHERE number = $1`, f.invoice, f.db.Now()); err != nil {
			t.Fatal(err)
		}
		for _, r := range []response{f.get(f.token), f.post(f.token, url.Values{})} {
			if r.status != 410 || !strings.Contains(r.body, "is already paid") {
				t.Fatalf("%d:\n%s", r.status, r.body)
			}
		}
		if f.charge(t).Status != payments.ChargeRequiresPaymentMethod {
			t.Fatal("the charge changed")
		}
	})
	t.Run("an expired link", func(t *testing.T) {
		f := newPayFixture(t)
		if _, err := f.db.Pool().Exec(ctx, `UPDATE link_tokens SET expires_at = $1 WHERE purpose = 'confirm_payment'`, f.db.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		for _, r := range []response{f.get(f.token), f.post(f.token, url.Values{})} {
			if r.status != 410 || !strings.Contains(r.body, "This link has expired") || !strings.Contains(r.body, "the newest email about it has a link that works") {
				t.Fatalf("%d:\n%s", r.status, r.body)
			}
		}
		if f.charge(t).Status != payments.ChargeRequiresPaymentMethod {
			t.Fatal("the charge changed")
		}
	})
	t.Run("a link whose payment was made (withdrawn)", func(t *testing.T) {
		f := newPayFixture(t)
		if _, err := f.db.RevokeLinks(ctx, "invoice/"+f.invoice); err != nil {
			t.Fatal(err)
		}
		if r := f.post(f.token, url.Values{}); r.status != 410 || !strings.Contains(r.body, "no longer works") || !strings.Contains(r.body, "A payment link ends when the invoice is paid") {
			t.Fatalf("%d:\n%s", r.status, r.body)
		}
	})
	t.Run("someone no longer allowed to pay", func(t *testing.T) {
		f := newPayFixture(t)
		token := f.link(t, "alice@acme.test", time.Hour) // not a contact of SEN-1000003
		if r := f.post(token, url.Values{}); r.status != 403 {
			t.Fatalf("%d:\n%s", r.status, r.body)
		}
		if f.charge(t).Status != payments.ChargeRequiresPaymentMethod {
			t.Fatal("the charge changed")
		}
	})
	t.Run("the charge was replaced by a new attempt", func(t *testing.T) {
		f := newPayFixture(t)
		if _, _, err := f.db.BeginAttempt(ctx, f.invoice, 3, f.invoice+"/3", "pm_card_visa"); err != nil {
			t.Fatal(err)
		}
		if r := f.post(f.token, url.Values{}); r.status < 400 || !strings.Contains(r.body, "no longer waiting for your bank") {
			t.Fatalf("%d:\n%s", r.status, r.body)
		}
		if f.charge(t).Status != payments.ChargeRequiresPaymentMethod {
			t.Fatal("the charge changed")
		}
	})
}

func (f *payFixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
