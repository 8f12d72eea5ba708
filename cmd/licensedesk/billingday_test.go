package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"licensedesk/internal/pgtest"
	"licensedesk/internal/slacktest"
)

// Billing day against peers that keep their real limits (issue 18): N
// licences fall due at once; the payments sandbox answers each charge in
// 300 ms and refuses more than 25 requests a second (429 rate_limit), as
// Stripe's test mode does; PAYMENTS_RATE paces us to 25 a second; Slack is
// either a stand-in that enforces Slack's documented limits (429 with
// Retry-After) or dev's sink, which has none. One BillingSweep run does the
// day. The figures: invoices paid per second ÷ the provider's limit, the
// same with the stand-in ÷ with the sink, the messages in the billing
// channel, the 429s the provider and Slack answered, and the invoices
// charged twice.

// billingDay describes a day: n licences due, and with mix a few of every
// outcome (1 % hard declines, 1 % soft, three suspended at once because
// their invoice is 20 days old, one large invoice declined) in two
// currencies (a fifth in EUR).
type billingDay struct {
	n       int
	mix     bool
	standIn bool // Slack stand-in with Slack's limits; false: dev's sink
}

func (d billingDay) card(i int) (card string, daysLate int, price int64) {
	if !d.mix {
		return "pm_card_visa", 0, 1000
	}
	switch {
	case i%100 == 1:
		return "pm_card_chargeDeclinedStolenCard", 0, 1000
	case i%100 == 51:
		return "pm_card_chargeDeclined", 0, 1000
	case i == 7 || i == 107 || i == 207:
		return "pm_card_chargeDeclined", 20, 1000
	case i == 13:
		return "pm_card_chargeDeclinedInsufficientFunds", 0, 250000
	}
	return "pm_card_visa", 0, 1000
}

// outcomes is how many invoices should end paid, and how many lines
// should go to the digest's thread.
func (d billingDay) outcomes() (paid, lines int) {
	for i := range d.n {
		card, late, price := d.card(i)
		switch {
		case card == "pm_card_visa":
			paid++
		case strings.Contains(card, "Stolen") || late > 0 || price >= 100000:
			lines++
		}
	}
	return paid, lines
}

// billingDayFigures is what one day measured.
type billingDayFigures struct {
	n, paid          int
	took             time.Duration // from the sweep's start to the last payment
	providerLimited  int           // 429s the provider answered
	slackLimited     int           // 429s Slack (the stand-in) answered
	chargedTwice     int
	channelMessages  int // messages posted to the billing channel (updates not counted)
	digestUpdates    int
	digest, thread   string // the digest's text and its replies' lines
	digestBlocks     string
	sweep            time.Duration
	firstAttemptRate float64 // first attempts a second
}

func (f billingDayFigures) paidPerSecond() float64 { return float64(f.paid) / f.took.Seconds() }

const providerLimit = 25.0

