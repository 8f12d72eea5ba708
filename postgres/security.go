package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// Security events (migration 017): what a security mail tells about the
// browser behind a sign-in lock, a password change or a reset (review
// #18). The User-Agent and address stay in this table; the workflow that
// mails carries only the row's id, so neither enters workflow history.

// The kinds of security event.
const (
	EventSignInLocked    = "signin_locked"
	EventPasswordChanged = "password_changed"
	EventPasswordReset   = "password_reset"
)

// SecurityEvent is one event as its mail needs it.
type SecurityEvent struct {
	ID        int64
	Email     licensing.Email
	Kind      string
	UserAgent string
	ClientIP  string
	Attempts  int
	At        time.Time
}

// RecordSecurityEvent stores an event for the account with email and
// returns its id; 0 when no account has that email (nothing is stored).
// The User-Agent is cut to 512 bytes, the address to 100.
func (db *DB) RecordSecurityEvent(ctx context.Context, e SecurityEvent) (int64, error) {
	var id int64
	err := db.pool.QueryRow(ctx, `
		INSERT INTO security_events (account_id, kind, user_agent, client_ip, attempts, at)
		SELECT id, $2, $3, $4, $5, $6 FROM accounts WHERE lower(email) = lower($1)
		RETURNING id`, string(e.Email), e.Kind, truncateUTF8(e.UserAgent, 512), truncateUTF8(e.ClientIP, 100), e.Attempts, db.now()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// SecurityEventOf returns event id of the account with email, or NotFound
// (another account's event is as unknown as none).
func (db *DB) SecurityEventOf(ctx context.Context, id int64, email licensing.Email) (SecurityEvent, error) {
	e := SecurityEvent{ID: id}
	err := db.pool.QueryRow(ctx, `
		SELECT a.email, s.kind, s.user_agent, s.client_ip, s.attempts, s.at
		FROM security_events s JOIN accounts a ON a.id = s.account_id
		WHERE s.id = $1 AND lower(a.email) = lower($2)`, id, string(email)).Scan(&e.Email, &e.Kind, &e.UserAgent, &e.ClientIP, &e.Attempts, &e.At)
	if errors.Is(err, pgx.ErrNoRows) {
		return SecurityEvent{}, licensing.Errorf(licensing.NotFound, "No such security event.")
	}
	return e, err
}
