package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// Emailed links (SPEC §3). The token is 32 random bytes, base64url in the
// URL; only its SHA-256 is stored. A keyed hash would add nothing here: with
// 256 bits of entropy a stolen hash cannot be reversed.

// TokenHash is the stored form of a link token.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewLink describes a link to create.
type NewLink struct {
	Purpose    licensing.LinkPurpose
	Email      licensing.Email // the person it is sent to; it acts only for them
	SEN        licensing.SEN   // optional
	WorkflowID string          // the operation it belongs to
	Data       map[string]any  // purpose-specific (roles...)
	TTL        time.Duration
}

// Link is a stored link as its page needs it.
type Link struct {
	ID            int64
	Purpose       licensing.LinkPurpose
	Email         licensing.Email
	AccountStatus licensing.AccountStatus
	SEN           licensing.SEN
	WorkflowID    string
	Data          map[string]any
	ExpiresAt     time.Time
	CreatedAt     time.Time // its lifetime is ExpiresAt - CreatedAt, as the next link of its operation's will be
	Used          bool      // set by LinkByID only: spent, revoked or expired
}

// newToken returns a fresh link token: 32 bytes from crypto/rand, base64url.
func newToken() string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails (crypto/rand panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// CreateLink stores a new link for an existing account and returns its token.
func (db *DB) CreateLink(ctx context.Context, l NewLink) (string, time.Time, error) {
	token := newToken()
	if l.Data == nil {
		l.Data = map[string]any{}
	}
	var expires time.Time
	err := db.pool.QueryRow(ctx, `
		INSERT INTO link_tokens (token_hash, purpose, account_id, license_id, workflow_id, data, created_at, expires_at)
		SELECT $1, $2, a.id, (SELECT id FROM licenses WHERE sen = $3), nullif($4, ''), $5, $8::timestamptz, $8::timestamptz + $6::interval
		FROM accounts a WHERE lower(a.email) = lower($7)
		RETURNING expires_at`,
		TokenHash(token), l.Purpose, string(l.SEN), l.WorkflowID, l.Data, l.TTL, string(l.Email), db.now()).Scan(&expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, licensing.Errorf(licensing.NotFound, "No account %s found.", l.Email)
	}
	return token, expires, err
}

const linkColumns = `t.id, t.purpose, a.email, a.status, coalesce(l.sen, ''), coalesce(t.workflow_id, ''), t.data, t.expires_at, t.created_at`

func scanLink(row pgx.Row) (Link, error) { return scanLinkWith(row) }

// scanLinkWith scans linkColumns and then extra.
func scanLinkWith(row pgx.Row, extra ...any) (Link, error) {
	var k Link
	err := row.Scan(append([]any{&k.ID, &k.Purpose, &k.Email, &k.AccountStatus, &k.SEN, &k.WorkflowID, &k.Data, &k.ExpiresAt, &k.CreatedAt}, extra...)...)
	return k, err
}

var (
	errUnknownLink = licensing.Errorf(licensing.NotFound, "This link isn't valid. Check that you copied the whole address, or ask for a new one.")
	errSpentLink   = licensing.Errorf(licensing.Gone, "This link has already been used or has expired.")
)

// LookupLink returns the usable link with token, or NotFound (unknown) or
// Gone (used, expired or revoked). It changes nothing.
func (db *DB) LookupLink(ctx context.Context, token string) (Link, error) {
	return usableLink(db.pool.QueryRow(ctx, usableLinkQuery, TokenHash(token), db.now()))
}

// LinkState is a link whatever its state: for the page of a link that no
// longer works, which says how it ended and when.
type LinkState struct {
	Link
	UsedAt    time.Time // zero: not used
	RevokedAt time.Time // zero: not revoked (its operation ended, or a newer link replaced it)
	Expired   bool
	// Action is the decision recorded when it was used
	// ("confirm_move.approve", "promote.decline"...), if one was.
	Action string
	// RevokedReason says why it was withdrawn (a RevokeReason), "" when
	// not said.
	RevokedReason string
	// MovedAt is when the move the link was about was completed (zero:
	// not, or not a move).
	MovedAt time.Time
}

// Why a link was withdrawn (link_tokens.revoked_reason), for its page.
const (
	RevokedDone      = "done"      // its operation was completed
	RevokedDeclined  = "declined"  // someone declined it
	RevokedExpired   = "expired"   // its operation ran out of time
	RevokedCancelled = "cancelled" // sales cancelled its operation
	RevokedLeft      = "left"      // its recipient no longer belongs to the licence
	RevokedReplaced  = "replaced"  // a newer link replaced it
	RevokedEnded     = "ended"     // its operation ended otherwise (it could not be done)
)

// LinkState returns the link with token in whatever state it is, or
// NotFound for a token never made. It changes nothing.
func (db *DB) LinkState(ctx context.Context, token string) (LinkState, error) {
	return db.LinkStateByHash(ctx, TokenHash(token))
}

// LinkStateByHash is LinkState for a token's hash (a page the provider
// sends people back to knows only that).
func (db *DB) LinkStateByHash(ctx context.Context, hash []byte) (LinkState, error) {
	var (
		st                   LinkState
		used, revoked, moved *time.Time
		action, reason       *string
	)
	err := db.pool.QueryRow(ctx, `
		SELECT `+linkColumns+`, t.used_at, t.revoked_at, t.expires_at <= $2::timestamptz,
		       (SELECT g.action FROM audit_log g WHERE g.license_id = t.license_id AND g.detail->>'link_id' = t.id::text ORDER BY g.at DESC LIMIT 1),
		       t.revoked_reason,
		       (SELECT g.at FROM audit_log g WHERE g.license_id = t.license_id AND g.workflow_id = t.workflow_id AND g.action = 'license.move' LIMIT 1)
		FROM link_tokens t JOIN accounts a ON a.id = t.account_id LEFT JOIN licenses l ON l.id = t.license_id
		WHERE t.token_hash = $1`, hash, db.now()).Scan(&st.ID, &st.Purpose, &st.Email, &st.AccountStatus, &st.SEN, &st.WorkflowID, &st.Data,
		&st.ExpiresAt, &st.CreatedAt, &used, &revoked, &st.Expired, &action, &reason, &moved)
	if errors.Is(err, pgx.ErrNoRows) {
		return LinkState{}, errUnknownLink
	}
	if err != nil {
		return LinkState{}, err
	}
	if used != nil {
		st.UsedAt = *used
	}
	if revoked != nil {
		st.RevokedAt = *revoked
	}
	if action != nil {
		st.Action = *action
	}
	if reason != nil {
		st.RevokedReason = *reason
	}
	if moved != nil {
		st.MovedAt = *moved
	}
	return st, nil
}

// usableLinkQuery reads a link by token hash with whether it is spent and
// alive; usableLink turns that into the link or the reason it is not.
const usableLinkQuery = `
	SELECT ` + linkColumns + `, t.used_at IS NOT NULL OR t.revoked_at IS NOT NULL, t.expires_at > $2::timestamptz
	FROM link_tokens t JOIN accounts a ON a.id = t.account_id LEFT JOIN licenses l ON l.id = t.license_id
	WHERE t.token_hash = $1`

func usableLink(row pgx.Row) (Link, error) {
	var used, alive bool
	var k Link
	err := row.Scan(&k.ID, &k.Purpose, &k.Email, &k.AccountStatus, &k.SEN, &k.WorkflowID, &k.Data, &k.ExpiresAt, &k.CreatedAt, &used, &alive)
	if errors.Is(err, pgx.ErrNoRows) {
		return Link{}, errUnknownLink
	}
	if err != nil {
		return Link{}, err
	}
	if used || !alive {
		return Link{}, errSpentLink
	}
	return k, nil
}

// spendLink marks the link used in tx if it is still usable and has the
// purpose and workflow expected: one conditional UPDATE, so two clicks can
// never both succeed. In the same transaction it checks that the link's
// person may still do what it is for (licensing.MayUseLink): someone
// removed from the licence since the mail was sent gets Forbidden and the
// link stays as it was. The licence row is locked first, in the order
// contact changes take, so a removal and a click serialise.
func spendLink(ctx context.Context, tx pgx.Tx, now time.Time, hash []byte, purpose licensing.LinkPurpose, workflowID string) (Link, error) {
	lic, err := lockLinkLicense(ctx, tx, hash)
	if err != nil {
		return Link{}, err
	}
	row := tx.QueryRow(ctx, `
		WITH spent AS (
			UPDATE link_tokens SET used_at = $4
			WHERE token_hash = $1 AND purpose = $2 AND coalesce(workflow_id, '') = $3
			  AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $4
			RETURNING *)
		SELECT `+linkColumns+`
		FROM spent t JOIN accounts a ON a.id = t.account_id LEFT JOIN licenses l ON l.id = t.license_id`,
		hash, purpose, workflowID, now)
	k, err := scanLink(row)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM link_tokens WHERE token_hash = $1 AND purpose = $2 AND coalesce(workflow_id, '') = $3)`,
			hash, purpose, workflowID).Scan(&exists); err != nil {
			return Link{}, err
		}
		if !exists {
			return Link{}, errUnknownLink
		}
		return Link{}, errSpentLink
	}
	if err != nil {
		return Link{}, err
	}
	if lic != nil {
		if err := licensing.MayUseLink(*lic, k.Purpose, k.Email); err != nil {
			return Link{}, err
		}
	}
	return k, nil
}

// lockLinkLicense locks the licence a link is about (nil when it is about
// none), before anything locks the link itself.
func lockLinkLicense(ctx context.Context, tx pgx.Tx, hash []byte) (*licensing.License, error) {
	var sen *string
	err := tx.QueryRow(ctx, `SELECT l.sen FROM link_tokens t LEFT JOIN licenses l ON l.id = t.license_id WHERE t.token_hash = $1`, hash).Scan(&sen)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errUnknownLink
	}
	if err != nil || sen == nil {
		return nil, err
	}
	_, l, err := lockLicense(ctx, tx, licensing.SEN(*sen))
	return &l, err
}

// revokeLinksOfStranger revokes the unused links a person holds for a
// licence once they hold no role on it (no contact row, not a site admin):
// whatever those links were for, it is no longer theirs to do. Called in
// the transaction that removes them.
func revokeLinksOfStranger(ctx context.Context, tx pgx.Tx, now time.Time, licID, accID int64) error {
	_, err := tx.Exec(ctx, `
		UPDATE link_tokens SET revoked_at = $3, revoked_reason = 'left'
		WHERE license_id = $1 AND account_id = $2 AND used_at IS NULL AND revoked_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM license_contacts WHERE license_id = $1 AND account_id = $2)
		  AND NOT EXISTS (SELECT 1 FROM site_admins WHERE license_id = $1 AND account_id = $2)`, licID, accID, now)
	return err
}

// WithdrawnLinkWorkflows names the workflows holding links of email for
// the licence that were withdrawn unused and would still be live, because
// the person no longer belongs to it: those workflows may be waiting on
// them. Nothing while the person is still a contact or site admin. Read by
// the person's links (link_tokens_account): a handful.
func (db *DB) WithdrawnLinkWorkflows(ctx context.Context, sen licensing.SEN, email licensing.Email) ([]string, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT DISTINCT t.workflow_id FROM link_tokens t
		JOIN accounts a ON a.id = t.account_id
		JOIN licenses l ON l.id = t.license_id
		WHERE lower(a.email) = lower($2) AND l.sen = $1
		  AND t.workflow_id IS NOT NULL AND t.used_at IS NULL AND t.revoked_at IS NOT NULL AND t.expires_at > $3
		  AND NOT EXISTS (SELECT 1 FROM license_contacts c WHERE c.license_id = l.id AND c.account_id = a.id)
		  AND NOT EXISTS (SELECT 1 FROM site_admins s WHERE s.license_id = l.id AND s.account_id = a.id)
		ORDER BY 1`, string(sen), string(email), db.now())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// SpendLink spends a link on its own (a decision that is recorded by the
