package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// Customer accounts as the self-service pages use them: profile, password
// changes and resets, and the licences an account is attached to.

// licensing.PurposePasswordReset is the link_tokens purpose of password-reset links.

var errNoAccount = licensing.Errorf(licensing.NotFound, "No such account.")

// AccountByEmail returns the account with email (any status), or NotFound.
func (db *DB) AccountByEmail(ctx context.Context, email licensing.Email) (Account, error) {
	a, err := scanAccount(db.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE lower(a.email) = lower($1)`, string(email)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, errNoAccount
	}
	return a, err
}

// AccountByID returns the account with id (any status), or NotFound.
func (db *DB) AccountByID(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(db.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, errNoAccount
	}
	return a, err
}

// Profile is what a person may change about their own account. The email
// is not part of it: it can never change (SPEC §2).
type Profile struct {
	DisplayName string
	Phone       string
	Company     string
	Address     string
}

// UpdateProfile stores an active account's profile. Callers validate the
// fields; the table's CHECK constraints bound their lengths again.
func (db *DB) UpdateProfile(ctx context.Context, accountID int64, p Profile) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var email string
		err := tx.QueryRow(ctx, `
			UPDATE accounts SET display_name = $2, phone = $3, company = $4, address = $5, updated_at = now()
			WHERE id = $1 AND status = 'active' RETURNING email`,
			accountID, p.DisplayName, p.Phone, p.Company, p.Address).Scan(&email)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoAccount
		}
		if err != nil {
			return err
		}
		return auditAccount(ctx, tx, "account", email, "account.profile", accountID, nil)
	})
}

// ChangePassword replaces an active account's password hash, provided it is
// still oldHash (the one the caller checked the current password against),
// revokes every session of the account and creates s in its place, all in
// one transaction. It returns when s expires. A hash changed meanwhile (by
// a reset, or a change in another tab) gives Conflict and changes nothing.
func (db *DB) ChangePassword(ctx context.Context, accountID int64, oldHash, newHash string, s NewSession) (time.Time, error) {
	var expires time.Time
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var email string
		err := tx.QueryRow(ctx, `
			UPDATE accounts SET password_hash = $3, updated_at = now()
			WHERE id = $1 AND password_hash = $2 AND status = 'active' RETURNING email`,
			accountID, oldHash, newHash).Scan(&email)
		if errors.Is(err, pgx.ErrNoRows) {
			return licensing.Errorf(licensing.Conflict, "Your password was changed somewhere else meanwhile; sign in again with the new one.")
		}
		if err != nil {
			return err
		}
		revoked, err := revokeAccountSessions(ctx, tx, db.now(), accountID)
		if err != nil {
			return err
		}
		s.AccountID = accountID
		if expires, err = insertSession(ctx, tx, s, db.now()); err != nil {
			return err
		}
		return auditAccount(ctx, tx, "account", email, "account.password_change", accountID, map[string]any{"sessions_revoked": revoked})
	})
	return expires, err
}

// ResetLinkRequest asks for the link of one password-reset request.
type ResetLinkRequest struct {
	Email licensing.Email
	// Request names the reset request (its workflow run). The request's
	// link is stored under it, so a retry of the same request finds it.
	Request    string
	WorkflowID string        // recorded with the link
	TTL        time.Duration // how long a new link lives
	// At most PerHour requests since Since get a link (per account).
	Since   time.Time
	PerHour int
}

// ResetLinkOutcome says what IssueResetLink did.
type ResetLinkOutcome int

const (
	ResetLinkIssued ResetLinkOutcome = iota // Token works; mail it
	ResetNoAccount                          // no active account has the email: send nothing
	ResetTooMany                            // PerHour requests already since Since: send nothing
	ResetLinkGone                           // the request's link was used, expired or revoked by a newer request: send nothing
)

// IssuedResetLink is IssueResetLink's answer.
type IssuedResetLink struct {
	Outcome   ResetLinkOutcome
	AccountID int64 // all outcomes but ResetNoAccount
	LinkID    int64 // ResetLinkIssued, ResetLinkGone
	Requests  int   // ResetTooMany: the requests counted
	Token     string
	ExpiresAt time.Time
	// Issue numbers the tokens the request has had: 1 when its link was
	// just made, n when this is its nth token (made for a retry).
	Issue int
}

// IssueResetLink gives a password-reset request a token for its link.
//
// The first call for r.Request makes the request's link, if the email
// belongs to an active account that has had fewer than r.PerHour requests
// since r.Since, and revokes the account's older reset links: this is
// where a request is counted, where its expiry is set, and where a newer
// request makes older ones useless. A later call for the same request (a
// retry of the activity that mails it) continues that link: a new token
// with the same expiry replaces the previous one, which is revoked (so it
// answers "used or expired", not "unknown"). The request is not counted
// again and no other link is touched. Only hashes are stored, so the
// previous token cannot be mailed again; the attempt that made it mailed
// nothing, or there would be no retry.
//
// Everything happens in one transaction that holds the account row, so
// concurrent requests for one account are counted exactly and leave one
// usable link.
func (db *DB) IssueResetLink(ctx context.Context, r ResetLinkRequest) (IssuedResetLink, error) {
	var out IssuedResetLink
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var status licensing.AccountStatus
		err := tx.QueryRow(ctx, `SELECT id, status FROM accounts WHERE lower(email) = lower($1) FOR NO KEY UPDATE`,
			string(r.Email)).Scan(&out.AccountID, &status)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && status != licensing.AccountActive {
			out = IssuedResetLink{Outcome: ResetNoAccount}
			return nil
		}
		if err != nil {
			return err
		}
		// The request's newest token, if it has one.
		var (
			usable  bool
			expires time.Time
		)
		err = tx.QueryRow(ctx, `
			SELECT id, used_at IS NULL AND revoked_at IS NULL AND expires_at > $4::timestamptz, expires_at, coalesce((data->>'issue')::int, 1)
			FROM link_tokens WHERE account_id = $1 AND purpose = $2 AND data->>'request' = $3
			ORDER BY id DESC LIMIT 1`,
			out.AccountID, licensing.PurposePasswordReset, r.Request, now).Scan(&out.LinkID, &usable, &expires, &out.Issue)
		switch {
		case err == nil && !usable:
			out.Outcome = ResetLinkGone
			return nil
		case err == nil:
			if _, err := tx.Exec(ctx, `UPDATE link_tokens SET revoked_at = $2, revoked_reason = 'replaced' WHERE id = $1`, out.LinkID, now); err != nil {
				return err
			}
			out.Issue++
		case errors.Is(err, pgx.ErrNoRows):
			if err := tx.QueryRow(ctx, `
				SELECT count(DISTINCT coalesce(data->>'request', id::text)) FROM link_tokens
				WHERE account_id = $1 AND purpose = $2 AND created_at >= $3`,
				out.AccountID, licensing.PurposePasswordReset, r.Since).Scan(&out.Requests); err != nil {
				return err
			}
			if out.Requests >= r.PerHour {
				out.Outcome = ResetTooMany
				return nil
			}
			if _, err := tx.Exec(ctx, `
				UPDATE link_tokens SET revoked_at = $3, revoked_reason = 'replaced'
				WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL AND revoked_at IS NULL`,
				out.AccountID, licensing.PurposePasswordReset, now); err != nil {
				return err
			}
			out.Issue = 1
		default:
			return err
		}
		token := newToken()
		if err := tx.QueryRow(ctx, `
			INSERT INTO link_tokens (token_hash, purpose, account_id, workflow_id, data, created_at, expires_at)
			VALUES ($1, $2, $3, nullif($4, ''), jsonb_build_object('request', $5::text, 'issue', $6::int),
			        $9::timestamptz, coalesce($7, $9::timestamptz + $8::interval))
			RETURNING id, expires_at`,
			TokenHash(token), licensing.PurposePasswordReset, out.AccountID, r.WorkflowID, r.Request, out.Issue,
			nullTime(expires), r.TTL, now).Scan(&out.LinkID, &out.ExpiresAt); err != nil {
			return err
		}
		out.Outcome, out.Token = ResetLinkIssued, token
		return nil
	})
	if err != nil {
		return IssuedResetLink{}, err
	}
	return out, nil
}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ResetLinkIssue returns how many tokens reset request has had
// (IssuedResetLink.Issue of its newest), or 0 when it has none (yet, or
// ever: no active account, too many requests).
func (db *DB) ResetLinkIssue(ctx context.Context, email licensing.Email, request string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `
		SELECT coalesce(max((t.data->>'issue')::int), 0) FROM link_tokens t JOIN accounts a ON a.id = t.account_id
		WHERE lower(a.email) = lower($1) AND t.purpose = $2 AND t.data->>'request' = $3`,
		string(email), licensing.PurposePasswordReset, request).Scan(&n)
	return n, err
}

// SpendResetLink spends a password-reset link and, in the same
// transaction, sets its account's new password hash, revokes every session
// of the account and every other reset link it has. The spend is a single
// conditional UPDATE, so a link works once even when submitted twice at the
// same moment. Unknown tokens (or links of another purpose) give NotFound;
// used, revoked or expired ones Gone; an account that is no longer active
// FailedPrecondition, and then nothing changes.
func (db *DB) SpendResetLink(ctx context.Context, token, newHash string) (licensing.Email, error) {
	hash, now := TokenHash(token), db.now()
	var email licensing.Email
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var linkID, accountID int64
		err := tx.QueryRow(ctx, `
			UPDATE link_tokens SET used_at = $3
			WHERE token_hash = $1 AND purpose = $2
			  AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3
			RETURNING id, account_id`, hash, licensing.PurposePasswordReset, now).Scan(&linkID, &accountID)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM link_tokens WHERE token_hash = $1 AND purpose = $2)`,
				hash, licensing.PurposePasswordReset).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return errUnknownLink
			}
			return errSpentLink
		}
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `
			UPDATE accounts SET password_hash = $2, updated_at = now()
			WHERE id = $1 AND status = 'active' RETURNING email`, accountID, newHash).Scan(&email)
		if errors.Is(err, pgx.ErrNoRows) {
			return licensing.Errorf(licensing.FailedPrecondition, "This account can't sign in any more, so its password can't be reset. Please contact our sales team.")
		}
		if err != nil {
			return err
		}
		revoked, err := revokeAccountSessions(ctx, tx, now, accountID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE link_tokens SET revoked_at = $4, revoked_reason = 'done'
			WHERE account_id = $1 AND purpose = $2 AND id <> $3 AND used_at IS NULL AND revoked_at IS NULL`,
			accountID, licensing.PurposePasswordReset, linkID, now); err != nil {
			return err
		}
		return auditAccount(ctx, tx, "link", string(email), "account.password_reset", accountID,
			map[string]any{"link_id": linkID, "sessions_revoked": revoked})
	})
	return email, err
}

// AccountLicense is licensing.AccountLicense (the front ends speak the domain's types).
type AccountLicense = licensing.AccountLicense

// AccountLicenses returns, ordered by SEN, every licence the account is a
// contact (in any role) or a site admin of. Someone may hold hundreds:
// pages use AccountLicensesPage.
func (db *DB) AccountLicenses(ctx context.Context, accountID int64) ([]AccountLicense, error) {
	var out []AccountLicense
	req := PageRequest{Size: 500}
	for {
		p, err := db.AccountLicensesPage(ctx, accountID, req)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Licenses...)
		if p.Next == "" {
			return out, nil
		}
		req.After = p.Next
	}
}

// RelatedToLicense reports whether email is a contact (in any role) or a
// site admin of the licence sen. One query, as cheap for a SEN that does
// not exist as for one that does, so callers can check it first without
// the answer's timing telling the two apart.
func (db *DB) RelatedToLicense(ctx context.Context, sen licensing.SEN, email licensing.Email) (bool, error) {
	var related bool
	err := db.pool.QueryRow(ctx, `
		SELECT EXISTS (
			SELECT 1 FROM licenses l, accounts a
			WHERE l.sen = $1 AND lower(a.email) = lower($2)
			  AND (EXISTS (SELECT 1 FROM license_contacts c WHERE c.license_id = l.id AND c.account_id = a.id)
			       OR EXISTS (SELECT 1 FROM site_admins s WHERE s.license_id = l.id AND s.account_id = a.id)))`,
		string(sen), string(email)).Scan(&related)
	return related, err
}

// UpdateBillingAddress sets a licence's billing address on behalf of one of
// its site admins (SPEC §2, Payment). Someone who is not a site admin of
// the licence, checked in the same transaction, gets Forbidden.
func (db *DB) UpdateBillingAddress(ctx context.Context, sen licensing.SEN, addr licensing.BillingAddress, siteAdmin licensing.Email) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var licID, accID int64
		err := tx.QueryRow(ctx, `
			SELECT l.id, a.id FROM licenses l
			JOIN site_admins s ON s.license_id = l.id JOIN accounts a ON a.id = s.account_id
			WHERE l.sen = $1 AND lower(a.email) = lower($2)
			FOR UPDATE OF l`, string(sen), string(siteAdmin)).Scan(&licID, &accID)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM licenses WHERE sen = $1)`, string(sen)).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return licensing.Errorf(licensing.NotFound, "No licence %s found.", sen)
			}
			return licensing.Errorf(licensing.Forbidden, "Only a site admin of %s can change its billing address.", sen)
		}
		if err != nil {
			return err
		}
		lines := addr.Lines
		if lines == nil {
			lines = []string{}
		}
		var country *string
		if addr.Country != "" {
			c := string(addr.Country)
			country = &c
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO billing_addresses (license_id, name, lines, city, postcode, region, country, tax_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (license_id) DO UPDATE SET name = excluded.name, lines = excluded.lines, city = excluded.city,
				postcode = excluded.postcode, region = excluded.region, country = excluded.country, tax_id = excluded.tax_id,
				updated_at = now()`,
			licID, addr.Name, lines, addr.City, addr.Postcode, addr.Region, country, addr.TaxID); err != nil {
			return err
		}
		return audit(ctx, tx, licensing.Actor{Kind: "account", ID: string(siteAdmin)}, "license.billing_address", licID, accID,
			map[string]any{"country": string(addr.Country), "tax_id": addr.TaxID != ""})
	})
}

func auditAccount(ctx context.Context, tx pgx.Tx, kind, actor, action string, accountID int64, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO audit_log (actor_kind, actor, action, account_id, detail) VALUES ($1, $2, $3, $4, $5)`,
		kind, actor, action, accountID, detail)
	return err
}

