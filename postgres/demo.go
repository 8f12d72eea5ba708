package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/passwords"
)

// DemoPassword is the password of every demo account (SPEC §6).
const DemoPassword = "correct horse battery staple"

type demoAccount struct{ email, name, company string }

var demoAccounts = []demoAccount{
	{"alice@acme.test", "Alice Anders", "Acme"},
	{"bob@acme.test", "Bob Brown", "Acme"},
	{"carol@acme.test", "Carol Chen", "Acme"},
	{"dave@globex.test", "Dave Diaz", "Globex"},
	{"erin@globex.test", "Erin Evans", "Globex"},
	{"frank@globex.test", "Frank Fischer", "Globex"},
	{"gina@initech.test", "Gina Garcia", "Initech"},
	{"hank@umbrella.test", "Hank Hill", "Umbrella"},
	{"ivan@umbrella.test", "Ivan Ivanov", "Umbrella"},
}

type demoContact struct {
	email, role string
	primary     bool
}

type demoLicense struct {
	sen, product, deployment, cycle, status, site string
	priceCents                                    int64
	contacts                                      []demoContact
	siteAdmins                                    []string
	card                                          string // sandbox payment method, "" for none
	cardBy                                        string // who saved it
	openInvoice                                   bool
	paidInvoices                                  int // paid invoices of the periods before
	address                                       *demoAddress
}

// demoAddress is a licence's billing address; legacy is one kept from
// the free-text box (lines only, no country), as migration 009 keeps them.
type demoAddress struct {
	name, city, postcode, region, country, taxID string
	lines                                        []string
}

var demoLicenses = []demoLicense{
	{sen: "SEN-1000001", product: "Jira Software", deployment: "cloud", cycle: "monthly", status: "active",
		site: "acme.example.net", priceCents: 1000,
		contacts: []demoContact{{"alice@acme.test", "billing", true}, {"alice@acme.test", "technical", true},
			{"bob@acme.test", "technical", false}},
		siteAdmins: []string{"carol@acme.test"}, card: "pm_card_visa", cardBy: "alice@acme.test", paidInvoices: 3,
		address: &demoAddress{name: "Acme Ltd", lines: []string{"1 Rocket Road"}, city: "London", postcode: "EC1A 1AA", country: "GB", taxID: "GB123456789"}},
	{sen: "SEN-1000002", product: "Confluence", deployment: "cloud", cycle: "annual", status: "active",
		site: "globex.example.net", priceCents: 10000,
		contacts:   []demoContact{{"dave@globex.test", "billing", true}, {"erin@globex.test", "technical", true}},
		siteAdmins: []string{"frank@globex.test"}, card: "pm_card_visa", cardBy: "frank@globex.test", paidInvoices: 1,
		address: &demoAddress{name: "Globex Corporation", lines: []string{"100 Industrial Way"}, city: "Springfield", region: "OR", postcode: "97477", country: "US", taxID: "12-3456789"}},
	{sen: "SEN-1000003", product: "Jira Service Management", deployment: "cloud", cycle: "monthly", status: "past_due",
		site: "initech.example.net", priceCents: 1000,
		contacts:   []demoContact{{"gina@initech.test", "billing", true}, {"gina@initech.test", "technical", true}},
		siteAdmins: []string{"gina@initech.test"}, card: "pm_card_chargeDeclined", cardBy: "gina@initech.test", openInvoice: true, paidInvoices: 2,
		address: &demoAddress{lines: []string{"Initech", "4120 Freidrich Lane", "Austin TX 78744"}}},
	{sen: "SEN-2000001", product: "Bitbucket Data Center", deployment: "server", status: "active",
		contacts: []demoContact{{"hank@umbrella.test", "billing", true}, {"ivan@umbrella.test", "technical", true}}},
}

// demoCards describes the sandbox's test payment methods as Stripe does.
var demoCards = map[string]struct {
	brand, last4 string
}{
	"pm_card_visa":           {"visa", "4242"},
	"pm_card_chargeDeclined": {"visa", "0002"},
}

