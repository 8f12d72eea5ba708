package activities_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"licensedesk/activities"
	"licensedesk/internal/pgtest"
	"licensedesk/mail"
	"licensedesk/pacing"
	"licensedesk/payments"
	"licensedesk/payments/sandbox"
	"licensedesk/postgres"
)

// starter records the collections a page starts (temporalclient in
// production).
type starter struct {
	mu       sync.Mutex
	resumed  []postgres.InvoiceRef
	declined []activities.Declined
}

func (s *starter) StartCollections(_ context.Context, refs []postgres.InvoiceRef) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resumed = append(s.resumed, refs...)
	return nil
}

func (s *starter) StartDunning(_ context.Context, d []activities.Declined) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.declined = append(s.declined, d...)
	return nil
}

// day is a billing day on the demo database: due licences of our own, the
// payments sandbox (configured by the test) and the activities.
type day struct {
	db      *postgres.DB
	sb      *sandbox.Sandbox
	acts    *activities.Activities
	starter *starter
}

func newDay(t *testing.T, cfg sandbox.Config) *day {
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
	t.Cleanup(db.Close)
	if _, err := db.SeedDemo(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.BaseURL, cfg.WebhookSecret = sandbox.NewPGStore(db.Pool()), "http://127.0.0.1:1", "whsec_test"
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := &day{db: db, sb: sb, starter: &starter{}}
	d.acts = &activities.Activities{DB: db, Payments: sb, Mail: &mail.Outbox{DB: db}, Collections: d.starter,
		PublicBaseURL: "http://127.0.0.1:1", AlertChannel: "C0BILLING", LargeInvoiceCents: 100000}
	return d
}

// due adds a monthly licence per card (a test payment method, or "" for
// none) with one open invoice due today, priced in currency (USD when ""),
// and returns the invoice numbers.
func (d *day) due(t *testing.T, from int, currency string, cards ...string) []string {
	t.Helper()
	if currency == "" {
		currency = "USD"
	}
	ctx := context.Background()
	var numbers []string
	for i, card := range cards {
		sen := fmt.Sprintf("SEN-%d", 5000000+from+i)
		var licID int64
		err := d.db.Pool().QueryRow(ctx, `
			WITH a AS (INSERT INTO accounts (email, status) VALUES ($2, 'pending') RETURNING id),
			l AS (INSERT INTO licenses (sen, product, deployment, billing_cycle, status, site, price_cents, currency, next_billing_date, payment_customer)
			      VALUES ($1, 'Jira Software', 'cloud', 'monthly', 'active', $1 || '.example.net', 1000, $3, current_date + 30, 'cus_day_' || $1) RETURNING id),
			c AS (INSERT INTO license_contacts (license_id, account_id, role, is_primary)
			      SELECT l.id, a.id, r, true FROM l, a, unnest(ARRAY['billing', 'technical']) r)
			SELECT id FROM l`, sen, fmt.Sprintf("payer%d@day.test", from+i), currency).Scan(&licID)
		if err != nil {
			t.Fatal(err)
		}
		if card != "" {
			if _, err := d.db.Pool().Exec(ctx, `INSERT INTO payment_methods (license_id, provider_ref, brand, last4, exp_month, exp_year, is_default)
				VALUES ($1, $2, 'visa', '4242', 12, 2040, true)`, licID, card); err != nil {
				t.Fatal(err)
			}
		}
		number := sen + "-due"
		if _, err := d.db.Pool().Exec(ctx, `INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency)
			VALUES ($1, $2, current_date, current_date + 30, current_date, 1000, $3)`, licID, number, currency); err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, number)
	}
	return numbers
}

