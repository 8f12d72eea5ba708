package postgres

import (
	"context"
	"fmt"
	"strings"

	"licensedesk/licensing"
)

// Finding licences (SPEC §9, the account page), a page at a time in SEN
// order, with keyset pagination: a page starts after the last SEN of the
// one before, so page 40 costs what page 1 does.
//
// Each query gathers the ids of the matching licences through an index
// (a person's contact rows and site admin rows, the accounts of a domain,
// a site's licences), sorts just those by SEN and reads the read model of
// one page of them. Its cost grows with the size of the match (a person's
// 500 licences, a domain's), never with the number of licences stored;
// TestFind_PlansUseIndexes keeps every one of them on an index.

// Page is licensing.Page (the front ends speak the domain's types).
type Page = licensing.Page

// PageRequest is licensing.PageRequest (the front ends speak the domain's types).
type PageRequest = licensing.PageRequest

// findIDs are the matching licence ids, as a CTE "ids (license_id)", per
// kind of query; $1 is the query's value.
var findIDs = map[licensing.FindBy]string{
	licensing.FindByEmail: `
		who AS (SELECT id FROM accounts WHERE lower(email) = $1),
		ids AS (SELECT license_id FROM license_contacts WHERE account_id IN (SELECT id FROM who)
		        UNION SELECT license_id FROM site_admins WHERE account_id IN (SELECT id FROM who))`,
	licensing.FindByDomain: `
		who AS (SELECT id FROM accounts WHERE split_part(email, '@', 2) = $1),
		ids AS (SELECT license_id FROM license_contacts WHERE account_id IN (SELECT id FROM who)
		        UNION SELECT license_id FROM site_admins WHERE account_id IN (SELECT id FROM who))`,
	licensing.FindBySite: `
		ids AS (SELECT id AS license_id FROM licenses WHERE site = $1 AND site <> '')`, // the index's predicate: a generic plan uses it too
}

// findQuery is the page query of by: $2 the SEN to start after, $3 the
// page size.
func findQuery(by licensing.FindBy) string {
	return `
	WITH` + findIDs[by] + `,
	page AS (SELECT l.id FROM licenses l JOIN ids ON ids.license_id = l.id
	         WHERE l.sen > $2
	         ORDER BY l.sen LIMIT $3)
	SELECT` + licenseColumns + `, coalesce((SELECT ` + billingAddressJSON + ` FROM billing_addresses b WHERE b.license_id = l.id), '{}'), (SELECT count(*) FROM ids)
	FROM page JOIN licenses l ON l.id = page.id
	ORDER BY l.sen`
}

// FindLicenses returns a page of the licences q matches.
func (db *DB) FindLicenses(ctx context.Context, q licensing.FindQuery, p PageRequest) (Page, error) {
	if _, ok := findIDs[q.By]; !ok {
		return Page{}, fmt.Errorf("find licences by %q: no such query", q.By)
	}
	return db.page(ctx, findQuery(q.By), q.Value, p)
}

// AccountLicensesPage returns a page of the licences an account is a
// contact (in any role) or site admin of.
func (db *DB) AccountLicensesPage(ctx context.Context, accountID int64, p PageRequest) (Page, error) {
	return db.page(ctx, accountPageQuery, accountID, p)
}

// AccountUnpaidLicenses returns the first limit of the account's licences
// that are past due or suspended, in SEN order, wherever they fall in its
// pages: the account page puts each one's banner at the top.
func (db *DB) AccountUnpaidLicenses(ctx context.Context, accountID int64, limit int) ([]AccountLicense, error) {
	p, err := db.page(ctx, accountUnpaidQuery, accountID, PageRequest{Size: limit})
	return p.Licenses, err
}

// accountQuery is findQuery for one account ($1 its id): its licences as
// contact or site admin, read by index, those matching where; total says
// how many it holds in all.
func accountQuery(where, total string) string {
	return `
	WITH ids AS (SELECT license_id FROM license_contacts WHERE account_id = $1::bigint
	             UNION SELECT license_id FROM site_admins WHERE account_id = $1::bigint),
	page AS (SELECT l.id FROM licenses l JOIN ids ON ids.license_id = l.id
	         WHERE l.sen > $2` + where + `
	         ORDER BY l.sen LIMIT $3)
	SELECT` + licenseColumns + `, coalesce((SELECT ` + billingAddressJSON + ` FROM billing_addresses b WHERE b.license_id = l.id), '{}'), ` + total + `
	FROM page JOIN licenses l ON l.id = page.id
	ORDER BY l.sen`
}

var (
	accountPageQuery = accountQuery("", "(SELECT count(*) FROM ids)")
	// The licences that owe money, filtered from the account's own (it
	// holds hundreds at most; licenses_unpaid serves the whole-book
	// gauges instead).
	accountUnpaidQuery = accountQuery(" AND l.status IN ('past_due', 'suspended')", "0::bigint")
)

func (db *DB) page(ctx context.Context, query string, value any, p PageRequest) (Page, error) {
	size := p.Size
	if size <= 0 {
		size = 50
	}
	start := string(p.After)
	if p.From != "" {
		// The page that starts with From itself.
		start = string(p.From)
		query = strings.Replace(query, "l.sen > $2", "l.sen >= $2", 1)
	}
	// One more than a page says whether there is a next one.
	rows, err := db.pool.Query(ctx, query, value, start, size+1)
	if err != nil {
		return Page{}, err
	}
	defer rows.Close()
	var out Page
	for rows.Next() {
		var al AccountLicense
		var total int64
		l, err := scanLicense(rows, "", &al.BillingAddress, &total)
		if err != nil {
			return Page{}, err
		}
		al.License = l
		out.Licenses = append(out.Licenses, al)
		out.Total = int(total)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(out.Licenses) > size {
		out.Licenses = out.Licenses[:size]
		out.Next = out.Licenses[size-1].License.SEN
	}
	return out, nil
}
