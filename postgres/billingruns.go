package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// OpenBillingRun starts (or, called again with the same key, finds) the
// billing run of a sweep and claims for it every invoice waiting in the
// collection outbox that has no charge attempt yet: their first attempts
// are the run's to make, and its digest counts them. A run with no invoice
// at all is not kept: run is 0.
func (db *DB) OpenBillingRun(ctx context.Context, workflowKey, channel string) (run int64, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO billing_runs (workflow_key, channel) VALUES ($1, $2) ON CONFLICT (workflow_key) DO NOTHING`,
			workflowKey, channel); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT id FROM billing_runs WHERE workflow_key = $1`, workflowKey).Scan(&run); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO billing_run_invoices (invoice_id, run_id)
			SELECT i.id, $1 FROM invoices i
			WHERE i.collection_started_at IS NULL AND i.status = 'open'
			  AND NOT EXISTS (SELECT 1 FROM charge_attempts a WHERE a.invoice_id = i.id)
			ON CONFLICT (invoice_id) DO NOTHING`, run); err != nil {
			return err
		}
		var any bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM billing_run_invoices WHERE run_id = $1)`, run).Scan(&any); err != nil {
			return err
		}
		if !any {
			_, err := tx.Exec(ctx, `DELETE FROM billing_runs WHERE id = $1`, run)
			run = 0
			return err
		}
		return nil
	})
	return run, err
}

// OutboxInvoice is an invoice waiting in the collection outbox.
type OutboxInvoice struct {
	ID      int64
	Number  string
	SEN     licensing.SEN
	Claimed bool // a billing run claimed it: its first attempt is the run's to make
}

// CollectionOutbox lists up to limit invoices whose collection has not
// started, after the invoice id after, in id order (a keyset walk over
// invoices_collection_pending). Paid ones are listed too: a page that died
// after its charges and before it settled them left them there, and their
// payment mails are still to go.
//
// With lanes above 1 it lists only invoices whose id is lane modulo lanes:
// that many walks can go side by side without meeting.
func (db *DB) CollectionOutbox(ctx context.Context, after int64, limit, lane, lanes int) ([]OutboxInvoice, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT i.id, i.number, l.sen, EXISTS (SELECT 1 FROM billing_run_invoices b WHERE b.invoice_id = i.id)
		FROM invoices i JOIN licenses l ON l.id = i.license_id
		WHERE i.collection_started_at IS NULL AND i.status IN ('open', 'paid') AND i.id > $1
		  AND ($3::int <= 1 OR i.id % $3::int = $4::int)
		ORDER BY i.id LIMIT $2`, after, limit, lanes, lane)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[OutboxInvoice])
}

// RecordBillingEvent records where an invoice's collection stands for its
// run's digest (state is one of licensing.Billing*; a paid invoice stays
// paid), adds exc, when given, to the lines for the digest's thread under
// key (once per key), and marks the run's digest out of date. An invoice
// that belongs to no run (its collection started before billing runs
// existed) joins the newest run; with no run at all nothing is recorded:
// the licence's history has the event either way.
func (db *DB) RecordBillingEvent(ctx context.Context, number, state string, reactivated bool, key string, exc *licensing.BillingException) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var run int64
		err := tx.QueryRow(ctx, `
			WITH inv AS (SELECT id FROM invoices WHERE number = $1),
			attached AS (
				INSERT INTO billing_run_invoices (invoice_id, run_id)
				SELECT inv.id, (SELECT max(id) FROM billing_runs) FROM inv
				WHERE EXISTS (SELECT 1 FROM billing_runs)
				ON CONFLICT (invoice_id) DO NOTHING
				RETURNING run_id)
			SELECT coalesce((SELECT run_id FROM attached), (SELECT b.run_id FROM billing_run_invoices b JOIN inv ON inv.id = b.invoice_id), 0)`,
			number).Scan(&run)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && run == 0) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE billing_run_invoices b SET state = CASE WHEN b.state = 'paid' THEN 'paid' ELSE $2 END,
			       reactivated = b.reactivated OR $3, updated_at = now()
			FROM invoices i WHERE i.id = b.invoice_id AND i.number = $1`, number, state, reactivated); err != nil {
			return err
		}
		if exc != nil {
			var next *time.Time
			if !exc.NextRetry.IsZero() {
				next = &exc.NextRetry
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO billing_run_exceptions (run_id, key, kind, sen, invoice, amount_cents, currency, reason, next_retry)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING`,
				run, key, string(exc.Kind), string(exc.SEN), exc.Invoice, exc.AmountCents, exc.Currency, exc.Reason, next); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE billing_runs SET version = version + 1 WHERE id = $1`, run)
		return err
	})
}

