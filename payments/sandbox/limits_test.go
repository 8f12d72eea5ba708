package sandbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"licensedesk/payments"
	"licensedesk/payments/sandbox"
)

func limitedSandbox(t *testing.T, e *env, cfg sandbox.Config) *sandbox.Sandbox {
	t.Helper()
	cfg.Store, cfg.BaseURL, cfg.WebhookSecret, cfg.Now = sandbox.NewPGStore(e.db.Pool()), e.page.URL, secret, e.clock.Now
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sb
}

func visaCharge(key string) payments.ChargeInput {
	return payments.ChargeInput{CustomerID: "cus_demo_SEN-1000001", PaymentMethodID: "pm_card_visa", AmountCents: 1000, Currency: "USD",
		IdempotencyKey: key, Metadata: map[string]string{"invoice": "SEN-1000001-2026-12-01", "attempt": "1"}}
}

// Past its rate the sandbox answers as Stripe does: HTTP 429, an
// invalid_request_error with code rate_limit, nothing charged. That is a
// ProviderDownError (retry with the same key), never a decline.
func TestSandbox_RateLimitAnswers429WithStripesError(t *testing.T) {
	e := newEnv(t)
	sb := limitedSandbox(t, e, sandbox.Config{RateLimit: 5})
	ctx := context.Background()
	var (
		mu             sync.Mutex
		ok, limited, n int
		wg             sync.WaitGroup
	)
	for i := range 20 {
		wg.Go(func() {
			_, err := sb.Charge(ctx, visaCharge("burst/"+string(rune('a'+i))))
			mu.Lock()
			defer mu.Unlock()
			n++
			var d *payments.DeclineError
			var api *sandbox.APIError
			switch {
			case err == nil:
				ok++
			case payments.RateLimited(err) && payments.Retryable(err) && !errors.As(err, &d) && errors.As(err, &api) &&
				api.Status == 429 && api.Code == "rate_limit" && api.Type == "invalid_request_error":
				limited++
			default:
				t.Errorf("charge: %v", err)
			}
		})
	}
	wg.Wait()
	// A bucket of one second's worth (5), refilled at 5/s while the burst runs.
	if ok < 5 || ok > 8 || limited != n-ok {
		t.Errorf("20 charges at once with a limit of 5/s: %d charged, %d answered 429", ok, limited)
	}
	if got := count(t, e.db, `SELECT count(*) FROM sandbox_charges WHERE idempotency_key LIKE 'burst/%'`); got != ok {
		t.Errorf("%d charges stored for %d answered", got, ok)
	}
	if sb.RateLimited() != int64(limited) {
		t.Errorf("RateLimited() = %d; want %d", sb.RateLimited(), limited)
	}
	time.Sleep(time.Second)
	if _, err := sb.Charge(ctx, visaCharge("after-a-second")); err != nil {
		t.Errorf("a second later: %v", err)
	}
}

// A charge takes Latency to answer; a caller that gives up first gets a
// ProviderDownError and nothing is charged.
func TestSandbox_LatencyPerCharge(t *testing.T) {
	e := newEnv(t)
	sb := limitedSandbox(t, e, sandbox.Config{Latency: 300 * time.Millisecond})
	start := time.Now()
	if _, err := sb.Charge(context.Background(), visaCharge("slow/1")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("charge answered after %v; want at least 300ms", took)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := sb.Charge(ctx, visaCharge("slow/2")); !payments.Retryable(err) {
		t.Errorf("a caller that gave up: %v; want a ProviderDownError", err)
	}
	if got := count(t, e.db, `SELECT count(*) FROM sandbox_charges WHERE idempotency_key = 'slow/2'`); got != 0 {
		t.Errorf("%d charges for a request abandoned before its answer", got)
	}
}

// Within the key window a repeated key answers with the first charge;
// after it the sandbox has forgotten the key, as Stripe does after 24
// hours, and the same key charges again. FindCharges finds both by the
// invoice in their metadata.
func TestSandbox_ForgetsKeysAfterTheWindowAndFindsChargesByInvoice(t *testing.T) {
	e := newEnv(t)
	sb := limitedSandbox(t, e, sandbox.Config{KeyWindow: 24 * time.Hour})
	ctx := context.Background()
	since := e.clock.Now().Add(-time.Minute)
	first, err := sb.Charge(ctx, visaCharge("SEN-1000001-2026-12-01/1"))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(23 * time.Hour)
	again, err := sb.Charge(ctx, visaCharge("SEN-1000001-2026-12-01/1"))
	if err != nil || again.ID != first.ID {
		t.Fatalf("23 h later: %+v, %v; want the first charge %s", again, err, first.ID)
	}
	e.clock.Add(2 * time.Hour)
	late, err := sb.Charge(ctx, visaCharge("SEN-1000001-2026-12-01/1"))
	if err != nil || late.ID == first.ID {
		t.Fatalf("25 h later: %+v, %v; want a new charge (the key is forgotten)", late, err)
	}
	if sb.IdempotencyWindow() != 24*time.Hour {
		t.Errorf("IdempotencyWindow = %v", sb.IdempotencyWindow())
	}
	found, err := sb.FindCharges(ctx, payments.FindChargesInput{CustomerID: "cus_demo_SEN-1000001", Invoice: "SEN-1000001-2026-12-01", Since: since})
	if err != nil || len(found) != 2 || found[0].ID != first.ID || found[1].ID != late.ID ||
		found[0].Status != payments.ChargeSucceeded || found[0].Attempt != "1" {
		t.Errorf("FindCharges = %+v, %v", found, err)
	}
	if other, _ := sb.FindCharges(ctx, payments.FindChargesInput{CustomerID: "cus_demo_SEN-1000001", Invoice: "SEN-1000001-2027-01-01", Since: since}); len(other) != 0 {
		t.Errorf("another invoice's charges: %+v", other)
	}
}