func runBillingDay(t *testing.T, d billingDay) billingDayFigures {
	t.Helper()
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": dbURL, "PAYMENTS_SANDBOX_LATENCY": "300ms", "PAYMENTS_SANDBOX_RATE": "25",
		"PAYMENTS_RATE": "25", "BILLING_SWEEP_INTERVAL": "24h"}
	var srv *slacktest.Server
	if d.standIn {
		srv = slacktest.NewServer(t)
		env["SLACK_BOT_TOKEN"], env["SLACK_API_URL"] = "xoxb-billing-day", srv.URL()
	}
	s := startDevWith(t, env)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tc := s.temporalClient(t)
	waitNoSweep(t, tc) // the sweep dev starts with, on nothing due
	addDueLicences(t, pool, d)
	var start time.Time
	if err := pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&start); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	sweep(t, tc, "billing/sweep-day")
	f := billingDayFigures{n: d.n, sweep: time.Since(t0)}
	if os.Getenv("BILLING_DAY_TRACE") != "" {
		traceSweep(t, tc, "billing/sweep-day")
		t.Logf("dev log:\n%s", s.stderr.String())
	}
	wantPaid, wantLines := d.outcomes()
	f.firstAttemptRate = float64(d.n) / f.sweep.Seconds()
	waitFor(t, 5*time.Minute, "every invoice paid or in dunning, every line recorded", func() bool {
		var paid, lines int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE status = 'paid' AND number LIKE 'SEN-6%'`).Scan(&paid)
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM billing_run_exceptions`).Scan(&lines)
		return paid == wantPaid && lines == wantLines
	})
	var last time.Time
	q := func(dst any, sql string) {
		if err := pool.QueryRow(ctx, sql).Scan(dst); err != nil {
			t.Fatal(err)
		}
	}
	q(&last, `SELECT max(paid_at) FROM invoices WHERE number LIKE 'SEN-6%'`)
	q(&f.paid, `SELECT count(*) FROM invoices WHERE status = 'paid' AND number LIKE 'SEN-6%'`)
	q(&f.chargedTwice, `SELECT count(*) FROM (SELECT metadata->>'invoice' FROM sandbox_charges WHERE status = 'succeeded' GROUP BY 1 HAVING count(*) > 1) x`)
	f.took = last.Sub(start)
	// The next sweep brings the digest up to date with what the dunning
	// collections notified since.
	sweep(t, tc, "billing/sweep-day-after")
	f.providerLimited = metric(t, s, "licensedesk_payment_provider_rate_limited_total")
	if d.standIn {
		f.slackLimited = srv.RateLimited("chat.postMessage") + srv.RateLimited("chat.update")
		for _, m := range srv.Messages() {
			if m.Channel != "C0BILLING" {
				continue
			}
			f.channelMessages++
			if m.ThreadTS == "" {
				f.digest, f.digestBlocks, f.digestUpdates = m.Text, string(m.Blocks), m.Updates
			} else {
				f.thread = strings.TrimLeft(f.thread+"\n"+m.Text, "\n")
			}
		}
		return f
	}
	f.readSink(t, s)
	return f
}

// readSink reads the billing channel from /dev/slack.json.
func (f *billingDayFigures) readSink(t *testing.T, s *stack) {
	_, body := s.get(t, "/dev/slack.json", "")
	var kept []struct {
		Channel   string          `json:"channel"`
		ThreadTS  string          `json:"thread_ts"`
		Text      string          `json:"text"`
		Blocks    json.RawMessage `json:"blocks"`
		UpdatedAt *time.Time      `json:"updated_at"`
	}
	if err := json.Unmarshal(body, &kept); err != nil {
		t.Fatal(err)
	}
	for i := len(kept) - 1; i >= 0; i-- { // newest first
		m := kept[i]
		if m.Channel != "C0BILLING" {
			continue
		}
		f.channelMessages++
		if m.ThreadTS == "" {
			f.digest, f.digestBlocks = m.Text, string(m.Blocks)
		} else {
			f.thread = strings.TrimLeft(f.thread+"\n"+m.Text, "\n")
		}
	}
}

func (f billingDayFigures) line(slack string) string {
	return fmt.Sprintf("%s: %d due, %d paid in %.1f s: %.1f paid/s = %.2f × the provider's limit of %.0f/s (first attempts %.1f/s over the sweep's %.1f s); "+
		"billing-channel messages %d (digest updated %d times); 429s: provider %d, Slack %d; charged twice %d",
		slack, f.n, f.paid, f.took.Seconds(), f.paidPerSecond(), f.paidPerSecond()/providerLimit, providerLimit, f.firstAttemptRate, f.sweep.Seconds(),
		f.channelMessages, f.digestUpdates, f.providerLimited, f.slackLimited, f.chargedTwice)
}

