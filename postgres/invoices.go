package postgres

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// Invoices as customers and sales read them (issue 20): a licence's
// invoices newest first, a page at a time by period over the unique index
// (license_id, period_start), and one invoice with its receipt.

// invoiceColumns read an invoice i of licence l as licensing.Invoice
// (scanInvoice): the billing address it was made out to (or, for an
// invoice made before addresses were kept on invoices, the licence's
// current one), its failed charges, and for a paid invoice the charge that
// paid it with its card.
const invoiceColumns = `
       i.number, l.sen, l.product, coalesce(l.billing_cycle, ''), i.period_start, i.period_end, i.due_date, i.created_at,
       i.amount_cents, i.currency, i.tax_name, i.tax_rate_bp, i.tax_cents, i.status,
       (SELECT count(*) FROM charge_attempts c WHERE c.invoice_id = i.id AND c.status = 'failed'),
       i.paid_at, s.provider_ref, pm.brand, pm.last4,
       coalesce(i.bill_to, (SELECT ` + billingAddressJSON + ` FROM billing_addresses b WHERE b.license_id = l.id), '{}')`

const invoiceFrom = `
FROM invoices i JOIN licenses l ON l.id = i.license_id
LEFT JOIN charge_attempts s ON s.invoice_id = i.id AND s.status = 'succeeded'
LEFT JOIN payment_methods pm ON pm.license_id = i.license_id AND pm.provider_ref = s.payment_method`

// billingAddressJSON is billing address b as licensing.BillingAddress's JSON.
const billingAddressJSON = `jsonb_build_object('name', b.name, 'lines', to_jsonb(b.lines), 'city', b.city,
       'postcode', b.postcode, 'region', b.region, 'country', coalesce(b.country, ''), 'tax_id', b.tax_id)`

// The invoice queries, named for Explain.
const (
	// invoiceListQuery is a page of licence $1's invoices before period $2.
	invoiceListQuery = `SELECT` + invoiceColumns + invoiceFrom + `
		WHERE i.license_id = $1 AND i.period_start < $2
		ORDER BY i.period_start DESC LIMIT $3`
	// invoiceForQuery is invoice $1 if person $2 is related to its licence.
	invoiceForQuery = `SELECT` + invoiceColumns + invoiceFrom + `
		WHERE i.number = $1 AND EXISTS (
			SELECT 1 FROM accounts a WHERE lower(a.email) = lower($2)
			  AND (EXISTS (SELECT 1 FROM license_contacts c WHERE c.license_id = l.id AND c.account_id = a.id)
			       OR EXISTS (SELECT 1 FROM site_admins sa WHERE sa.license_id = l.id AND sa.account_id = a.id)))`
	// recentInvoicesQuery is the $2 newest invoices of each licence in $1.
	recentInvoicesQuery = `
		SELECT` + invoiceColumns + `
		FROM licenses l
		CROSS JOIN LATERAL (SELECT * FROM invoices x WHERE x.license_id = l.id ORDER BY x.period_start DESC LIMIT $2) i
		LEFT JOIN charge_attempts s ON s.invoice_id = i.id AND s.status = 'succeeded'
		LEFT JOIN payment_methods pm ON pm.license_id = i.license_id AND pm.provider_ref = s.payment_method
		WHERE l.sen = ANY($1)
		ORDER BY l.sen, i.period_start DESC`
)

func scanInvoice(row pgx.Row) (licensing.Invoice, error) {
	var (
		inv               licensing.Invoice
		paidAt            *time.Time
		ref, brand, last4 *string
	)
	err := row.Scan(&inv.Number, &inv.SEN, &inv.Product, &inv.Cycle, &inv.PeriodStart, &inv.PeriodEnd, &inv.DueDate, &inv.IssuedAt,
		&inv.AmountCents, &inv.Currency, &inv.Tax.Name, &inv.Tax.RateBP, &inv.Tax.AmountCents, &inv.Stored,
		&inv.Failed, &paidAt, &ref, &brand, &last4, &inv.BillTo)
	if err != nil {
		return licensing.Invoice{}, err
	}
	if paidAt != nil {
		inv.Receipt = &licensing.Receipt{PaidAt: *paidAt}
		if ref != nil {
			inv.Receipt.ProviderRef = *ref
		}
		if brand != nil && last4 != nil {
			inv.Receipt.Card = licensing.CardName(licensing.PaymentMethod{Brand: *brand, Last4: *last4})
		}
	}
	return inv, nil
}

