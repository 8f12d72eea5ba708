package payments

import (
	"context"
	"errors"
)

// Bank authentication (SCA). Under strong customer authentication a bank
// may ask the cardholder to confirm an off-session charge even on a good
// card: Charge then fails with ErrNeedsAction, and the charge it made (a
// PaymentIntent at Stripe, status requires_payment_method) stays with the
// provider. The cardholder is brought back on-session to authenticate
// that same charge; a second charge is never made for it.
//
// Never twice: before another charge is made for the same invoice, the one
// awaiting the cardholder is cancelled (CancelCharge); one that succeeded
// meanwhile cannot be cancelled, and is then the payment. The provider
// serialises the two (a PaymentIntent is confirmed or cancelled, never
// both), so a challenge completed while a retry starts charges once.

// Authenticator brings a cardholder back to a charge their bank wants
// confirmed. Both providers implement it.
type Authenticator interface {
	// Authenticate prepares the charge chargeID for the cardholder's
	// on-session confirmation (Stripe: confirm the same PaymentIntent with
	// in.ReturnURL) and says where to send them (Stripe: next_action's
	// redirect_to_url). Calling it again while the bank's challenge is
	// open returns the same challenge. A charge that succeeded meanwhile
	// comes back with Status succeeded and no URL; one cancelled, with
	// ErrChargeCanceled.
	Authenticate(ctx context.Context, in AuthenticateInput) (Authentication, error)

	// LookupCharge reads a charge as the provider has it now.
	LookupCharge(ctx context.Context, chargeID string) (Charge, error)

	// CancelCharge cancels a charge that has not succeeded, so that it
	// never can. One that has succeeded is not an error: it comes back
	// with Status succeeded, and is the payment. Cancelling again is
	// harmless.
	CancelCharge(ctx context.Context, chargeID string) (Charge, error)
}

// AuthenticateInput names the charge to authenticate.
type AuthenticateInput struct {
	ChargeID        string // the provider's charge (PaymentIntent) id
	PaymentMethodID string // the card it was made with
	// ReturnURL is where the bank's challenge sends the person back,
	// whatever the outcome. Stripe appends ?payment_intent=pi_...
	ReturnURL string
}

// Authentication is a charge prepared for the cardholder.
type Authentication struct {
	Status string // the charge's status now: ChargeRequiresAction, or ChargeSucceeded
	URL    string // send the person here (with ChargeRequiresAction)
}

// The statuses of a charge besides ChargeSucceeded (Stripe's PaymentIntent
// statuses).
const (
	ChargeRequiresAction        = "requires_action"         // the bank's challenge is open
	ChargeRequiresPaymentMethod = "requires_payment_method" // declined, or authentication not (yet) done
	ChargeCanceled              = "canceled"
)

// ErrChargeCanceled is a charge that was cancelled (superseded by another
// attempt): it can no longer be authenticated.
var ErrChargeCanceled = errors.New("payments: this charge was cancelled and can no longer be paid")