// workflow itself).
//
// spender names who spends it (an activity: its workflow run and activity
// ID); the same spender asking again, after its answer was lost, gets the
// link as it spent it instead of Gone. "" spends once, whoever asks.
func (db *DB) SpendLink(ctx context.Context, hash []byte, purpose licensing.LinkPurpose, workflowID string, by licensing.Actor, action, spender string) (Link, error) {
	var k Link
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if k, err = spendLink(ctx, tx, db.now(), hash, purpose, workflowID); err != nil {
			if again, ok, aerr := spentBefore(ctx, tx, hash, spender, nil); aerr != nil || ok {
				k = again
				return aerr
			}
			return err
		}
		by.ID = string(k.Email)
		if err := recordSpender(ctx, tx, k.ID, spender, nil); err != nil {
			return err
		}
		return auditLink(ctx, tx, by, action, k)
	})
	return k, err
}

// spentBefore is the link spent by spender, and into result what it
// answered then, when spender is the one who spent it.
func spentBefore(ctx context.Context, tx pgx.Tx, hash []byte, spender string, result any) (Link, bool, error) {
	if spender == "" {
		return Link{}, false, nil
	}
	var raw []byte
	k, err := scanLinkWith(tx.QueryRow(ctx, `
		SELECT `+linkColumns+`, t.spent_result FROM link_tokens t JOIN accounts a ON a.id = t.account_id LEFT JOIN licenses l ON l.id = t.license_id
		WHERE t.token_hash = $1 AND t.spent_by = $2 AND t.used_at IS NOT NULL`, hash, spender), &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return Link{}, false, nil
	}
	if err != nil {
		return Link{}, false, err
	}
	if result != nil && raw != nil {
		if err := json.Unmarshal(raw, result); err != nil {
			return Link{}, false, err
		}
	}
	return k, true, nil
}

