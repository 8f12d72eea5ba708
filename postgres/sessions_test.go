package postgres_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"licensedesk/licensing"
	"licensedesk/postgres"
)

// sessionHash returns a fresh random 32-byte session id hash.
func sessionHash(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return postgres.TokenHash(string(b))
}

func account(t *testing.T, db *postgres.DB, email licensing.Email) postgres.Account {
	t.Helper()
	a, err := db.AccountByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newSession(t *testing.T, db *postgres.DB, accountID int64, ttl time.Duration, replaces []byte) []byte {
	t.Helper()
	h := sessionHash(t)
	if _, err := db.CreateSession(context.Background(), postgres.NewSession{IDHash: h, AccountID: accountID, UserAgent: "test", TTL: ttl}, replaces); err != nil {
		t.Fatal(err)
	}
	return h
}

// live reports whether the session answers, failing on errors other than
// ErrNoSession.
func live(t *testing.T, db *postgres.DB, h []byte) bool {
	t.Helper()
	_, err := db.SessionAccount(context.Background(), h, 12*time.Hour)
	switch {
	case err == nil:
		return true
	case err == postgres.ErrNoSession:
		return false
	}
	t.Fatalf("SessionAccount: %v", err)
	return false
}

func TestSessions_LookUpRotateAndRevoke(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	alice := account(t, db, "alice@acme.test")

	first := newSession(t, db, alice.ID, time.Hour, nil)
	a, err := db.SessionAccount(ctx, first, 12*time.Hour)
	if err != nil || a.Email != "alice@acme.test" || a.DisplayName != "Alice Anders" || a.Status != licensing.AccountActive {
		t.Fatalf("SessionAccount = %+v, %v", a, err)
	}
	var stored int
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM sessions WHERE id_hash = $1`, first).Scan(&stored)
	if stored != 1 {
		t.Fatal("the session is not stored under its hash")
	}

	// Signing in again from the same browser replaces the old id.
	second := newSession(t, db, alice.ID, time.Hour, first)
	if live(t, db, first) || !live(t, db, second) {
		t.Fatal("rotation: the old session must end and the new one work")
	}
	if err := db.RevokeSession(ctx, second); err != nil {
		t.Fatal(err)
	}
	if live(t, db, second) {
		t.Fatal("a revoked session still works")
	}
	if err := db.RevokeSession(ctx, second); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if _, err := db.SessionAccount(ctx, sessionHash(t), time.Hour); err != postgres.ErrNoSession {
		t.Fatalf("unknown session: %v", err)
	}
}

func TestSessions_ExpireWhenIdleOrOldOrAccountDisabled(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	alice, bob := account(t, db, "alice@acme.test"), account(t, db, "bob@acme.test")

	short := newSession(t, db, alice.ID, 50*time.Millisecond, nil)
	if !live(t, db, short) {
		t.Fatal("a new session does not work")
	}
	time.Sleep(100 * time.Millisecond)
	if live(t, db, short) {
		t.Fatal("a session works after its absolute expiry")
	}

	idle := newSession(t, db, alice.ID, 7*24*time.Hour, nil)
	if _, err := db.Pool().Exec(ctx, `UPDATE sessions SET last_seen_at = $2::timestamptz - interval '13 hours' WHERE id_hash = $1`, idle, db.Now()); err != nil {
		t.Fatal(err)
	}
	if live(t, db, idle) {
		t.Fatal("a session idle for 13 h works with a 12 h idle limit")
	}

	// Use refreshes last_seen_at (at most once a minute).
	active := newSession(t, db, alice.ID, 7*24*time.Hour, nil)
	if _, err := db.Pool().Exec(ctx, `UPDATE sessions SET last_seen_at = $2::timestamptz - interval '11 hours' WHERE id_hash = $1`, active, db.Now()); err != nil {
		t.Fatal(err)
	}
	if !live(t, db, active) {
		t.Fatal("a session idle for 11 h does not work")
	}
	var age time.Duration
	_ = db.Pool().QueryRow(ctx, `SELECT extract(epoch FROM $2::timestamptz - last_seen_at)::bigint * 1000000000 FROM sessions WHERE id_hash = $1`, active, db.Now()).Scan(&age)
	if age > time.Minute {
		t.Fatalf("last_seen_at not refreshed: %v ago", age)
	}

	bobs := newSession(t, db, bob.ID, time.Hour, nil)
	if _, err := db.Pool().Exec(ctx, `UPDATE accounts SET status = 'disabled' WHERE id = $1`, bob.ID); err != nil {
		t.Fatal(err)
	}
	if live(t, db, bobs) {
		t.Fatal("a disabled account's session works")
	}
}

func TestSessions_PasswordChangeRevokesEveryOtherSession(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	alice, bob := account(t, db, "alice@acme.test"), account(t, db, "bob@acme.test")
	laptop := newSession(t, db, alice.ID, time.Hour, nil)
	phone := newSession(t, db, alice.ID, time.Hour, nil)
	bobs := newSession(t, db, bob.ID, time.Hour, nil)

	next := sessionHash(t)
	expires, err := db.ChangePassword(ctx, alice.ID, alice.PasswordHash, "$argon2id$new",
		postgres.NewSession{IDHash: next, UserAgent: "laptop", TTL: time.Hour})
	if err != nil || expires.Sub(db.Now()) < 59*time.Minute {
		t.Fatalf("ChangePassword = %v, %v", expires, err)
	}
	if live(t, db, laptop) || live(t, db, phone) || !live(t, db, next) || !live(t, db, bobs) {
		t.Fatal("want alice's old sessions ended, her new one and bob's working")
	}
	if got := account(t, db, "alice@acme.test").PasswordHash; got != "$argon2id$new" {
		t.Fatalf("hash = %q", got)
	}

	// A change based on a hash that is no longer current changes nothing.
	_, err = db.ChangePassword(ctx, alice.ID, alice.PasswordHash, "$argon2id$other",
		postgres.NewSession{IDHash: sessionHash(t), TTL: time.Hour})
	if licensing.ErrorCode(err) != licensing.Conflict {
		t.Fatalf("stale change: %v; want Conflict", err)
	}
	if !live(t, db, next) || account(t, db, "alice@acme.test").PasswordHash != "$argon2id$new" {
		t.Fatal("a refused change changed something")
	}
	n, err := db.RevokeAccountSessions(ctx, alice.ID)
	if err != nil || n != 1 || live(t, db, next) {
		t.Fatalf("RevokeAccountSessions = %d, %v", n, err)
	}
}

func TestSessions_NoticeIsShownOnce(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	h := newSession(t, db, account(t, db, "alice@acme.test").ID, time.Hour, nil)
	if n, err := db.TakeSessionNotice(ctx, h); err != nil || n != nil {
		t.Fatalf("no notice yet: %v, %v", n, err)
	}
	if err := db.SetSessionNotice(ctx, h, map[string]string{"message": "Saved."}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.TakeSessionNotice(ctx, h); err != nil || n["message"] != "Saved." {
		t.Fatalf("notice = %v, %v", n, err)
	}
	if n, err := db.TakeSessionNotice(ctx, h); err != nil || n != nil {
		t.Fatalf("notice shown twice: %v, %v", n, err)
	}
}

func TestThrottle_CountsUnderALockAndClears(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	now := db.Now().UTC().Truncate(time.Microsecond)
	inc := func(prev postgres.Throttle) postgres.Throttle {
		next := prev
		next.Failures++
		next.LastFailureAt = now
		if next.Failures >= 3 {
			next.LockedUntil = now.Add(time.Minute)
		}
		return next
	}
	done := make(chan error)
	for range 10 { // concurrent failures of one key are all counted
		go func() {
			_, err := db.RecordFailure(ctx, "email:x@y.test", inc)
			done <- err
		}()
	}
	for range 10 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.RecordFailure(ctx, "addr:192.0.2.1", inc); err != nil {
		t.Fatal(err)
	}
	states, err := db.Throttles(ctx, "email:x@y.test", "addr:192.0.2.1", "email:other@y.test")
	if err != nil || len(states) != 2 {
		t.Fatalf("Throttles = %+v, %v", states, err)
	}
	// Ordered by key: addr first.
	if states[0].Failures != 1 || !states[0].LockedUntil.IsZero() {
		t.Errorf("addr state %+v", states[0])
	}
	if f := states[1].Failures; f != 10 || !states[1].LockedUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("email state %+v; want 10 failures, locked", states[1])
	}
	if err := db.ClearThrottle(ctx, "email:x@y.test"); err != nil {
		t.Fatal(err)
	}
	if states, _ := db.Throttles(ctx, "email:x@y.test"); len(states) != 0 {
		t.Fatalf("cleared key still has %+v", states)
	}
}

func TestPruneAuthState(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	alice := account(t, db, "alice@acme.test")
	old := newSession(t, db, alice.ID, time.Hour, nil)
	if err := db.RevokeSession(ctx, old); err != nil {
		t.Fatal(err)
	}
	keep := newSession(t, db, alice.ID, time.Hour, nil)
	sessions, _, err := db.PruneAuthState(ctx, db.Now().Add(time.Minute))
	if err != nil || sessions != 1 || !live(t, db, keep) {
		t.Fatalf("pruned %d, %v", sessions, err)
	}
}
