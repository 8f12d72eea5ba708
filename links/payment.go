package links

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"licensedesk/licensing"
	"licensedesk/payments"
	"licensedesk/postgres"
)

// Bank authentication (SCA): a confirm_payment link leads to the bank's
// check of the charge the bank asked the cardholder to confirm, the same
// charge the collection made (payments.Authenticator). The link is not
// spent on the way: someone who backs out, or fails the bank's check, can
// use it again; it ends when the invoice is paid (its collection revokes
// its links) or it expires.

var errNoAuthenticator = licensing.Errorf(licensing.FailedPrecondition, "Payments can't be confirmed with the bank here; use another card instead.")

// confirmPayment sends the person to the bank's check of the invoice's
// waiting charge. Who may pay is checked again now; an invoice paid
// meanwhile, or whose charge was replaced by a new attempt, is said so
// and nothing happens.
func (s *Service) confirmPayment(ctx context.Context, k postgres.Link, token string) (Result, error) {
	l, err := s.DB.License(ctx, k.SEN)
	if err != nil {
		return Result{}, err
	}
	if err := licensing.MayUseLink(l, k.Purpose, k.Email); err != nil {
		return Result{}, err
	}
	number := dataString(k.Data, "invoice")
	aw, err := s.waitingCharge(ctx, number)
	if err != nil {
		return Result{}, err
	}
	au, ok := s.Payments.(payments.Authenticator)
	if !ok {
		return Result{}, errNoAuthenticator
	}
	a, err := au.Authenticate(ctx, payments.AuthenticateInput{ChargeID: aw.ChargeID, PaymentMethodID: aw.PaymentMethod,
		ReturnURL: s.PublicBaseURL + PaymentConfirmedPath})
	var d *payments.DeclineError
	switch {
	case errors.Is(err, payments.ErrChargeCanceled):
		return Result{}, errReplaced(number)
	case errors.As(err, &d):
		return Result{}, licensing.Errorf(licensing.FailedPrecondition, "Your bank declined the payment (%s). Nothing was charged; use another card instead.",
			licensing.DeclineWords(d.Code, d.Message))
	case err != nil:
		return Result{}, err
	case a.Status == payments.ChargeSucceeded:
		return s.alreadyConfirmed(l, number), nil
	}
	return Result{RedirectURL: a.URL, ReturnPath: "/payment/",
		ReturnRef: base64.RawURLEncoding.EncodeToString(postgres.TokenHash(token))}, nil
}

// waitingCharge is the invoice's charge that waits for the cardholder, or
// why there is none: paid already (Gone), or a new attempt running.
func (s *Service) waitingCharge(ctx context.Context, number string) (*postgres.AwaitingAuth, error) {
	inv, err := s.DB.Invoice(ctx, number)
	if err != nil {
		return nil, err
	}
	if inv.Paid {
		return nil, licensing.Errorf(licensing.Gone, "Invoice %s is already paid, so there is nothing to confirm with your bank. Nothing more was charged.", number)
	}
	aw, err := s.DB.AwaitingAuthentication(ctx, number, 0)
	if err != nil {
		return nil, err
	}
	if aw == nil {
		return nil, errReplaced(number)
	}
	return aw, nil
}

func errReplaced(number string) error {
	return licensing.Errorf(licensing.FailedPrecondition,
		"Invoice %s is no longer waiting for your bank: it is being charged again (with a new card, or a retry). Nothing was charged for this request; you'll get an email with the result.", number)
}

func (s *Service) alreadyConfirmed(l licensing.License, number string) Result {
	return Result{SEN: string(l.SEN), Product: l.Product, Title: "Your bank has already confirmed this payment",
		Message: fmt.Sprintf("The payment for invoice %s went through; nothing more is charged.", number),
		Next:    []string{"We'll email the licence's billing contacts the receipt in a moment."},
		Actions: []Step{{Label: "Check again", URL: PaymentConfirmedPath}, ToAccount}}
}

// PaymentConfirmed is the page the bank's check sends people back to: the
// real outcome as far as it is known. ref is what confirmPayment gave
// (Result.ReturnRef); without a usable one the page says what happens in
// general. It changes nothing: it reads our records and the provider's.
func (s *Service) PaymentConfirmed(ctx context.Context, ref string) (Result, error) {
	unknown := Result{Title: "Thank you",
		Message: "If you confirmed a payment with your bank, it reaches us in a moment.",
		Next:    []string{"We'll email the licence's billing contacts the receipt, or what is still needed."},
		Actions: []Step{ToAccount}}
	hash, err := base64.RawURLEncoding.DecodeString(ref)
	if err != nil || len(hash) != 32 {
		return unknown, nil
	}
	st, err := s.DB.LinkStateByHash(ctx, hash)
	if licensing.ErrorCode(err) == licensing.NotFound || (err == nil && st.Purpose != licensing.PurposeConfirmPayment) {
		return unknown, nil
	}
	if err != nil {
		return Result{}, err
	}
	l, err := s.DB.License(ctx, st.SEN)
	if err != nil {
		return Result{}, err
	}
	number := dataString(st.Data, "invoice")
	inv, err := s.DB.Invoice(ctx, number)
	if err != nil {
		return Result{}, err
	}
	r := Result{SEN: string(l.SEN), Product: l.Product, Actions: []Step{ToAccount}}
	if inv.Paid {
		r.Title = "Thank you: the payment went through"
		r.Message = fmt.Sprintf("Invoice %s (%s) is paid, and %s is in good standing.", number, licensing.FormatMoney(inv.AmountCents, inv.Currency), l.SEN)
		r.Next = []string{"The billing contacts get the receipt by email."}
		return r, nil
	}
	aw, err := s.DB.AwaitingAuthentication(ctx, number, 0)
	if err != nil {
		return Result{}, err
	}
	status := ""
	if au, ok := s.Payments.(payments.Authenticator); ok && aw != nil {
		c, err := au.LookupCharge(ctx, aw.ChargeID)
		if err != nil {
			return Result{}, err
		}
		status = c.Status
	}
	return paymentOutcome(r, number, status), nil
}

// paymentOutcome words an unpaid invoice's result page by where its
// waiting charge stands at the provider.
func paymentOutcome(r Result, number, status string) Result {
	switch status {
	case payments.ChargeSucceeded:
		r.Title = "Your bank confirmed the payment"
		r.Message = fmt.Sprintf("The payment for invoice %s went through; we're recording it now.", number)
		r.Next = []string{"The billing contacts get the receipt by email.", "Or check again here in a moment."}
		r.Actions = []Step{{Label: "Check again", URL: PaymentConfirmedPath}, ToAccount}
	case payments.ChargeRequiresAction:
		r.Title = "Your bank is still waiting for you"
		r.Message = fmt.Sprintf("The bank's check of the payment for invoice %s is still open. Nothing has been charged yet.", number)
		r.Next = []string{"Open the link in your email again to go back to your bank's page."}
	case payments.ChargeRequiresPaymentMethod:
		r.Title = "Your bank did not confirm the payment"
		r.Message = fmt.Sprintf("Nothing was charged for invoice %s.", number)
		r.Next = []string{"Open the link in your email again to try once more, or use another card from your account page."}
	default:
		r.Title = "This payment is being made another way"
		r.Message = fmt.Sprintf("Invoice %s is no longer waiting for your bank: it is being charged again (with a new card, or a retry). Nothing was charged through your bank's page.", number)
		r.Next = []string{"You'll get an email with the result."}
	}
	return r
}
