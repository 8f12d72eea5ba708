package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"licensedesk/licensing"
)

// Provisioning licences in bulk (SPEC §9): POST /api/v1/licenses is an
// import of one line, so a request and a line of a file follow the same
// rules and the same SQL.
//
// Lines arrive in batches (ImportOptions.BatchSize). Each batch is one
// transaction: the licences it names are read in one query and compared
// with the lines (licensing.LicenseDiff); the lines that create or change
// a licence are COPYed into temporary staging tables, and a fixed number of
// set-based statements (whatever the batch size) write accounts, licences,
// contacts, site admins and the history from there. A batch the database
// refuses (a constraint no check here foresaw) is split in halves and
// retried until the lines at fault stand alone and are rejected, so a bad
// line never stops the good ones and never leaves half a licence.

// ImportLine is licensing.ImportLine (the front ends speak the domain's types).
type ImportLine = licensing.ImportLine

// Outcome says what a line did.
type Outcome int

const (
	Rejected Outcome = iota
	Created
	Updated
	Unchanged
)

func (o Outcome) String() string {
	return [...]string{"rejected", "created", "updated", "unchanged"}[o]
}

// LineResult is what happened to one line.
type LineResult struct {
	Line    int
	SEN     string
	Outcome Outcome
	Err     error // Rejected: why (a *licensing.Error)
	// Invite lists the pending accounts of a licence whose line asked for
	// invitations ("invite": true) and that it created, changed or
	// repeated: the caller mails them (starting an operation per person,
	// which is idempotent).
	Invite []Invitation
}

// Rejection is licensing.Rejection (the front ends speak the domain's types).
type Rejection = licensing.Rejection

// Invitation is licensing.Invitation (the front ends speak the domain's types).
type Invitation = licensing.Invitation

// MaxRejections is how many rejected lines an import's answer lists;
// RejectedTotal counts them all. A body of bad lines must not cost memory
// (and an answer) in proportion to its length.
const MaxRejections = 1000

// ImportSummary is licensing.ImportSummary (the front ends speak the domain's types).
type ImportSummary = licensing.ImportSummary

// ImportOptions is licensing.ImportOptions (the front ends speak the domain's types).
type ImportOptions = licensing.ImportOptions

// Defaults: 10k lines keep a batch's transaction around a second at the
// rates measured here; two workers keep both cores busy (one batch in
// PostgreSQL while the next is parsed and copied).
const (
	defaultBatchSize = 10000
	defaultWorkers   = 2
)

// ErrLineTooLong is what a reader reports for an over-long line.
var ErrLineTooLong = licensing.Errorf(licensing.Invalid, "the line is too long")

