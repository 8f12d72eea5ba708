package sandbox

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PGStore keeps the sandbox's state in PostgreSQL (tables from the
// postgres package's migration 003_sql).
type PGStore struct{ pool *pgxpool.Pool }

// NewPGStore returns the store on pool.
func NewPGStore(pool *pgxpool.Pool) *PGStore { return &PGStore{pool: pool} }

var _ Store = (*PGStore)(nil)

// SandboxEnsureCustomer stores c unless the SEN has a customer, and returns
// the SEN's customer. Concurrent calls for one SEN create one row.
func (st *PGStore) SandboxEnsureCustomer(ctx context.Context, c CustomerRecord) (CustomerRecord, error) {
	// ON CONFLICT DO NOTHING waits for a concurrent insert of the same SEN
	// to commit; the SELECT, a new statement, then sees it.
	if _, err := st.pool.Exec(ctx, `
		INSERT INTO sandbox_customers (id, sen, email, name, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (sen) DO NOTHING`, c.ID, c.SEN, c.Email, c.Name, c.CreatedAt); err != nil {
		return CustomerRecord{}, err
	}
	var out CustomerRecord
	var def *string
	err := st.pool.QueryRow(ctx, `
		SELECT id, sen, email, name, default_payment_method, created_at
		FROM sandbox_customers WHERE sen = $1`, c.SEN).
		Scan(&out.ID, &out.SEN, &out.Email, &out.Name, &def, &out.CreatedAt)
	if def != nil {
		out.DefaultPaymentMethod = *def
	}
	return out, err
}

// SandboxSetDefault records a customer's default payment method. A
// customer the sandbox did not create (the demo's) has no row: nothing to
// record, and no error.
func (st *PGStore) SandboxSetDefault(ctx context.Context, customerID, paymentMethodID string) error {
	_, err := st.pool.Exec(ctx, `UPDATE sandbox_customers SET default_payment_method = $2 WHERE id = $1`, customerID, paymentMethodID)
	return err
}

const sandboxSessionColumns = `id, customer_id, sen, reference, success_url, cancel_url, status, csrf_token,
	setup_intent, payment_method, idempotency_key, event_id, event_payload, created_at, expires_at, completed_at`

func scanSandboxSession(row pgx.Row) (SessionRecord, error) {
	var (
		s                         SessionRecord
		pm, key, eventID, payload *string
		completedAt               *time.Time
	)
	err := row.Scan(&s.ID, &s.CustomerID, &s.SEN, &s.Reference, &s.SuccessURL, &s.CancelURL, &s.Status, &s.CSRFToken,
		&s.SetupIntentID, &pm, &key, &eventID, &payload, &s.CreatedAt, &s.ExpiresAt, &completedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, err
	}
	s.PaymentMethod = sandboxText(pm)
	s.IdempotencyKey = sandboxText(key)
	s.EventID = sandboxText(eventID)
	if payload != nil {
		s.EventPayload = []byte(*payload)
	}
	if completedAt != nil {
		s.CompletedAt = *completedAt
	}
	return s, nil
}

