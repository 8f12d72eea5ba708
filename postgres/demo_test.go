package postgres_test

import (
	"context"
	"testing"

	"licensedesk/internal/clock/clocktest"
	"licensedesk/internal/pgtest"
	"licensedesk/postgres"
)

// With Stripe, the demo licences carry no customer of the sandbox's
// (Stripe would answer "No such customer"): customers are created on first
// use. With the sandbox they keep theirs.
func TestSeedDemoFor_NoSandboxCustomersWithoutTheSandbox(t *testing.T) {
	ctx := context.Background()
	for _, sandbox := range []bool{false, true} {
		url := pgtest.NewDatabase(t)
		if _, _, err := postgres.Migrate(ctx, url); err != nil {
			t.Fatal(err)
		}
		db, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.SeedDemoFor(ctx, clocktest.Now(t), sandbox); err != nil {
			t.Fatal(err)
		}
		var customers, cards int
		if err := db.Pool().QueryRow(ctx, `SELECT count(payment_customer), (SELECT count(*) FROM payment_methods) FROM licenses`).Scan(&customers, &cards); err != nil {
			t.Fatal(err)
		}
		want := 0
		if sandbox {
			want = 3 // the cloud licences
		}
		if customers != want || cards != 4 { // the cloud licences' and the card that paid SEN-1000003's earlier invoices
			t.Errorf("sandbox %v: %d customers, %d cards; want %d and 4", sandbox, customers, cards, want)
		}
	}
}
