package stripeprovider

import (
	"context"
	"errors"
	"fmt"

	"github.com/stripe/stripe-go/v76"

	"licensedesk/payments"
)

var _ payments.Authenticator = (*Provider)(nil)

// Authenticate brings the cardholder to the bank's challenge for the same
// PaymentIntent the off-session charge made (never a new one): it reads the
// PaymentIntent, and unless its challenge is already open (requires_action
// with a redirect_to_url) confirms it on-session with the card and
// in.ReturnURL, which makes Stripe answer requires_action with
// next_action.redirect_to_url: the URL to send the person to. Stripe sends
// them back to in.ReturnURL with ?payment_intent=pi_... and reports the
// outcome as payment_intent.succeeded or .payment_failed.
func (p *Provider) Authenticate(ctx context.Context, in payments.AuthenticateInput) (payments.Authentication, error) {
	if in.ChargeID == "" || in.ReturnURL == "" {
		return payments.Authentication{}, errors.New("stripe: authenticating a charge needs its payment intent and a return URL")
	}
	get := &stripe.PaymentIntentParams{}
	get.Context = ctx
	pi, err := p.api.PaymentIntents.Get(in.ChargeID, get)
	if err != nil {
		return payments.Authentication{}, mapError("get payment intent", err)
	}
	if a, done, err := authentication(pi); done {
		return a, err
	}
	confirm := &stripe.PaymentIntentConfirmParams{
		PaymentMethod: optional(in.PaymentMethodID),
		ReturnURL:     stripe.String(in.ReturnURL),
		OffSession:    stripe.Bool(false), // the cardholder is here now
	}
	confirm.Context = ctx
	pi, err = p.api.PaymentIntents.Confirm(in.ChargeID, confirm)
	if err != nil {
		return payments.Authentication{}, mapError("confirm payment intent", err)
	}
	if a, done, err := authentication(pi); done {
		return a, err
	}
	return payments.Authentication{Status: string(pi.Status)},
		fmt.Errorf("stripe: payment intent %s came back %q without a bank challenge to send the cardholder to", pi.ID, pi.Status)
}

// authentication reads where a PaymentIntent stands for the cardholder:
// done is false when it still needs an on-session confirmation.
func authentication(pi *stripe.PaymentIntent) (a payments.Authentication, done bool, err error) {
	a.Status = string(pi.Status)
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		return a, true, nil
	case stripe.PaymentIntentStatusCanceled:
		return a, true, payments.ErrChargeCanceled
	case stripe.PaymentIntentStatusProcessing:
		return a, true, payments.ErrProcessing
	case stripe.PaymentIntentStatusRequiresAction:
		if n := pi.NextAction; n != nil && n.RedirectToURL != nil && n.RedirectToURL.URL != "" {
			a.URL = n.RedirectToURL.URL
			return a, true, nil
		}
	}
	return a, false, nil
}

// LookupCharge reads a PaymentIntent.
func (p *Provider) LookupCharge(ctx context.Context, chargeID string) (payments.Charge, error) {
	params := &stripe.PaymentIntentParams{}
	params.Context = ctx
	pi, err := p.api.PaymentIntents.Get(chargeID, params)
	if err != nil {
		return payments.Charge{}, mapError("get payment intent", err)
	}
	return payments.Charge{ID: pi.ID, Status: string(pi.Status)}, nil
}

// CancelCharge cancels a PaymentIntent that has not succeeded. Stripe
// refuses to cancel one that succeeded (or was cancelled) with
// payment_intent_unexpected_state: then it is read, and its status is the
// answer.
func (p *Provider) CancelCharge(ctx context.Context, chargeID string) (payments.Charge, error) {
	params := &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String(string(stripe.PaymentIntentCancellationReasonAbandoned))}
	params.Context = ctx
	pi, err := p.api.PaymentIntents.Cancel(chargeID, params)
	var se *stripe.Error
	if errors.As(err, &se) && se.Code == stripe.ErrorCodePaymentIntentUnexpectedState {
		return p.LookupCharge(ctx, chargeID)
	}
	if err != nil {
		return payments.Charge{}, mapError("cancel payment intent", err)
	}
	return payments.Charge{ID: pi.ID, Status: string(pi.Status)}, nil
}