// LicenseInvoices returns up to limit invoices of the licence sen, newest
// period first, starting after cursor (from a page before; "" for the
// first). An unknown SEN is NotFound; a cursor that is not one of ours is
// Invalid.
func (db *DB) LicenseInvoices(ctx context.Context, sen licensing.SEN, cursor string, limit int) (licensing.InvoicePage, error) {
	before := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		t, perr := time.Parse("2006-01-02", string(b))
		if err != nil || perr != nil {
			return licensing.InvoicePage{}, licensing.FieldErrorf(licensing.Invalid, "cursor", "That cursor is not one this API gave out: start again without it.")
		}
		before = t
	}
	var licID int64
	if err := db.pool.QueryRow(ctx, `SELECT id FROM licenses WHERE sen = $1`, string(sen)).Scan(&licID); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return licensing.InvoicePage{}, licensing.Errorf(licensing.NotFound, "No licence %s found.", sen)
		}
		return licensing.InvoicePage{}, err
	}
	rows, err := db.pool.Query(ctx, invoiceListQuery, licID, before, limit+1)
	if err != nil {
		return licensing.InvoicePage{}, err
	}
	defer rows.Close()
	var out licensing.InvoicePage
	for rows.Next() {
		inv, err := scanInvoice(rows)
		if err != nil {
			return licensing.InvoicePage{}, err
		}
		out.Invoices = append(out.Invoices, inv)
	}
	if err := rows.Err(); err != nil {
		return licensing.InvoicePage{}, err
	}
	if len(out.Invoices) > limit {
		out.Invoices = out.Invoices[:limit]
		last := out.Invoices[limit-1].PeriodStart.Format("2006-01-02")
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(last))
	}
	return out, nil
}

// InvoiceByNumber returns one invoice, or NotFound.
func (db *DB) InvoiceByNumber(ctx context.Context, number string) (licensing.Invoice, error) {
	inv, err := scanInvoice(db.pool.QueryRow(ctx, `SELECT`+invoiceColumns+invoiceFrom+` WHERE i.number = $1`, number))
	if errors.Is(err, pgx.ErrNoRows) {
		return licensing.Invoice{}, licensing.Errorf(licensing.NotFound, "No invoice %s found.", number)
	}
	return inv, err
}

// InvoiceFor returns an invoice for a person who is a contact or a site
// admin of its licence. Anyone else, and a number that does not exist,
// get the same NotFound from the same one query, so the answer says
// nothing about which invoices exist.
func (db *DB) InvoiceFor(ctx context.Context, number string, email licensing.Email) (licensing.Invoice, error) {
	inv, err := scanInvoice(db.pool.QueryRow(ctx, invoiceForQuery, number, string(email)))
	if errors.Is(err, pgx.ErrNoRows) {
		return licensing.Invoice{}, licensing.ErrNoSuchInvoice
	}
	return inv, err
}

// BillingAddress returns a licence's billing address (zero when none was
// given).
func (db *DB) BillingAddress(ctx context.Context, sen licensing.SEN) (licensing.BillingAddress, error) {
	var a licensing.BillingAddress
	err := db.pool.QueryRow(ctx, `
		SELECT coalesce((SELECT `+billingAddressJSON+` FROM billing_addresses b WHERE b.license_id = l.id), '{}')
		FROM licenses l WHERE l.sen = $1`, string(sen)).Scan(&a)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, licensing.Errorf(licensing.NotFound, "No licence %s found.", sen)
	}
	return a, err
}

// RecentInvoices returns the n newest invoices of each licence in sens (a
// page of the account page), in one query: n+1 per licence through the
// index (license_id, period_start), so a licence with more than n has
// more[sen] set.
func (db *DB) RecentInvoices(ctx context.Context, sens []licensing.SEN, n int) (recent map[licensing.SEN][]licensing.Invoice, more map[licensing.SEN]bool, err error) {
	recent, more = map[licensing.SEN][]licensing.Invoice{}, map[licensing.SEN]bool{}
	if len(sens) == 0 {
		return recent, more, nil
	}
	names := make([]string, len(sens))
	for i, s := range sens {
		names[i] = string(s)
	}
	rows, err := db.pool.Query(ctx, recentInvoicesQuery, names, n+1)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		inv, err := scanInvoice(rows)
		if err != nil {
			return nil, nil, err
		}
		if len(recent[inv.SEN]) == n {
			more[inv.SEN] = true
			continue
		}
		recent[inv.SEN] = append(recent[inv.SEN], inv)
	}
	return recent, more, rows.Err()
}
