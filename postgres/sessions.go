package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"licensedesk/licensing"
)

// Server-side sessions of signed-in customers (migration 004). The browser
// holds 32 random bytes; the table holds only their SHA-256 (callers hash,
// see TokenHash), so reading the table is not enough to sign in as anyone.
// A session ends when it is revoked, when it has been idle too long, or at
// its absolute expiry, whichever comes first.

// Account is a customer account as sign-in and the account page need it.
type Account struct {
	ID           int64
	Email        licensing.Email
	Status       licensing.AccountStatus
	DisplayName  string
	Phone        string
	Company      string
	Address      string
	PasswordHash string // "" while none is set (a pending account)
}

const accountColumns = `a.id, a.email, a.status, a.display_name, a.phone, a.company, a.address, coalesce(a.password_hash, '')`

func scanAccount(row pgx.Row) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Email, &a.Status, &a.DisplayName, &a.Phone, &a.Company, &a.Address, &a.PasswordHash)
	return a, err
}

// NewSession describes a session to create.
type NewSession struct {
	IDHash    []byte        // SHA-256 of the cookie value
	AccountID int64         //
	UserAgent string        // kept for the person's own reference; cut to 512 bytes
	TTL       time.Duration // absolute lifetime
}

// ErrNoSession is what SessionAccount returns for a session that is
// unknown, revoked, idle too long or expired, or whose account can no
// longer sign in: all the same to the person, who must sign in again.
var ErrNoSession = licensing.Errorf(licensing.NotFound, "Your session has ended; sign in again.")

