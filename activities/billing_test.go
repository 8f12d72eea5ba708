package activities_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"licensedesk/activities"
	"licensedesk/internal/pgtest"
	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/payments"
	"licensedesk/payments/sandbox"
	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// crashing wraps a provider: while crash is set, a charge goes through at
// the provider and then the call fails, as if the worker died before the
// result reached the database.
type crashing struct {
	payments.Provider
	crash   atomic.Bool
	charges atomic.Int32
}

func (c *crashing) Charge(ctx context.Context, in payments.ChargeInput) (payments.Charge, error) {
	c.charges.Add(1)
	ch, err := c.Provider.Charge(ctx, in)
	if c.crash.Load() {
		return payments.Charge{}, errors.New("worker died")
	}
	return ch, err
}

type fixture struct {
	db   *postgres.DB
	acts *activities.Activities
	prov *crashing
	inv  postgres.Invoice
}

// newFixture is the demo database with SEN-1000003's open invoice (attempt
// 1 already declined) and a working card set as its default.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, now := postgrestest.NewDemo(t)
	sb, err := sandbox.New(sandbox.Config{Store: sandbox.NewPGStore(db.Pool()), BaseURL: "http://127.0.0.1:1", WebhookSecret: "whsec_test"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, prov: &crashing{Provider: sb}}
	f.acts = &activities.Activities{DB: db, Payments: f.prov, Mail: &mail.Outbox{DB: db}, PublicBaseURL: "http://127.0.0.1:1", Clock: now}
	if err := db.SetDefaultCard(ctx, "SEN-1000003", "pm_card_visa", "visa", "4242", 12, now.Now().Year()+4); err != nil {
		t.Fatal(err)
	}
	if f.inv, err = db.OpenInvoice(ctx, "SEN-1000003"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The worker dies between the provider call and the database write; the
// activity is retried with the same attempt number, so the same idempotency
// key: the provider answers with its first result and no money moves twice.
func TestChargeInvoice_RetryAfterACrashChargesOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.prov.crash.Store(true)
	if _, err := f.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: f.inv.Number, Attempt: 2}); err == nil {
		t.Fatal("the crash was not reported")
	}
	f.prov.crash.Store(false)
	out, err := f.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: f.inv.Number, Attempt: 2})
	if err != nil || !out.Paid || !out.Reactivated {
		t.Fatalf("retry = %+v, %v; want paid and the licence active again", out, err)
	}
	if n := f.count(t, `SELECT count(*) FROM sandbox_charges WHERE idempotency_key = $1 AND status = 'succeeded'`, f.inv.Number+"/2"); n != 1 {
		t.Errorf("provider charges = %d; want 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM charge_attempts a JOIN invoices i ON i.id = a.invoice_id WHERE i.number = $1 AND a.status = 'succeeded'`, f.inv.Number); n != 1 {
		t.Errorf("successful attempts = %d; want 1", n)
	}
	l, _ := f.db.License(ctx, "SEN-1000003")
	if l.Status != licensing.Active {
		t.Errorf("licence status = %s; want active", l.Status)
	}
}

// Once an invoice is paid, later attempts (a card update or /license charge
// arriving after the payment) never reach the provider.
func TestChargeInvoice_PaidInvoiceIsNeverChargedAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for attempt := 2; attempt <= 5; attempt++ {
		out, err := f.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: f.inv.Number, Attempt: attempt})
		if err != nil || !out.Paid {
			t.Fatalf("attempt %d = %+v, %v", attempt, out, err)
		}
	}
	if got := f.prov.charges.Load(); got != 1 {
		t.Errorf("provider calls = %d; want 1", got)
	}
	if n := f.count(t, `SELECT count(*) FROM sandbox_charges WHERE status = 'succeeded'`); n != 1 {
		t.Errorf("provider charges = %d; want 1", n)
	}
}

// A retried activity whose attempt already finished returns the stored
// result without calling the provider.
func TestChargeInvoice_FinishedAttemptIsNotRepeated(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if err := f.db.SetDefaultCard(ctx, "SEN-1000003", "pm_card_chargeDeclinedStolenCard", "visa", "9979", 12, f.acts.Clock.Now().Year()+4); err != nil {
		t.Fatal(err)
	}
	first, err := f.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: f.inv.Number, Attempt: 2})
	if err != nil || first.Paid || !first.Hard || first.Code != "stolen_card" {
		t.Fatalf("first = %+v, %v; want a hard stolen_card decline", first, err)
	}
	again, err := f.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: f.inv.Number, Attempt: 2})
	if err != nil || again != first {
		t.Fatalf("repeat = %+v, %v; want %+v", again, err, first)
	}
	if got := f.prov.charges.Load(); got != 1 {
		t.Errorf("provider calls = %d; want 1", got)
	}
}