// ContactsAddedSince returns, per licence of sens, the people added to it
// as contacts after since, from the licence's history (contact.add: by a
// contact, sales or an operation; not a licence's creation by import or
// the API), through audit_log_license_id.
func (db *DB) ContactsAddedSince(ctx context.Context, sens []licensing.SEN, since time.Time) (map[licensing.SEN]map[licensing.Email]bool, error) {
	out := map[licensing.SEN]map[licensing.Email]bool{}
	if len(sens) == 0 {
		return out, nil
	}
	list := make([]string, len(sens))
	for i, s := range sens {
		list[i] = string(s)
	}
	rows, err := db.pool.Query(ctx, `
		SELECT DISTINCT l.sen, a.email FROM licenses l
		JOIN audit_log h ON h.license_id = l.id
		JOIN accounts a ON a.id = h.account_id
		WHERE l.sen = ANY($1) AND h.action = 'contact.add' AND h.at > $2`, list, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sen, email string
		if err := rows.Scan(&sen, &email); err != nil {
			return nil, err
		}
		if out[licensing.SEN(sen)] == nil {
			out[licensing.SEN(sen)] = map[licensing.Email]bool{}
		}
		out[licensing.SEN(sen)][licensing.Email(email)] = true
	}
	return out, rows.Err()
}
