package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// Explained is the plan of one query this store runs, for the README's
// evidence that every one of them reads through an index.
type Explained struct {
	Name     string
	Plan     string   // EXPLAIN's text
	SeqScans []string // tables read in full (staging tables left out)
}

// Samples are the values the read queries are explained with.
type Samples struct {
	SEN       licensing.SEN
	Email     licensing.Email
	Domain    string
	Site      string
	AccountID int64
	LicenseID int64  // the licence whose history and invoices are explained
	Invoice   string // an invoice's number
	// Chunk is how many keys the import's look-ups by list are explained
	// with (0: LookupChunk, what a batch sends). A smaller book needs a
	// smaller one for the same share of its tables (10 of 20k licences is
	// 1000 of 1 M).
	Chunk int
	// Today is the day the daily card-expiry run is explained for (zero:
	// 2027-01-01).
	Today time.Time
}

// errExplained rolls back the transaction Explain stages its lines in.
var errExplained = errors.New("explained")

// Explain shows the plans of the look-ups (show, find, the account page,
// the links of a licence) for s, and of every statement of an import of
// lines with update on, staged as the import stages them and with the
// import's settings, in a transaction that is rolled back: nothing is
// written.
func (db *DB) Explain(ctx context.Context, s Samples, lines []ImportLine) ([]Explained, error) {
	var out []Explained
	today := s.Today
	if today.IsZero() {
		today = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	add := func(q querier, name, sql string, args ...any) error {
		e, err := explain(ctx, q, name, sql, args...)
		out = append(out, e)
		return err
	}
	reads := []struct {
		name, sql string
		args      []any
	}{
		{"show a licence (/license show, GET /api/v1/licenses/{sen})", licenseQuery, []any{string(s.SEN)}},
		{"find by email", findQuery(licensing.FindByEmail), []any{string(s.Email), "", 51}},
		{"find by domain", findQuery(licensing.FindByDomain), []any{s.Domain, "", 51}},
		{"find by site", findQuery(licensing.FindBySite), []any{s.Site, "", 51}},
		{"account page", accountPageQuery, []any{s.AccountID, "", 21}},
		{"account page banners", accountUnpaidQuery, []any{s.AccountID, "", 21}},
		{"open links of a licence", sqlOpenLinks, []any{int64(1), time.Now()}}, //clock:wall a plan check needs only a timestamp
		{"history of a licence (/license history, GET …/history)", historyQuery, []any{s.LicenseID, int64(1<<63 - 1), 51}},
		{"a licence's invoices (account page, GET …/invoices)", invoiceListQuery, []any{s.LicenseID, "9999-01-01", 21}},
		{"an invoice for a person (invoice page, PDF)", invoiceForQuery, []any{s.Invoice, string(s.Email)}},
		{"the newest invoices of a page of licences", recentInvoicesQuery, []any{[]string{string(s.SEN)}, 4}},
		{"renewal reminders due", renewalsDueQuery, []any{"2027-01-01", 500}},
		{"billing reminders to send", pendingRemindersQuery, []any{"2027-01-01", 500}},
		{"unpaid licences (the App Home's billing section)", unpaidQuery, []any{9}},
		{"unpaid licences, counted", unpaidCountQuery, nil},
		{"card expiry: queue the day's reminders (daily)", sqlQueueCardReminders, []any{today.Format(time.DateOnly)}},
		{"card expiry: reminders to mail", sqlPendingCardReminders, []any{50}},
		{"account page card banners", sqlAccountExpiringCards, []any{s.AccountID, today.AddDate(0, -1, 30).Format(time.DateOnly), 20}},
	}
	for _, r := range reads {
		if err := add(db.pool, r.name, r.sql, r.args...); err != nil {
			return out, err
		}
	}
	imp, err := db.newImporter(ctx, licensing.Actor{Kind: "api", ID: "api"}, true)
	if err != nil {
		return out, err
	}
	defer imp.conn.Release()
	err = pgx.BeginFunc(ctx, imp.conn, func(tx pgx.Tx) error {
		// The settings the import runs with (importer.apply).
		if _, err := tx.Exec(ctx, importSettings); err != nil {
			return err
		}
		sens := make([]string, len(lines))
		for i, l := range lines {
			sens[i] = string(l.License.License.SEN)
		}
		chunk := s.Chunk
		if chunk <= 0 {
			chunk = LookupChunk
		}
		if err := add(tx, "import: licences the lines name", sqlExisting, sens[:min(chunk, len(sens))]); err != nil {
			return err
		}
		_, actions, err := imp.classify(ctx, tx, lines)
		if err != nil {
			return err
		}
		var emails []string
		for _, a := range actions {
			for _, c := range a.line.License.License.Contacts {
				emails = append(emails, string(c.Email))
			}
		}
		if err := add(tx, "import: new accounts", sqlInsertAccounts, emails); err != nil {
			return err
		}
		if err := add(tx, "import: account ids", sqlAccountIDs, emails[:min(chunk, len(emails))]); err != nil {
			return err
		}
		accounts, err := ensureAccounts(ctx, tx, actions)
		if err != nil {
			return err
		}
		if err := allocateIDs(ctx, tx, actions); err != nil {
			return err
		}
		if err := stage(ctx, tx, actions, accounts); err != nil {
			return err
		}
		statements := []struct {
			name, sql string
			args      []any
		}{
			{"import: new licences", sqlInsertLicenses, nil},
			{"import: update licences", sqlUpdateLicenses, nil},
			{"import: contacts an update keeps", sqlKeptContacts, nil},
			{"import: demote dropped primaries", sqlDemoteDropped, nil},
			{"import: promote kept primaries", sqlPromoteKept, nil},
			{"import: delete dropped contacts", sqlDeleteDropped, nil},
			{"import: delete dropped site admins", sqlDeleteSiteAdmins, nil},
			{"import: contacts of new licences", sqlInsertContacts, nil},
			{"import: site admins of new licences", sqlInsertSiteAdmins, nil},
			{"import: contacts an update adds", sqlAddContacts, nil},
			{"import: site admins an update adds", sqlAddSiteAdmins, nil},
			{"import: history", sqlAudit, []any{"api", "api", ""}},
			{"import: updated licences with open links", sqlLinkedUpdates, nil},
			{"import: invitees", sqlInvitees, nil},
		}
		for _, st := range statements {
			if err := add(tx, st.name, st.sql, st.args...); err != nil {
				return err
			}
		}
		return errExplained
	})
	if errors.Is(err, errExplained) {
		err = nil
	}
	return out, err
}

func explain(ctx context.Context, q querier, name, sql string, args ...any) (Explained, error) {
	e := Explained{Name: name}
	var plan []map[string]any
	if err := q.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&plan); err != nil {
		return e, err
	}
	if len(plan) > 0 {
		if root, ok := plan[0]["Plan"].(map[string]any); ok {
			e.SeqScans = seqScans(root)
		}
	}
	rows, err := q.Query(ctx, "EXPLAIN "+sql, args...)
	if err != nil {
		return e, err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	e.Plan = strings.Join(lines, "\n")
	return e, err
}

// seqScans lists the tables a plan reads in full, but for the import's
// staging tables (they hold one batch).
func seqScans(node map[string]any) []string {
	var out []string
	if node["Node Type"] == "Seq Scan" {
		if rel, _ := node["Relation Name"].(string); !strings.HasPrefix(rel, "import_") {
			out = append(out, rel)
		}
	}
	children, _ := node["Plans"].([]any)
	for _, c := range children {
		if m, ok := c.(map[string]any); ok {
			out = append(out, seqScans(m)...)
		}
	}
	return out
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
func AddBookActivity(ctx context.Context, db *DB) error {
	_, err := db.pool.Exec(ctx, `
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