func (d *day) open(t *testing.T, key string) int64 {
	t.Helper()
	out, err := d.acts.OpenBillingRun(context.Background(), activities.OpenBillingRunInput{WorkflowKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return out.Run
}

func (d *day) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := d.db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// chargedTwice counts invoices the provider took money for more than once.
func (d *day) chargedTwice(t *testing.T) int {
	return d.count(t, `SELECT count(*) FROM (SELECT metadata->>'invoice' FROM sandbox_charges WHERE status = 'succeeded' GROUP BY 1 HAVING count(*) > 1) x`)
}

func (d *day) outbox(t *testing.T) int {
	return d.count(t, `SELECT count(*) FROM invoices WHERE collection_started_at IS NULL`)
}

// One page: paid invoices leave the outbox paid, declined ones (soft,
// hard, no card) go to dunning with their first attempt, and an invoice
// with earlier attempts (the demo's) gets its collection as before.
func TestChargeFirstAttempts_PaysDeclinesAndHandsOff(t *testing.T) {
	ctx := context.Background()
	d := newDay(t, sandbox.Config{})
	d.due(t, 0, "USD", "pm_card_visa", "pm_card_chargeDeclined", "pm_card_chargeDeclinedStolenCard", "")
	d.due(t, 10, "EUR", "pm_card_mastercard")
	run := d.open(t, "sweep@1")
	if run == 0 {
		t.Fatal("no run opened for five new invoices")
	}
	out, err := d.acts.ChargeFirstAttempts(ctx, activities.ChargeFirstAttemptsInput{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if out.Seen != 6 || len(out.Paid) != 2 || out.Declined != 3 || out.Hard != 2 || out.HandedOff != 1 || out.Deferred != 0 {
		t.Fatalf("page %+v", out)
	}
	if len(d.starter.resumed) != 1 || d.starter.resumed[0].SEN != "SEN-1000003" {
		t.Errorf("resumed %+v; want the demo's invoice with its earlier attempt", d.starter.resumed)
	}
	codes := map[string]bool{}
	for _, dec := range d.starter.declined {
		codes[dec.First.Code] = dec.First.Hard
	}
	if len(codes) != 3 || codes["generic_decline"] || !codes["stolen_card"] || !codes["no_card"] {
		t.Errorf("dunning started with %+v", d.starter.declined)
	}
	if n := d.outbox(t); n != 0 {
		t.Errorf("%d invoices left in the outbox", n)
	}
	if n := d.count(t, `SELECT count(*) FROM sandbox_charges`); n != 4 {
		t.Errorf("%d charges at the provider; want 4 (no card, no charge)", n)
	}
	st, err := d.db.BillingDigest(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	g := st.Digest
	if g.Invoiced != 5 || g.Paid != 2 || g.DeclinedSoft != 1 || g.DeclinedHard != 2 || g.Charging != 0 || len(g.Currencies) != 2 ||
		g.Currencies[0].Currency != "EUR" || g.Currencies[0].Paid != 1000 || g.Currencies[1].Outstanding() != 3000 {
		t.Errorf("digest %+v", g)
	}
	// A second run of the same page (a retried activity) finds nothing.
	again, err := d.acts.ChargeFirstAttempts(ctx, activities.ChargeFirstAttemptsInput{Limit: 100})
	if err != nil || again.Seen != 0 {
		t.Errorf("again %+v, %v", again, err)
	}
}

// cancelling cancels the activity's context after the provider took its
// nth charge: a worker killed in the middle of a page.
type cancelling struct {
	payments.Provider
	n      atomic.Int32
	after  int32
	cancel context.CancelFunc
}

func (c *cancelling) Charge(ctx context.Context, in payments.ChargeInput) (payments.Charge, error) {
	ch, err := c.Provider.Charge(ctx, in)
	if c.n.Add(1) == c.after {
		c.cancel()
		return payments.Charge{}, context.Canceled
	}
	return ch, err
}

func (c *cancelling) FindCharges(ctx context.Context, in payments.FindChargesInput) ([]payments.FoundCharge, error) {
	return c.Provider.(payments.ChargeFinder).FindCharges(ctx, in)
}

// A sweep that dies in the middle of a page (charges made, answers not
// recorded) runs the page again: every invoice is paid once.
func TestChargeFirstAttempts_CrashMidPageChargesNobodyTwice(t *testing.T) {
	d := newDay(t, sandbox.Config{Latency: 50 * time.Millisecond})
	cards := make([]string, 12)
	for i := range cards {
		cards[i] = "pm_card_visa"
	}
	numbers := d.due(t, 0, "", cards...)
	d.open(t, "sweep@crash")
	ctx, cancel := context.WithCancel(context.Background())
	d.acts.Payments = &cancelling{Provider: d.sb, after: 5, cancel: cancel}
	d.acts.ChargeConcurrency = 4
	if _, err := d.acts.ChargeFirstAttempts(ctx, activities.ChargeFirstAttemptsInput{Limit: 100}); err == nil {
		t.Fatal("the killed page reported success")
	}
	if n := d.outbox(t); n != len(numbers)+1 {
		t.Errorf("%d in the outbox after the crash; want all %d (nothing stamped)", n, len(numbers)+1)
	}
	d.acts.Payments = d.sb
	out, err := d.acts.ChargeFirstAttempts(context.Background(), activities.ChargeFirstAttemptsInput{Limit: 100})
	if err != nil || len(out.Paid) != len(numbers) {
		t.Fatalf("the page again: %+v, %v", out, err)
	}
	if n := d.chargedTwice(t); n != 0 {
		t.Errorf("%d invoices charged twice", n)
	}
	if n := d.count(t, `SELECT count(*) FROM sandbox_charges WHERE status = 'succeeded'`); n != len(numbers) {
		t.Errorf("%d charges for %d invoices", n, len(numbers))
	}
}

// A provider that answers 429 to most calls, or 5xx to all, declines
// nobody: the invoices it did not answer stay in the outbox, and later
// passes pay them, each once. Slow answers only take longer.
func TestChargeFirstAttempts_ProviderStormsNeverDecline(t *testing.T) {
	ctx := context.Background()
	t.Run("429 storm", func(t *testing.T) {
		d := newDay(t, sandbox.Config{RateLimit: 2})
		cards := make([]string, 10)
		for i := range cards {
			cards[i] = "pm_card_visa"
		}
		d.due(t, 0, "", cards...)
		d.open(t, "sweep@429")
		// Paced far above the provider's limit: a storm of 429s.
		var limited atomic.Int32
		d.acts.Payments = payments.Paced(d.sb, &pacing.Pacer{Store: pacing.NewMemoryStore(), Key: "payments", Limit: pacing.PerSecond(200)}, func() { limited.Add(1) })
		paid, deferred := 0, 0
		for pass := 0; pass < 10 && d.outbox(t) > 0; pass++ {
			out, err := d.acts.ChargeFirstAttempts(ctx, activities.ChargeFirstAttemptsInput{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if out.Declined != 0 {
				t.Fatalf("a 429 became a decline: %+v", out)
			}
			paid, deferred = paid+len(out.Paid), deferred+out.Deferred
		}
		if paid != 10 || d.chargedTwice(t) != 0 || limited.Load() == 0 {
			t.Errorf("paid %d of 10, %d charged twice, %d 429s, %d deferrals", paid, d.chargedTwice(t), limited.Load(), deferred)
		}
	})
	t.Run("5xx", func(t *testing.T) {
		d := newDay(t, sandbox.Config{})
		d.due(t, 0, "", "pm_card_visa", "pm_card_visa", "pm_card_chargeDeclined")
		d.open(t, "sweep@5xx")
		d.acts.Payments = sandbox.WithFaults(d.sb, sandbox.Faults{Error: 1})
		out, err := d.acts.ChargeFirstAttempts(ctx, activities.ChargeFirstAttemptsInput{Limit: 100})
		if err != nil || out.Deferred != 3 || out.Declined != 0 || len(out.Paid) != 0 || d.outbox(t) != 4-1 {
			t.Fatalf("with every call a 503: %+v, %v, outbox %d", out, err, d.outbox(t))
		}
		if n := d.count(t, `SELECT count(*) FROM charge_attempts WHERE status = 'failed'`); n != 1 { // the demo's
			t.Errorf("%d failed attempts recorded; a 503 is not a decline", n-1)
		}
		d.acts.Payments = d.sb
		out, err = d.acts.ChargeFirstAttempts(ctx, activities.ChargeFirstAttemptsInput{Limit: 100})
		if err != nil || len(out.Paid) != 2 || out.Declined != 1 {
			t.Errorf("once the provider is back: %+v, %v", out, err)
		}
	})
	t.Run("slow answers", func(t *testing.T) {
		d := newDay(t, sandbox.Config{Latency: time.Second})
		cards := make([]string, 8)
		for i := range cards {
			cards[i] = "pm_card_visa"
		}
		d.due(t, 0, "", cards...)
		d.open(t, "sweep@slow")
		start := time.Now()
		out, err := d.acts.ChargeFirstAttempts(ctx, activities.ChargeFirstAttemptsInput{Limit: 100})
		if err != nil || len(out.Paid) != 8 {
			t.Fatalf("%+v, %v", out, err)
		}
		if took := time.Since(start); took > 4*time.Second {
			t.Errorf("8 charges of 1 s each took %v: they should overlap", took)
		}
	})
}

// removing takes another invoice's card away when the first charge of the
// page goes out: a card removed in the middle of a page.
type removing struct {
	payments.Provider
	db   *postgres.DB
	sen  string
	once sync.Once
}

func (r *removing) Charge(ctx context.Context, in payments.ChargeInput) (payments.Charge, error) {
	r.once.Do(func() {
		_, _ = r.db.Pool().Exec(ctx, `DELETE FROM payment_methods WHERE license_id = (SELECT id FROM licenses WHERE sen = $1)`, r.sen)
	})
	return r.Provider.Charge(ctx, in)
}

func TestChargeFirstAttempts_CardRemovedMidPage(t *testing.T) {
	d := newDay(t, sandbox.Config{})
	d.due(t, 0, "", "pm_card_visa", "pm_card_visa")
	d.open(t, "sweep@removed")
	d.acts.Payments = &removing{Provider: d.sb, db: d.db, sen: "SEN-5000001"}
	d.acts.ChargeConcurrency = 1
	out, err := d.acts.ChargeFirstAttempts(context.Background(), activities.ChargeFirstAttemptsInput{Limit: 100})
	if err != nil || len(out.Paid) != 1 || out.Declined != 1 || out.Hard != 1 {
		t.Fatalf("%+v, %v", out, err)
	}
	if dec := d.starter.declined; len(dec) != 1 || dec[0].Invoice.SEN != "SEN-5000001" || dec[0].First.Code != "no_card" {
		t.Errorf("dunning %+v; want SEN-5000001 waiting for a card", dec)
	}
	if n := d.count(t, `SELECT count(*) FROM sandbox_charges`); n != 1 {
		t.Errorf("%d charges; the card-less invoice was not to reach the provider", n)
	}
}

// Two sweeps at once (the Schedule skips an overlap, a person starting
// one by hand does not): each invoice is charged once.
func TestChargeFirstAttempts_OverlappingSweepsChargeNobodyTwice(t *testing.T) {
	d := newDay(t, sandbox.Config{Latency: 100 * time.Millisecond})
	cards := make([]string, 20)
	for i := range cards {
		cards[i] = "pm_card_visa"
	}
	d.due(t, 0, "", cards...)
	d.open(t, "sweep@a")
	d.open(t, "sweep@b")
	var wg sync.WaitGroup
	paid := make([]int, 2)
	for i := range 2 {
		wg.Go(func() {
			for after := int64(0); ; {
				out, err := d.acts.ChargeFirstAttempts(context.Background(), activities.ChargeFirstAttemptsInput{After: after, Limit: 5})
				if err != nil {
					t.Error(err)
					return
				}
				paid[i] += len(out.Paid)
				if after = out.Last; out.Seen < 5 {
					return
				}
			}
		})
	}
	wg.Wait()
	if n := d.chargedTwice(t); n != 0 {
		t.Errorf("%d invoices charged twice", n)
	}
	if n := d.count(t, `SELECT count(*) FROM invoices WHERE status = 'paid' AND number LIKE 'SEN-5%'`); n != 20 {
		t.Errorf("%d of 20 paid", n)
	}
	t.Logf("paid by each sweep's pages: %v (an invoice both saw is paid once, reported by both)", paid)
}

// An attempt sent, its answer lost, and retried after the provider forgot
// the key (workers down over a weekend): the sandbox, like Stripe after
// 24 hours, would charge again; the activity finds the earlier charge by
// the invoice in its metadata and records it instead.
func TestChargeInvoice_PastTheKeyWindowFindsTheEarlierCharge(t *testing.T) {
	ctx := context.Background()
	d := newDay(t, sandbox.Config{KeyWindow: 24 * time.Hour})
	numbers := d.due(t, 0, "", "pm_card_visa")
	lost := sandbox.WithFaults(d.sb, sandbox.Faults{Drop: 1})
	d.acts.Payments = lost
	if _, err := d.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: numbers[0], Attempt: 1}); !payments.Retryable(err) {
		t.Fatalf("the lost answer: %v", err)
	}
	// 25 hours pass: the attempt is older than the window, and the
	// provider has forgotten its key.
	for _, q := range []string{
		`UPDATE charge_attempts SET created_at = created_at - interval '25 hours'`,
		`UPDATE sandbox_charges SET created_at = created_at - interval '25 hours'`,
		`UPDATE sandbox_idempotency_keys SET used_at = used_at - interval '25 hours'`,
	} {
		if _, err := d.db.Pool().Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// What the sandbox does with the forgotten key, shown on a copy of the
	// charge: it charges again.
	again, err := d.sb.Charge(ctx, payments.ChargeInput{CustomerID: "cus_other", PaymentMethodID: "pm_card_visa", AmountCents: 1000,
		Currency: "USD", IdempotencyKey: numbers[0] + "/1", Metadata: map[string]string{"invoice": "shown-only"}})
	if err != nil || d.count(t, `SELECT count(*) FROM sandbox_charges WHERE idempotency_key = $1`, numbers[0]+"/1") != 2 {
		t.Fatalf("the sandbox did not forget the key: %+v, %v", again, err)
	}
	d.acts.Payments = d.sb
	out, err := d.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: numbers[0], Attempt: 1})
	if err != nil || !out.Paid {
		t.Fatalf("the retry: %+v, %v; want paid by the earlier charge", out, err)
	}
	if n := d.count(t, `SELECT count(*) FROM sandbox_charges WHERE metadata->>'invoice' = $1`, numbers[0]); n != 1 {
		t.Errorf("%d charges for the invoice; want the one made before", n)
	}
	var ref string
	_ = d.db.Pool().QueryRow(ctx, `SELECT provider_ref FROM charge_attempts a JOIN invoices i ON i.id = a.invoice_id WHERE i.number = $1`, numbers[0]).Scan(&ref)
	if ref == "" {
		t.Error("the earlier charge's id was not recorded")
	}
	// Without an earlier charge the attempt goes out again.
	fresh := d.due(t, 1, "", "pm_card_visa")
	d.acts.Payments = sandbox.WithFaults(d.sb, sandbox.Faults{Error: 1})
	if _, err := d.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: fresh[0], Attempt: 1}); !payments.Retryable(err) {
		t.Fatal(err)
	}
	if _, err := d.db.Pool().Exec(ctx, `UPDATE charge_attempts SET created_at = created_at - interval '25 hours'`); err != nil {
		t.Fatal(err)
	}
	d.acts.Payments = d.sb
	if out, err := d.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: fresh[0], Attempt: 1}); err != nil || !out.Paid {
		t.Errorf("nothing charged before: %+v, %v; want charged now", out, err)
	}
}