// recordSpender notes on a link just spent who spent it and what it
// answered, for spentBefore.
func recordSpender(ctx context.Context, tx pgx.Tx, linkID int64, spender string, result any) error {
	if spender == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE link_tokens SET spent_by = $2, spent_result = $3 WHERE id = $1`, linkID, spender, result)
	return err
}

func auditLink(ctx context.Context, tx pgx.Tx, by licensing.Actor, action string, k Link) error {
	var licID, accID *int64
	if err := tx.QueryRow(ctx, `SELECT (SELECT id FROM licenses WHERE sen = $1), (SELECT id FROM accounts WHERE email = $2)`,
		string(k.SEN), string(k.Email)).Scan(&licID, &accID); err != nil {
		return err
	}
	var wf *string
	if by.WorkflowID != "" {
		wf = &by.WorkflowID
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO audit_log (actor_kind, actor, action, license_id, account_id, workflow_id, detail)
		VALUES ('link', $1, $2, $3, $4, $5, $6)`, string(k.Email), action, licID, accID, wf, map[string]any{"link_id": k.ID})
	return err
}

// Demotion is a former primary contact who became secondary.
type Demotion struct {
	Role  licensing.Role
	Email licensing.Email
}

// promotion is what RedeemPromotion answered, kept for its spender.
type promotion struct {
	Roles   []licensing.Role
	Demoted []Demotion
}

