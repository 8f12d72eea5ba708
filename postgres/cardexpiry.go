package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// Expiring cards (licensing.CardExpiry): a daily run queues the reminders
// that came due, set-based, reading the default cards whose expiry falls
// in a window of days through payment_methods_expiry, so its cost grows
// with the cards expiring, not with the book; then it mails the queued
// ones and stamps them (card_expiry_reminders is an outbox).

// sqlQueueCardReminders inserts the reminders due on $1 (a date): 30 and 7
// days before a default card expires, and a week before the first charge
// due after it expired (within a billing cycle of the expiry: later ones
// are the failed-payment mails' business). m is the first day of the
// expiry month (payment_methods_expiry's expression); the card stops
// working a month later. Each branch reads a narrow range of an index:
// the cards that stop working in the next 30 days (soon), those of monthly
// licences that stopped in the last month (lapsed), and the annual
// licences billed in the next week (licenses_due_annual) with their card.
// A reminder that exists is not made again.
const sqlQueueCardReminders = `
	WITH soon AS (
		SELECT p.id, p.license_id, (make_date(p.exp_year, p.exp_month, 1) + interval '1 month')::date AS expires
		FROM payment_methods p
		WHERE p.is_default AND make_date(p.exp_year, p.exp_month, 1)
			BETWEEN ($1::date + 1 - interval '1 month')::date AND ($1::date + 30 - interval '1 month')::date
	), lapsed AS (
		SELECT p.id, p.license_id, (make_date(p.exp_year, p.exp_month, 1) + interval '1 month')::date AS expires
		FROM payment_methods p
		WHERE p.is_default AND make_date(p.exp_year, p.exp_month, 1)
			BETWEEN ($1::date + 1 - interval '2 months')::date AND ($1::date - interval '1 month')::date
	), due AS (
		SELECT s.id, s.license_id, CASE WHEN s.expires > $1::date + 7 THEN '30d' ELSE '7d' END AS stage
		FROM soon s JOIN licenses l ON l.id = s.license_id
		WHERE s.expires > $1::date AND s.expires <= $1::date + 30 AND l.deployment = 'cloud' AND l.status <> 'cancelled'
		UNION ALL
		SELECT e.id, e.license_id, 'due:' || to_char(l.next_billing_date, 'YYYY-MM-DD')
		FROM lapsed e JOIN licenses l ON l.id = e.license_id
		WHERE l.billing_cycle = 'monthly' AND l.next_billing_date BETWEEN $1::date AND $1::date + 7
		  AND e.expires <= $1::date AND e.expires > (l.next_billing_date - interval '1 month')::date
		  AND l.deployment = 'cloud' AND l.status <> 'cancelled'
		UNION ALL
		-- The card of each annual licence due, by its licence (LIMIT 1: one
		-- default card each, and a look-up per licence, never a scan of cards).
		SELECT p.id, l.id, 'due:' || to_char(l.next_billing_date, 'YYYY-MM-DD')
		FROM licenses l CROSS JOIN LATERAL (
			SELECT p.id, (make_date(p.exp_year, p.exp_month, 1) + interval '1 month')::date AS expires
			FROM payment_methods p WHERE p.license_id = l.id AND p.is_default LIMIT 1) p
		WHERE l.deployment = 'cloud' AND l.status <> 'cancelled' AND l.billing_cycle = 'annual'
		  AND l.next_billing_date BETWEEN $1::date AND $1::date + 7
		  AND p.expires <= $1::date AND p.expires > (l.next_billing_date - interval '1 year')::date
	)
	INSERT INTO card_expiry_reminders (payment_method_id, stage, license_id)
	SELECT id, stage, license_id FROM due
	ON CONFLICT DO NOTHING`

// QueueCardReminders queues the card-expiry reminders due on today's
// date and says how many it queued. Idempotent: a second run the same day
// queues none.
func (db *DB) QueueCardReminders(ctx context.Context, today time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, sqlQueueCardReminders, today.UTC().Format(time.DateOnly))
	return int(tag.RowsAffected()), err
}

// CardReminder is a queued card-expiry reminder with what mailing it needs.
type CardReminder struct {
	PaymentMethodID int64
	Stage           string // "30d", "7d" or "due:<date>"
	SEN             licensing.SEN
	Default         bool // still the licence's card (a new one stops the reminders)
	Card            licensing.PaymentMethod
}

const sqlPendingCardReminders = `
	SELECT r.payment_method_id, r.stage, l.sen, p.is_default, p.brand, p.last4, p.exp_month, p.exp_year
	FROM card_expiry_reminders r JOIN payment_methods p ON p.id = r.payment_method_id JOIN licenses l ON l.id = r.license_id
	WHERE r.mailed_at IS NULL
	ORDER BY r.created_at, r.payment_method_id
	LIMIT $1`

// PendingCardReminders returns up to limit queued reminders not yet
// mailed, oldest first.
func (db *DB) PendingCardReminders(ctx context.Context, limit int) ([]CardReminder, error) {
	rows, err := db.pool.Query(ctx, sqlPendingCardReminders, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (CardReminder, error) {
		var r CardReminder
		err := row.Scan(&r.PaymentMethodID, &r.Stage, &r.SEN, &r.Default, &r.Card.Brand, &r.Card.Last4, &r.Card.ExpMonth, &r.Card.ExpYear)
		return r, err
	})
}

// CardReminderDone stamps a reminder mailed, or, with a reason, skipped
// (the card was replaced, the licence cancelled, before it went out).
func (db *DB) CardReminderDone(ctx context.Context, paymentMethodID int64, stage, skipped string) error {
	_, err := db.pool.Exec(ctx, `UPDATE card_expiry_reminders SET mailed_at = now(), skipped = nullif($3, '')
		WHERE payment_method_id = $1 AND stage = $2 AND mailed_at IS NULL`, paymentMethodID, stage, skipped)
	return err
}

const sqlAccountExpiringCards = `
	WITH ids AS (SELECT license_id FROM license_contacts WHERE account_id = $1::bigint
	             UNION SELECT license_id FROM site_admins WHERE account_id = $1::bigint)
	SELECT l.sen FROM ids JOIN licenses l ON l.id = ids.license_id
	JOIN payment_methods p ON p.license_id = l.id AND p.is_default
	WHERE l.deployment = 'cloud' AND l.status <> 'cancelled' AND make_date(p.exp_year, p.exp_month, 1) <= $2::date
	ORDER BY l.sen LIMIT $3`

// AccountExpiringCards returns the first limit of an account's licences,
// in SEN order, whose card stops working before until: the account page
// puts each one's banner at the top.
func (db *DB) AccountExpiringCards(ctx context.Context, accountID int64, until time.Time, limit int) ([]licensing.SEN, error) {
	// The card stops working a month after m: m <= until - 1 month.
	m := until.UTC().AddDate(0, -1, 0).Format(time.DateOnly)
	rows, err := db.pool.Query(ctx, sqlAccountExpiringCards, accountID, m, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[licensing.SEN])
}