// Import provisions the licences next returns (io.EOF ends them) and says
// what happened to each line. A SEN that appears again in the same import
// is rejected on every line after the first, whatever happened to the
// first: lines are applied as they stream in, so the first may already be
// committed when a later one shows up. An error is returned only when the
// import could not go on (the database went away, ctx ended); every batch
// committed before it stays.
func (db *DB) Import(ctx context.Context, next func() (ImportLine, error), by licensing.Actor, opt ImportOptions) (ImportSummary, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = defaultBatchSize
	}
	if opt.Workers <= 0 {
		opt.Workers = defaultWorkers
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		mu      sync.Mutex
		summary = ImportSummary{Rejected: []Rejection{}}
		done    int
	)
	record := func(results []LineResult) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range results {
			switch r.Outcome {
			case Created:
				summary.Created++
			case Updated:
				summary.Updated++
			case Unchanged:
				summary.Unchanged++
			case Rejected:
				summary.RejectedTotal++
				if len(summary.Rejected) < MaxRejections {
					summary.Rejected = append(summary.Rejected, Rejection{Line: r.Line, SEN: r.SEN, Error: licensing.ErrorMessage(r.Err)})
				}
			}
		}
		done += len(results)
		if opt.Progress != nil {
			opt.Progress(done)
		}
	}

	batches := make(chan []ImportLine, opt.Workers)
	var wg sync.WaitGroup
	invites := make([][]Invitation, opt.Workers)
	for w := range opt.Workers {
		wg.Go(func() {
			imp, err := db.newImporter(ctx, by, opt.Update)
			if err != nil {
				cancel(err)
				for range batches {
				}
				return
			}
			defer imp.conn.Release()
			for batch := range batches {
				if ctx.Err() != nil {
					continue
				}
				results, err := imp.batch(ctx, batch)
				if err != nil {
					cancel(fmt.Errorf("lines %d to %d: %w", batch[0].Line, batch[len(batch)-1].Line, err))
					continue
				}
				for _, r := range results {
					invites[w] = append(invites[w], r.Invite...)
				}
				record(results)
			}
		})
	}

	seen := map[licensing.SEN]int{}
	var batch []ImportLine
	var readErr error
	for ctx.Err() == nil {
		line, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if line.Err == nil {
			sen := line.License.License.SEN
			if first, dup := seen[sen]; dup {
				line.Err = licensing.FieldErrorf(licensing.Invalid, "sen", "%s already appears on line %d of this import", sen, first)
			} else {
				seen[sen] = line.Line
			}
		}
		if line.Err != nil {
			record([]LineResult{{Line: line.Line, SEN: line.SEN, Outcome: Rejected, Err: line.Err}})
			continue
		}
		batch = append(batch, line)
		if len(batch) == opt.BatchSize {
			batches <- batch
			batch = nil
		}
	}
	if len(batch) > 0 && ctx.Err() == nil {
		batches <- batch
	}
	close(batches)
	wg.Wait()

	sort.Slice(summary.Rejected, func(i, j int) bool { return summary.Rejected[i].Line < summary.Rejected[j].Line })
	for _, list := range invites {
		summary.Invitations = append(summary.Invitations, list...)
	}
	if readErr != nil {
		return summary, readErr
	}
	if ctx.Err() != nil {
		return summary, context.Cause(ctx)
	}
	if err := db.flushCommits(ctx); err != nil {
		return summary, err
	}
	if summary.Created+summary.Updated >= analyzeFrom {
		return summary, db.analyzeImported(ctx)
	}
	return summary, nil
}

// analyzeFrom is how many lines an import must create or change before it
// analyzes the tables it grew (a few hundred milliseconds at a million
// licences). Until autovacuum got round to them, look-ups right after a
// 50,000-licence import ran on the statistics of the tables before it:
// 25 times slower for about 45 s (issue 22). Smaller imports leave it to
// autovacuum.
const analyzeFrom = 1000

// importedTables are the tables an import writes.
var importedTables = []string{"licenses", "accounts", "license_contacts", "site_admins", "audit_log"}

// analyzeImported brings the statistics of the tables an import grew up to
// date, as a restore does.
func (db *DB) analyzeImported(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, "ANALYZE "+strings.Join(importedTables, ", ")); err != nil {
		return fmt.Errorf("analyze after the import: %w", err)
	}
	return nil
}

