package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Gauges are what the system holds right now, for the metrics ops watch
// (docs/metrics.md). Each count reads a partial index over the few rows
// it counts (migration 007), so a scrape costs the same at any size.
type Gauges struct {
	// Operations waiting on a person (a live emailed link), by kind.
	Waiting map[string]int
	// Operations whose link expired more than 5 minutes ago without
	// being used or revoked: the operation missed its deadline (a stuck
	// worker, say). It should always be empty.
	Overdue           map[string]int
	InvoicesPastDue   int
	LicencesSuspended int
	LicencesPastDue   int
}

// ReadGauges counts them.
func (db *DB) ReadGauges(ctx context.Context) (Gauges, error) {
	g := Gauges{Waiting: map[string]int{}, Overdue: map[string]int{}}
	// A live link of a running operation is a person it waits on. The
	// links that end with their operation's wait (confirmations,
	// promotions, a card update's links) are revoked when the wait ends,
	// so one expired minutes ago and never revoked is an operation that
	// missed its deadline. (An invitation's link outlives the contact-add
	// that sent it, and a reset link its mail; neither is a wait.)
	rows, err := db.pool.Query(ctx, `
		SELECT split_part(workflow_id, '/', 1),
		       CASE WHEN expires_at > now() THEN 'waiting'
		            WHEN expires_at < now() - interval '5 minutes'
		             AND (purpose IN ('confirm_move', 'confirm_request', 'promote')
		                  OR (purpose = 'card_update' AND workflow_id ~ '^card/[^/]+$')) THEN 'overdue'
		            ELSE '' END,
		       count(DISTINCT workflow_id)
		FROM link_tokens
		WHERE used_at IS NULL AND revoked_at IS NULL AND workflow_id IS NOT NULL
		  AND purpose NOT IN ('complete_account', 'password_reset')
		GROUP BY 1, 2`)
	if err != nil {
		return g, err
	}
	var kind, state string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&kind, &state, &n}, func() error {
		switch state {
		case "waiting":
			g.Waiting[kind] += n
		case "overdue":
			g.Overdue[kind] += n
		}
		return nil
	}); err != nil {
		return g, err
	}
	err = db.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM invoices WHERE status = 'open' AND due_date < current_date),
		       (SELECT count(*) FROM licenses WHERE status = 'suspended'),
		       (SELECT count(*) FROM licenses WHERE status = 'past_due')`).
		Scan(&g.InvoicesPastDue, &g.LicencesSuspended, &g.LicencesPastDue)
	return g, err
}