// RedeemPromotion spends a promote link and, in the same transaction, makes
// its recipient the primary contact for every role the link names. A
// recipient who is no longer a contact gets NotFound and the link stays
// unspent.
func (db *DB) RedeemPromotion(ctx context.Context, hash []byte, workflowID, spender string) (Link, []licensing.Role, []Demotion, error) {
	var (
		k       Link
		roles   []licensing.Role
		demoted []Demotion
	)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if k, err = spendLink(ctx, tx, db.now(), hash, licensing.PurposePromote, workflowID); err != nil {
			var was promotion
			if again, ok, aerr := spentBefore(ctx, tx, hash, spender, &was); aerr != nil || ok {
				k, roles, demoted = again, was.Roles, was.Demoted
				return aerr
			}
			return err
		}
		if k.AccountStatus != licensing.AccountActive {
			return licensing.Errorf(licensing.FailedPrecondition, "Finish setting up your account (name and password) first.")
		}
		roles = linkRoles(k.Data)
		by := licensing.Actor{Kind: "link", ID: string(k.Email), WorkflowID: workflowID}
		for _, role := range roles {
			former, ok, err := promoteInTx(ctx, tx, k.SEN, role, k.Email, by)
			if err != nil {
				return err
			}
			if ok && former != "" && former != k.Email {
				demoted = append(demoted, Demotion{Role: role, Email: former})
			}
		}
		return recordSpender(ctx, tx, k.ID, spender, promotion{Roles: roles, Demoted: demoted})
	})
	return k, roles, demoted, err
}

