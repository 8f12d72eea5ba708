package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// Billing reminders (issue 20): mails that go out on a date rather than
// in answer to an event, queued set-based in billing_reminders and sent by
// the billing sweep. Queueing costs what is due, not the book: renewals
// come off the partial index licenses_renewal_due (annual licences not yet
// reminded for their date), the outbox off billing_reminders_pending.

// Reminder kinds.
const (
	ReminderRenewal      = "renewal"       // an annual licence renews within licensing.RenewalNotice
	ReminderCardHandover = "card_handover" // a moved licence is still paid by its former owner's card
)

// renewalsDueQuery marks up to $2 annual licences renewing within the
// notice of day $1 as reminded for their date and queues one reminder
// each. The WHERE repeats the index's predicate so the planner uses it.
const renewalsDueQuery = `
	WITH due AS (
		SELECT id, next_billing_date FROM licenses
		WHERE deployment = 'cloud' AND billing_cycle = 'annual' AND status <> 'cancelled'
		  AND renewal_reminded_for IS DISTINCT FROM next_billing_date
		  AND next_billing_date > $1::date AND next_billing_date <= $1::date + 30
		ORDER BY next_billing_date, id
		LIMIT $2
		FOR UPDATE SKIP LOCKED
	), marked AS (
		-- By id list, so the licences are reached through their key
		-- however many the page holds.
		UPDATE licenses l SET renewal_reminded_for = l.next_billing_date
		WHERE l.id = ANY (ARRAY(SELECT id FROM due))
		RETURNING l.id, l.next_billing_date
	), queued AS (
		INSERT INTO billing_reminders (kind, license_id, about, send_on)
		SELECT 'renewal', id, next_billing_date, $1::date FROM marked
		ON CONFLICT (kind, license_id, about) DO NOTHING
		RETURNING 1
	)
	SELECT (SELECT count(*) FROM marked), (SELECT count(*) FROM queued)`

// QueueRenewalReminders queues the renewal reminders of up to limit annual
// licences that renew within licensing.RenewalNotice of today, and marks
// them reminded for that date. marked < limit: none is left. Idempotent:
// a licence reminded for its date is not picked again; when its date
// moves on (it was invoiced, or re-priced to another date) it is due
// again.
func (db *DB) QueueRenewalReminders(ctx context.Context, today time.Time, limit int) (marked, queued int, err error) {
	if int(licensing.RenewalNotice.Hours()/24) != 30 {
		panic("renewalsDueQuery says 30 days; licensing.RenewalNotice changed")
	}
	err = db.pool.QueryRow(ctx, renewalsDueQuery, today.UTC().Format("2006-01-02"), limit).Scan(&marked, &queued)
	return marked, queued, err
}

// QueueCardHandover queues, for sendOn, a reminder to the new owner of a
// moved licence that its card is still the one old (no longer on the
// licence) saved, if cardRef is then still the default. Idempotent per
// licence and move day.
func (db *DB) QueueCardHandover(ctx context.Context, sen licensing.SEN, moved, sendOn time.Time, old, new licensing.Email, cardRef string) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO billing_reminders (kind, license_id, about, send_on, detail)
		SELECT 'card_handover', id, $2::date, $3::date, jsonb_build_object('old', $4::text, 'new', $5::text, 'card', $6::text)
		FROM licenses WHERE sen = $1
		ON CONFLICT (kind, license_id, about) DO NOTHING`,
		string(sen), moved.UTC().Format("2006-01-02"), sendOn.UTC().Format("2006-01-02"), string(old), string(new), cardRef)
	return err
}

// pendingRemindersQuery lists up to $2 reminders due on or before day $1.
const pendingRemindersQuery = `
	SELECT r.id, r.kind, l.sen, r.about, r.detail
	FROM billing_reminders r JOIN licenses l ON l.id = r.license_id
	WHERE r.sent_at IS NULL AND r.send_on <= $1::date
	ORDER BY r.send_on, r.id LIMIT $2`

// Reminder is one queued reminder.
type Reminder struct {
	ID     int64
	Kind   string
	SEN    licensing.SEN
	About  time.Time         // renewal: the billing date; card_handover: the move's day
	Detail map[string]string // card_handover: old, new, card
}

// PendingReminders lists up to limit reminders due by today, oldest first.
func (db *DB) PendingReminders(ctx context.Context, today time.Time, limit int) ([]Reminder, error) {
	rows, err := db.pool.Query(ctx, pendingRemindersQuery, today.UTC().Format("2006-01-02"), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Reminder])
}

// RemindersSent stamps reminders as sent (or as having nothing left to
// say), so the next sweep leaves them.
func (db *DB) RemindersSent(ctx context.Context, ids []int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE billing_reminders SET sent_at = now() WHERE id = ANY($1) AND sent_at IS NULL`, ids)
	return err
}

// DefaultCardRef is the provider reference of a licence's default card
// ("" when it has none).
func (db *DB) DefaultCardRef(ctx context.Context, sen licensing.SEN) (string, error) {
	var ref string
	err := db.pool.QueryRow(ctx, `
		SELECT coalesce((SELECT p.provider_ref FROM payment_methods p WHERE p.license_id = l.id AND p.is_default), '')
		FROM licenses l WHERE l.sen = $1`, string(sen)).Scan(&ref)
	return ref, err
}
