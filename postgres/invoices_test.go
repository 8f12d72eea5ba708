package postgres_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"licensedesk/internal/pgtest"
	"licensedesk/licensing"
	"licensedesk/postgres"
)

// Migration 009 keeps every free-text billing address whole, a line per
// line, with no country; licences without one get none.
func TestMigration_FreeTextBillingAddressesAreKeptAsLines(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	if err := postgres.MigrateBefore(ctx, url, "invoices_and_addresses"); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	text := "Initech Ltd\n4120 Freidrich Lane\n  Suite 5 — ünïcode, commas; \"quotes\"\n\nAustin TX 78744"
	tx, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO accounts (email) VALUES ('a@x.test')`,
		`INSERT INTO licenses (sen, product, deployment, billing_cycle, site, price_cents, next_billing_date, billing_address)
		 VALUES ('SEN-5000001', 'Jira', 'cloud', 'monthly', 'x.example.net', 1000, '2027-01-01', $1),
		        ('SEN-5000002', 'Jira', 'cloud', 'monthly', 'y.example.net', 1000, '2027-01-01', '')`,
		`INSERT INTO license_contacts (license_id, account_id, role, is_primary)
		 SELECT l.id, a.id, r, true FROM licenses l, accounts a, unnest(ARRAY['billing', 'technical']) r`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{text}
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := postgres.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	got, err := db.BillingAddress(ctx, "SEN-5000001")
	if err != nil {
		t.Fatal(err)
	}
	want := licensing.BillingAddress{Lines: []string{"Initech Ltd", "4120 Freidrich Lane", "  Suite 5 — ünïcode, commas; \"quotes\"", "", "Austin TX 78744"}}
	if !reflect.DeepEqual(got, want) || !got.Legacy() {
		t.Errorf("kept as %#v; want %#v", got, want)
	}
	if none, _ := db.BillingAddress(ctx, "SEN-5000002"); !none.IsZero() {
		t.Errorf("a licence without an address got %#v", none)
	}
}

// The sweep adds the customer's country's tax (or the "*" rule's, or
// none) to the price, rounded as licensing.TaxCents does, and keeps the
// billing address on the invoice: changing it later leaves the invoice as
// it was made.
func TestInvoiceDue_AddsTheTaxOfTheCustomersCountryAndKeepsTheAddress(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	today := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := db.Pool().Exec(ctx, `UPDATE licenses SET next_billing_date = $1, price_cents = 1999 WHERE sen IN ('SEN-1000001', 'SEN-1000002', 'SEN-1000003')`, today); err != nil {
		t.Fatal(err)
	}
	taxes, err := licensing.ParseTaxRules("GB:VAT:20,*:Sales tax:8.25")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.InvoiceDue(ctx, today, 100, taxes); err != nil {
		t.Fatal(err)
	}
	for sen, want := range map[licensing.SEN]licensing.TaxLine{
		"SEN-1000001": {Name: "VAT", RateBP: 2000, AmountCents: licensing.TaxCents(1999, 2000)},     // GB
		"SEN-1000002": {Name: "Sales tax", RateBP: 825, AmountCents: licensing.TaxCents(1999, 825)}, // US: the * rule
		"SEN-1000003": {Name: "Sales tax", RateBP: 825, AmountCents: licensing.TaxCents(1999, 825)}, // no country: the * rule
	} {
		inv, err := db.InvoiceByNumber(ctx, string(sen)+"-2027-01-01")
		if err != nil {
			t.Fatal(err)
		}
		if inv.Tax != want || inv.AmountCents != 1999+want.AmountCents || inv.SubtotalCents() != 1999 {
			t.Errorf("%s: tax %+v, amount %d; want %+v on 1999", sen, inv.Tax, inv.AmountCents, want)
		}
	}
	if licensing.TaxCents(1999, 2000) != 400 || licensing.TaxCents(1999, 825) != 165 {
		t.Errorf("rounding: %d, %d", licensing.TaxCents(1999, 2000), licensing.TaxCents(1999, 825))
	}
	made, _ := db.InvoiceByNumber(ctx, "SEN-1000001-2027-01-01")
	if err := db.UpdateBillingAddress(ctx, "SEN-1000001", licensing.BillingAddress{Name: "Acme GmbH", Lines: []string{"Hauptstraße 1"}, City: "Berlin", Country: "DE"}, "carol@acme.test"); err != nil {
		t.Fatal(err)
	}
	after, _ := db.InvoiceByNumber(ctx, "SEN-1000001-2027-01-01")
	if !reflect.DeepEqual(after.BillTo, made.BillTo) || made.BillTo.Name != "Acme Ltd" || made.BillTo.TaxID != "GB123456789" {
		t.Errorf("the invoice's address changed with the licence's: %+v → %+v", made.BillTo, after.BillTo)
	}
	// No rules: a zero tax line.
	if _, err := db.Pool().Exec(ctx, `UPDATE licenses SET next_billing_date = '2027-02-01' WHERE sen = 'SEN-1000001'`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.InvoiceDue(ctx, time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), 100, nil); err != nil {
		t.Fatal(err)
	}
	plain, _ := db.InvoiceByNumber(ctx, "SEN-1000001-2027-02-01")
	if plain.Tax != (licensing.TaxLine{}) || plain.AmountCents != 1999 || len(plain.TaxLines()) != 1 || plain.TaxLines()[0].AmountCents != 0 {
		t.Errorf("without rules: %+v, %d, %+v", plain.Tax, plain.AmountCents, plain.TaxLines())
	}
}

// A paid invoice's receipt says when, with which card and the provider's
// reference; the list is newest first and pages by cursor; a cursor that is
// not ours is refused.
func TestLicenseInvoices_NewestFirstWithReceipts(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	p, err := db.LicenseInvoices(ctx, "SEN-1000003", "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Invoices) != 2 || p.NextCursor == "" || p.Invoices[0].Number != "SEN-1000003-2026-11-20" || p.Invoices[0].Stored != "open" ||
		p.Invoices[0].Failed != 1 || p.Invoices[0].Receipt != nil {
		t.Fatalf("first page %+v", p)
	}
	paid := p.Invoices[1]
	if paid.Number != "SEN-1000003-2026-10-20" || paid.Receipt == nil || paid.Receipt.Card != "Visa ending 4242" ||
		paid.Receipt.ProviderRef != "pi_demo_SEN100000320261020" || paid.Receipt.PaidAt.IsZero() {
		t.Fatalf("paid invoice %+v, receipt %+v", paid, paid.Receipt)
	}
	p2, err := db.LicenseInvoices(ctx, "SEN-1000003", p.NextCursor, 2)
	if err != nil || len(p2.Invoices) != 1 || p2.NextCursor != "" || p2.Invoices[0].Number != "SEN-1000003-2026-09-20" {
		t.Fatalf("second page %+v, %v", p2, err)
	}
	if _, err := db.LicenseInvoices(ctx, "SEN-1000003", "not-a-cursor!", 2); licensing.ErrorCode(err) != licensing.Invalid {
		t.Errorf("a forged cursor: %v", err)
	}
	if _, err := db.LicenseInvoices(ctx, "SEN-9999999", "", 2); licensing.ErrorCode(err) != licensing.NotFound {
		t.Errorf("an unknown licence: %v", err)
	}
	if server, err := db.LicenseInvoices(ctx, "SEN-2000001", "", 2); err != nil || len(server.Invoices) != 0 {
		t.Errorf("a server licence: %+v, %v", server, err)
	}
}

// InvoiceFor answers only the licence's contacts and site admins; anyone
// else, and a number that does not exist, get the same error.
func TestInvoiceFor_OnlyTheLicencesPeople(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	for _, who := range []licensing.Email{"alice@acme.test", "bob@acme.test", "carol@acme.test", "ALICE@acme.test"} {
		if _, err := db.InvoiceFor(ctx, "SEN-1000001-2026-11-01", who); err != nil {
			t.Errorf("%s: %v", who, err)
		}
	}
	for _, tc := range []struct {
		number string
		who    licensing.Email
	}{{"SEN-1000001-2026-11-01", "dave@globex.test"}, {"SEN-1000001-2026-11-01", "nobody@nowhere.test"}, {"SEN-1000001-1999-01-01", "alice@acme.test"}, {"", "alice@acme.test"}} {
		if _, err := db.InvoiceFor(ctx, tc.number, tc.who); err != licensing.ErrNoSuchInvoice {
			t.Errorf("%s for %s: %v; want ErrNoSuchInvoice", tc.number, tc.who, err)
		}
	}
}

// Payment of a past-due invoice says the licence was past due, of a
// suspended one that it was suspended, and of an active one nothing.
func TestFinishAttempt_SaysWhatTheLicenceWas(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	pay := func(number string, attempt int) licensing.Status {
		t.Helper()
		key := number + "/" + string(rune('0'+attempt))
		if _, _, err := db.BeginAttempt(ctx, number, attempt, key, "pm_card_visa"); err != nil {
			t.Fatal(err)
		}
		was, err := db.FinishAttempt(ctx, key, postgres.AttemptResult{Status: "succeeded", ProviderRef: "pi_x" + key})
		if err != nil {
			t.Fatal(err)
		}
		return was
	}
	if was := pay("SEN-1000003-2026-11-20", 2); was != licensing.PastDue {
		t.Errorf("paying a past-due licence's invoice: was %q", was)
	}
	// SEN-1000001, suspended for an open invoice.
	if _, err := db.Pool().Exec(ctx, `
		UPDATE licenses SET status = 'suspended' WHERE sen = 'SEN-1000001';
		INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency)
		SELECT id, 'SEN-1000001-2026-12-01', '2026-12-01', '2027-01-01', '2026-12-01', 1000, 'USD' FROM licenses WHERE sen = 'SEN-1000001'`); err != nil {
		t.Fatal(err)
	}
	if was := pay("SEN-1000001-2026-12-01", 1); was != licensing.Suspended {
		t.Errorf("paying a suspended licence's invoice: was %q", was)
	}
	if _, err := db.Pool().Exec(ctx, `
		INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency)
		SELECT id, 'SEN-1000001-2027-01-01', '2027-01-01', '2027-02-01', '2027-01-01', 1000, 'USD' FROM licenses WHERE sen = 'SEN-1000001'`); err != nil {
		t.Fatal(err)
	}
	if was := pay("SEN-1000001-2027-01-01", 1); was != "" {
		t.Errorf("paying an active licence's invoice: was %q", was)
	}
}

// Renewal reminders are queued once per licence and billing date, only
// for annual licences renewing within 30 days (not today, not cancelled),
// page by page; a licence invoiced and moved a year on is due again then.
// The outbox hands each out until it is stamped.
func TestQueueRenewalReminders_OncePerBillingDate(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	today := time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)
	pool := db.Pool()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE licenses SET billing_cycle = 'annual', next_billing_date = $1 WHERE sen = 'SEN-1000001'`, today.AddDate(0, 0, 30))                      // in 30 days: due
	exec(`UPDATE licenses SET next_billing_date = $1 WHERE sen = 'SEN-1000002'`, today.AddDate(0, 0, 31))                                                // in 31 days: not yet
	exec(`UPDATE licenses SET billing_cycle = 'annual', status = 'cancelled', next_billing_date = $1 WHERE sen = 'SEN-1000003'`, today.AddDate(0, 0, 5)) // cancelled
	marked, queued, err := db.QueueRenewalReminders(ctx, today, 500)
	if err != nil || marked != 1 || queued != 1 {
		t.Fatalf("first pick: %d marked, %d queued, %v; want 1, 1", marked, queued, err)
	}
	if m, q, _ := db.QueueRenewalReminders(ctx, today, 500); m != 0 || q != 0 {
		t.Errorf("the same day again: %d marked, %d queued; want nothing", m, q)
	}
	if m, _, _ := db.QueueRenewalReminders(ctx, today.AddDate(0, 0, 1), 500); m != 1 {
		t.Errorf("a day later SEN-1000002 is within 30 days: %d marked", m)
	}
	due, err := db.PendingReminders(ctx, today.AddDate(0, 0, 1), 10)
	if err != nil || len(due) != 2 || due[0].SEN != "SEN-1000001" || due[0].Kind != postgres.ReminderRenewal || !due[0].About.Equal(today.AddDate(0, 0, 30)) {
		t.Fatalf("outbox %+v, %v", due, err)
	}
	if err := db.RemindersSent(ctx, []int64{due[0].ID, due[1].ID}); err != nil {
		t.Fatal(err)
	}
	if left, _ := db.PendingReminders(ctx, today.AddDate(0, 0, 1), 10); len(left) != 0 {
		t.Errorf("stamped reminders handed out again: %+v", left)
	}
	// Invoiced: the date moves a year on, and it is due again 30 days before.
	exec(`UPDATE licenses SET next_billing_date = next_billing_date + interval '1 year' WHERE sen = 'SEN-1000001'`)
	if m, _, _ := db.QueueRenewalReminders(ctx, today, 500); m != 0 {
		t.Errorf("a year early: %d marked", m)
	}
	if m, _, _ := db.QueueRenewalReminders(ctx, today.AddDate(1, 0, 0), 500); m != 1 {
		t.Errorf("a year on: %d marked; want SEN-1000001 again", m)
	}
	// Pages: 3 due, pages of 2.
	exec(`UPDATE licenses SET billing_cycle = 'annual', status = 'active', next_billing_date = $1, renewal_reminded_for = NULL
		WHERE sen IN ('SEN-1000001', 'SEN-1000002', 'SEN-1000003')`, today.AddDate(2, 0, 3))
	first, _, _ := db.QueueRenewalReminders(ctx, today.AddDate(2, 0, 0), 2)
	second, _, _ := db.QueueRenewalReminders(ctx, today.AddDate(2, 0, 0), 2)
	if first != 2 || second != 1 {
		t.Errorf("pages of 2: %d then %d; want 2 then 1", first, second)
	}
}

