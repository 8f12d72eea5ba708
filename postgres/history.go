package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"licensedesk/history"
	"licensedesk/licensing"
)

// historyQuery reads a page of a licence's history, newest first, through
// audit_log_license_id: $1 the licence's id, $2 the id to start below, $3
// how many.
const historyQuery = `
	SELECT id, at, actor_kind, actor, action, detail, coalesce(workflow_id, '')
	FROM audit_log WHERE license_id = $1 AND id < $2
	ORDER BY id DESC LIMIT $3`

// History returns up to limit events of a licence, newest first, before
// cursor ("" for the newest), and the cursor of the next page ("" when
// there is none). It reads the index audit_log_license_id, so a page costs
// the same whatever the size of the log. An unknown licence is NotFound.
func (db *DB) History(ctx context.Context, sen licensing.SEN, cursor string, limit int) (history.Page, error) {
	before := int64(1<<63 - 1)
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n <= 0 {
			return history.Page{}, licensing.Errorf(licensing.Invalid, "%q is not a history cursor", cursor)
		}
		before = n
	}
	var licID int64
	if err := db.pool.QueryRow(ctx, `SELECT id FROM licenses WHERE sen = $1`, string(sen)).Scan(&licID); err != nil {
		if err == pgx.ErrNoRows {
			return history.Page{}, licensing.Errorf(licensing.NotFound, "No licence %s found.", sen)
		}
		return history.Page{}, err
	}
	rows, err := db.pool.Query(ctx, historyQuery, licID, before, limit+1)
	if err != nil {
		return history.Page{}, err
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (history.Event, error) {
		var e history.Event
		err := r.Scan(&e.ID, &e.At, &e.Actor.Via, &e.Actor.ID, &e.Action, &e.Details, &e.WorkflowID)
		if e.Actor.Via == "link" || e.Actor.Via == "account" {
			e.Actor.Email = e.Actor.ID // the actor of a link or the account page is that person's email
		}
		return e, err
	})
	if err != nil {
		return history.Page{}, err
	}
	page := history.Page{Events: events}
	if len(events) > limit {
		page.Events = events[:limit]
		page.NextCursor = strconv.FormatInt(page.Events[limit-1].ID, 10)
	}
	return page, nil
}

// RecordRequest records that someone asked for an operation (a Slack
// command and its Confirm, the account page), naming them; what the
// operation then changes is recorded as it changes it.
func (db *DB) RecordRequest(ctx context.Context, by licensing.Actor, sen licensing.SEN, kind string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var licID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM licenses WHERE sen = $1`, string(sen)).Scan(&licID); err != nil {
			if err == pgx.ErrNoRows {
				return nil // a request about no licence we hold is not part of any history
			}
			return err
		}
		return audit(ctx, tx, by, kind+".request", licID, 0, nil)
	})
}

// RecordResend records that by had a fresh link mailed to email.
func (db *DB) RecordResend(ctx context.Context, by licensing.Actor, sen licensing.SEN, email licensing.Email) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var licID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM licenses WHERE sen = $1`, string(sen)).Scan(&licID); err != nil {
			if err == pgx.ErrNoRows {
				return nil
			}
			return err
		}
		return audit(ctx, tx, by, "link.resend", licID, 0, map[string]any{"email": email})
	})
}

// RecordMove records that a move ended with the licence moved to its new
// contact (license.moved for receivers of events). Once per operation: a
// retried activity finds the row its first try wrote.
func (db *DB) RecordMove(ctx context.Context, by licensing.Actor, sen licensing.SEN, from, to licensing.Email, keptOld bool) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		licID, _, err := lockLicense(ctx, tx, sen)
		if err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE license_id = $1 AND action = 'license.move' AND workflow_id = $2)`,
			licID, by.WorkflowID).Scan(&done); err != nil || done {
			return err
		}
		return audit(ctx, tx, by, "license.move", licID, 0, map[string]any{"from": from, "to": to, "kept_old": keptOld})
	})
}
