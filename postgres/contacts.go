package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// lockLicense locks the licence row for the rest of tx, serialising every
// contact change on one licence, and returns its id and read model.
func lockLicense(ctx context.Context, tx pgx.Tx, sen licensing.SEN) (int64, licensing.License, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM licenses WHERE sen = $1 FOR UPDATE`, string(sen)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, licensing.License{}, licensing.Errorf(licensing.NotFound, "No licence %s found.", sen)
	}
	if err != nil {
		return 0, licensing.License{}, err
	}
	l, err := scanLicense(tx.QueryRow(ctx, licenseQuery, string(sen)), sen)
	return id, l, err
}

// ensureAccount returns the account with email, creating a pending one
// (invited, not yet claimed) when there is none.
func ensureAccount(ctx context.Context, tx pgx.Tx, email licensing.Email) (id int64, created bool, err error) {
	err = tx.QueryRow(ctx, `
		INSERT INTO accounts (email, status) VALUES ($1, 'pending')
		ON CONFLICT (lower(email)) DO NOTHING RETURNING id`, string(email)).Scan(&id)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, err
	}
	err = tx.QueryRow(ctx, `SELECT id FROM accounts WHERE lower(email) = lower($1)`, string(email)).Scan(&id)
	return id, false, err
}

func accountID(ctx context.Context, tx pgx.Tx, email licensing.Email) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE lower(email) = lower($1)`, string(email)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, licensing.Errorf(licensing.NotFound, "No account %s found.", email)
	}
	return id, err
}

// audit records one change in tx (SPEC §10); an id of 0 names no licence
// or account.
func audit(ctx context.Context, tx pgx.Tx, a licensing.Actor, action string, licenseID, accountID int64, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	var wf *string
	if a.WorkflowID != "" {
		wf = &a.WorkflowID
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO audit_log (actor_kind, actor, action, license_id, account_id, workflow_id, detail)
		VALUES ($1, $2, $3, nullif($4::bigint, 0), nullif($5::bigint, 0), $6, $7)`, a.Kind, a.ID, action, licenseID, accountID, wf, detail)
	return err
}

// EnsureContactResult says what EnsureContact changed.
type EnsureContactResult struct {
	Added          bool // false: already a contact in that role
	AccountCreated bool // a pending account was created for the email
}

// EnsureContact makes email a secondary role contact of the licence,
// creating a pending account when no account has that email. It is
// idempotent: an existing row is left as it is.
func (db *DB) EnsureContact(ctx context.Context, sen licensing.SEN, role licensing.Role, email licensing.Email, by licensing.Actor) (EnsureContactResult, error) {
	var res EnsureContactResult
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		licID, l, err := lockLicense(ctx, tx, sen)
		if err != nil {
			return err
		}
		if err := licensing.CheckAddContact(l, role, email); err != nil {
			if licensing.ErrorCode(err) == licensing.Conflict {
				return nil // already there: done
			}
			return err
		}
		accID, created, err := ensureAccount(ctx, tx, email)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO license_contacts (license_id, account_id, role, is_primary)
			VALUES ($1, $2, $3, false)`, licID, accID, string(role)); err != nil {
			return err
		}
		res = EnsureContactResult{Added: true, AccountCreated: created}
		return audit(ctx, tx, by, "contact.add", licID, accID, map[string]any{"role": role, "email": email, "account_created": created})
	})
	return res, err
}