// A card handover reminder is queued once per licence and move day, and
// comes out of the outbox on its day, not before.
func TestQueueCardHandover_OnItsDay(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	moved := time.Date(2027, 3, 1, 15, 0, 0, 0, time.UTC)
	for range 2 {
		if err := db.QueueCardHandover(ctx, "SEN-1000001", moved, moved.AddDate(0, 0, 14), "alice@acme.test", "zed@newco.test", "pm_card_visa"); err != nil {
			t.Fatal(err)
		}
	}
	if early, _ := db.PendingReminders(ctx, moved.AddDate(0, 0, 13), 10); len(early) != 0 {
		t.Errorf("handed out a day early: %+v", early)
	}
	due, err := db.PendingReminders(ctx, moved.AddDate(0, 0, 14), 10)
	if err != nil || len(due) != 1 || due[0].Kind != postgres.ReminderCardHandover ||
		!reflect.DeepEqual(due[0].Detail, map[string]string{"old": "alice@acme.test", "new": "zed@newco.test", "card": "pm_card_visa"}) {
		t.Fatalf("outbox %+v, %v", due, err)
	}
}

// A card saved through the account page's own card update is recorded as
// saved there (review #19), with who saved it on the card.
func TestApplyCard_RecordsWhoAndThroughWhat(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	for _, tc := range []struct {
		workflow, via string
	}{{"card/SEN-1000003/gina@initech.test", "account"}, {"card/SEN-1000003", "link"}} {
		tok, _, err := db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposeCardUpdate, Email: "gina@initech.test", SEN: "SEN-1000003",
			WorkflowID: tc.workflow, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		k, err := db.LookupLink(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		ref := "pm_" + tc.via
		if err := db.ApplyCard(ctx, k.ID, "SEN-1000003", ref, "visa", "4242", 12, 2031); err != nil {
			t.Fatal(err)
		}
		var via, kind string
		if err := db.Pool().QueryRow(ctx, `SELECT p.added_via, (SELECT a.actor_kind FROM audit_log a WHERE a.action = 'card.update' ORDER BY a.id DESC LIMIT 1)
			FROM payment_methods p WHERE p.provider_ref = $1`, ref).Scan(&via, &kind); err != nil {
			t.Fatal(err)
		}
		if via != tc.via || kind != tc.via {
			t.Errorf("%s: recorded via %q, history %q; want %q", tc.workflow, via, kind, tc.via)
		}
		l, _ := db.License(ctx, "SEN-1000003")
		if l.PaymentMethod == nil || l.PaymentMethod.AddedBy != "gina@initech.test" {
			t.Errorf("%s: card %+v", tc.workflow, l.PaymentMethod)
		}
	}
}
