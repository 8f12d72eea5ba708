package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"licensedesk/bot"
	"licensedesk/internal/pgtest"
)

// TestBench_Operations measures, on the real stack and in one run:
//   - the acknowledgement time of slash commands that start workflows,
//   - end-to-end moves per second, every human step simulated over HTTP
//     (signed command, Confirm button, GET+POST of each emailed link),
//   - raw Temporal throughput for a workflow with as many activities as a
//     move (no-op activities, same server), as the baseline.
//
// LICENSEDESK_BENCH=1 go test ./cmd/licensedesk -run TestBench -v -timeout 30m
func TestBench_Operations(t *testing.T) {
	if os.Getenv("LICENSEDESK_BENCH") == "" {
		t.Skip("set LICENSEDESK_BENCH=1 to run the benchmark (a few minutes)")
	}
	moves := envInt("BENCH_MOVES", 100)
	const commands, concurrency, activitiesPerMove = 200, 16, 25
	dbURL := pgtest.NewDatabase(t)
	s := startDevWith(t, map[string]string{"DATABASE_URL": dbURL})
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	addBenchLicenses(t, pool, moves+commands)

	// 1. Acknowledgement of commands that start a workflow (verify).
	acks := measure(commands, func() {})[:0]
	for i := range commands {
		start := time.Now()
		r := s.slack(t, fmt.Sprintf("verify SEN-%d caller%d@bench.test", 3000000+moves+i, i))
		acks = append(acks, time.Since(start))
		if bot.PlainText(r) == "" {
			t.Fatal("empty reply")
		}
	}
	slices.Sort(acks)

	// 2. End-to-end moves with simulated clicks.
	start := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for i := range work {
				benchMove(t, s, pool, i)
			}
		})
	}
	for i := range moves {
		work <- i
	}
	close(work)
	wg.Wait()
	moveRate := float64(moves) / time.Since(start).Seconds()

	// 3. Baseline: the same number of activities per workflow, no-ops, on
	// the same Temporal server, driven with the same concurrency.
	tc := s.temporalClient(t)
	w := worker.New(tc, "bench-baseline", worker.Options{})
	w.RegisterWorkflowWithOptions(baselineWorkflow, workflow.RegisterOptions{Name: "BenchBaseline"})
	w.RegisterActivity(noop)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// Raw start latency: what the acknowledgement above spends in Temporal.
	starts := make([]time.Duration, 0, commands)
	for i := range commands {
		t0 := time.Now()
		if _, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-start/%d/%d", t0.UnixNano(), i), TaskQueue: "bench-baseline"}, "BenchBaseline", 0); err != nil {
			t.Fatal(err)
		}
		starts = append(starts, time.Since(t0))
	}
	slices.Sort(starts)

	start = time.Now()
	runs := make(chan int)
	for range concurrency {
		wg.Go(func() {
			for i := range runs {
				run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench/%d/%d", start.UnixNano(), i), TaskQueue: "bench-baseline"}, "BenchBaseline", activitiesPerMove)
				if err == nil {
					err = run.Get(ctx, nil)
				}
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range moves {
		runs <- i
	}
	close(runs)
	wg.Wait()
	rawRate := float64(moves) / time.Since(start).Seconds()

	t.Logf("slash command acknowledgement over %d signed commands starting workflows: p50 %v, p99 %v (raw ExecuteWorkflow on the same server: p50 %v, p99 %v)",
		commands, durations(acks).p(50), durations(acks).p(99), durations(starts).p(50), durations(starts).p(99))
	t.Logf("end-to-end moves (%d, %d at a time, every click over HTTP): %.1f moves/s", moves, concurrency, moveRate)
	t.Logf("raw Temporal baseline (%d workflows of %d no-op activities, same server): %.1f workflows/s; moves run at %.0f%% of it", moves, activitiesPerMove, rawRate, 100*moveRate/rawRate)
}

// withInstantProvider has the sandbox answer at once and without a rate
// limit, and nothing paced: the collection and sweep benchmarks measure
// the orchestration against raw Temporal, as before issue 18 (billing day
// against the provider's real limits is TestBench_BillingDay).
func withInstantProvider(env map[string]string) map[string]string {
	env["PAYMENTS_SANDBOX_LATENCY"], env["PAYMENTS_SANDBOX_RATE"], env["PAYMENTS_RATE"] = "0s", "0", "0"
	return env
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func baselineWorkflow(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	for range n {
		if err := workflow.ExecuteActivity(ctx, noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noop(context.Context) error { return nil }

// addBenchLicenses adds n monthly cloud licences SEN-3000000… each with one
// owner (primary billing and technical) owner<i>@bench.test.
func addBenchLicenses(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	var hash string
	if err := pool.QueryRow(ctx, `SELECT password_hash FROM accounts WHERE email = 'alice@acme.test'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	_, err := pool.Exec(ctx, `
		WITH a AS (
			INSERT INTO accounts (email, status, password_hash)
			SELECT 'owner' || i || '@bench.test', 'active', $2 FROM generate_series(0, $1 - 1) i
			RETURNING id, email),
		l AS (
			INSERT INTO licenses (sen, product, deployment, billing_cycle, status, site, price_cents, next_billing_date)
			SELECT 'SEN-' || (3000000 + i), 'Jira Software', 'cloud', 'monthly', 'active', 'bench' || i || '.example.net', 1000, current_date + 30
			FROM generate_series(0, $1 - 1) i
			RETURNING id, sen)
		INSERT INTO license_contacts (license_id, account_id, role, is_primary)
		SELECT l.id, a.id, r, true FROM l
		JOIN a ON a.email = 'owner' || (substr(l.sen, 5)::int - 3000000) || '@bench.test'
		CROSS JOIN unnest(ARRAY['billing', 'technical']) r`, n, hash)
	if err != nil {
		t.Fatal(err)
	}
}

// benchMove moves SEN-(3000000+i) from owner<i> to new<i> like people do.
func benchMove(t *testing.T, s *stack, pool *pgxpool.Pool, i int) {
	sen := fmt.Sprintf("SEN-%d", 3000000+i)
	newEmail := fmt.Sprintf("new%d@bench.test", i)
	s.press(t, s.slack(t, "move "+sen+" "+newEmail))
	confirm := waitLink(t, pool, fmt.Sprintf("owner%d@bench.test", i), "Please confirm moving "+sen)
	if code, page := follow(t, confirm, url.Values{"decision": {"approve"}}); code != 200 {
		t.Errorf("%s approve: %d %s", sen, code, page)
		return
	}
	promote := waitLink(t, pool, newEmail, "Set up your account and take over "+sen)
	if code, page := follow(t, promote, url.Values{"display_name": {"New Owner"},
		"password": {"bench passphrase long enough"}, "password_confirm": {"bench passphrase long enough"}}); code != 200 {
		t.Errorf("%s promote: %d %s", sen, code, page)
		return
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var done bool
		_ = pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM sent_mail WHERE to_addr = $1 AND subject LIKE '%has moved to%')`, newEmail).Scan(&done)
		if done {
			return
		}
	}
	t.Errorf("%s: move did not finish", sen)
}

// waitLink reads a mailed link straight from the outbox table (the dev
// mail page only shows the newest mails).
func waitLink(t *testing.T, pool *pgxpool.Pool, to, subject string) string {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var links []string
		err := pool.QueryRow(context.Background(), `SELECT links FROM sent_mail WHERE to_addr = $1 AND subject LIKE $2 || '%' ORDER BY id DESC LIMIT 1`, to, subject).Scan(&links)
		if err == nil && len(links) > 0 {
			return links[0]
		}
	}
	t.Fatalf("no %q mail to %s", subject, to)
	return ""
}

// TestBench_Collection collects 1,000 due invoices (a working card each)
// through CollectInvoice on the real stack, against raw Temporal with the
// same number of no-op activities per workflow (3: read the invoice, charge,
// notify) on the same server, and counts invoices charged more than once.
//
// LICENSEDESK_BENCH=1 go test ./cmd/licensedesk -run TestBench_Collection -v -timeout 30m
func TestBench_Collection(t *testing.T) {
	if os.Getenv("LICENSEDESK_BENCH") == "" {
		t.Skip("set LICENSEDESK_BENCH=1 to run the benchmark (a few minutes)")
	}
	n := envInt("BENCH_INVOICES", 1000)
	const activitiesPerCollection = 3
	dbURL := pgtest.NewDatabase(t)
	s := startDevWith(t, withInstantProvider(map[string]string{"DATABASE_URL": dbURL}))
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	addBenchLicenses(t, pool, n)
	if _, err := pool.Exec(ctx, `
		WITH i AS (
			INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency, collection_started_at)
			SELECT id, sen || '-bench', current_date, current_date + 30, current_date, 1000, 'USD', now()
			FROM licenses WHERE sen LIKE 'SEN-3%' RETURNING license_id)
		INSERT INTO payment_methods (license_id, provider_ref, brand, last4, exp_month, exp_year, is_default)
		SELECT license_id, 'pm_card_visa', 'visa', '4242', 12, extract(year FROM now())::int + 4, true FROM i`); err != nil {
		t.Fatal(err)
	}
	// (Their collections are started below, by hand: out of the sweep's
	// outbox.)
	tc := s.temporalClient(t)

	runAll := func(start func(i int) (client.WorkflowRun, error)) float64 {
		t0 := time.Now()
		runs := make([]client.WorkflowRun, n)
		for i := range n {
			r, err := start(i)
			if err != nil {
				t.Fatal(err)
			}
			runs[i] = r
		}
		for _, r := range runs {
			if err := r.Get(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
		return float64(n) / time.Since(t0).Seconds()
	}
	collected := runAll(func(i int) (client.WorkflowRun, error) {
		sen := fmt.Sprintf("SEN-%d", 3000000+i)
		return tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "invoice/" + sen + "-bench", TaskQueue: "licensedesk"},
			"CollectInvoice", map[string]any{"SEN": sen, "Invoice": sen + "-bench"})
	})

	w := worker.New(tc, "bench-baseline", worker.Options{})
	w.RegisterWorkflowWithOptions(baselineWorkflow, workflow.RegisterOptions{Name: "BenchBaseline"})
	w.RegisterActivity(noop)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	stamp := time.Now().UnixNano()
	raw := runAll(func(i int) (client.WorkflowRun, error) {
		return tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-collect/%d/%d", stamp, i), TaskQueue: "bench-baseline"},
			"BenchBaseline", activitiesPerCollection)
	})

	var paid, twice int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE number LIKE '%-bench' AND status = 'paid'`).Scan(&paid); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT metadata->>'invoice' FROM sandbox_charges WHERE status = 'succeeded' GROUP BY 1 HAVING count(*) > 1) x`).Scan(&twice); err != nil {
		t.Fatal(err)
	}
	t.Logf("collected %d due invoices: %.1f invoices/s; raw Temporal, %d workflows of %d no-op activities on the same server: %.1f workflows/s (collection at %.0f%% of it); paid %d, charged twice %d",
		n, collected, n, activitiesPerCollection, raw, 100*collected/raw, paid, twice)
	if paid != n || twice != 0 {
		t.Errorf("paid %d of %d, %d charged twice", paid, n, twice)
	}
}

// TestBench_BillingSweep measures the billing sweep on a 1st-of-the-month
// spike: BENCH_DUE licences due at once are invoiced and their collections
// started by one BillingSweep run, against raw Temporal starting the same
// number of workflows, 16 at a time as the sweep did, on the same server.
// Since issue 18 "collection started" is the first attempt made by the
// sweep itself (a workflow only for a decline), with an instant provider.
//
// LICENSEDESK_BENCH=1 BENCH_DUE=5000 go test ./cmd/licensedesk -run TestBench_BillingSweep -v -timeout 30m
func TestBench_BillingSweep(t *testing.T) {
	if os.Getenv("LICENSEDESK_BENCH") == "" {
		t.Skip("set LICENSEDESK_BENCH=1 to run the benchmark (a few minutes)")
	}
	n := envInt("BENCH_DUE", 2000)
	dbURL := pgtest.NewDatabase(t)
	s := startDevWith(t, withInstantProvider(map[string]string{"DATABASE_URL": dbURL}))
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	addBenchLicenses(t, pool, n)
	if _, err := pool.Exec(ctx, `UPDATE licenses SET next_billing_date = current_date WHERE sen LIKE 'SEN-3%'`); err != nil {
		t.Fatal(err)
	}
	tc := s.temporalClient(t)

	t0 := time.Now()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "billing/sweep-bench", TaskQueue: "licensedesk"},
		"BillingSweep", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Invoiced, Started int }
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	sweep := time.Since(t0)
	if res.Invoiced < n || res.Started < n {
		t.Fatalf("sweep invoiced %d and started %d; want %d each", res.Invoiced, res.Started, n)
	}

	w := worker.New(tc, "bench-baseline", worker.Options{})
	w.RegisterWorkflowWithOptions(baselineWorkflow, workflow.RegisterOptions{Name: "BenchBaseline"})
	w.RegisterActivity(noop)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	stamp := time.Now().UnixNano()
	t0 = time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-start/%d/%d", stamp, i), TaskQueue: "bench-baseline"},
				"BenchBaseline", 0); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	raw := time.Since(t0)
	var invoices, pending int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM invoices i JOIN licenses l ON l.id = i.license_id WHERE l.sen LIKE 'SEN-3%'`).Scan(&invoices)
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE collection_started_at IS NULL`).Scan(&pending)
	t.Logf("billing sweep of a %d-licence spike: %v (%.0f licences/s invoiced and collection started); raw Temporal starting %d workflows 16 at a time: %v (%.0f/s); sweep at %.0f%% of raw; %d invoices, %d collections not started",
		n, sweep.Round(time.Millisecond), float64(n)/sweep.Seconds(), n, raw.Round(time.Millisecond), float64(n)/raw.Seconds(),
		100*raw.Seconds()/sweep.Seconds(), invoices, pending)
	if invoices != n || pending != 0 {
		t.Errorf("%d invoices for %d due licences, %d collections not started", invoices, n, pending)
	}
}