// FinishBillingRun records that every first attempt of a run was made.
func (db *DB) FinishBillingRun(ctx context.Context, run int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE billing_runs SET charging_done = true, version = version + 1 WHERE id = $1 AND NOT charging_done`, run)
	return err
}

// DigestRuns lists up to limit billing runs whose digest in Slack is out
// of date (billing_runs_unflushed), oldest first.
func (db *DB) DigestRuns(ctx context.Context, limit int) ([]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT id FROM billing_runs WHERE version > flushed_version ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// DigestState is a billing run's digest with what posting it needs.
type DigestState struct {
	Digest  licensing.BillingDigest
	Version int64
	Channel string
	TS      string // the digest message; "" until posted
	// Unposted is how many thread lines wait to be posted;
	// LinesWaitedLong says the oldest has waited two minutes.
	Unposted        int
	LinesWaitedLong bool
}

// BillingDigest reads a run's digest: its counts by state and its money
// by currency (an index scan of the run's invoices).
func (db *DB) BillingDigest(ctx context.Context, run int64) (DigestState, error) {
	s := DigestState{Digest: licensing.BillingDigest{Run: run}}
	d := &s.Digest
	err := db.pool.QueryRow(ctx, `
		SELECT r.started_at, r.charging_done, r.version, r.channel, coalesce(r.slack_ts, ''),
		       (SELECT count(*) FROM billing_run_exceptions e WHERE e.run_id = r.id),
		       (SELECT count(*) FROM billing_run_exceptions e WHERE e.run_id = r.id AND e.reply_ts IS NULL),
		       coalesce((SELECT min(created_at) < now() - interval '2 minutes' FROM billing_run_exceptions e
		                 WHERE e.run_id = r.id AND e.reply_ts IS NULL), false)
		FROM billing_runs r WHERE r.id = $1`, run).Scan(&d.StartedAt, &d.ChargingDone, &s.Version, &s.Channel, &s.TS, &d.Exceptions, &s.Unposted, &s.LinesWaitedLong)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, licensing.Errorf(licensing.NotFound, "No billing run %d.", run)
	}
	if err != nil {
		return s, err
	}
	rows, err := db.pool.Query(ctx, `
		SELECT b.state, b.reactivated, i.currency, count(*), sum(i.amount_cents)
		FROM billing_run_invoices b JOIN invoices i ON i.id = b.invoice_id
		WHERE b.run_id = $1 GROUP BY 1, 2, 3`, run)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	totals := map[string]*licensing.CurrencyTotal{}
	for rows.Next() {
		var (
			state, currency string
			reactivated     bool
			n               int
			amount          int64
		)
		if err := rows.Scan(&state, &reactivated, &currency, &n, &amount); err != nil {
			return s, err
		}
		addToDigest(d, state, reactivated, n)
		c := totals[currency]
		if c == nil {
			c = &licensing.CurrencyTotal{Currency: currency}
			totals[currency] = c
		}
		c.Invoices += n
		c.Invoiced += amount
		if state == licensing.BillingPaid {
			c.Paid += amount
		}
	}
	for _, c := range totals {
		d.Currencies = append(d.Currencies, *c)
	}
	d.SortCurrencies()
	return s, rows.Err()
}

func addToDigest(d *licensing.BillingDigest, state string, reactivated bool, n int) {
	d.Invoiced += n
	if reactivated {
		d.Reactivated += n
	}
	switch state {
	case licensing.BillingCharging:
		d.Charging += n
	case licensing.BillingPaid:
		d.Paid += n
	case licensing.BillingDeclinedSoft:
		d.DeclinedSoft += n
	case licensing.BillingDeclinedHard:
		d.DeclinedHard += n
	case licensing.BillingSuspended:
		d.Suspended += n
	}
}

// DigestLine is a thread line waiting to be posted.
type DigestLine struct {
	ID int64
	licensing.BillingException
}

// UnpostedDigestLines lists up to limit of a run's thread lines not yet
// posted, oldest first.
func (db *DB) UnpostedDigestLines(ctx context.Context, run int64, limit int) ([]DigestLine, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT id, kind, sen, invoice, amount_cents, currency, reason, next_retry
		FROM billing_run_exceptions WHERE run_id = $1 AND reply_ts IS NULL ORDER BY id LIMIT $2`, run, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DigestLine
	for rows.Next() {
		var (
			l    DigestLine
			kind string
			sen  string
			next *time.Time
		)
		if err := rows.Scan(&l.ID, &kind, &sen, &l.Invoice, &l.AmountCents, &l.Currency, &l.Reason, &next); err != nil {
			return nil, err
		}
		l.Kind, l.SEN = licensing.ExceptionKind(kind), licensing.SEN(sen)
		if next != nil {
			l.NextRetry = *next
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// DigestLinesPosted records the thread reply that carried lines.
func (db *DB) DigestLinesPosted(ctx context.Context, ids []int64, replyTS string) error {
	_, err := db.pool.Exec(ctx, `UPDATE billing_run_exceptions SET reply_ts = $2 WHERE id = ANY($1)`, ids, replyTS)
	return err
}

// DigestPosted records a run's digest message.
func (db *DB) DigestPosted(ctx context.Context, run int64, ts string) error {
	_, err := db.pool.Exec(ctx, `UPDATE billing_runs SET slack_ts = $2 WHERE id = $1`, run, ts)
	return err
}

// DigestFlushed records that Slack shows the run's digest as of version.
func (db *DB) DigestFlushed(ctx context.Context, run, version int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE billing_runs SET flushed_version = greatest(flushed_version, $2) WHERE id = $1`, run, version)
	return err
}
