package postgrestest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"licensedesk/internal/bookgen"
	"licensedesk/licensing"
	"licensedesk/postgres"
)

// LoadBook imports a generated book of n licences (bookgen, seed 11,
// billing from 2027-01-01) into db through the store's import, gives it
// what a book in use has (AddBookActivity), and returns what it holds.
func LoadBook(tb testing.TB, db *postgres.DB, n int) bookgen.Stats {
	tb.Helper()
	ctx := tb.Context()
	var buf bytes.Buffer
	st, err := bookgen.Write(&buf, bookgen.Options{Licenses: n, Seed: 11, Start: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	lineNo := 0
	next := func() (postgres.ImportLine, error) {
		if !sc.Scan() {
			return postgres.ImportLine{}, io.EOF
		}
		lineNo++
		l, sen, err := licensing.DecodeLicense(sc.Bytes())
		return postgres.ImportLine{Line: lineNo, SEN: sen, License: l, Err: err}, nil
	}
	start := time.Now() //clock:wall measures the import
	sum, err := db.Import(ctx, next, licensing.Actor{Kind: "api", ID: "api"}, postgres.ImportOptions{})
	if err != nil || sum.Created != n || len(sum.Rejected) != 0 {
		tb.Fatalf("import of the book = %+v, %v", sum, err)
	}
	tb.Logf("imported %d licences (%d contacts, %d site admins) in %v", n, st.Contacts, st.SiteAdmins, time.Since(start).Round(time.Millisecond)) //clock:wall measures the import
	if err := AddBookActivity(ctx, db); err != nil {
		tb.Fatal(err)
	}
	return st
}

// AddBookActivity gives an imported book what a book in use has besides
// its licences: a card for every cloud licence (expiring over five years
// from last year), a link for one licence in ten (half of them spent),
// card-expiry reminders mailed for one card in ten, billing addresses,
// paid invoices with their charges, an open invoice for one cloud licence
// in a hundred, renewal reminders, and statistics for the tables it fills
// (the import keeps its own tables' statistics current: the look-ups
// measured after it must not depend on a manual ANALYZE). Benchmarks and
// plan tests run on it; nothing else does.
func AddBookActivity(ctx context.Context, db *postgres.DB) error {
	_, err := db.Pool().Exec(ctx, `
		INSERT INTO payment_methods (license_id, provider_ref, brand, last4, exp_month, exp_year, is_default)
		SELECT id, 'pm_card_visa', 'visa', '4242', 1 + id % 12, extract(year FROM now())::int - 1 + (id / 12) % 5, true FROM licenses l
		WHERE deployment = 'cloud' AND NOT EXISTS (SELECT 1 FROM payment_methods p WHERE p.license_id = l.id)
		ON CONFLICT DO NOTHING;
		INSERT INTO card_expiry_reminders (payment_method_id, stage, license_id, mailed_at)
		SELECT id, '30d', license_id, now() FROM payment_methods WHERE is_default AND id % 10 = 0
		ON CONFLICT DO NOTHING;
		INSERT INTO link_tokens (token_hash, purpose, account_id, license_id, workflow_id, expires_at, used_at)
		SELECT sha256(('bench' || l.id)::bytea), 'card_update', c.account_id, l.id, 'card/' || l.sen,
		       now() + interval '7 days', CASE WHEN l.id % 20 = 0 THEN now() END
		FROM licenses l JOIN license_contacts c ON c.license_id = l.id AND c.role = 'billing' AND c.is_primary
		WHERE l.id % 10 = 0
		ON CONFLICT DO NOTHING;
		-- Billing addresses for half the cloud licences, and two paid
		-- invoices (with the charge that paid each) for one in five.
		INSERT INTO billing_addresses (license_id, name, lines, city, postcode, country)
		SELECT id, 'Customer ' || id, ARRAY['1 Main Street'], 'London', 'EC1A 1AA', 'GB' FROM licenses
		WHERE deployment = 'cloud' AND id % 2 = 0
		ON CONFLICT DO NOTHING;
		INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency, status, paid_at, collection_started_at)
		SELECT l.id, l.sen || '-bench-' || k, d, d + 30, d, 1000, 'USD', 'paid', d + interval '9 hours', d
		FROM licenses l, generate_series(1, 2) k, LATERAL (SELECT (date '2026-01-01' + k * 31) AS d) p
		WHERE l.deployment = 'cloud' AND l.id % 5 = 0
		ON CONFLICT DO NOTHING;
		INSERT INTO charge_attempts (invoice_id, attempt, idempotency_key, payment_method, status, provider_ref, finished_at)
		SELECT i.id, 1, i.number || '/1', 'pm_card_visa', 'succeeded', 'pi_' || i.id, i.paid_at
		FROM invoices i WHERE i.number LIKE '%-bench-%'
		ON CONFLICT DO NOTHING;
		-- One cloud licence in a hundred owes an open invoice (the App
		-- Home's unpaid list).
		INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency)
		SELECT id, sen || '-bench', date '2026-01-01', date '2026-02-01', date '2026-01-01', 1000, 'USD'
		FROM licenses WHERE deployment = 'cloud' AND id % 100 = 0
		ON CONFLICT DO NOTHING;
		-- A year of renewal reminders sent, and a few to send.
		INSERT INTO billing_reminders (kind, license_id, about, send_on, sent_at)
		SELECT 'renewal', id, next_billing_date, next_billing_date - 30, CASE WHEN id % 100 <> 0 THEN now() END FROM licenses
		WHERE deployment = 'cloud' AND billing_cycle = 'annual'
		ON CONFLICT DO NOTHING;
		ANALYZE payment_methods, card_expiry_reminders, link_tokens, billing_addresses, invoices, charge_attempts, billing_reminders`)
	return err
}
