package postgres_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
)

// TestBench_CardExpiryAt1M measures the daily card-expiry run on a book of
// a million licences (every cloud licence with a card, their expiries
// spread over five years: some 12,000 stop working each month), on a day
// when a whole month of cards enters the 30-day window, and compares it
// with the same statement made to read every card (index scans off), in
// the same run. It prints the plan, which must read through
// payment_methods_expiry and the licences' primary key.
//
//	LICENSEDESK_BENCH=1 BENCH_OUT=docs/card-expiry-benchmark.txt go run ./cmd/withpostgres -- go test ./postgres -run TestBench_CardExpiryAt1M -v -timeout 1h
//
// BENCH_LICENCES sets another book size.
func TestBench_CardExpiryAt1M(t *testing.T) {
	if os.Getenv("LICENSEDESK_BENCH") == "" {
		t.Skip("LICENSEDESK_BENCH=1 runs the 1 M-licence card-expiry benchmark")
	}
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_LICENCES")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	db := newDB(t)
	start := time.Now()
	postgrestest.LoadBook(t, db, n)
	var out strings.Builder
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		t.Log(line)
		out.WriteString(line + "\n")
	}
	var cards, book int
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM payment_methods WHERE is_default`).Scan(&cards)
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM licenses`).Scan(&book)
	say("book: %d licences, %d default cards (expiries spread over 60 months); loaded in %v", book, cards, time.Since(start).Round(time.Second))

	// The day a month of cards enters the 30-day window: those that stop
	// working on 1 April 2027 (good to the end of March), 30 days ahead.
	today := time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)
	plans, err := postgrestest.ExplainCardExpiry(ctx, db, today)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		say("EXPLAIN %s:\n%s", p.Name, p.Plan)
		for _, table := range p.SeqScans {
			if table == "payment_methods" || table == "licenses" || table == "card_expiry_reminders" {
				t.Errorf("%s reads %s in full", p.Name, table)
			}
		}
	}

	// The statement under EXPLAIN ANALYZE, and the baseline: the same
	// statement made to read every card, each in a transaction rolled
	// back (EXPLAIN ANALYZE runs it).
	indexed, plan := measure(t, db.Pool(), today, false)
	say("EXPLAIN ANALYZE of the queue statement (rolled back), %v:\n%s", indexed.Round(time.Millisecond), plan)
	full, fullPlan := measure(t, db.Pool(), today, true)
	say("the same, index scans off (rolled back), %v:\n%s", full.Round(time.Millisecond), fullPlan)
	first := time.Now()
	queued, err := db.QueueCardReminders(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(first)
	again := time.Now()
	requeued, err := db.QueueCardReminders(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	tookAgain := time.Since(again)
	next := time.Now()
	nextDay, err := db.QueueCardReminders(ctx, today.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	tookNext := time.Since(next)
	page := time.Now()
	pending, err := db.PendingCardReminders(ctx, 50)
	if err != nil || len(pending) != 50 {
		t.Fatalf("pending = %d, %v", len(pending), err)
	}
	tookPage := time.Since(page)
	say("")
	say("| step on %s, %d licences | reminders | time |", today.Format(time.DateOnly), book)
	say("|---|---|---|")
	say("| queue the day's reminders (a month of cards enters the 30-day window) | %d | %v |", queued, took.Round(time.Millisecond))
	say("| the same run again (repeated after a crash) | %d | %v |", requeued, tookAgain.Round(time.Millisecond))
	say("| the next day | %d | %v |", nextDay, tookNext.Round(time.Millisecond))
	say("| one page of 50 reminders to mail | 50 | %v |", tookPage.Round(time.Millisecond))
	say("| baseline: the first statement reading every card (index scans off, rolled back) | — | %v |", full.Round(time.Millisecond))
	if queued == 0 || requeued != 0 {
		t.Errorf("queued %d, then %d again", queued, requeued)
	}
	if p := os.Getenv("BENCH_OUT"); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join("..", p) // from the repository's root, as the command is run
		}
		head := "What TestBench_CardExpiryAt1M printed on this 2-core machine, in one run:\n\n" +
			"  LICENSEDESK_BENCH=1 BENCH_OUT=docs/card-expiry-benchmark.txt go run ./cmd/withpostgres -- go test ./postgres -run TestBench_CardExpiryAt1M -v -timeout 1h\n\n"
		if err := os.WriteFile(p, []byte(head+out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// measure runs the queue statement under EXPLAIN ANALYZE in a transaction
// it rolls back, with index scans off when full, and returns its time.
func measure(t *testing.T, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, today time.Time, full bool) (time.Duration, string) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if full {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off`); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+postgres.SQLQueueCardReminders, today.Format(time.DateOnly))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return time.Since(start), strings.Join(lines, "\n")
}