func (f *fixture) cardLink(t *testing.T, sen licensing.SEN, to licensing.Email) postgres.Link {
	t.Helper()
	ctx := context.Background()
	token, _, err := f.db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposeCardUpdate, Email: to, SEN: sen,
		WorkflowID: "card/" + string(sen), TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	k, err := f.db.LookupLink(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The provider reports the same captured card twice (a webhook delivered
// twice, or a retried activity): the card is applied once and the second
// report succeeds without doing anything.
func TestApplyCard_ReportedTwiceAppliesOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k := f.cardLink(t, "SEN-1000003", "gina@initech.test")
	in := activities.ApplyCardInput{SEN: "SEN-1000003", WorkflowID: k.WorkflowID, PaymentMethodID: "pm_card_mastercard", LinkID: k.ID}
	first, err := f.acts.ApplyCard(ctx, in)
	if err != nil || first.Card != "mastercard •••• 4444" || first.Invoice != f.inv.Number {
		t.Fatalf("first = %+v, %v", first, err)
	}
	second, err := f.acts.ApplyCard(ctx, in)
	if err != nil || second.Card != first.Card {
		t.Fatalf("second = %+v, %v; want the same outcome", second, err)
	}
	if n := f.count(t, `SELECT count(*) FROM payment_methods p JOIN licenses l ON l.id = p.license_id WHERE l.sen = 'SEN-1000003' AND p.is_default`); n != 1 {
		t.Errorf("default cards = %d; want 1", n)
	}
	// Another card through the spent link is refused.
	in.PaymentMethodID = "pm_card_visa"
	if _, err := f.acts.ApplyCard(ctx, in); err == nil {
		t.Error("a spent link applied a second, different card")
	}
}

// Who may update the card is checked again when the card arrives: a billing
// contact of an annual licence (only site admins may) is refused and the
// card on file stays.
func TestApplyCard_RechecksWhoMayUpdate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k := f.cardLink(t, "SEN-1000002", "dave@globex.test")
	_, err := f.acts.ApplyCard(ctx, activities.ApplyCardInput{SEN: "SEN-1000002", WorkflowID: k.WorkflowID, PaymentMethodID: "pm_card_mastercard", LinkID: k.ID})
	if err == nil {
		t.Fatal("a billing contact of an annual licence updated the card")
	}
	l, _ := f.db.License(ctx, "SEN-1000002")
	if l.PaymentMethod == nil || l.PaymentMethod.Last4 != "4242" {
		t.Errorf("card changed to %+v", l.PaymentMethod)
	}
}

// The billing contacts' failure mail tells each of them what they can do:
// a monthly licence's billing contact gets an update-card link separately,
// an annual licence's billing contact must ask a site admin; and when
// retries run out the mail says the licence is suspended, not that it will
// be.
func TestBillingNotice_SaysWhoMayUpdateTheCard(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mailTo := func(key, to string) (subject, text string) {
		t.Helper()
		err := f.db.Pool().QueryRow(ctx, `SELECT subject, text_body FROM sent_mail WHERE message_key = $1 || '/' || $2`, key, to).Scan(&subject, &text)
		if err != nil {
			t.Fatalf("mail %s to %s: %v", key, to, err)
		}
		return subject, text
	}
	next := f.acts.Clock.Now().Add(72 * time.Hour)

	if err := f.acts.BillingNotice(ctx, activities.BillingNoticeInput{Kind: activities.NoticeFailed, Number: f.inv.Number, Key: "monthly", Reason: "Your card was declined.", NextRetry: next}); err != nil {
		t.Fatal(err)
	}
	if _, text := mailTo("monthly", "gina@initech.test"); !strings.Contains(text, "separate email with a secure link") || strings.Contains(text, "ask a site admin") {
		t.Errorf("monthly billing contact's mail:\n%s", text)
	}
	// The same facts as the account page's banner: the failed charge's
	// date and plain reason (the demo's attempt failed on the due date).
	o, _ := f.db.Overdue(ctx, "SEN-1000003")
	if _, text := mailTo("monthly", "gina@initech.test"); o == nil || !strings.Contains(text, "failed on "+o.FailedAt.UTC().Format("Monday 2 January 2006")+": card declined.") {
		t.Errorf("failure mail without the failed charge's date and reason:\n%s", text)
	}

	annual, err := f.db.CreateInvoice(ctx, "SEN-1000002", f.acts.Clock.Now().AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.acts.BillingNotice(ctx, activities.BillingNoticeInput{Kind: activities.NoticeFailed, Number: annual, Key: "annual", NextRetry: next}); err != nil {
		t.Fatal(err)
	}
	if _, text := mailTo("annual", "dave@globex.test"); !strings.Contains(text, "ask a site admin") || strings.Contains(text, "separate email") {
		t.Errorf("annual billing contact's mail:\n%s", text)
	}

	if err := f.acts.BillingNotice(ctx, activities.BillingNoticeInput{Kind: activities.NoticeFailed, Number: f.inv.Number, Key: "last", Suspend: true}); err != nil {
		t.Fatal(err)
	}
	if subject, _ := mailTo("last", "gina@initech.test"); !strings.Contains(subject, "is suspended") {
		t.Errorf("last failure's subject = %q, want the suspension", subject)
	}
	if l, err := f.db.License(ctx, "SEN-1000003"); err != nil || l.Status != "suspended" {
		t.Errorf("status = %v, %v; want suspended", l.Status, err)
	}
}

// A failure notice with its own links (the collection's, since version 1)
// gives each person allowed to update the card a button in the failure
// mail itself: no "separate email" that may never come. On an annual
// licence the billing contact is told which site admin to ask, and the
// site admin, who may update the card, gets the mail with the button. A
// retried notice sends nothing twice and makes no second link.
func TestBillingNotice_CarriesItsOwnUpdateCardLinks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	links := &activities.CardLinks{WorkflowID: "invoice/" + f.inv.Number, Deadline: f.acts.Clock.Now().Add(7 * 24 * time.Hour)}
	in := activities.BillingNoticeInput{Kind: activities.NoticeFailed, Number: f.inv.Number, Key: "invoice/x/failed/2",
		Reason: "Your card was declined.", NextRetry: f.acts.Clock.Now().Add(72 * time.Hour), CardLinks: links}
	for range 2 { // the activity retried
		if err := f.acts.BillingNotice(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	var text string
	var mailLinks []string
	if err := f.db.Pool().QueryRow(ctx, `SELECT text_body, links FROM sent_mail WHERE message_key = 'invoice/x/failed/2/gina@initech.test'`).Scan(&text, &mailLinks); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "separate email") || len(mailLinks) != 1 || !strings.Contains(text, mailLinks[0]) {
		t.Errorf("gina's failure mail (links %v):\n%s", mailLinks, text)
	}
	if n := f.count(t, `SELECT count(*) FROM link_tokens WHERE workflow_id = $1 AND purpose = 'card_update'`, links.WorkflowID); n != 1 {
		t.Errorf("%d update-card links of the collection; want 1", n)
	}

	annual, err := f.db.CreateInvoice(ctx, "SEN-1000002", f.acts.Clock.Now().AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	in.Number, in.Key, in.CardLinks = annual, "invoice/y/failed/1", &activities.CardLinks{WorkflowID: "invoice/" + annual, Deadline: links.Deadline}
	if err := f.acts.BillingNotice(ctx, in); err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{}
	rows, _ := f.db.Pool().Query(ctx, `SELECT to_addr, text_body FROM sent_mail WHERE message_key LIKE 'invoice/y/failed/1/%'`)
	for rows.Next() {
		var to, body string
		_ = rows.Scan(&to, &body)
		bodies[to] = body
	}
	if b := bodies["dave@globex.test"]; !strings.Contains(b, "ask a site admin of the licence (frank@globex.test)") || strings.Contains(b, "/l/") {
		t.Errorf("dave (billing, not a site admin):\n%s", b)
	}
	if b := bodies["frank@globex.test"]; !strings.Contains(b, "/l/") || !strings.Contains(b, "because you may update the card") {
		t.Errorf("frank (site admin):\n%s", b)
	}
	if _, ok := bodies["erin@globex.test"]; ok {
		t.Error("erin, a technical contact of an annual licence, may not update the card and is no billing contact")
	}
}
