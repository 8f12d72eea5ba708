package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The billing sweep's SQL: every due licence is invoiced once for its
// period and moves a cycle on, page by page, until none is due; free
// licences move on without an invoice; cancelled and server licences are
// never due; and an invoice the per-licence cycle (the path of runs in
// flight from before the sweep) already made for a period is not made
// again, nor is its collection started twice.
func TestInvoiceDue_InvoicesEachDueLicenceOncePerPeriod(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	today := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	pool := db.Pool()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// SEN-1000001 due today, SEN-1000002 (annual) due today and free,
	// SEN-1000003 two months behind; server licences have no date.
	exec(`UPDATE licenses SET next_billing_date = $1 WHERE sen = 'SEN-1000001'`, today)
	exec(`UPDATE licenses SET next_billing_date = $1, price_cents = 0 WHERE sen = 'SEN-1000002'`, today)
	exec(`UPDATE licenses SET next_billing_date = $1 WHERE sen = 'SEN-1000003'`, today.AddDate(0, -2, 0))
	// The old path invoiced SEN-1000001's period already.
	if _, err := db.CreateInvoice(ctx, "SEN-1000001", today); err != nil {
		t.Fatal(err)
	}
	before := count(`SELECT count(*) FROM invoices`)
	exec(`UPDATE licenses SET next_billing_date = $1 WHERE sen = 'SEN-1000001'`, today) // as if the sweep ran first

	var moved, invoiced int
	for page := 0; ; page++ {
		m, i, err := db.InvoiceDue(ctx, today, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		moved, invoiced = moved+m, invoiced+i
		if m < 2 {
			break
		}
		if page > 10 {
			t.Fatal("the sweep does not end")
		}
	}
	// SEN-1000003: two periods (Oct, Nov) and today's; SEN-1000001: none
	// new (the old path made it); SEN-1000002: free.
	if got := count(`SELECT count(*) FROM invoices`) - before; got != 3 || invoiced != 3 {
		t.Errorf("%d invoices created (%d reported); want 3", got, invoiced)
	}
	if moved != 5 {
		t.Errorf("%d licence dates moved; want 5 (3 for SEN-1000003, 1 each for the others)", moved)
	}
	for sen, want := range map[string]string{"SEN-1000001": "2027-01-01", "SEN-1000002": "2027-12-01", "SEN-1000003": "2027-01-01"} {
		var got string
		if err := pool.QueryRow(ctx, `SELECT next_billing_date::text FROM licenses WHERE sen = $1`, sen).Scan(&got); err != nil || got != want {
			t.Errorf("%s next billing date %s (%v); want %s", sen, got, err, want)
		}
	}
	if n := count(`SELECT count(*) FROM invoices i JOIN licenses l ON l.id = i.license_id WHERE l.sen = 'SEN-1000001' AND i.period_start = $1`, today); n != 1 {
		t.Errorf("%d invoices for SEN-1000001's period; want 1", n)
	}
	if m, i, err := db.InvoiceDue(ctx, today, 100, nil); err != nil || m != 0 || i != 0 {
		t.Errorf("a second sweep: %d moved, %d invoiced, %v; want nothing", m, i, err)
	}

	// The outbox: the sweep's three new invoices and the demo's open one
	// await their collection; the old path's was started by its workflow.
	pending, err := db.PendingCollections(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 4 {
		t.Fatalf("pending collections %v; want 4", pending)
	}
	numbers := []string{pending[0].Number, pending[1].Number}
	if err := db.CollectionsStarted(ctx, numbers); err != nil {
		t.Fatal(err)
	}
	if left, _ := db.PendingCollections(ctx, 100); len(left) != 2 {
		t.Errorf("after stamping two: %v", left)
	}
}

// The sweep reads due licences through the partial index, not by scanning
// the book: with 20,000 licences, few of them due, the plan is an index
// scan of licenses_due.
func TestInvoiceDue_ReadsTheDueIndex(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	pool := db.Pool()
	if _, err := pool.Exec(ctx, `
		WITH l AS (
			INSERT INTO licenses (sen, product, deployment, billing_cycle, site, price_cents, currency, next_billing_date)
			SELECT 'SEN-' || (3000000 + g), 'Jira Software', 'cloud', 'monthly', 's' || g || '.example.net', 1000, 'USD',
			       date '2027-01-01' + (g % 300)
			FROM generate_series(1, 20000) g
			RETURNING id)
		INSERT INTO license_contacts (license_id, account_id, role, is_primary)
		SELECT l.id, (SELECT id FROM accounts WHERE email = 'alice@acme.test'), r, true
		FROM l, unnest(ARRAY['billing', 'technical']) r`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE licenses`); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `EXPLAIN SELECT id FROM licenses
		WHERE deployment = 'cloud' AND status <> 'cancelled' AND next_billing_date <= date '2027-01-02'
		ORDER BY next_billing_date, id LIMIT 500 FOR UPDATE SKIP LOCKED`)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		_ = rows.Scan(&line)
		plan = append(plan, line)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "licenses_due") {
		t.Errorf("the sweep's query does not use licenses_due:\n%s", p)
	}
}