// flushCommits waits until every batch committed so far is on disk.
// Batches commit without waiting for their WAL to be flushed (a crash
// mid-import loses at most the last ones, which importing again redoes);
// the answer must not claim lines a crash could still lose, and one
// synchronous commit flushes all the WAL before it.
func (db *DB) flushCommits(ctx context.Context) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`)
		return err
	})
}

// importer writes batches on one connection.
type importer struct {
	conn   *pgxpool.Conn
	by     licensing.Actor
	update bool
	now    func() time.Time // the store's clock, for the links it re-checks
}

// newImporter takes a connection and makes sure it has the staging tables.
func (db *DB) newImporter(ctx context.Context, by licensing.Actor, update bool) (*importer, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `SET client_min_messages = warning;`+stagingTables); err != nil {
		conn.Release()
		return nil, err
	}
	return &importer{conn: conn, by: by, update: update, now: db.now}, nil
}

// batch applies lines: first the accounts of the people they add, in a
// short transaction of their own; then the lines, in one transaction, or,
// if the database refuses it for what a line holds, in halves until the
// culprits are found and rejected alone.
//
// Why accounts apart: consecutive batches share people (a customer's
// lines straddle the cut), and a new account inserted by one batch's long
// transaction makes the other batch wait for its commit, which put the
// workers one behind the other. Committed first, an account is a pending
// one like those the rest of the system creates; a line rejected after
// that (the database refused it, or a licence raced it) leaves its new
// people's accounts pending and attached to nothing, which is harmless
// (nobody can sign in to a pending account) and rare.
//
// A batch that creates and changes nothing (the same file imported again)
// is answered from that first look: its lines were unchanged, or differed,
// as of that moment.
func (imp *importer) batch(ctx context.Context, lines []ImportLine) ([]LineResult, error) {
	var (
		results []LineResult
		actions []action
	)
	if err := pgx.BeginFunc(ctx, imp.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, importSettings); err != nil {
			return err
		}
		var err error
		if results, actions, err = imp.classify(ctx, tx, lines); err != nil {
			return err
		}
		_, err = ensureAccounts(ctx, tx, actions)
		return err
	}); err != nil && (!refusedData(err) || ctx.Err() != nil) {
		return nil, err
	}
	if results != nil && len(actions) == 0 {
		return results, nil
	}
	return imp.write(ctx, lines)
}

// write applies lines in one transaction, bisecting when refused.
func (imp *importer) write(ctx context.Context, lines []ImportLine) ([]LineResult, error) {
	var results []LineResult
	err := pgx.BeginFunc(ctx, imp.conn, func(tx pgx.Tx) error {
		var err error
		results, err = imp.apply(ctx, tx, lines)
		return err
	})
	if err == nil {
		return results, nil
	}
	if !refusedData(err) || ctx.Err() != nil {
		return nil, err
	}
	if len(lines) == 1 {
		return []LineResult{{Line: lines[0].Line, SEN: lines[0].SEN, Outcome: Rejected, Err: refusal(err)}}, nil
	}
	half := len(lines) / 2
	first, err := imp.write(ctx, lines[:half])
	if err != nil {
		return nil, err
	}
	second, err := imp.write(ctx, lines[half:])
	return append(first, second...), err
}

// refusedData reports whether the database refused what a batch holds (a
// data or integrity error, or a deadlock or serialisation failure, which
// a smaller batch avoids), rather than being unable to work at all.
func refusedData(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code[:2] {
	case "22", "23", "40", "P0":
		return true
	}
	return false
}

// refusal says why the database refused a line, without its internals.
func refusal(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.ConstraintName == "licenses_sen_key" {
		return licensing.FieldErrorf(licensing.Conflict, "sen", "this SEN was created by someone else meanwhile; send the line again to compare")
	}
	if errors.As(err, &pgErr) {
		// The constraint's name says what to fix; PostgreSQL's own message
		// is internal and stays out of the answer.
		what := pgErr.ConstraintName
		if what == "" {
			what = "SQLSTATE " + pgErr.Code
		}
		return licensing.Errorf(licensing.Invalid, "the database refused this licence (%s)", what)
	}
	return licensing.Errorf(licensing.Invalid, "the database refused this licence")
}

// stagingTables receive a batch by COPY. Temporary (no WAL, private to the
// connection) and emptied at every commit.
const stagingTables = `
CREATE TEMP TABLE IF NOT EXISTS import_licenses (
    line int NOT NULL, license_id bigint, action text NOT NULL, sen text NOT NULL,
    product text NOT NULL, deployment text NOT NULL, billing_cycle text, status text NOT NULL,
    site text NOT NULL, price_cents bigint NOT NULL, currency text NOT NULL,
    next_billing_date date, invite boolean NOT NULL, detail jsonb NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS import_contacts (
    line int NOT NULL, account_id bigint NOT NULL, role text NOT NULL, is_primary boolean NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS import_site_admins (
    line int NOT NULL, account_id bigint NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS import_kept (
    license_id bigint NOT NULL, account_id bigint NOT NULL, role text NOT NULL, is_primary boolean NOT NULL
) ON COMMIT DELETE ROWS`

// importSettings are every import transaction's (see apply).
const importSettings = `SET LOCAL synchronous_commit = off; SET LOCAL enable_seqscan = off`

// apply writes lines in tx and says what each did.
func (imp *importer) apply(ctx context.Context, tx pgx.Tx, lines []ImportLine) ([]LineResult, error) {
	// See flushCommits. And every statement here scans only the staging
	// tables and reaches stored rows by key; while a book loads, the tables
	// grow faster than autovacuum analyses them, and with statistics of a
	// table a tenth of its size the planner reads it whole. Without seq
	// scans it probes the index (the staging tables, which have none, are
	// still scanned).
	if _, err := tx.Exec(ctx, importSettings); err != nil {
		return nil, err
	}
	results, actions, err := imp.classify(ctx, tx, lines)
	if err != nil {
		return nil, err
	}
	if len(actions) == 0 {
		return results, nil
	}
	accounts, err := ensureAccounts(ctx, tx, actions)
	if err != nil {
		return nil, err
	}
	if err := allocateIDs(ctx, tx, actions); err != nil {
		return nil, err
	}
	if err := stage(ctx, tx, actions, accounts); err != nil {
		return nil, err
	}
	var creates, updates, invites int
	for _, a := range actions {
		switch {
		case !a.update:
			creates++
		case a.changed != nil:
			updates++
		}
		if a.line.License.Invite {
			invites++
		}
	}
	if creates > 0 {
		// A SEN another request created between our read and this insert
		// fails the batch (licenses_sen_key); the halves retried find that
		// line, rejected alone (refusal).
		if _, err := tx.Exec(ctx, sqlInsertLicenses); err != nil {
			return nil, err
		}
	}
	if updates > 0 {
		if err := updateLicenses(ctx, tx); err != nil {
			return nil, err
		}
	}
	// Contacts and site admins the lines add: every one of a new licence,
	// those an update names that are not there yet.
	add := []string{}
	if creates > 0 {
		add = append(add, sqlInsertContacts, sqlInsertSiteAdmins)
	}
	if updates > 0 {
		add = append(add, sqlAddContacts, sqlAddSiteAdmins)
	}
	for _, q := range add {
		if _, err := tx.Exec(ctx, q); err != nil {
			return nil, err
		}
	}
	if _, err := tx.Exec(ctx, sqlAudit, imp.by.Kind, imp.by.ID, imp.by.WorkflowID); err != nil {
		return nil, err
	}
	if updates > 0 {
		if err := recheckUpdatedLinks(ctx, tx, imp.now()); err != nil {
			return nil, err
		}
	}
	if invites > 0 {
		if err := inviteesOf(ctx, tx, results); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// action is a line that creates or changes a licence.
type action struct {
	line      ImportLine
	update    bool
	licenseID int64 // the licence it changes, or the id of the one it creates
	changed   []string
}

// classify compares lines with the licences they name: a new SEN creates,
// the same licence is unchanged, a different one is rejected or, with
// update, changes it (its row locked first, and compared again under the
// lock). It returns every line's result (creates and updates optimistic)
// and the lines to write.
func (imp *importer) classify(ctx context.Context, tx pgx.Tx, lines []ImportLine) ([]LineResult, []action, error) {
	sens := make([]string, len(lines))
	for i, l := range lines {
		sens[i] = string(l.License.License.SEN)
	}
	ids := map[licensing.SEN]int64{}
	var existing []int64
	err := inChunks(sens, func(chunk []string) error {
		rows, err := tx.Query(ctx, sqlExisting, chunk)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sen licensing.SEN
			var id int64
			if err := rows.Scan(&sen, &id); err != nil {
				return err
			}
			ids[sen] = id
			existing = append(existing, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, err
	}
	stored, err := licensesByID(ctx, tx, existing)
	if err != nil {
		return nil, nil, err
	}
	if imp.update {
		var differ []int64
		for _, l := range lines {
			if id, ok := ids[l.License.License.SEN]; ok && len(licensing.LicenseDiff(l.License.License, stored[id])) > 0 {
				differ = append(differ, id)
			}
		}
		if len(differ) > 0 {
			slices.Sort(differ)
			if err := inChunks(differ, func(chunk []int64) error {
				_, err := tx.Exec(ctx, sqlLockDiffering, chunk)
				return err
			}); err != nil {
				return nil, nil, err
			}
			locked, err := licensesByID(ctx, tx, differ)
			if err != nil {
				return nil, nil, err
			}
			for id, l := range locked {
				stored[id] = l
			}
		}
	}

	results := make([]LineResult, len(lines))
	var actions []action
	for i, l := range lines {
		want := l.License.License
		results[i] = LineResult{Line: l.Line, SEN: string(want.SEN)}
		id, ok := ids[want.SEN]
		if !ok {
			results[i].Outcome = Created
			actions = append(actions, action{line: l})
			continue
		}
		diff := licensing.LicenseDiff(want, stored[id])
		switch {
		case len(diff) == 0:
			results[i].Outcome = Unchanged
			if l.License.Invite {
				actions = append(actions, action{line: l, update: true, licenseID: id})
			}
		case !imp.update:
			results[i].Outcome = Rejected
			results[i].Err = licensing.FieldErrorf(licensing.Conflict, diff[0], "%s already exists and differs in %s; send it with update to change it",
				want.SEN, strings.Join(diff, ", "))
		default:
			results[i].Outcome = Updated
			actions = append(actions, action{line: l, update: true, licenseID: id, changed: diff})
		}
	}
	return results, actions, nil
}

// allocateIDs gives the licences the actions create their ids from the
// identity sequence, so the staging rows carry them and nothing has to
// read them back from the insert.
func allocateIDs(ctx context.Context, tx pgx.Tx, actions []action) error {
	n := 0
	for _, a := range actions {
		if !a.update {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, sqlAllocateIDs, n)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	for i := range actions {
		if !actions[i].update {
			actions[i].licenseID, ids = ids[0], ids[1:]
		}
	}
	return nil
}

// ensureAccounts makes sure every person the actions name has an account
// (a pending one for a new email) and returns their ids. New accounts are
// inserted in email order, so concurrent batches lock the same new emails
// in the same order and never deadlock; ids are read through the email
// index, whatever the size of the batch.
func ensureAccounts(ctx context.Context, tx pgx.Tx, actions []action) (map[licensing.Email]int64, error) {
	seen := map[licensing.Email]bool{}
	var emails []string
	note := func(e licensing.Email) {
		if !seen[e] {
			seen[e] = true
			emails = append(emails, string(e))
		}
	}
	for _, a := range actions {
		if a.update && a.changed == nil {
			continue
		}
		for _, c := range a.line.License.License.Contacts {
			note(c.Email)
		}
		for _, e := range a.line.License.License.SiteAdmins {
			note(e)
		}
	}
	if len(emails) == 0 {
		return map[licensing.Email]int64{}, nil
	}
	slices.Sort(emails)
	if _, err := tx.Exec(ctx, sqlInsertAccounts, emails); err != nil {
		return nil, err
	}
	ids := make(map[licensing.Email]int64, len(emails))
	err := inChunks(emails, func(chunk []string) error {
		rows, err := tx.Query(ctx, sqlAccountIDs, chunk)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e licensing.Email
			var id int64
			if err := rows.Scan(&e, &id); err != nil {
				return err
			}
			ids[e] = id
		}
		return rows.Err()
	})
	return ids, err
}

// LookupChunk is how many keys one look-up by a list of keys (= ANY($1))
// takes. A batch's 30k emails in one list would be 3 % of a million
// accounts, enough for the planner to read them all rather than probe the
// index 30k times; in lists of 1000 (0.1 %) each look-up probes the index,
// at any size of the book.
const LookupChunk = 1000

// inChunks calls fn with list in slices of at most LookupChunk.
func inChunks[T any](list []T, fn func([]T) error) error {
	for len(list) > 0 {
		n := min(len(list), LookupChunk)
		if err := fn(list[:n]); err != nil {
			return err
		}
		list = list[n:]
	}
	return nil
}

// stage COPYs the actions into the staging tables. An unchanged line that
// asks for invitations is staged as an update that changes nothing (action
// 'n'), so its invitees are found like the others'.
func stage(ctx context.Context, tx pgx.Tx, actions []action, accounts map[licensing.Email]int64) error {
	var contacts, admins [][]any
	lic := make([][]any, 0, len(actions))
	for _, a := range actions {
		l := a.line.License.License
		kind, id := "c", a.licenseID
		if a.update {
			kind = "u"
			if a.changed == nil {
				kind = "n"
			}
		}
		var cycle *string
		var next *time.Time
		if l.Cycle != "" {
			c := string(l.Cycle)
			cycle = &c
		}
		if !l.NextBillingDate.IsZero() {
			next = &l.NextBillingDate
		}
		detail := a.line.Detail
		if detail == nil {
			detail = map[string]any{"import_line": a.line.Line}
		}
		if a.changed != nil {
			detail["changed"] = a.changed
		}
		lic = append(lic, []any{int32(a.line.Line), id, kind, string(l.SEN), l.Product, string(l.Deployment), cycle, string(l.Status),
			l.Site, l.PriceCents, l.Currency, next, a.line.License.Invite, detail})
		if kind == "n" {
			continue
		}
		for _, c := range l.Contacts {
			contacts = append(contacts, []any{int32(a.line.Line), accounts[c.Email], string(c.Role), c.Primary})
		}
		for _, e := range l.SiteAdmins {
			admins = append(admins, []any{int32(a.line.Line), accounts[e]})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_licenses"},
		[]string{"line", "license_id", "action", "sen", "product", "deployment", "billing_cycle", "status",
			"site", "price_cents", "currency", "next_billing_date", "invite", "detail"}, pgx.CopyFromRows(lic)); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_contacts"}, []string{"line", "account_id", "role", "is_primary"}, pgx.CopyFromRows(contacts)); err != nil {
		return err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"import_site_admins"}, []string{"line", "account_id"}, pgx.CopyFromRows(admins))
	return err
}

// updateLicenses rewrites the licences of update lines and their contacts
// and site admins: rows the line no longer names are demoted, then
// deleted (a primary row cannot be), flags that differ are set, and the
// links of people who are no longer on the licence are revoked.
func updateLicenses(ctx context.Context, tx pgx.Tx) error {
	for _, q := range updateStatements {
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// recheckUpdatedLinks re-checks every open link of the licences updated
// in this batch against its rule (licensing.MayUseLink: a removed contact,
// a card rule that changed with the cycle) and revokes those that no
// longer hold. Runs after the contacts and site admins are written.
func recheckUpdatedLinks(ctx context.Context, tx pgx.Tx, at time.Time) error {
	rows, err := tx.Query(ctx, sqlLinkedUpdates)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	now, err := licensesByID(ctx, tx, ids)
	if err != nil {
		return err
	}
	for id, l := range now {
		if err := recheckLinks(ctx, tx, at, id, l); err != nil {
			return err
		}
	}
	return nil
}

// inviteesOf fills in, for the lines that asked for invitations, the
// pending accounts of their licences, with their contact roles.
func inviteesOf(ctx context.Context, tx pgx.Tx, results []LineResult) error {
	rows, err := tx.Query(ctx, sqlInvitees)
	if err != nil {
		return err
	}
	defer rows.Close()
	byLine := map[int]int{}
	for i, r := range results {
		byLine[r.Line] = i
	}
	for rows.Next() {
		var (
			line  int32
			inv   Invitation
			roles []string
		)
		if err := rows.Scan(&line, &inv.SEN, &inv.Email, &roles); err != nil {
			return err
		}
		for _, r := range roles {
			inv.Roles = append(inv.Roles, licensing.Role(r))
		}
		slices.Sort(inv.Roles)
		if i, ok := byLine[int(line)]; ok && results[i].Outcome != Rejected {
			results[i].Invite = append(results[i].Invite, inv)
		}
	}
	return rows.Err()
}

// The import's statements, named so Explain can show their plans. They
// join the staging tables with the stored ones by key only (licence id,
// account id), so each costs what its batch holds, not what is stored.
const (
	sqlExisting       = `SELECT sen, id FROM licenses WHERE sen = ANY($1)`
	sqlLockDiffering  = `SELECT id FROM licenses WHERE id = ANY($1) ORDER BY id FOR UPDATE`
	sqlInsertAccounts = `
		INSERT INTO accounts (email, status)
		SELECT e, 'pending' FROM unnest($1::text[]) AS e ORDER BY e
		ON CONFLICT (lower(email)) DO NOTHING`
	sqlAccountIDs     = `SELECT email, id FROM accounts WHERE lower(email) = ANY($1)`
	sqlAllocateIDs    = `SELECT nextval(pg_get_serial_sequence('licenses', 'id')) FROM generate_series(1, $1)`
	sqlInsertLicenses = `
		INSERT INTO licenses (id, sen, product, deployment, billing_cycle, status, site, price_cents, currency, next_billing_date)
		OVERRIDING SYSTEM VALUE
		SELECT license_id, sen, product, deployment, billing_cycle, status, site, price_cents, currency, next_billing_date
		FROM import_licenses WHERE action = 'c' ORDER BY line`
	sqlUpdateLicenses = `
		UPDATE licenses l SET product = s.product, deployment = s.deployment, billing_cycle = s.billing_cycle,
		       status = s.status, site = s.site, price_cents = s.price_cents, currency = s.currency,
		       next_billing_date = s.next_billing_date, updated_at = now()
		FROM import_licenses s WHERE s.action = 'u' AND l.id = s.license_id`
	sqlKeptContacts = `
		INSERT INTO import_kept (license_id, account_id, role, is_primary)
		SELECT s.license_id, c.account_id, c.role, c.is_primary
		FROM import_contacts c JOIN import_licenses s ON s.line = c.line
		WHERE s.action = 'u'`
	sqlDemoteDropped = `
		UPDATE license_contacts x SET is_primary = false
		FROM import_licenses s
		WHERE s.action = 'u' AND x.license_id = s.license_id AND x.is_primary
		  AND NOT EXISTS (SELECT 1 FROM import_kept k
		                  WHERE k.license_id = x.license_id AND k.account_id = x.account_id AND k.role = x.role AND k.is_primary)`
	sqlPromoteKept = `
		UPDATE license_contacts x SET is_primary = true
		FROM import_kept k
		WHERE k.is_primary AND x.license_id = k.license_id AND x.account_id = k.account_id AND x.role = k.role AND NOT x.is_primary`
	sqlDeleteDropped = `
		DELETE FROM license_contacts x USING import_licenses s
		WHERE s.action = 'u' AND x.license_id = s.license_id
		  AND NOT EXISTS (SELECT 1 FROM import_kept k
		                  WHERE k.license_id = x.license_id AND k.account_id = x.account_id AND k.role = x.role)`
	sqlDeleteSiteAdmins = `
		DELETE FROM site_admins x USING import_licenses s
		WHERE s.action = 'u' AND x.license_id = s.license_id
		  AND NOT EXISTS (SELECT 1 FROM import_site_admins sa WHERE sa.line = s.line AND sa.account_id = x.account_id)`
	sqlInsertContacts = `
		INSERT INTO license_contacts (license_id, account_id, role, is_primary)
		SELECT s.license_id, c.account_id, c.role, c.is_primary
		FROM import_contacts c JOIN import_licenses s ON s.line = c.line
		WHERE s.action = 'c'`
	sqlInsertSiteAdmins = `
		INSERT INTO site_admins (license_id, account_id)
		SELECT s.license_id, sa.account_id
		FROM import_site_admins sa JOIN import_licenses s ON s.line = sa.line
		WHERE s.action = 'c'`
	sqlAddContacts = `
		INSERT INTO license_contacts (license_id, account_id, role, is_primary)
		SELECT s.license_id, c.account_id, c.role, c.is_primary
		FROM import_contacts c JOIN import_licenses s ON s.line = c.line
		WHERE s.action = 'u'
		  AND NOT EXISTS (SELECT 1 FROM license_contacts x
		                  WHERE x.license_id = s.license_id AND x.account_id = c.account_id AND x.role = c.role)`
	sqlAddSiteAdmins = `
		INSERT INTO site_admins (license_id, account_id)
		SELECT s.license_id, sa.account_id
		FROM import_site_admins sa JOIN import_licenses s ON s.line = sa.line
		WHERE s.action = 'u'
		  AND NOT EXISTS (SELECT 1 FROM site_admins x WHERE x.license_id = s.license_id AND x.account_id = sa.account_id)`
	sqlAudit = `
		INSERT INTO audit_log (actor_kind, actor, action, license_id, workflow_id, detail)
		SELECT $1, $2, CASE action WHEN 'c' THEN 'license.create' ELSE 'license.update' END, license_id, nullif($3, ''), detail
		FROM import_licenses WHERE license_id IS NOT NULL AND action IN ('c', 'u') ORDER BY line`
	sqlLinkedUpdates = `
		SELECT DISTINCT t.license_id FROM link_tokens t JOIN import_licenses s ON s.license_id = t.license_id
		WHERE s.action = 'u' AND t.used_at IS NULL AND t.revoked_at IS NULL`
	// The people of a few licences, each account read by id.
	sqlInvitees = `
		SELECT line, sen, email, array_remove(array_agg(DISTINCT role), NULL) FROM (
			SELECT s.line, s.sen, p.role,
			       (SELECT a.email FROM accounts a WHERE a.id = p.account_id AND a.status = 'pending') AS email
			FROM import_licenses s
			JOIN (SELECT license_id, account_id, role FROM license_contacts
			      UNION ALL SELECT license_id, account_id, NULL FROM site_admins) p ON p.license_id = s.license_id
			WHERE s.invite AND s.license_id IS NOT NULL) people
		WHERE email IS NOT NULL
		GROUP BY line, sen, email ORDER BY line, email`
)

// updateStatements rewrite the licences of update lines, in this order.
var updateStatements = []string{sqlUpdateLicenses, sqlKeptContacts, sqlDemoteDropped, sqlPromoteKept, sqlDeleteDropped, sqlDeleteSiteAdmins}