// CreateSession stores a new session and returns when it expires. When
// replaces is not nil, the session with that hash (the browser's previous
// one, if any) is revoked in the same transaction: a sign-in always starts
// a fresh session id.
func (db *DB) CreateSession(ctx context.Context, s NewSession, replaces []byte) (time.Time, error) {
	var expires time.Time
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if replaces != nil {
			if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL`, replaces, now); err != nil {
				return err
			}
		}
		var err error
		expires, err = insertSession(ctx, tx, s, now)
		return err
	})
	return expires, err
}

func insertSession(ctx context.Context, tx pgx.Tx, s NewSession, now time.Time) (time.Time, error) {
	if len(s.IDHash) != 32 || s.TTL <= 0 {
		return time.Time{}, errors.New("postgres: a session needs a 32-byte id hash and a positive lifetime")
	}
	var expires time.Time
	err := tx.QueryRow(ctx, `
		INSERT INTO sessions (id_hash, account_id, created_at, last_seen_at, expires_at, user_agent)
		VALUES ($1, $2, $5::timestamptz, $5::timestamptz, $5::timestamptz + $3::interval, $4)
		RETURNING expires_at`, s.IDHash, s.AccountID, s.TTL, truncateUTF8(s.UserAgent, 512), now).Scan(&expires)
	return expires, err
}

// touchEvery bounds how often a session's last_seen_at is written: reading a
// session on every request should not mean writing a row on every request.
const touchEvery = time.Minute

// SessionAccount returns the active account that the live session idHash
// belongs to, and records the activity. A session idle for longer than idle,
// past its absolute expiry, revoked, or whose account is no longer active
// gives ErrNoSession.
func (db *DB) SessionAccount(ctx context.Context, idHash []byte, idle time.Duration) (Account, error) {
	row := db.pool.QueryRow(ctx, `
		WITH s AS (
			SELECT id_hash, account_id, last_seen_at FROM sessions
			WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > $4
			  AND last_seen_at > $4::timestamptz - $2::interval),
		touched AS (
			UPDATE sessions t SET last_seen_at = $4 FROM s
			WHERE t.id_hash = s.id_hash AND s.last_seen_at < $4::timestamptz - $3::interval)
		SELECT `+accountColumns+` FROM s JOIN accounts a ON a.id = s.account_id
		WHERE a.status = 'active'`, idHash, idle, touchEvery, db.now())
	a, err := scanAccount(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, ErrNoSession
	}
	return a, err
}

// RevokeSession ends one session (sign-out). Revoking an unknown or already
// revoked session is not an error.
func (db *DB) RevokeSession(ctx context.Context, idHash []byte) error {
	_, err := db.pool.Exec(ctx, `UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL`, idHash, db.now())
	return err
}

// RevokeAccountSessions ends every live session of an account and reports
// how many there were.
func (db *DB) RevokeAccountSessions(ctx context.Context, accountID int64) (int64, error) {
	return revokeAccountSessions(ctx, db.pool, db.now(), accountID)
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func revokeAccountSessions(ctx context.Context, q execer, now time.Time, accountID int64) (int64, error) {
	tag, err := q.Exec(ctx, `UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL`, accountID, now)
	return tag.RowsAffected(), err
}

// SetSessionNotice keeps a one-time message for the next page the session
// shows, replacing any message not yet shown.
func (db *DB) SetSessionNotice(ctx context.Context, idHash []byte, notice map[string]string) error {
	_, err := db.pool.Exec(ctx, `UPDATE sessions SET notice = $2 WHERE id_hash = $1 AND revoked_at IS NULL`, idHash, notice)
	return err
}

// TakeSessionNotice returns the session's pending message (nil when there is
// none) and clears it, so it is shown once.
func (db *DB) TakeSessionNotice(ctx context.Context, idHash []byte) (map[string]string, error) {
	var notice map[string]string
	err := db.pool.QueryRow(ctx, `
		WITH old AS (SELECT id_hash, notice FROM sessions WHERE id_hash = $1 AND notice IS NOT NULL FOR UPDATE)
		UPDATE sessions s SET notice = NULL FROM old WHERE s.id_hash = old.id_hash
		RETURNING old.notice`, idHash).Scan(&notice)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return notice, err
}

// Throttle is the failed-attempt state of one key (an email address, a
// client address...). The rules that move it are the caller's.
type Throttle struct {
	Key           string
	Failures      int       // counted since the state last decayed
	LastFailureAt time.Time //
	LockedUntil   time.Time // zero: not locked
}

// Throttles returns the state of each key that has one; keys without
// failures are left out.
func (db *DB) Throttles(ctx context.Context, keys ...string) ([]Throttle, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT key, failures, last_failure_at, coalesce(locked_until, '0001-01-01 00:00:00+00')
		FROM auth_throttle WHERE key = ANY($1) ORDER BY key`, keys)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanThrottle)
}

func scanThrottle(row pgx.CollectableRow) (Throttle, error) {
	var t Throttle
	err := row.Scan(&t.Key, &t.Failures, &t.LastFailureAt, &t.LockedUntil)
	if t.LockedUntil.Year() == 1 {
		t.LockedUntil = time.Time{}
	}
	return t, err
}