// linkRoles reads the "roles" list a promote link carries.
func linkRoles(data map[string]any) []licensing.Role {
	var roles []licensing.Role
	list, _ := data["roles"].([]any)
	for _, r := range list {
		if s, ok := r.(string); ok {
			if role, err := licensing.ParseRole(s); err == nil {
				roles = append(roles, role)
			}
		}
	}
	return roles
}

// CompleteAccount spends a link (complete_account, or promote for a pending
// recipient, who completes and then promotes) and activates its recipient's
// pending account with a display name and an argon2id password hash.
func (db *DB) CompleteAccount(ctx context.Context, token, displayName, passwordHash string) (Link, error) {
	var k Link
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		lic, err := lockLinkLicense(ctx, tx, TokenHash(token))
		if err != nil {
			return err
		}
		k, err = lookupForUpdate(ctx, tx, TokenHash(token), db.now())
		if err != nil {
			return err
		}
		if lic != nil {
			if err := licensing.MayUseLink(*lic, k.Purpose, k.Email); err != nil {
				return err
			}
		}
		if k.Purpose == licensing.PurposeCompleteAccount {
			if k, err = spendLink(ctx, tx, db.now(), TokenHash(token), k.Purpose, k.WorkflowID); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `
			UPDATE accounts SET status = 'active', display_name = $2, password_hash = $3, updated_at = now()
			WHERE lower(email) = lower($1) AND status = 'pending'`, string(k.Email), displayName, passwordHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return licensing.Errorf(licensing.Gone, "This account is already set up; sign in instead.")
		}
		return auditLink(ctx, tx, licensing.Actor{Kind: "link", WorkflowID: k.WorkflowID}, "account.complete", k)
	})
	return k, err
}

func lookupForUpdate(ctx context.Context, tx pgx.Tx, hash []byte, now time.Time) (Link, error) {
	return usableLink(tx.QueryRow(ctx, usableLinkQuery+` FOR UPDATE OF t`, hash, now))
}

// RevokeLinks revokes every unused link of a workflow (it ended: declined,
// expired, cancelled or done), so none of them can act any more.
func (db *DB) RevokeLinks(ctx context.Context, workflowID string) (int64, error) {
	return db.RevokeLinksBecause(ctx, workflowID, "")
}

// RevokeLinksBecause is RevokeLinks saying why (a Revoked... reason; ""
// says nothing), which the links' page tells their recipients.
func (db *DB) RevokeLinksBecause(ctx context.Context, workflowID, reason string) (int64, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE link_tokens SET revoked_at = $2, revoked_reason = nullif($3, '')
		WHERE workflow_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, workflowID, db.now(), reason)
	return tag.RowsAffected(), err
}

// LinkByID returns a link of a workflow by id, usable or not (Used says),
// or NotFound when it has another purpose or workflow.
func (db *DB) LinkByID(ctx context.Context, id int64, purpose licensing.LinkPurpose, workflowID string) (Link, error) {
	var k Link
	err := db.pool.QueryRow(ctx, `
		SELECT `+linkColumns+`, t.used_at IS NOT NULL OR t.revoked_at IS NOT NULL OR t.expires_at <= $4::timestamptz
		FROM link_tokens t JOIN accounts a ON a.id = t.account_id LEFT JOIN licenses l ON l.id = t.license_id
		WHERE t.id = $1 AND t.purpose = $2 AND coalesce(t.workflow_id, '') = $3`, id, purpose, workflowID, db.now()).
		Scan(&k.ID, &k.Purpose, &k.Email, &k.AccountStatus, &k.SEN, &k.WorkflowID, &k.Data, &k.ExpiresAt, &k.CreatedAt, &k.Used)
	if errors.Is(err, pgx.ErrNoRows) {
		return Link{}, errUnknownLink
	}
	return k, err
}

// RevokePersonLinks revokes one person's unused links of a purpose in a
// workflow (a fresh link replaces them).
func (db *DB) RevokePersonLinks(ctx context.Context, workflowID string, email licensing.Email, purpose licensing.LinkPurpose) (int64, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE link_tokens t SET revoked_at = $4, revoked_reason = 'replaced' FROM accounts a
		WHERE t.workflow_id = $1 AND t.purpose = $3 AND a.id = t.account_id AND lower(a.email) = lower($2)
		  AND t.used_at IS NULL AND t.revoked_at IS NULL`, workflowID, string(email), purpose, db.now())
	return tag.RowsAffected(), err
}
