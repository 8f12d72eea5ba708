package sandbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"licensedesk/payments"
)

// Faults makes a provider misbehave as a real one does on a bad day, for
// the chaos harness (PAYMENTS_SANDBOX_FAULTS, sandbox only): each charge,
// with its probability, is
//
//   - drop: charged, then the answer is lost (the caller sees a network
//     error and calls again with the same idempotency key);
//   - error: refused with a 5xx before anything is charged;
//   - slow: answered after a delay.
type Faults struct {
	Drop, Error, Slow float64
	Delay             time.Duration // of a slow answer [2 s]
	Seed              uint64
}

// ParseFaults reads "drop=0.1,error=0.05,slow=0.1[,delay=2s][,seed=7]".
func ParseFaults(s string) (Faults, error) {
	f := Faults{Delay: 2 * time.Second}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Faults{}, fmt.Errorf("PAYMENTS_SANDBOX_FAULTS: %q is not name=value", part)
		}
		var err error
		switch k {
		case "drop":
			f.Drop, err = probability(v)
		case "error":
			f.Error, err = probability(v)
		case "slow":
			f.Slow, err = probability(v)
		case "delay":
			f.Delay, err = time.ParseDuration(v)
		case "seed":
			f.Seed, err = strconv.ParseUint(v, 10, 64)
		default:
			err = fmt.Errorf("unknown fault")
		}
		if err != nil {
			return Faults{}, fmt.Errorf("PAYMENTS_SANDBOX_FAULTS: %s: %v", part, err)
		}
	}
	if sum := f.Drop + f.Error + f.Slow; sum > 1 {
		return Faults{}, fmt.Errorf("PAYMENTS_SANDBOX_FAULTS: drop, error and slow add up to %g, more than 1", sum)
	}
	return f, nil
}

func probability(v string) (float64, error) {
	p, err := strconv.ParseFloat(v, 64)
	if err == nil && (p < 0 || p > 1) {
		err = fmt.Errorf("%g is not between 0 and 1", p)
	}
	return p, err
}

// WithFaults wraps p so its charges fail as f says.
func WithFaults(p payments.Provider, f Faults) payments.Provider {
	return &faulty{Provider: p, f: f, rnd: rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))}
}

type faulty struct {
	payments.Provider
	f   Faults
	mu  sync.Mutex
	rnd *rand.Rand
}

func (p *faulty) roll() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rnd.Float64()
}

func (p *faulty) Charge(ctx context.Context, in payments.ChargeInput) (payments.Charge, error) {
	r := p.roll()
	switch {
	case r < p.f.Error:
		return payments.Charge{}, &payments.ProviderDownError{Op: "charge", StatusCode: 503, Err: fmt.Errorf("sandbox fault: 503 before charging %s", in.IdempotencyKey)}
	case r < p.f.Error+p.f.Drop:
		if _, err := p.Provider.Charge(ctx, in); err != nil {
			return payments.Charge{}, err
		}
		return payments.Charge{}, &payments.ProviderDownError{Op: "charge", Err: fmt.Errorf("sandbox fault: connection lost after charging %s", in.IdempotencyKey)}
	case r < p.f.Error+p.f.Drop+p.f.Slow:
		select {
		case <-time.After(p.f.Delay):
		case <-ctx.Done():
			return payments.Charge{}, ctx.Err()
		}
	}
	return p.Provider.Charge(ctx, in)
}

// ResolveSetup forwards to the wrapped provider (payments.SetupResolver).
func (p *faulty) ResolveSetup(ctx context.Context, sessionID string) (string, error) {
	r, ok := p.Provider.(payments.SetupResolver)
	if !ok {
		return "", fmt.Errorf("sandbox faults: the provider resolves no setups")
	}
	return r.ResolveSetup(ctx, sessionID)
}

// FindCharges forwards to the wrapped provider (payments.ChargeFinder):
// the chaos harness's faults are on charges.
func (p *faulty) FindCharges(ctx context.Context, in payments.FindChargesInput) ([]payments.FoundCharge, error) {
	f, ok := p.Provider.(payments.ChargeFinder)
	if !ok {
		return nil, fmt.Errorf("sandbox faults: the provider cannot list charges")
	}
	return f.FindCharges(ctx, in)
}

// IdempotencyWindow is the wrapped provider's.
func (p *faulty) IdempotencyWindow() time.Duration { return payments.IdempotencyWindowOf(p.Provider) }

// Authenticate forwards to the wrapped provider (payments.Authenticator).
func (p *faulty) Authenticate(ctx context.Context, in payments.AuthenticateInput) (payments.Authentication, error) {
	a, ok := p.Provider.(payments.Authenticator)
	if !ok {
		return payments.Authentication{}, fmt.Errorf("sandbox faults: the provider authenticates no charges")
	}
	return a.Authenticate(ctx, in)
}

// LookupCharge forwards to the wrapped provider (payments.Authenticator).
func (p *faulty) LookupCharge(ctx context.Context, chargeID string) (payments.Charge, error) {
	a, ok := p.Provider.(payments.Authenticator)
	if !ok {
		return payments.Charge{}, fmt.Errorf("sandbox faults: the provider looks up no charges")
	}
	return a.LookupCharge(ctx, chargeID)
}

// CancelCharge forwards to the wrapped provider (payments.Authenticator),
// failing as a charge does: a cancel whose answer is lost was still made.
func (p *faulty) CancelCharge(ctx context.Context, chargeID string) (payments.Charge, error) {
	a, ok := p.Provider.(payments.Authenticator)
	if !ok {
		return payments.Charge{}, fmt.Errorf("sandbox faults: the provider cancels no charges")
	}
	r := p.roll()
	switch {
	case r < p.f.Error:
		return payments.Charge{}, &payments.ProviderDownError{Op: "cancel charge", StatusCode: 503, Err: fmt.Errorf("sandbox fault: 503 before cancelling %s", chargeID)}
	case r < p.f.Error+p.f.Drop:
		if _, err := a.CancelCharge(ctx, chargeID); err != nil {
			return payments.Charge{}, err
		}
		return payments.Charge{}, &payments.ProviderDownError{Op: "cancel charge", Err: fmt.Errorf("sandbox fault: connection lost after cancelling %s", chargeID)}
	}
	return a.CancelCharge(ctx, chargeID)
}