func sandboxText(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func sandboxNullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// SandboxCreateSession stores s, or returns the session that already has
// s.IdempotencyKey.
func (st *PGStore) SandboxCreateSession(ctx context.Context, s SessionRecord) (SessionRecord, error) {
	tag, err := st.pool.Exec(ctx, `
		INSERT INTO sandbox_sessions (id, customer_id, sen, reference, success_url, cancel_url, status, csrf_token,
			setup_intent, idempotency_key, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10, $11)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		s.ID, s.CustomerID, s.SEN, s.Reference, s.SuccessURL, s.CancelURL, s.CSRFToken,
		s.SetupIntentID, sandboxNullText(s.IdempotencyKey), s.CreatedAt, s.ExpiresAt)
	if err != nil {
		return SessionRecord{}, err
	}
	if tag.RowsAffected() == 1 {
		return st.SandboxSession(ctx, s.ID)
	}
	return scanSandboxSession(st.pool.QueryRow(ctx,
		`SELECT `+sandboxSessionColumns+` FROM sandbox_sessions WHERE idempotency_key = $1`, s.IdempotencyKey))
}

// SandboxSession returns a session, or ErrNotFound.
func (st *PGStore) SandboxSession(ctx context.Context, id string) (SessionRecord, error) {
	return scanSandboxSession(st.pool.QueryRow(ctx, `SELECT `+sandboxSessionColumns+` FROM sandbox_sessions WHERE id = $1`, id))
}

// SandboxCompleteSession saves pm and completes an open session, in one
// transaction with the session row locked, so two submissions of one page
// save one card and one event: the second gets the first's session back.
func (st *PGStore) SandboxCompleteSession(ctx context.Context, id string, pm PaymentMethodRecord, eventID string, payload []byte, now time.Time) (SessionRecord, error) {
	expired := false
	err := pgx.BeginFunc(ctx, st.pool, func(tx pgx.Tx) error {
		var status string
		var expiresAt time.Time
		err := tx.QueryRow(ctx, `SELECT status, expires_at FROM sandbox_sessions WHERE id = $1 FOR UPDATE`, id).Scan(&status, &expiresAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		switch {
		case status == SessionComplete:
			return nil
		case status == SessionExpired:
			expired = true
			return nil
		case !now.Before(expiresAt):
			expired = true
			_, err := tx.Exec(ctx, `UPDATE sandbox_sessions SET status = 'expired' WHERE id = $1`, id)
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO sandbox_payment_methods (id, customer_id, test_card, brand, last4, exp_month, exp_year, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			pm.ID, pm.CustomerID, pm.TestCard, pm.Brand, pm.Last4, pm.ExpMonth, pm.ExpYear, pm.CreatedAt); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE sandbox_sessions
			SET status = 'complete', payment_method = $2, event_id = $3, event_payload = $4, completed_at = $5
			WHERE id = $1`, id, pm.ID, eventID, string(payload), now)
		return err
	})
	if err != nil {
		return SessionRecord{}, err
	}
	if expired {
		return SessionRecord{}, ErrExpired
	}
	return st.SandboxSession(ctx, id)
}

// SandboxPaymentMethod returns a saved card, or ErrNotFound.
func (st *PGStore) SandboxPaymentMethod(ctx context.Context, id string) (PaymentMethodRecord, error) {
	var pm PaymentMethodRecord
	err := st.pool.QueryRow(ctx, `
		SELECT id, customer_id, test_card, brand, last4, exp_month, exp_year, created_at
		FROM sandbox_payment_methods WHERE id = $1`, id).
		Scan(&pm.ID, &pm.CustomerID, &pm.TestCard, &pm.Brand, &pm.Last4, &pm.ExpMonth, &pm.ExpYear, &pm.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return pm, ErrNotFound
	}
	return pm, err
}

// SandboxRecordCharge stores c unless its idempotency key was used, and
// returns the charge stored under the key: concurrent calls with one key
// store one row and all get it back. Keys are never forgotten here.
func (st *PGStore) SandboxRecordCharge(ctx context.Context, c ChargeRecord) (ChargeRecord, error) {
	return st.SandboxRecordChargeSince(ctx, c, time.Time{})
}

// SandboxRecordChargeSince stores c under its key unless the key was first
// used at or after forgetBefore, in which case the charge stored under it
// is returned. The key's row is locked, so concurrent calls with one key
// store one charge.
func (st *PGStore) SandboxRecordChargeSince(ctx context.Context, c ChargeRecord, forgetBefore time.Time) (ChargeRecord, error) {
	var chargeID string
	err := pgx.BeginFunc(ctx, st.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO sandbox_idempotency_keys (key, charge_id, used_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			c.IdempotencyKey, c.ID, c.CreatedAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var usedAt time.Time
			if err := tx.QueryRow(ctx, `SELECT charge_id, used_at FROM sandbox_idempotency_keys WHERE key = $1 FOR UPDATE`, c.IdempotencyKey).
				Scan(&chargeID, &usedAt); err != nil {
				return err
			}
			if !usedAt.Before(forgetBefore) {
				return nil // remembered: the first charge answers
			}
			if _, err := tx.Exec(ctx, `UPDATE sandbox_idempotency_keys SET charge_id = $2, used_at = $3 WHERE key = $1`,
				c.IdempotencyKey, c.ID, c.CreatedAt); err != nil {
				return err
			}
		}
		chargeID = c.ID
		meta := c.Metadata
		if meta == nil {
			meta = map[string]string{}
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO sandbox_charges (id, idempotency_key, customer_id, payment_method, amount_cents, currency,
				description, metadata, status, decline_code, message, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			c.ID, c.IdempotencyKey, c.CustomerID, c.PaymentMethod, c.AmountCents, c.Currency,
			c.Description, meta, c.Status, sandboxNullText(c.DeclineCode), c.Message, c.CreatedAt)
		return err
	})
	if err != nil {
		return ChargeRecord{}, err
	}
	return st.sandboxCharge(ctx, `id = $1`, chargeID)
}