// checkBillingDay holds a day to the promises: every card that works is
// paid, none twice, no 429 at the default pacing, and a handful of
// billing-channel messages plus N/100.
func checkBillingDay(t *testing.T, d billingDay, f billingDayFigures) {
	t.Helper()
	wantPaid, _ := d.outcomes()
	if f.paid != wantPaid || f.chargedTwice != 0 || f.providerLimited != 0 || f.slackLimited != 0 {
		t.Errorf("paid %d of %d, charged twice %d, 429s provider %d Slack %d", f.paid, wantPaid, f.chargedTwice, f.providerLimited, f.slackLimited)
	}
	if most := 5 + d.n/100; f.channelMessages > most || f.channelMessages < 1 {
		t.Errorf("%d billing-channel messages for %d invoices; at most %d", f.channelMessages, d.n, most)
	}
}

// TestDev_BillingDay is the CI-sized day: 300 invoices with every outcome,
// with the Slack stand-in and with the sink. It checks the promises and
// logs the figures and the digest as it renders.
//
// go test ./cmd/licensedesk -run TestDev_BillingDay -v
func TestDev_BillingDay(t *testing.T) {
	var figures []billingDayFigures
	for _, standIn := range []bool{true, false} {
		name := map[bool]string{true: "slack stand-in", false: "dev sink"}[standIn]
		t.Run(name, func(t *testing.T) {
			d := billingDay{n: 300, mix: true, standIn: standIn}
			f := runBillingDay(t, d)
			checkBillingDay(t, d, f)
			for _, want := range []string{"300 invoiced, 290 paid, 7 declined (4 retrying, 3 waiting for a new card), 3 suspended"} {
				if !strings.Contains(f.digest, want) {
					t.Errorf("digest %q lacks %q", f.digest, want)
				}
			}
			if strings.Count(f.thread, "\n")+1 != 7 {
				t.Errorf("thread replies (want 7 lines):\n%s", f.thread)
			}
			t.Logf("digest: %s\nblocks: %s\nthread:\n%s", f.digest, f.digestBlocks, f.thread)
			figures = append(figures, f)
		})
	}
	if len(figures) == 2 {
		t.Log(figures[0].line("slack stand-in"))
		t.Log(figures[1].line("dev sink"))
		t.Logf("paid/s with the Slack stand-in ÷ with the sink: %.2f", figures[0].paidPerSecond()/figures[1].paidPerSecond())
	}
}

// TestBench_BillingDay is the day at volume: BENCH_BILLING_INVOICES (10,000)
// due at once, the same mix, with the Slack stand-in and with the sink.
//
// LICENSEDESK_BENCH=1 go test ./cmd/licensedesk -run TestBench_BillingDay -v -timeout 60m
func TestBench_BillingDay(t *testing.T) {
	if os.Getenv("LICENSEDESK_BENCH") == "" {
		t.Skip("set LICENSEDESK_BENCH=1 to run the benchmark (about 20 minutes)")
	}
	n := envInt("BENCH_BILLING_INVOICES", 10000)
	var figures []billingDayFigures
	for _, standIn := range []bool{true, false} {
		t.Run(map[bool]string{true: "slack stand-in", false: "dev sink"}[standIn], func(t *testing.T) {
			d := billingDay{n: n, mix: true, standIn: standIn}
			f := runBillingDay(t, d)
			checkBillingDay(t, d, f)
			figures = append(figures, f)
		})
	}
	if len(figures) == 2 {
		t.Log(figures[0].line("slack stand-in"))
		t.Log(figures[1].line("dev sink"))
		t.Logf("billing day, %d invoices: paid/s ÷ provider limit %.2f (goal ≥ 0.8); ÷ the same with the dev Slack sink %.2f (goal ≥ 0.9); billing-channel messages %d; provider 429s %d (goal 0); charged twice %d (0)",
			n, figures[0].paidPerSecond()/providerLimit, figures[0].paidPerSecond()/figures[1].paidPerSecond(),
			figures[0].channelMessages, figures[0].providerLimited, figures[0].chargedTwice)
	}
}