// RemoveContact removes a secondary role contact. A primary contact or the
// last contact of a role is refused (and the database refuses it too). It is
// idempotent: removing a row that is not there reports false.
func (db *DB) RemoveContact(ctx context.Context, sen licensing.SEN, role licensing.Role, email licensing.Email, by licensing.Actor) (bool, error) {
	removed := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		licID, l, err := lockLicense(ctx, tx, sen)
		if err != nil {
			return err
		}
		if err := licensing.CheckRemoveContact(l, role, email); err != nil {
			if licensing.ErrorCode(err) == licensing.NotFound {
				return nil // already gone: done
			}
			return err
		}
		accID, err := accountID(ctx, tx, email)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM license_contacts WHERE license_id = $1 AND account_id = $2 AND role = $3`,
			licID, accID, string(role)); err != nil {
			return err
		}
		removed = true
		if err := revokeLinksOfStranger(ctx, tx, db.now(), licID, accID); err != nil {
			return err
		}
		return audit(ctx, tx, by, "contact.remove", licID, accID, map[string]any{"role": role, "email": email})
	})
	return removed, err
}

// PromoteContact makes email the primary role contact, demoting the current
// primary to secondary in the same transaction. Only the person themselves
// may do this; callers establish that (signed-in session or their own link).
// It is idempotent: promoting the current primary reports false. former is
// who was primary before (empty when there was nobody, or no change). With
// by.Run set, a repeat of a promotion that already committed under that run
// (an activity retried after its result was lost) reports that promotion
// again, former included, so whoever was demoted is still told.
func (db *DB) PromoteContact(ctx context.Context, sen licensing.SEN, role licensing.Role, email licensing.Email, by licensing.Actor) (former licensing.Email, promoted bool, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		former, promoted, err = promoteInTx(ctx, tx, sen, role, email, by)
		if err != nil || promoted || by.Run == "" {
			return err
		}
		var prev *string
		err = tx.QueryRow(ctx, `
			SELECT detail->>'former' FROM audit_log
			WHERE action = 'contact.promote' AND detail->>'run' = $1 AND detail->>'role' = $2 AND detail->>'email' = $3
			ORDER BY id DESC LIMIT 1`, by.Run, string(role), string(email)).Scan(&prev)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		promoted = true
		if prev != nil {
			former = licensing.Email(*prev)
		}
		return nil
	})
	if !promoted {
		former = ""
	}
	return former, promoted, err
}

// promoteInTx promotes email in tx and returns who was primary before.
func promoteInTx(ctx context.Context, tx pgx.Tx, sen licensing.SEN, role licensing.Role, email licensing.Email, by licensing.Actor) (licensing.Email, bool, error) {
	licID, l, err := lockLicense(ctx, tx, sen)
	if err != nil {
		return "", false, err
	}
	if _, err := licensing.Promote(l.Contacts, email, role); err != nil {
		if licensing.ErrorCode(err) == licensing.Conflict {
			return "", false, nil // already primary: done
		}
		return "", false, err
	}
	var former licensing.Email
	for _, c := range l.Contacts {
		if c.Role == role && c.Primary {
			former = c.Email
		}
	}
	accID, err := accountID(ctx, tx, email)
	if err != nil {
		return "", false, err
	}
	// New primary first, then the old one demoted: the deferred exclusion
	// constraint allows the brief overlap.
	if _, err := tx.Exec(ctx, `UPDATE license_contacts SET is_primary = true
		WHERE license_id = $1 AND account_id = $2 AND role = $3`, licID, accID, string(role)); err != nil {
		return "", false, err
	}
	if _, err := tx.Exec(ctx, `UPDATE license_contacts SET is_primary = false
		WHERE license_id = $1 AND role = $2 AND is_primary AND account_id <> $3`, licID, string(role), accID); err != nil {
		return "", false, err
	}
	detail := map[string]any{"role": role, "email": email, "former": former}
	if by.Run != "" {
		detail["run"] = by.Run
	}
	return former, true, audit(ctx, tx, by, "contact.promote", licID, accID, detail)
}

// AccountStatus returns the status of the account with email.
func (db *DB) AccountStatus(ctx context.Context, email licensing.Email) (licensing.AccountStatus, error) {
	var st licensing.AccountStatus
	err := db.pool.QueryRow(ctx, `SELECT status FROM accounts WHERE lower(email) = lower($1)`, string(email)).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", licensing.Errorf(licensing.NotFound, "No account %s found.", email)
	}
	return st, err
}

// DisplayName returns the account's display name ("" when unset or unknown).
func (db *DB) DisplayName(ctx context.Context, email licensing.Email) (string, error) {
	var name string
	err := db.pool.QueryRow(ctx, `SELECT display_name FROM accounts WHERE lower(email) = lower($1)`, string(email)).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return name, err
}