// RecordFailure applies next to key's state (Failures 0 when it has none)
// under a row lock, so concurrent failures of one key are all counted,
// stores the result and returns it.
func (db *DB) RecordFailure(ctx context.Context, key string, next func(Throttle) Throttle) (Throttle, error) {
	var out Throttle
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// Make sure a row exists to lock: a concurrent first failure waits
		// here for ours to commit, then counts on top of it.
		if _, err := tx.Exec(ctx, `
			INSERT INTO auth_throttle (key, failures, last_failure_at) VALUES ($1, 0, $2)
			ON CONFLICT (key) DO NOTHING`, key, db.now()); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT key, failures, last_failure_at, coalesce(locked_until, '0001-01-01 00:00:00+00')
			FROM auth_throttle WHERE key = $1 FOR UPDATE`, key)
		if err != nil {
			return err
		}
		prev, err := pgx.CollectExactlyOneRow(rows, scanThrottle)
		if err != nil {
			return err
		}
		out = next(prev)
		out.Key = key
		var locked *time.Time
		if !out.LockedUntil.IsZero() {
			locked = &out.LockedUntil
		}
		_, err = tx.Exec(ctx, `UPDATE auth_throttle SET failures = $2, last_failure_at = $3, locked_until = $4 WHERE key = $1`,
			key, out.Failures, out.LastFailureAt, locked)
		return err
	})
	return out, err
}

// CountAttempt is the throttling of one attempt as one atomic step: it
// locks the rows of keys (made when missing, in key order, so concurrent
// attempts queue rather than deadlock), gives decide their states (Failures
// 0 for keys without one) and stores the states decide returns, or nothing
// when decide returns an error, which CountAttempt then returns. Concurrent
// attempts on a key are decided one after the other, each seeing the ones
// before it counted: a burst cannot all pass a check made before any of
// them was counted.
func (db *DB) CountAttempt(ctx context.Context, keys []string, decide func(prev map[string]Throttle) (map[string]Throttle, error)) error {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO auth_throttle (key, failures, last_failure_at)
			SELECT k, 0, now() FROM unnest($1::text[]) AS k ORDER BY k
			ON CONFLICT (key) DO NOTHING`, sorted); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT key, failures, last_failure_at, coalesce(locked_until, '0001-01-01 00:00:00+00')
			FROM auth_throttle WHERE key = ANY($1) ORDER BY key FOR UPDATE`, sorted)
		if err != nil {
			return err
		}
		states, err := pgx.CollectRows(rows, scanThrottle)
		if err != nil {
			return err
		}
		prev := make(map[string]Throttle, len(states))
		for _, t := range states {
			if t.Failures == 0 {
				t = Throttle{Key: t.Key}
			}
			prev[t.Key] = t
		}
		next, err := decide(prev)
		if err != nil {
			return err
		}
		for key, t := range next {
			var locked *time.Time
			if !t.LockedUntil.IsZero() {
				locked = &t.LockedUntil
			}
			if t.Failures == 0 && locked == nil {
				continue // nothing to keep: removed below
			}
			if _, err := tx.Exec(ctx, `UPDATE auth_throttle SET failures = $2, last_failure_at = $3, locked_until = $4 WHERE key = $1`,
				key, t.Failures, t.LastFailureAt, locked); err != nil {
				return err
			}
		}
		// Rows made above that still count nothing, and keys given back
		// to nothing, go.
		_, err = tx.Exec(ctx, `DELETE FROM auth_throttle WHERE key = ANY($1) AND failures = 0 AND locked_until IS NULL`, sorted)
		for key, t := range next {
			if t.Failures == 0 && t.LockedUntil.IsZero() && err == nil {
				_, err = tx.Exec(ctx, `DELETE FROM auth_throttle WHERE key = $1`, key)
			}
		}
		return err
	})
}

// ClearThrottle forgets key's failures (after a successful sign-in).
func (db *DB) ClearThrottle(ctx context.Context, key string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM auth_throttle WHERE key = $1`, key)
	return err
}

// PruneAuthState deletes sessions that ended before before (expired or
// revoked) and throttle state with no failure or lock since then. Run it
// now and then; nothing depends on it but the size of the tables.
func (db *DB) PruneAuthState(ctx context.Context, before time.Time) (sessions, throttles int64, err error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1`, before)
	if err != nil {
		return 0, 0, err
	}
	sessions = tag.RowsAffected()
	tag, err = db.pool.Exec(ctx, `DELETE FROM auth_throttle WHERE last_failure_at < $1 AND coalesce(locked_until, last_failure_at) < $1`, before)
	if err != nil {
		return sessions, 0, err
	}
	throttles = tag.RowsAffected()
	// Security events live a month: long past the mail that named them.
	_, err = db.pool.Exec(ctx, `DELETE FROM security_events WHERE at < $1::timestamptz - interval '29 days'`, before)
	return sessions, throttles, err
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
