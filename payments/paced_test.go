package payments_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"licensedesk/pacing"
	"licensedesk/payments"
)

// stub answers every charge at once, or with 429 while limit is set.
type stub struct {
	payments.Provider
	calls atomic.Int32
	limit atomic.Bool
}

func (s *stub) Charge(context.Context, payments.ChargeInput) (payments.Charge, error) {
	s.calls.Add(1)
	if s.limit.Load() {
		return payments.Charge{}, &payments.ProviderDownError{Op: "charge", StatusCode: http.StatusTooManyRequests}
	}
	return payments.Charge{ID: "pi_1", Status: payments.ChargeSucceeded}, nil
}

func TestPaced_SpacesCallsAndHoldsEveryoneAfterA429(t *testing.T) {
	s := &stub{}
	var limited atomic.Int32
	p := payments.Paced(s, &pacing.Pacer{Store: pacing.NewMemoryStore(), Key: "payments", Limit: pacing.PerSecond(20)}, func() { limited.Add(1) })
	ctx := context.Background()
	start := time.Now()
	for range 11 {
		if _, err := p.Charge(ctx, payments.ChargeInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 480*time.Millisecond {
		t.Errorf("11 charges at 20/s took %v; want at least 500ms", took)
	}
	s.limit.Store(true)
	if _, err := p.Charge(ctx, payments.ChargeInput{}); !payments.RateLimited(err) || limited.Load() != 1 {
		t.Fatalf("429: %v, counted %d", err, limited.Load())
	}
	s.limit.Store(false)
	start = time.Now()
	if _, err := p.Charge(ctx, payments.ChargeInput{}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("the call after a 429 went after %v; want the 1 s hold", took)
	}
	// A caller that cannot wait for its slot sends nothing and may retry:
	// a ProviderDownError, never a decline.
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	before := s.calls.Load()
	if _, err := p.Charge(short, payments.ChargeInput{}); !payments.Retryable(err) {
		t.Errorf("no slot in time: %v; want a ProviderDownError", err)
	}
	if s.calls.Load() != before {
		t.Error("a call without a slot reached the provider")
	}
}

// authStub is a provider that authenticates charges.
type authStub struct {
	stub
	looked atomic.Int32
}

func (s *authStub) Authenticate(context.Context, payments.AuthenticateInput) (payments.Authentication, error) {
	return payments.Authentication{Status: payments.ChargeRequiresAction, URL: "https://bank.example/check"}, nil
}

func (s *authStub) LookupCharge(context.Context, string) (payments.Charge, error) {
	s.looked.Add(1)
	return payments.Charge{ID: "pi_1", Status: payments.ChargeSucceeded}, nil
}

func (s *authStub) CancelCharge(context.Context, string) (payments.Charge, error) {
	return payments.Charge{ID: "pi_1", Status: payments.ChargeCanceled}, nil
}

// Pacing keeps bank authentication: a provider that authenticates charges
// still does once paced (its calls paced too), and one that does not is
// not made to look as if it did.
func TestPaced_KeepsBankAuthenticationOnlyWhereTheProviderHasIt(t *testing.T) {
	pacer := &pacing.Pacer{Store: pacing.NewMemoryStore(), Key: "payments", Limit: pacing.PerSecond(20)}
	if _, ok := payments.Paced(&stub{}, pacer, nil).(payments.Authenticator); ok {
		t.Error("a provider without bank authentication looks as if it had it once paced")
	}
	s := &authStub{}
	au, ok := payments.Paced(s, pacer, nil).(payments.Authenticator)
	if !ok {
		t.Fatal("bank authentication lost by pacing")
	}
	ctx := context.Background()
	start := time.Now()
	for range 11 {
		if _, err := au.LookupCharge(ctx, "pi_1"); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 480*time.Millisecond || s.looked.Load() != 11 {
		t.Errorf("11 look-ups at 20/s took %v (%d reached the provider); want at least 0.5 s", took, s.looked.Load())
	}
	if a, err := au.Authenticate(ctx, payments.AuthenticateInput{ChargeID: "pi_1"}); err != nil || a.URL == "" {
		t.Errorf("authenticate: %+v, %v", a, err)
	}
}