// /license charge asking for attempt 2 while the sweep's attempt 1 waits
// for the provider's answer: attempt 2 waits (its activity is retried) and
// then finds the invoice paid, so the card is charged once.
func TestChargeInvoice_OneAttemptInFlightPerInvoice(t *testing.T) {
	ctx := context.Background()
	d := newDay(t, sandbox.Config{})
	numbers := d.due(t, 0, "", "pm_card_visa")
	key := numbers[0] + "/1"
	if _, _, err := d.db.BeginAttempt(ctx, numbers[0], 1, key, "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	if out, err := d.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: numbers[0], Attempt: 2}); err == nil || out.Paid || out.Code != "" {
		t.Fatalf("attempt 2 with attempt 1 in flight: %+v, %v; want to wait", out, err)
	}
	if n := d.count(t, `SELECT count(*) FROM sandbox_charges`); n != 0 {
		t.Fatalf("%d charges while attempt 1 was in flight", n)
	}
	if _, err := d.sb.Charge(ctx, payments.ChargeInput{CustomerID: "cus_day_SEN-5000000", PaymentMethodID: "pm_card_visa", AmountCents: 1000,
		Currency: "USD", IdempotencyKey: key, Metadata: map[string]string{"invoice": numbers[0], "attempt": "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.FinishAttempt(ctx, key, postgres.AttemptResult{Status: "succeeded", ProviderRef: "pi_first"}); err != nil {
		t.Fatal(err)
	}
	out, err := d.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: numbers[0], Attempt: 2})
	if err != nil || !out.Paid || d.chargedTwice(t) != 0 || d.count(t, `SELECT count(*) FROM sandbox_charges`) != 1 {
		t.Errorf("attempt 2 after attempt 1 paid: %+v, %v", out, err)
	}
	// An attempt left pending long ago (its worker died) holds nothing up.
	more := d.due(t, 1, "", "pm_card_visa")
	if _, _, err := d.db.BeginAttempt(ctx, more[0], 1, more[0]+"/1", "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.Pool().Exec(ctx, `UPDATE charge_attempts SET created_at = created_at - interval '1 hour' WHERE idempotency_key = $1`, more[0]+"/1"); err != nil {
		t.Fatal(err)
	}
	if out, err := d.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: more[0], Attempt: 2}); err != nil || !out.Paid {
		t.Errorf("attempt 2 after a stale pending attempt 1: %+v, %v", out, err)
	}
	// One left pending by a worker that died after the provider charged:
	// attempt 2 finds that charge and sends nothing.
	lost := d.due(t, 2, "", "pm_card_visa")
	d.acts.Payments = sandbox.WithFaults(d.sb, sandbox.Faults{Drop: 1})
	if _, err := d.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: lost[0], Attempt: 1}); !payments.Retryable(err) {
		t.Fatal(err)
	}
	d.acts.Payments = d.sb
	if _, err := d.db.Pool().Exec(ctx, `UPDATE charge_attempts SET created_at = created_at - interval '1 hour' WHERE idempotency_key = $1`, lost[0]+"/1"); err != nil {
		t.Fatal(err)
	}
	out, err = d.acts.ChargeInvoice(ctx, activities.ChargeInvoiceInput{Number: lost[0], Attempt: 2})
	if err != nil || !out.Paid || d.count(t, `SELECT count(*) FROM sandbox_charges WHERE metadata->>'invoice' = $1`, lost[0]) != 1 {
		t.Errorf("attempt 2 after attempt 1 charged and its answer lost: %+v, %v", out, err)
	}
	if d.chargedTwice(t) != 0 {
		t.Error("charged twice")
	}
}
