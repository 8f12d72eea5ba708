package activities_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/payments"
	"licensedesk/payments/sandbox"
	"licensedesk/postgres"
)

// authFixture is SEN-1000003 (past due, attempt 1 declined) paying with
// pm_card_authenticationRequired, on a sandbox whose bank page is served.
type authFixture struct {
	*fixture
	sb   *sandbox.Sandbox
	page *httptest.Server
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	f := &authFixture{fixture: newFixture(t)}
	var sb *sandbox.Sandbox
	f.page = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sb.Handler().ServeHTTP(w, r) }))
	t.Cleanup(f.page.Close)
	var err error
	sb, err = sandbox.New(sandbox.Config{Store: sandbox.NewPGStore(f.db.Pool()), BaseURL: f.page.URL, WebhookURL: f.page.URL + "/nowhere",
		WebhookSecret: "whsec_test", DeliveryAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.sb = sb
	f.acts.Payments = sb
	if err := f.db.SetDefaultCard(context.Background(), "SEN-1000003", "pm_card_authenticationRequired", "visa", "3184", 12, 2030); err != nil {
		t.Fatal(err)
	}
	return f
}

// waiting charges attempt 2 and expects it to wait for the cardholder.
func (f *authFixture) waiting(t *testing.T) *postgres.AwaitingAuth {
	t.Helper()
	ctx := context.Background()
	out, err := f.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: f.inv.Number, Attempt: 2, Authenticate: true})
	if err != nil || !out.NeedsAuth || out.Hard || out.Paid || out.Code != "authentication_required" {
		t.Fatalf("charge = %+v, %v; want it waiting for the cardholder", out, err)
	}
	aw, err := f.db.AwaitingAuthentication(ctx, f.inv.Number, 0)
	if err != nil || aw == nil || aw.Attempt != 2 || !strings.HasPrefix(aw.ChargeID, "pi_sb_") {
		t.Fatalf("awaiting = %+v, %v", aw, err)
	}
	return aw
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// confirm answers the bank's challenge of a charge on its page, as the
// cardholder does; it returns the page's status.
func (f *authFixture) confirm(t *testing.T, chargeID, outcome string) int {
	t.Helper()
	a, err := f.sb.Authenticate(context.Background(), payments.AuthenticateInput{ChargeID: chargeID, ReturnURL: "https://app.test/payment/confirmed"})
	if err != nil && err != payments.ErrChargeCanceled {
		t.Fatal(err)
	}
	u := f.page.URL + "/sandbox/authenticate/" + chargeID
	if a.URL != "" {
		u = a.URL
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 64<<10)
	n, _ := res.Body.Read(b)
	res.Body.Close()
	m := csrfField.FindSubmatch(b[:n])
	csrf := "none"
	if m != nil {
		csrf = string(m[1])
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noRedirect.PostForm(u, url.Values{"csrf": {csrf}, "outcome": {outcome}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func (f *authFixture) paidCharges(t *testing.T) int {
	return f.count(t, `SELECT count(*) FROM sandbox_charges WHERE metadata->>'invoice' = $1 AND status = 'succeeded'`, f.inv.Number)
}

func TestChargeInvoice_AuthenticationRequiredWaitsWithItsCharge(t *testing.T) {
	ctx := context.Background()
	f := newAuthFixture(t)
	aw := f.waiting(t)
	// The activity retried (the worker died before reporting): the same
	// answer, and the waiting charge is left open, not cancelled.
	out, err := f.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: f.inv.Number, Attempt: 2, Authenticate: true})
	if err != nil || !out.NeedsAuth {
		t.Fatalf("retry = %+v, %v", out, err)
	}
	if c, _ := f.sb.LookupCharge(ctx, aw.ChargeID); c.Status != payments.ChargeRequiresPaymentMethod {
		t.Fatalf("the waiting charge is %q after a retry", c.Status)
	}
	if n := f.count(t, `SELECT count(*) FROM sandbox_charges WHERE metadata->>'invoice' = $1`, f.inv.Number); n != 1 {
		t.Errorf("%d provider charges; want 1", n)
	}
	l, _ := f.db.License(ctx, "SEN-1000003")
	if l.Status != licensing.PastDue {
		t.Errorf("licence %s; want past due while it waits", l.Status)
	}
	st, err := f.acts.InvoiceState(ctx, activities.InvoiceStateInput{Number: f.inv.Number})
	if err != nil || !st.LastNeedsAuth {
		t.Errorf("invoice state %+v, %v", st, err)
	}
	// A collection from before bank authentication was its own outcome
	// still sees the hard decline it knew.
	out, err = f.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: f.inv.Number, Attempt: 3})
	if err != nil || !out.Hard || out.NeedsAuth {
		t.Fatalf("old collection = %+v, %v; want a hard decline", out, err)
	}
}