// addDueLicences adds the day's licences, SEN-6000000…, due today (or 20
// days ago), each with one owner and a card saved on its customer at the
// provider (a card is always saved on a customer, so billing day creates
// none).
func addDueLicences(t *testing.T, pool *pgxpool.Pool, d billingDay) {
	t.Helper()
	cards, late, prices, currencies := make([]string, d.n), make([]int32, d.n), make([]int64, d.n), make([]string, d.n)
	for i := range d.n {
		var l int
		cards[i], l, prices[i] = d.card(i)
		late[i], currencies[i] = int32(l), "USD"
		if d.mix && i%5 == 0 {
			currencies[i] = "EUR"
		}
	}
	_, err := pool.Exec(context.Background(), `
		WITH src AS (
			SELECT i - 1 AS i, card, late, price, currency
			FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[]) WITH ORDINALITY AS u(card, late, price, currency, i)),
		a AS (
			INSERT INTO accounts (email, status) SELECT 'payer' || i || '@day.test', 'pending' FROM src RETURNING id, email),
		l AS (
			INSERT INTO licenses (sen, product, deployment, billing_cycle, status, site, price_cents, currency, next_billing_date, payment_customer)
			SELECT 'SEN-' || (6000000 + i), 'Jira Software', 'cloud', 'monthly', 'active', 'day' || i || '.example.net', price, currency,
			       current_date - late, 'cus_day_' || i
			FROM src RETURNING id, sen),
		c AS (
			INSERT INTO license_contacts (license_id, account_id, role, is_primary)
			SELECT l.id, a.id, r, true FROM l
			JOIN a ON a.email = 'payer' || (substr(l.sen, 5)::int - 6000000) || '@day.test'
			CROSS JOIN unnest(ARRAY['billing', 'technical']) r)
		INSERT INTO payment_methods (license_id, provider_ref, brand, last4, exp_month, exp_year, is_default)
		SELECT l.id, src.card, 'visa', '4242', 12, 2040, true FROM l JOIN src ON l.sen = 'SEN-' || (6000000 + src.i)`,
		cards, late, prices, currencies)
	if err != nil {
		t.Fatal(err)
	}
}

// traceSweep logs when each activity of a sweep started and ended.
func traceSweep(t *testing.T, tc client.Client, id string) {
	it := tc.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var first time.Time
	scheduled := map[int64]string{}
	started := map[int64]time.Time{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		at := e.GetEventTime().AsTime()
		if first.IsZero() {
			first = at
		}
		if os.Getenv("BILLING_DAY_TRACE") == "all" {
			t.Logf("%6.2f s  %s", at.Sub(first).Seconds(), e.GetEventType())
		}
		switch {
		case e.GetActivityTaskScheduledEventAttributes() != nil:
			scheduled[e.GetEventId()] = e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
			started[e.GetEventId()] = at
		case e.GetActivityTaskCompletedEventAttributes() != nil:
			sid := e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()
			t.Logf("%6.2f s → %6.2f s  %s", started[sid].Sub(first).Seconds(), at.Sub(first).Seconds(), scheduled[sid])
		}
	}
}

// sweep runs one BillingSweep to its end.
func sweep(t *testing.T, tc client.Client, id string) {
	t.Helper()
	run, err := tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: "licensedesk"}, "BillingSweep", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func waitNoSweep(t *testing.T, tc client.Client) {
	t.Helper()
	waitFor(t, time.Minute, "the start-up sweep to end", func() bool {
		return len(listIDs(t, tc, `Operation = "billing" AND ExecutionStatus = "Running"`)) == 0
	})
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
	}
}

// metric reads a counter from the dev server's /metrics (0 when absent).
func metric(t *testing.T, s *stack, name string) int {
	t.Helper()
	_, body := s.get(t, "/metrics", "")
	m := regexp.MustCompile(`(?m)^`+name+`(?:\{[^}]*\})? (\S+)`).FindAllSubmatch(body, -1)
	total := 0
	for _, v := range m {
		f, _ := strconv.ParseFloat(string(v[1]), 64)
		total += int(f)
	}
	return total
}
