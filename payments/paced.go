package payments

import (
	"context"
	"errors"
	"time"

	"licensedesk/pacing"
)

// rateLimitHold is how long every caller pauses after the provider
// answered 429 (Stripe asks for an exponential backoff; the pause is
// shared, and each caller's retry backs off further).
const rateLimitHold = time.Second

// Paced returns p with every call paced by pacer: the provider's rate
// limit (PAYMENTS_RATE), shared by every worker through the pacer's store,
// so that billing day stays under it instead of finding it by 429s. A 429
// that comes anyway (someone else using the same account) holds every
// caller for a second and is returned as the ProviderDownError it is;
// onRateLimited, if set, counts it. A call that cannot get a slot within
// its context's time is a ProviderDownError too: nothing was sent, call
// again with the same key. A nil pacer returns p.
func Paced(p Provider, pacer *pacing.Pacer, onRateLimited func()) Provider {
	if pacer == nil {
		return p
	}
	x := &paced{p: p, pacer: pacer, onRateLimited: onRateLimited}
	if au, ok := p.(Authenticator); ok {
		// Bank authentication goes through the same pacing, and is offered
		// only when the provider offers it: callers test for the interface.
		return &pacedAuthenticator{paced: x, au: au}
	}
	return x
}

type paced struct {
	p             Provider
	pacer         *pacing.Pacer
	onRateLimited func()
}

var (
	_ SetupResolver = (*paced)(nil)
	_ ChargeFinder  = (*paced)(nil)
	_ KeyWindow     = (*paced)(nil)
)

func (x *paced) call(ctx context.Context, op string, fn func() error) error {
	if err := x.pacer.Wait(ctx); err != nil {
		if pacing.IsBusy(err) || errors.Is(err, context.DeadlineExceeded) {
			return &ProviderDownError{Op: op, Err: err}
		}
		return err
	}
	err := fn()
	if RateLimited(err) {
		if x.onRateLimited != nil {
			x.onRateLimited()
		}
		_ = x.pacer.Hold(ctx, rateLimitHold)
	}
	return err
}

func (x *paced) EnsureCustomer(ctx context.Context, in Customer) (id string, err error) {
	err = x.call(ctx, "create customer", func() error { id, err = x.p.EnsureCustomer(ctx, in); return err })
	return id, err
}

func (x *paced) CardSession(ctx context.Context, in CardSessionInput) (s CardSession, err error) {
	err = x.call(ctx, "create card session", func() error { s, err = x.p.CardSession(ctx, in); return err })
	return s, err
}

func (x *paced) SetDefault(ctx context.Context, customerID, paymentMethodID string) (c Card, err error) {
	err = x.call(ctx, "set default payment method", func() error { c, err = x.p.SetDefault(ctx, customerID, paymentMethodID); return err })
	return c, err
}

func (x *paced) Charge(ctx context.Context, in ChargeInput) (c Charge, err error) {
	err = x.call(ctx, "charge", func() error { c, err = x.p.Charge(ctx, in); return err })
	return c, err
}

// ResolveSetup forwards to the provider when it resolves setups.
func (x *paced) ResolveSetup(ctx context.Context, sessionID string) (pm string, err error) {
	r, ok := x.p.(SetupResolver)
	if !ok {
		return "", errors.New("payments: the provider resolves no card sessions")
	}
	err = x.call(ctx, "get card session", func() error { pm, err = r.ResolveSetup(ctx, sessionID); return err })
	return pm, err
}

// FindCharges forwards to the provider when it can list charges.
func (x *paced) FindCharges(ctx context.Context, in FindChargesInput) (found []FoundCharge, err error) {
	f, ok := x.p.(ChargeFinder)
	if !ok {
		return nil, errors.New("payments: the provider cannot list an invoice's charges")
	}
	err = x.call(ctx, "list charges", func() error { found, err = f.FindCharges(ctx, in); return err })
	return found, err
}

// IdempotencyWindow is the provider's.
func (x *paced) IdempotencyWindow() time.Duration { return IdempotencyWindowOf(x.p) }

// pacedAuthenticator is a paced provider that authenticates charges
// (payments.Authenticator), each call paced like the rest.
type pacedAuthenticator struct {
	*paced
	au Authenticator
}

var _ Authenticator = (*pacedAuthenticator)(nil)

func (x *pacedAuthenticator) Authenticate(ctx context.Context, in AuthenticateInput) (a Authentication, err error) {
	err = x.call(ctx, "authenticate charge", func() error { a, err = x.au.Authenticate(ctx, in); return err })
	return a, err
}

func (x *pacedAuthenticator) LookupCharge(ctx context.Context, chargeID string) (c Charge, err error) {
	err = x.call(ctx, "look up charge", func() error { c, err = x.au.LookupCharge(ctx, chargeID); return err })
	return c, err
}

func (x *pacedAuthenticator) CancelCharge(ctx context.Context, chargeID string) (c Charge, err error) {
	err = x.call(ctx, "cancel charge", func() error { c, err = x.au.CancelCharge(ctx, chargeID); return err })
	return c, err
}