func TestSettleAuthentication_PaysOnceTheProviderSaysSo(t *testing.T) {
	ctx := context.Background()
	f := newAuthFixture(t)
	aw := f.waiting(t)
	out, err := f.acts.SettleAuthentication(ctx, activities.SettleAuthenticationInput{Number: f.inv.Number})
	if err != nil || out.Paid || out.Status != payments.ChargeRequiresPaymentMethod {
		t.Fatalf("settle before the cardholder confirmed = %+v, %v", out, err)
	}
	// The cardholder fails the bank's check: still waiting, nothing paid.
	f.confirm(t, aw.ChargeID, "fail")
	if out, _ := f.acts.SettleAuthentication(ctx, activities.SettleAuthenticationInput{Number: f.inv.Number}); out.Paid {
		t.Fatal("paid after a failed check")
	}
	f.confirm(t, aw.ChargeID, "complete")
	out, err = f.acts.SettleAuthentication(ctx, activities.SettleAuthenticationInput{Number: f.inv.Number})
	if err != nil || !out.Paid || !out.Reactivated || out.Attempt != 2 {
		t.Fatalf("settle = %+v, %v", out, err)
	}
	if out, err := f.acts.SettleAuthentication(ctx, activities.SettleAuthenticationInput{Number: f.inv.Number}); err != nil || !out.Paid {
		t.Fatalf("settle again = %+v, %v", out, err)
	}
	if n := f.count(t, `SELECT count(*) FROM charge_attempts a JOIN invoices i ON i.id = a.invoice_id WHERE i.number = $1 AND a.status = 'succeeded'`, f.inv.Number); n != 1 || f.paidCharges(t) != 1 {
		t.Errorf("%d successful attempts, %d provider charges; want 1 and 1", n, f.paidCharges(t))
	}
	inv, _ := f.db.Invoice(ctx, f.inv.Number)
	l, _ := f.db.License(ctx, "SEN-1000003")
	if !inv.Paid || l.Status != licensing.Active {
		t.Errorf("invoice paid %v, licence %s", inv.Paid, l.Status)
	}
}

