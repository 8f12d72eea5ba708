package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"licensedesk/licensing"
)

// licenseColumns are the read model of licence l and everyone attached to
// it, in one row (scanLicense reads them).
const licenseColumns = `
       l.sen, l.product, l.deployment, coalesce(l.billing_cycle, ''), l.status, l.site,
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
                                 'exp_month', p.exp_month, 'exp_year', p.exp_year, 'added_by', p.added_by)
        FROM payment_methods p WHERE p.license_id = l.id AND p.is_default)`

// licenseQuery reads a licence and everyone attached to it in one round trip.
const licenseQuery = `SELECT` + licenseColumns + `
FROM licenses l
WHERE l.sen = $1`

// License returns the licence with sen, or a NotFound error.
func (db *DB) License(ctx context.Context, sen licensing.SEN) (licensing.License, error) {
	return scanLicense(db.pool.QueryRow(ctx, licenseQuery, string(sen)), sen)
}

func scanLicense(row pgx.Row, sen licensing.SEN, more ...any) (licensing.License, error) {
	var (
		l    licensing.License
		next *time.Time
	)
	dest := append([]any{&l.SEN, &l.Product, &l.Deployment, &l.Cycle, &l.Status, &l.Site,
		&l.PriceCents, &l.Currency, &next, &l.Contacts, &l.SiteAdmins, &l.PaymentMethod}, more...)
	err := row.Scan(dest...)
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

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// licensesByID reads the licences with ids, in one query, keyed by id.
func licensesByID(ctx context.Context, q querier, ids []int64) (map[int64]licensing.License, error) {
	out := make(map[int64]licensing.License, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	err := inChunks(ids, func(chunk []int64) error {
		rows, err := q.Query(ctx, `SELECT`+licenseColumns+`, l.id FROM licenses l WHERE l.id = ANY($1)`, chunk)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			l, err := scanLicense(rows, "", &id)
			if err != nil {
				return err
			}
			out[id] = l
		}
		return rows.Err()
	})
	return out, err
}