// SeedDemo loads the demo data of SPEC §6 into an empty database and reports
// whether it did; a database that already holds licences is left alone.
// Dates are relative to now: monthly licences renew on the first of next
// month, and SEN-1000003's open invoice fell due three days ago.
func (db *DB) SeedDemo(ctx context.Context, now time.Time) (bool, error) {
	return db.SeedDemoFor(ctx, now, true)
}

// SeedDemoFor is SeedDemo for a given payment provider. The demo's
// customer ids (cus_demo_…) exist only in the payments sandbox: with
// another provider (Stripe) sandboxCustomers is false and the demo
// licences have none, so their customers are created at the provider on
// first use, as for imported licences. Their cards are Stripe's documented
// test payment methods (pm_card_visa…), which every test-mode account
// knows.
func (db *DB) SeedDemoFor(ctx context.Context, now time.Time, sandboxCustomers bool) (bool, error) {
	hashes := make(map[string]string, len(demoAccounts))
	for _, a := range demoAccounts {
		h, err := passwords.Hash(DemoPassword)
		if err != nil {
			return false, err
		}
		hashes[a.email] = h
	}
	seeded := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// Serialise concurrent seeders (two dev processes on one database).
		if _, err := tx.Exec(ctx, `LOCK TABLE licenses IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM licenses`).Scan(&n); err != nil || n > 0 {
			return err
		}
		ids := map[string]int64{}
		for _, a := range demoAccounts {
			var id int64
			err := tx.QueryRow(ctx, `
				INSERT INTO accounts (email, status, display_name, company, password_hash)
				VALUES ($1, 'active', $2, $3, $4)
				ON CONFLICT (lower(email)) DO UPDATE SET email = excluded.email
				RETURNING id`, a.email, a.name, a.company, hashes[a.email]).Scan(&id)
			if err != nil {
				return fmt.Errorf("demo account %s: %w", a.email, err)
			}
			ids[a.email] = id
		}
		today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		for _, l := range demoLicenses {
			if err := seedLicense(ctx, tx, l, ids, today, now, sandboxCustomers); err != nil {
				return fmt.Errorf("demo licence %s: %w", l.sen, err)
			}
		}
		seeded = true
		return nil
	})
	return seeded, err
}

func seedLicense(ctx context.Context, tx pgx.Tx, l demoLicense, ids map[string]int64, today, now time.Time, sandboxCustomers bool) error {
	var (
		cycle, customer *string
		next            *time.Time
	)
	dueDate := today.AddDate(0, 0, -3)
	if l.deployment == "cloud" {
		c := l.cycle
		cycle = &c
		if sandboxCustomers {
			cus := "cus_demo_" + l.sen
			customer = &cus
		}
		n := time.Date(today.Year(), today.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		if l.cycle == "annual" {
			n = time.Date(today.Year()+1, today.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
		if l.openInvoice {
			n = dueDate.AddDate(0, 1, 0)
		}
		next = &n
	}
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO licenses (sen, product, deployment, billing_cycle, status, site, price_cents, currency, next_billing_date, payment_customer)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'USD', $8, $9) RETURNING id`,
		l.sen, l.product, l.deployment, cycle, l.status, l.site, l.priceCents, next, customer).Scan(&id)
	if err != nil {
		return err
	}
	for _, c := range l.contacts {
		if _, err := tx.Exec(ctx, `INSERT INTO license_contacts (license_id, account_id, role, is_primary) VALUES ($1, $2, $3, $4)`,
			id, ids[c.email], c.role, c.primary); err != nil {
			return err
		}
	}
	for _, a := range l.siteAdmins {
		if _, err := tx.Exec(ctx, `INSERT INTO site_admins (license_id, account_id) VALUES ($1, $2)`, id, ids[a]); err != nil {
			return err
		}
	}
	if l.card != "" {
		card := demoCards[l.card]
		if _, err := tx.Exec(ctx, `
			INSERT INTO payment_methods (license_id, provider_ref, brand, last4, exp_month, exp_year, is_default, added_by, added_via)
			VALUES ($1, $2, $3, $4, 12, $5, true, $6, 'link')`, id, l.card, card.brand, card.last4, today.Year()+4, l.cardBy); err != nil {
			return err
		}
	}
	if a := l.address; a != nil {
		var country *string
		if a.country != "" {
			country = &a.country
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO billing_addresses (license_id, name, lines, city, postcode, region, country, tax_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, a.name, a.lines, a.city, a.postcode, a.region, country, a.taxID); err != nil {
			return err
		}
	}
	if next != nil {
		if err := seedPaidInvoices(ctx, tx, l, id, *next, now); err != nil {
			return err
		}
	}
	if l.openInvoice {
		var invoiceID int64
		number := fmt.Sprintf("%s-%s", l.sen, dueDate.Format("2006-01-02"))
		err := tx.QueryRow(ctx, `
			INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency)
			VALUES ($1, $2, $3, $4, $3, $5, 'USD') RETURNING id`,
			id, number, dueDate, dueDate.AddDate(0, 1, 0), l.priceCents).Scan(&invoiceID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO charge_attempts (invoice_id, attempt, idempotency_key, payment_method, status, decline_code, error, created_at, finished_at)
			VALUES ($1, 1, $2, $3, 'failed', 'generic_decline', 'Your card was declined.', $4, $4)`,
			invoiceID, number+"/1", l.card, dueDate); err != nil {
			return err
		}
	}
	return nil
}