// A new card while the charge waits: the waiting charge is cancelled
// before the new one is made, so completing its challenge afterwards (the
// bank's page still open in a tab) charges nothing.
func TestChargeInvoice_NewAttemptCancelsTheWaitingCharge(t *testing.T) {
	ctx := context.Background()
	f := newAuthFixture(t)
	aw := f.waiting(t)
	// The cardholder has the bank's page open in a tab.
	a, err := f.sb.Authenticate(ctx, payments.AuthenticateInput{ChargeID: aw.ChargeID, ReturnURL: "https://app.test/payment/confirmed"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	page := make([]byte, 64<<10)
	n, _ := res.Body.Read(page)
	res.Body.Close()
	csrf := csrfField.FindSubmatch(page[:n])
	if csrf == nil {
		t.Fatalf("no form on the bank's page:\n%s", page[:n])
	}
	if err := f.db.SetDefaultCard(ctx, "SEN-1000003", "pm_card_visa", "visa", "4242", 12, 2030); err != nil {
		t.Fatal(err)
	}
	out, err := f.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: f.inv.Number, Attempt: 3, Authenticate: true})
	if err != nil || !out.Paid {
		t.Fatalf("charge with the new card = %+v, %v", out, err)
	}
	if c, _ := f.sb.LookupCharge(ctx, aw.ChargeID); c.Status != payments.ChargeCanceled {
		t.Fatalf("the waiting charge is %q; want cancelled", c.Status)
	}
	res, err = http.PostForm(a.URL, url.Values{"csrf": {string(csrf[1])}, "outcome": {"complete"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusGone {
		t.Fatalf("completing the cancelled charge's challenge: %d; want 410", res.StatusCode)
	}
	if f.paidCharges(t) != 1 {
		t.Fatalf("%d provider charges succeeded; want 1", f.paidCharges(t))
	}
}

// The cardholder completes the challenge, the provider's report is lost,
// and a retry comes (/license charge): the completed charge is the payment
// and no new one is made.
func TestChargeInvoice_ChallengeCompletedBeforeARetryIsThePayment(t *testing.T) {
	ctx := context.Background()
	f := newAuthFixture(t)
	aw := f.waiting(t)
	f.confirm(t, aw.ChargeID, "complete")
	f.confirm(t, aw.ChargeID, "complete") // twice
	out, err := f.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: f.inv.Number, Attempt: 3, Authenticate: true})
	if err != nil || !out.Paid || !out.Reactivated {
		t.Fatalf("retry = %+v, %v; want paid by the confirmed charge", out, err)
	}
	if n := f.count(t, `SELECT count(*) FROM sandbox_charges WHERE metadata->>'invoice' = $1`, f.inv.Number); n != 1 || f.paidCharges(t) != 1 {
		t.Fatalf("%d provider charges, %d succeeded; want the one", n, f.paidCharges(t))
	}
	if n := f.count(t, `SELECT count(*) FROM charge_attempts a JOIN invoices i ON i.id = a.invoice_id WHERE i.number = $1 AND a.attempt = 3`, f.inv.Number); n != 0 {
		t.Errorf("attempt 3 was recorded; no new attempt should be made")
	}
}

// The ask mails each person allowed to pay their own confirm and update-card
// links, once however often the activity runs.
func TestBillingNotice_NeedsAuthMailsEachPayerTheirLinks(t *testing.T) {
	ctx := context.Background()
	f := newAuthFixture(t)
	f.waiting(t)
	in := activities.BillingNoticeInput{Kind: activities.NoticeNeedsAuth, Number: f.inv.Number, Key: "invoice/" + f.inv.Number + "/auth/2",
		SuspendOn: time.Now().Add(10 * 24 * time.Hour), CardLinks: &activities.CardLinks{WorkflowID: "invoice/" + f.inv.Number, Deadline: time.Now().Add(7 * 24 * time.Hour)}}
	for range 2 {
		if err := f.acts.BillingNotice(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	mails, err := f.db.KeptMail(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range mails {
		if strings.Contains(m.Subject, "Confirm your payment") {
			got = append(got, m.To)
			if len(m.Links) != 2 || !strings.Contains(m.Text, "Confirm the payment") || !strings.Contains(m.Text, "Use another card") {
				t.Errorf("mail to %s: links %v\n%s", m.To, m.Links, m.Text)
			}
		}
	}
	if strings.Join(got, ",") != "gina@initech.test" {
		t.Errorf("mailed %v; want gina once", got)
	}
	if n := f.count(t, `SELECT count(*) FROM link_tokens WHERE purpose = $1 AND data->>'invoice' = $2`, string(licensing.PurposeConfirmPayment), f.inv.Number); n != 1 {
		t.Errorf("%d confirm links; want 1", n)
	}
}
