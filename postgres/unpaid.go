package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// Unpaid is billing as it stands, for the App Home's billing section until
// a digest of each billing sweep replaces it: how many licences are past
// due and suspended, and the ones owing the longest.
type Unpaid struct {
	PastDue, Suspended int
	Oldest             []UnpaidLicence
}

// UnpaidLicence is a licence that owes an open invoice.
type UnpaidLicence struct {
	SEN         licensing.SEN
	Status      licensing.Status
	Invoice     string
	AmountCents int64
	Currency    string
	DueDate     time.Time
}

// unpaidQuery reads the unpaid licences through licenses_unpaid and their
// open invoice through the invoices' (license_id, period_start) key: its
// cost grows with what is unpaid, not with the book.
const unpaidQuery = `
	SELECT l.sen, l.status, i.number, i.amount_cents, i.currency, i.due_date
	FROM licenses l
	CROSS JOIN LATERAL (SELECT number, amount_cents, currency, due_date FROM invoices
	                    WHERE license_id = l.id AND status = 'open' ORDER BY period_start LIMIT 1) i
	WHERE l.status IN ('past_due', 'suspended')
	ORDER BY i.due_date, l.sen LIMIT $1`

// unpaidCountQuery counts them through licenses_unpaid.
const unpaidCountQuery = `
	SELECT count(*) FILTER (WHERE status = 'past_due'), count(*) FILTER (WHERE status = 'suspended')
	FROM licenses WHERE status IN ('past_due', 'suspended')`

// UnpaidLicences counts the unpaid licences and lists up to limit of them,
// the longest owing first.
func (db *DB) UnpaidLicences(ctx context.Context, limit int) (Unpaid, error) {
	var u Unpaid
	err := db.pool.QueryRow(ctx, unpaidCountQuery).Scan(&u.PastDue, &u.Suspended)
	if err != nil {
		return Unpaid{}, err
	}
	rows, err := db.pool.Query(ctx, unpaidQuery, limit)
	if err != nil {
		return Unpaid{}, err
	}
	u.Oldest, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnpaidLicence, error) {
		var l UnpaidLicence
		err := r.Scan(&l.SEN, &l.Status, &l.Invoice, &l.AmountCents, &l.Currency, &l.DueDate)
		return l, err
	})
	return u, err
}
