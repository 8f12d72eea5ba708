package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// The provisioning API's single-licence changes (SPEC §9): create, PATCH,
// and site admins. Every change is audited with the actor given (the API:
// licensing.Actor{Kind: "api", ID: "api"}).

// Provisioned is licensing.Provisioned (the front ends speak the domain's types).
type Provisioned = licensing.Provisioned

// ProvisionLicense creates the licence n describes, with its contacts and
// site admins (creating pending accounts for emails nobody has). The same
// licence again changes nothing; a different one for an existing SEN is a
// Conflict naming the first field that differs. It is an import of one
// line, so it follows exactly the rules of Import.
func (db *DB) ProvisionLicense(ctx context.Context, n licensing.NewLicense, by licensing.Actor) (Provisioned, error) {
	imp, err := db.newImporter(ctx, by, false)
	if err != nil {
		return Provisioned{}, err
	}
	defer imp.conn.Release()
	detail := map[string]any{"contacts": n.License.Contacts, "site_admins": n.License.SiteAdmins}
	results, err := imp.batch(ctx, []ImportLine{{Line: 1, SEN: string(n.License.SEN), License: n, Detail: detail}})
	if err != nil {
		return Provisioned{}, err
	}
	if err := db.flushCommits(ctx); err != nil {
		return Provisioned{}, err
	}
	r := results[0]
	if r.Outcome == Rejected {
		return Provisioned{}, r.Err
	}
	l, err := db.License(ctx, n.License.SEN)
	return Provisioned{License: l, Created: r.Outcome == Created, Invite: r.Invite}, err
}

// PatchLicense renews or changes a licence's billing fields (licensing.
// ApplyPatch says what may change) and re-checks its open links against
// the new state: a cycle change re-applies the card rule to every open
// card link, a cancellation ends them. It returns the licence as stored.
func (db *DB) PatchLicense(ctx context.Context, sen licensing.SEN, p licensing.LicensePatch, by licensing.Actor) (licensing.License, error) {
	var out licensing.License
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		id, l, err := lockLicense(ctx, tx, sen)
		if err != nil {
			return err
		}
		next, changes, err := licensing.ApplyPatch(l, p)
		if err != nil {
			return err
		}
		out = next
		if len(changes) == 0 {
			return nil
		}
		var cycle any
		if next.Cycle != "" {
			cycle = string(next.Cycle)
		}
		var date any
		if !next.NextBillingDate.IsZero() {
			date = next.NextBillingDate
		}
		if _, err := tx.Exec(ctx, `
			UPDATE licenses SET billing_cycle = $2, status = $3, next_billing_date = $4, price_cents = $5, currency = $6, updated_at = now()
			WHERE id = $1`, id, cycle, string(next.Status), date, next.PriceCents, next.Currency); err != nil {
			return err
		}
		detail := map[string]any{}
		for _, c := range changes {
			detail[c.Field] = map[string]any{"from": c.Old, "to": c.New}
		}
		if err := audit(ctx, tx, by, "license.update", id, 0, detail); err != nil {
			return err
		}
		return recheckLinks(ctx, tx, db.now(), id, next)
	})
	if err != nil {
		return licensing.License{}, err
	}
	return out, nil
}

// errServerSiteAdmins refuses site admins on a server licence.
func errServerSiteAdmins(sen licensing.SEN) error {
	return licensing.FieldErrorf(licensing.Conflict, "site_admins", "%s is a server licence: it has no site, so no site admins", sen)
}

// AddSiteAdmin makes email a site admin of the licence, creating a pending
// account when nobody has that email. Adding one who is already is no change.
func (db *DB) AddSiteAdmin(ctx context.Context, sen licensing.SEN, email licensing.Email, by licensing.Actor) (licensing.License, error) {
	return db.changeSiteAdmin(ctx, sen, func(tx pgx.Tx, id int64, l licensing.License) (bool, error) {
		if l.Deployment == licensing.Server {
			return false, errServerSiteAdmins(sen)
		}
		accID, created, err := ensureAccount(ctx, tx, email)
		if err != nil {
			return false, err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO site_admins (license_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, accID)
		if err != nil || tag.RowsAffected() == 0 {
			return false, err
		}
		return true, audit(ctx, tx, by, "site_admin.add", id, accID, map[string]any{"email": email, "account_created": created})
	})
}

// RemoveSiteAdmin ends email's site admin role on the licence; when that
// leaves them no role there, their links for it are revoked, and the card
// rule is re-applied to the rest (an annual licence's card is theirs to
// update only as a site admin). Removing one who is not is no change.
func (db *DB) RemoveSiteAdmin(ctx context.Context, sen licensing.SEN, email licensing.Email, by licensing.Actor) (licensing.License, error) {
	return db.changeSiteAdmin(ctx, sen, func(tx pgx.Tx, id int64, l licensing.License) (bool, error) {
		var accID int64
		err := tx.QueryRow(ctx, `
			DELETE FROM site_admins s USING accounts a
			WHERE s.license_id = $1 AND s.account_id = a.id AND lower(a.email) = lower($2)
			RETURNING a.id`, id, string(email)).Scan(&accID)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if err := revokeLinksOfStranger(ctx, tx, db.now(), id, accID); err != nil {
			return false, err
		}
		return true, audit(ctx, tx, by, "site_admin.remove", id, accID, map[string]any{"email": email})
	})
}

// changeSiteAdmin locks the licence, runs change, and, if it changed
// anything, re-checks the licence's open links; it returns the licence as
// stored afterwards.
func (db *DB) changeSiteAdmin(ctx context.Context, sen licensing.SEN, change func(pgx.Tx, int64, licensing.License) (bool, error)) (licensing.License, error) {
	var out licensing.License
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		id, l, err := lockLicense(ctx, tx, sen)
		if err != nil {
			return err
		}
		changed, err := change(tx, id, l)
		if err != nil {
			return err
		}
		if out, err = scanLicense(tx.QueryRow(ctx, licenseQuery, string(sen)), sen); err != nil || !changed {
			return err
		}
		return recheckLinks(ctx, tx, db.now(), id, out)
	})
	return out, err
}

// recheckLinks revokes the open links of licence id (state l, as it is now
// in tx) whose person may no longer do what they are for
// (licensing.MayUseLink): a contact removed, a site admin gone, a card
// rule changed with the cycle or by a cancellation. They would be refused
// when used anyway; revoked, their pages say so at once.
func recheckLinks(ctx context.Context, tx pgx.Tx, now time.Time, id int64, l licensing.License) error {
	rows, err := tx.Query(ctx, sqlOpenLinks, id, now)
	if err != nil {
		return err
	}
	type open struct {
		id      int64
		purpose licensing.LinkPurpose
		email   licensing.Email
	}
	links, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (open, error) {
		var o open
		err := r.Scan(&o.id, &o.purpose, &o.email)
		return o, err
	})
	if err != nil {
		return err
	}
	var revoke []int64
	for _, k := range links {
		if licensing.MayUseLink(l, k.purpose, k.email) != nil {
			revoke = append(revoke, k.id)
		}
	}
	if len(revoke) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `UPDATE link_tokens SET revoked_at = $2, revoked_reason = 'left' WHERE id = ANY($1)`, revoke, now)
	if err != nil {
		return fmt.Errorf("revoke links of %s: %w", l.SEN, err)
	}
	return nil
}

// sqlOpenLinks are the usable links of licence $1 at time $2.
const sqlOpenLinks = `
	SELECT t.id, t.purpose, a.email FROM link_tokens t JOIN accounts a ON a.id = t.account_id
	WHERE t.license_id = $1 AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $2`
