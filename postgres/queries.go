package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// Query is one statement this store runs, named, with the arguments to
// EXPLAIN it with, so the plan checks (postgres/postgrestest.Explain, the
// scale benchmark) read the very SQL the store sends while that SQL stays
// unexported here. A statement that can read a table growing with the book
// belongs in Queries or ImportQueries.
type Query struct {
	Name string
	SQL  string
	Args func(Samples) []any
}

// Samples are the values the queries are explained with.
type Samples struct {
	SEN       licensing.SEN
	Email     licensing.Email
	Domain    string
	Site      string
	AccountID int64
	LicenseID int64  // the licence whose history and invoices are explained
	Invoice   string // an invoice's number
	// Today is the day the daily runs are explained for, Now the moment the
	// link look-ups are.
	Today, Now time.Time
	// SENs and Emails are those of an import batch (the lines' licences
	// and their people), for ImportQueries; Chunk is how many of them the
	// look-ups by list are explained with (0: LookupChunk, what a batch
	// sends; a smaller book needs a smaller one for the same share of its
	// tables).
	SENs   []string
	Emails []string
	Chunk  int
}

func (s Samples) chunk(keys []string) []string {
	n := s.Chunk
	if n <= 0 {
		n = LookupChunk
	}
	return keys[:min(n, len(keys))]
}

// Queries are the reads: the look-ups (show, find, the account page, the
// links of a licence) and the daily runs' statements.
func Queries() []Query {
	day := func(s Samples) string { return s.Today.UTC().Format(time.DateOnly) }
	return []Query{
		{"show a licence (/license show, GET /api/v1/licenses/{sen})", licenseQuery, func(s Samples) []any { return []any{string(s.SEN)} }},
		{"find by email", findQuery(licensing.FindByEmail), func(s Samples) []any { return []any{string(s.Email), "", 51} }},
		{"find by domain", findQuery(licensing.FindByDomain), func(s Samples) []any { return []any{s.Domain, "", 51} }},
		{"find by site", findQuery(licensing.FindBySite), func(s Samples) []any { return []any{s.Site, "", 51} }},
		{"account page", accountPageQuery, func(s Samples) []any { return []any{s.AccountID, "", 21} }},
		{"account page banners", accountUnpaidQuery, func(s Samples) []any { return []any{s.AccountID, "", 21} }},
		{"open links of a licence", sqlOpenLinks, func(s Samples) []any { return []any{int64(1), s.Now} }},
		{"history of a licence (/license history, GET …/history)", historyQuery, func(s Samples) []any { return []any{s.LicenseID, int64(1<<63 - 1), 51} }},
		{"a licence's invoices (account page, GET …/invoices)", invoiceListQuery, func(s Samples) []any { return []any{s.LicenseID, "9999-01-01", 21} }},
		{"an invoice for a person (invoice page, PDF)", invoiceForQuery, func(s Samples) []any { return []any{s.Invoice, string(s.Email)} }},
		{"the newest invoices of a page of licences", recentInvoicesQuery, func(s Samples) []any { return []any{[]string{string(s.SEN)}, 4} }},
		{"renewal reminders due", renewalsDueQuery, func(Samples) []any { return []any{"2027-01-01", 500} }},
		{"billing reminders to send", pendingRemindersQuery, func(Samples) []any { return []any{"2027-01-01", 500} }},
		{"unpaid licences (the App Home's billing section)", unpaidQuery, func(Samples) []any { return []any{9} }},
		{"unpaid licences, counted", unpaidCountQuery, func(Samples) []any { return nil }},
		{"card expiry: queue the day's reminders (daily)", sqlQueueCardReminders, func(s Samples) []any { return []any{day(s)} }},
		{"card expiry: reminders to mail", sqlPendingCardReminders, func(Samples) []any { return []any{50} }},
		{"account page card banners", sqlAccountExpiringCards, func(s Samples) []any {
			return []any{s.AccountID, s.Today.UTC().AddDate(0, -1, 30).Format(time.DateOnly), 20}
		}},
	}
}

// ImportQueries are the statements of an import with update on, in the
// order it runs them; they read the staging tables, so they are explained
// inside StageImport.
func ImportQueries() []Query {
	none := func(Samples) []any { return nil }
	return []Query{
		{"import: licences the lines name", sqlExisting, func(s Samples) []any { return []any{s.chunk(s.SENs)} }},
		{"import: new accounts", sqlInsertAccounts, func(s Samples) []any { return []any{s.Emails} }},
		{"import: account ids", sqlAccountIDs, func(s Samples) []any { return []any{s.chunk(s.Emails)} }},
		{"import: new licences", sqlInsertLicenses, none},
		{"import: update licences", sqlUpdateLicenses, none},
		{"import: contacts an update keeps", sqlKeptContacts, none},
		{"import: demote dropped primaries", sqlDemoteDropped, none},
		{"import: promote kept primaries", sqlPromoteKept, none},
		{"import: delete dropped contacts", sqlDeleteDropped, none},
		{"import: delete dropped site admins", sqlDeleteSiteAdmins, none},
		{"import: contacts of new licences", sqlInsertContacts, none},
		{"import: site admins of new licences", sqlInsertSiteAdmins, none},
		{"import: contacts an update adds", sqlAddContacts, none},
		{"import: site admins an update adds", sqlAddSiteAdmins, none},
		{"import: history", sqlAudit, func(Samples) []any { return []any{"api", "api", ""} }},
		{"import: updated licences with open links", sqlLinkedUpdates, none},
		{"import: invitees", sqlInvitees, none},
	}
}

// errStaged rolls back the transaction StageImport stages its lines in.
var errStaged = errors.New("staged")

// StageImport stages lines as an import with update on stages them (its
// settings, the people's accounts, the new licences' ids, the staging
// tables filled), runs fn in that transaction, and rolls it back: nothing
// is written. It is for EXPLAINing ImportQueries.
func (db *DB) StageImport(ctx context.Context, lines []ImportLine, fn func(pgx.Tx) error) error {
	imp, err := db.newImporter(ctx, licensing.Actor{Kind: "api", ID: "api"}, true)
	if err != nil {
		return err
	}
	defer imp.conn.Release()
	err = pgx.BeginFunc(ctx, imp.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, importSettings); err != nil {
			return err
		}
		_, actions, err := imp.classify(ctx, tx, lines)
		if err != nil {
			return err
		}
		accounts, err := ensureAccounts(ctx, tx, actions)
		if err != nil {
			return err
		}
		if err := allocateIDs(ctx, tx, actions); err != nil {
			return err
		}
		if err := stage(ctx, tx, actions, accounts); err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			return err
		}
		return errStaged
	})
	if errors.Is(err, errStaged) {
		err = nil
	}
	return err
}
