// Package postgrestest gives tests a database of their own: fresh, migrated
// and, for NewDemo, holding the demo data as of the day the test runs at
// (clocktest.Now: a fixed default, or LICENSEDESK_TEST_NOW). The package
// using it needs `func TestMain(m *testing.M) { pgtest.Main(m) }`.
//
// It also holds what only tests and benchmarks do to a database: LoadBook
// (a generated book, imported) with AddBookActivity, and Explain, the plan
// checks of the statements the store lists in postgres.Queries and
// postgres.ImportQueries. Production code never imports it
// (internal/layers checks).
package postgrestest

import (
	"testing"

	"licensedesk/internal/clock"
	"licensedesk/internal/clock/clocktest"
	"licensedesk/internal/pgtest"
	"licensedesk/postgres"
)

// New returns an open, migrated, empty database (closed and dropped when tb
// ends) and its URL. Its clock ticks from clocktest.Now(tb).
func New(tb testing.TB) (*postgres.DB, string) {
	tb.Helper()
	url := pgtest.NewDatabase(tb)
	if _, _, err := postgres.Migrate(tb.Context(), url); err != nil {
		tb.Fatal(err)
	}
	db, err := postgres.Open(tb.Context(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(db.Close)
	db.SetClock(clocktest.Ticking(tb))
	return db, url
}

// NewDemo is New with the demo data loaded as of clocktest.Now(tb); the
// clock it returns is the database's, for the pages and services the test
// builds on it, so everything agrees on what today is.
func NewDemo(tb testing.TB) (*postgres.DB, clock.Clock) {
	tb.Helper()
	db, _ := New(tb)
	c := clocktest.Ticking(tb)
	db.SetClock(c)
	if _, err := db.SeedDemo(tb.Context(), c.Now()); err != nil {
		tb.Fatal(err)
	}
	return db, c
}
