package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// licenseQuery reads a licence and everyone attached to it in one round trip.
const licenseQuery = `
SELECT l.sen, l.product, l.deployment, coalesce(l.billing_cycle, ''), l.status, l.site,
       l.price_cents, l.currency, l.next_billing_date,
       coalesce((SELECT json_agg(json_build_object('email', a.email, 'role', c.role,
                         'primary', c.is_primary, 'account_status', a.status)
                         ORDER BY c.role, c.is_primary DESC, a.email)
                 FROM license_contacts c JOIN accounts a ON a.id = c.account_id
                 WHERE c.license_id = l.id), '[]'),
       coalesce((SELECT json_agg(a.email ORDER BY a.email)
                 FROM site_admins s JOIN accounts a ON a.id = s.account_id
                 WHERE s.license_id = l.id), '[]'),
       (SELECT json_build_object('brand', p.brand, 'last4', p.last4,
                                 'exp_month', p.exp_month, 'exp_year', p.exp_year)
        FROM payment_methods p WHERE p.license_id = l.id AND p.is_default)
FROM licenses l
WHERE l.sen = $1`

// License returns the licence with sen, or a NotFound error.
func (db *DB) License(ctx context.Context, sen licensing.SEN) (licensing.License, error) {
	return scanLicense(db.pool.QueryRow(ctx, licenseQuery, string(sen)), sen)
}

func scanLicense(row pgx.Row, sen licensing.SEN) (licensing.License, error) {
	var (
		l    licensing.License
		next *time.Time
	)
	err := row.Scan(&l.SEN, &l.Product, &l.Deployment, &l.Cycle, &l.Status, &l.Site,
		&l.PriceCents, &l.Currency, &next, &l.Contacts, &l.SiteAdmins, &l.PaymentMethod)
	if errors.Is(err, pgx.ErrNoRows) {
		return licensing.License{}, licensing.Errorf(licensing.NotFound, "No licence %s found.", sen)
	}
	if err != nil {
		return licensing.License{}, err
	}
	if next != nil {
		l.NextBillingDate = *next
	}
	return l, nil
}