const sandboxChargeColumns = `id, idempotency_key, customer_id, payment_method, amount_cents, currency, description, metadata,
	status, decline_code, message, created_at, return_url, challenge_csrf, updated_at`

func scanSandboxCharge(row pgx.Row) (ChargeRecord, error) {
	var (
		out                      ChargeRecord
		decline, returnURL, csrf *string
		updatedAt                *time.Time
	)
	err := row.Scan(&out.ID, &out.IdempotencyKey, &out.CustomerID, &out.PaymentMethod, &out.AmountCents, &out.Currency,
		&out.Description, &out.Metadata, &out.Status, &decline, &out.Message, &out.CreatedAt, &returnURL, &csrf, &updatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, ErrNotFound
	}
	out.DeclineCode, out.ReturnURL, out.ChallengeCSRF = sandboxText(decline), sandboxText(returnURL), sandboxText(csrf)
	if updatedAt != nil {
		out.UpdatedAt = *updatedAt
	}
	return out, err
}

// SandboxCharge returns a charge by id, or ErrNotFound.
func (st *PGStore) SandboxCharge(ctx context.Context, id string) (ChargeRecord, error) {
	return scanSandboxCharge(st.pool.QueryRow(ctx, `SELECT `+sandboxChargeColumns+` FROM sandbox_charges WHERE id = $1`, id))
}

// SandboxUpdateCharge changes a charge with its row locked (SELECT ... FOR
// UPDATE in one transaction): two changes of one charge (a challenge
// completed twice, or completed while the charge is cancelled) happen one
// after the other, and the second sees the first's result.
func (st *PGStore) SandboxUpdateCharge(ctx context.Context, id string, change func(ChargeRecord) (ChargeRecord, bool, error)) (ChargeRecord, error) {
	var out ChargeRecord
	err := pgx.BeginFunc(ctx, st.pool, func(tx pgx.Tx) error {
		cur, err := scanSandboxCharge(tx.QueryRow(ctx, `SELECT `+sandboxChargeColumns+` FROM sandbox_charges WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		next, changed, err := change(cur)
		if err != nil {
			return err
		}
		out = cur
		if !changed {
			return nil
		}
		_, err = tx.Exec(ctx, `
			UPDATE sandbox_charges SET status = $2, decline_code = $3, message = $4, return_url = $5, challenge_csrf = $6, updated_at = $7
			WHERE id = $1`, id, next.Status, sandboxNullText(next.DeclineCode), next.Message,
			sandboxNullText(next.ReturnURL), sandboxNullText(next.ChallengeCSRF), next.UpdatedAt)
		out = next
		return err
	})
	return out, err
}

func (st *PGStore) sandboxCharge(ctx context.Context, where string, args ...any) (ChargeRecord, error) {
	return scanSandboxCharge(st.pool.QueryRow(ctx, `SELECT `+sandboxChargeColumns+` FROM sandbox_charges WHERE `+where, args...))
}

// SandboxCustomerCharges lists a customer's charges since a time.
func (st *PGStore) SandboxCustomerCharges(ctx context.Context, customerID string, since time.Time) ([]ChargeRecord, error) {
	rows, err := st.pool.Query(ctx, `SELECT `+sandboxChargeColumns+` FROM sandbox_charges
		WHERE customer_id = $1 AND created_at >= $2 ORDER BY created_at, id`, customerID, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ChargeRecord
	for rows.Next() {
		c, err := scanSandboxCharge(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SandboxTakeToken takes a token from a bucket refilled by the database's
// clock, in one statement (the bucket's row is locked while it runs).
func (st *PGStore) SandboxTakeToken(ctx context.Context, name string, rate, capacity float64) (bool, error) {
	var left float64
	err := st.pool.QueryRow(ctx, `
		WITH c AS (SELECT clock_timestamp() AS now)
		INSERT INTO sandbox_rate AS r (name, tokens, at) SELECT $1, $3::float8 - 1, c.now FROM c
		ON CONFLICT (name) DO UPDATE
			SET tokens = least($3::float8, r.tokens + extract(epoch FROM (SELECT now FROM c) - r.at) * $2::float8) - 1,
			    at = (SELECT now FROM c)
			WHERE least($3::float8, r.tokens + extract(epoch FROM (SELECT now FROM c) - r.at) * $2::float8) >= 1
		RETURNING tokens`, name, rate, capacity).Scan(&left)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
