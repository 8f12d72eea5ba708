package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"licensedesk/payments"
	"licensedesk/payments/sandbox"
)

func TestParseFaults(t *testing.T) {
	f, err := sandbox.ParseFaults("drop=0.1, error=0.05,slow=0.2,delay=3s,seed=7")
	if err != nil || f != (sandbox.Faults{Drop: 0.1, Error: 0.05, Slow: 0.2, Delay: 3 * time.Second, Seed: 7}) {
		t.Fatalf("ParseFaults = %+v, %v", f, err)
	}
	if f, err := sandbox.ParseFaults("drop=0.5"); err != nil || f.Delay != 2*time.Second {
		t.Errorf("the default delay: %+v, %v", f, err)
	}
	for _, bad := range []string{"", "drop", "drop=x", "drop=1.5", "error=-0.1", "drop=0.6,error=0.6", "delay=soon", "seed=-1", "flood=0.1"} {
		if _, err := sandbox.ParseFaults(bad); err == nil || !strings.HasPrefix(err.Error(), "PAYMENTS_SANDBOX_FAULTS: ") {
			t.Errorf("ParseFaults(%q) = %v; want an error naming the setting", bad, err)
		}
	}
}

// A charge whose answer is lost was made: the retry with the same key gets
// that charge, not a second one. A refused one was not made at all.
func TestWithFaults_LostAnswersAndRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := payments.ChargeInput{CustomerID: "cus_demo_SEN-1000003", PaymentMethodID: "pm_card_visa", AmountCents: 1000,
		Currency: "USD", IdempotencyKey: "SEN-1000003-2026-12-01/1"}

	var down *payments.ProviderDownError
	refusing := sandbox.WithFaults(e.sb, sandbox.Faults{Error: 1})
	if _, err := refusing.Charge(ctx, in); !errors.As(err, &down) || down.StatusCode != 503 {
		t.Fatalf("error=1: %v; want a 503 ProviderDownError", err)
	}
	if n := e.charges(t, in.IdempotencyKey); n != 0 {
		t.Fatalf("a refused charge left %d charges", n)
	}

	dropping := sandbox.WithFaults(e.sb, sandbox.Faults{Drop: 1})
	if _, err := dropping.Charge(ctx, in); !errors.As(err, &down) {
		t.Fatalf("drop=1: %v; want a ProviderDownError", err)
	}
	if n := e.charges(t, in.IdempotencyKey); n != 1 {
		t.Fatalf("a charge whose answer was lost: %d charges; want 1", n)
	}
	c, err := e.sb.Charge(ctx, in) // the retry, the provider answering again
	if err != nil || c.Status != payments.ChargeSucceeded || e.charges(t, in.IdempotencyKey) != 1 {
		t.Fatalf("retry after a lost answer: %+v, %v, %d charges", c, err, e.charges(t, in.IdempotencyKey))
	}

	slow := sandbox.WithFaults(e.sb, sandbox.Faults{Slow: 1, Delay: time.Hour})
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := slow.Charge(short, in); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a slow answer past the caller's deadline: %v", err)
	}
}

// charges counts the sandbox's charges made with key.
func (e *env) charges(t *testing.T, key string) int {
	t.Helper()
	var n int
	if err := e.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM sandbox_charges WHERE idempotency_key = $1`, key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