// seedPaidInvoices gives a demo licence the paid invoices of its periods
// before the current one (or before its open invoice), each with the
// successful charge that paid it: the account page, the invoice pages and
// their PDFs then have a history to show.
func seedPaidInvoices(ctx context.Context, tx pgx.Tx, l demoLicense, id int64, next, now time.Time) error {
	step := func(t time.Time, n int) time.Time {
		if l.cycle == "annual" {
			return t.AddDate(n, 0, 0)
		}
		return t.AddDate(0, n, 0)
	}
	latest := step(next, -1) // the current period, paid when it began
	if l.openInvoice {
		latest = step(next, -2) // the period before the open invoice's
	}
	if l.paidInvoices > 0 {
		// The card that paid them: the one on file, or an earlier one.
		if _, err := tx.Exec(ctx, `
			INSERT INTO payment_methods (license_id, provider_ref, brand, last4, exp_month, exp_year, is_default, added_by, added_via)
			VALUES ($1, 'pm_card_visa', 'visa', '4242', 12, $2, false, $3, 'link') ON CONFLICT DO NOTHING`, id, now.Year()+4, l.cardBy); err != nil {
			return err
		}
	}
	for i := range l.paidInvoices {
		start := step(latest, -i)
		paidAt := start.Add(9 * time.Hour)
		if paidAt.After(now) {
			paidAt = now
		}
		number := fmt.Sprintf("%s-%s", l.sen, start.Format("2006-01-02"))
		var invoiceID int64
		err := tx.QueryRow(ctx, `
			INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency, status, paid_at, created_at, collection_started_at, bill_to)
			SELECT $1, $2, $3, $4, $3, $5, 'USD', 'paid', $6, $7, $7,
			       (SELECT jsonb_build_object('name', b.name, 'lines', to_jsonb(b.lines), 'city', b.city, 'postcode', b.postcode,
			                                  'region', b.region, 'country', coalesce(b.country, ''), 'tax_id', b.tax_id)
			        FROM billing_addresses b WHERE b.license_id = $1)
			RETURNING id`, id, number, start, step(start, 1), l.priceCents, paidAt, paidAt.Add(-time.Minute)).Scan(&invoiceID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO charge_attempts (invoice_id, attempt, idempotency_key, payment_method, status, provider_ref, created_at, finished_at)
			VALUES ($1, 1, $2, 'pm_card_visa', 'succeeded', $3, $4, $4)`,
			invoiceID, number+"/1", "pi_demo_"+strings.ReplaceAll(number, "-", ""), paidAt); err != nil {
			return err
		}
	}
	return nil
}
