package postgres_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"licensedesk/devstack"
	"licensedesk/internal/pgtest"
	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
)

// populated returns the URL of a migrated database with the demo data, a
// generated book in use (cards, links) and history on it.
func populated(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SeedDemo(ctx, time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	postgrestest.LoadBook(t, db, 300)
	return url
}

// books is a fingerprint of every table's rows (ids included), by table:
// two databases with equal books hold the same licences, contacts, people,
// cards, invoices, links and history.
func books(t *testing.T, url string) map[string]string {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_version' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	out := map[string]string{}
	for _, table := range tables {
		var sum string
		var n int64
		q := `SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM ` + pgxIdent(table) + ` t`
		if err := pool.QueryRow(ctx, q).Scan(&n, &sum); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		out[table] = sum + " (" + strconv.FormatInt(n, 10) + " rows)"
	}
	return out
}

func pgxIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func pgTool(t *testing.T, name string, args ...string) {
	t.Helper()
	dir, err := devstack.FindPostgres()
	if err != nil {
		t.Skip(err)
	}
	out, err := exec.Command(filepath.Join(dir, name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func sameBooks(t *testing.T, want, got map[string]string) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%d tables restored, want %d", len(got), len(want))
	}
	for table, w := range want {
		if got[table] != w {
			t.Errorf("%s: restored %s, want %s", table, got[table], w)
		}
	}
}

// The documented backup (docs/operations.md): pg_dump of the whole
// database, restored into an empty one, holds the same books.
func TestBackup_FullDumpRestoresTheBooks(t *testing.T) {
	if testing.Short() {
		t.Skip("imports a book and runs pg_dump")
	}
	src := populated(t)
	want := books(t, src)
	if !strings.Contains(want["licenses"], "(304 rows)") {
		t.Fatalf("populated: %v", want["licenses"])
	}
	dump := filepath.Join(t.TempDir(), "licensedesk.dump")
	pgTool(t, "pg_dump", "--format=custom", "--no-owner", "--file", dump, src)
	dst := pgtest.NewDatabase(t)
	pgTool(t, "pg_restore", "--no-owner", "--exit-on-error", "--dbname", dst, dump)
	sameBooks(t, want, books(t, dst))
	// The restored database is one the binary runs on: migrating it is a no-op.
	from, to, err := postgres.Migrate(context.Background(), dst)
	if err != nil || from != to {
		t.Errorf("migrate after the restore: %d → %d, %v", from, to, err)
	}
}

// A data-only dump loads into a freshly migrated database (the way back
// onto a schema made by `licensedesk migrate`), in one transaction so the
// deferred primary-contact checks see each licence with its contacts.
// Before every function's search_path was pinned (migration 011) this
// stopped at `relation "primary_checks" does not exist`: pg_dump's output
// empties search_path and the trigger functions name tables unqualified.
func TestBackup_DataOnlyDumpLoadsIntoAMigratedSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("imports a book and runs pg_dump")
	}
	src := populated(t)
	want := books(t, src)
	dump := filepath.Join(t.TempDir(), "licensedesk-data.sql")
	pgTool(t, "pg_dump", "--data-only", "--no-owner", "--exclude-table-data=schema_version", "--file", dump, src)
	dst := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(context.Background(), dst); err != nil {
		t.Fatal(err)
	}
	pgTool(t, "psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction", "--file", dump, dst)
	sameBooks(t, want, books(t, dst))
}

// Every function runs with a pinned search_path (migration 011): a
// function added later without one fails here.
func TestMigrations_EveryFunctionPinsItsSearchPath(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `
		SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = current_schema()
		  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		t.Errorf("function %s runs with the caller's search_path", name)
	}
}

// An import that grew the book leaves its tables' statistics current, as
// a restore does: look-ups right after it need not wait for autovacuum
// (which took about 45 s after 50,000 licences, 25 times slower meanwhile).
func TestImport_LeavesStatisticsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 1,000 licences")
	}
	db := newDB(t)
	postgrestest.LoadBook(t, db, 1000)
	rows, err := db.Pool().Query(context.Background(), `
		SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables
		WHERE relname IN ('licenses', 'accounts', 'license_contacts', 'site_admins', 'audit_log') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		var analyzed bool
		if err := rows.Scan(&name, &analyzed); err != nil {
			t.Fatal(err)
		}
		n++
		if !analyzed {
			t.Errorf("%s was not analyzed after the import", name)
		}
	}
	if n != 5 {
		t.Errorf("%d tables found", n)
	}
}
