package links

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"licensedesk/licensing"
)

// CheckAgain reloads the page the provider sent the person back to.
var CheckAgain = Step{Label: "Check again", URL: CardSavedPath}

// CardSaved is the page the payment provider sends people back to after
// they saved a card: the real outcome as far as it is known (the card
// arrives by webhook, and the charge it triggers a moment later). ref is
// what cardSession gave (Result.ReturnRef); without a usable one, the page
// says what happens in general and that the result comes by mail.
func (s *Service) CardSaved(ctx context.Context, ref string, now time.Time) (Result, error) {
	unknown := Result{Title: "Thank you",
		Message: "If you saved a card, our payment provider passes it on to us in a moment.",
		Next:    []string{"We'll email the licence's billing contacts when the card is on file, and the result of charging any outstanding invoice."},
		Actions: []Step{ToAccount}}
	hash, err := base64.RawURLEncoding.DecodeString(ref)
	if err != nil || len(hash) != 32 {
		return unknown, nil
	}
	st, err := s.DB.LinkStateByHash(ctx, hash)
	if licensing.ErrorCode(err) == licensing.NotFound || (err == nil && st.Purpose != licensing.PurposeCardUpdate) {
		return unknown, nil
	}
	if err != nil {
		return Result{}, err
	}
	l, err := s.DB.License(ctx, st.SEN)
	if err != nil {
		return Result{}, err
	}
	o, err := s.DB.Overdue(ctx, st.SEN)
	if err != nil {
		return Result{}, err
	}
	r := Result{SEN: string(l.SEN), Product: l.Product, Actions: []Step{ToAccount}}
	card := "Your new card"
	if l.PaymentMethod != nil {
		card = "Your card, " + licensing.CardName(*l.PaymentMethod) + ","
	}
	switch {
	case st.UsedAt.IsZero():
		r.Title = "We're saving your card"
		r.Message = fmt.Sprintf("Our payment provider has your card for %s; it reaches us in a moment.", l.SEN)
		r.Next = []string{"We'll email the licence's billing contacts when it is on file" + owed(o) + ".", "This page checks again by itself every few seconds."}
		r.Actions = []Step{CheckAgain, ToAccount}
		r.Tone, r.Refresh = ToneWait, 3
	case o != nil && o.FailedAt.After(st.UsedAt) && o.NeedsAuthentication():
		with := o.WithSuspension(s.suspendAfter())
		r.Title = "Your card is saved; your bank asks you to confirm the payment"
		r.Message = with.Headline()
		r.Next = []string{with.NextStep(now), "We've emailed a link to your bank's check to those who may pay; your account page has the button too."}
		r.Tone = ToneWait // on the cardholder, not on us: no refresh
	case o != nil && o.FailedAt.After(st.UsedAt):
		with := o.WithSuspension(s.suspendAfter())
		r.Title = "Your card is saved, but the payment failed"
		r.Message = with.Headline()
		r.Next = []string{with.NextStep(now) + " Try another card: it is charged as soon as it is saved."}
		r.Tone, r.RetryCard = ToneBad, true
	case o != nil:
		r.Title = "Your card is saved; we're charging it now"
		r.Message = fmt.Sprintf("%s is on file for %s, and invoice %s (%s) is being charged to it.", card, l.SEN, o.Invoice, o.Amount())
		r.Next = []string{"We'll email the licence's billing contacts the result.", "This page checks again by itself every few seconds."}
		r.Actions = []Step{CheckAgain, ToAccount}
		r.Tone, r.Refresh = ToneWait, 3
	default:
		r.Title = "Thank you: your card is saved"
		r.Message = fmt.Sprintf("%s is on file for %s.", card, l.SEN)
		paid, err := s.DB.PaidSince(ctx, l.SEN, st.UsedAt)
		if err != nil {
			return Result{}, err
		}
		if paid != nil {
			r.Title = "Thank you: your card is saved and the invoice is paid"
			r.Next = []string{fmt.Sprintf("Invoice %s (%s) is paid, and %s is in good standing.", paid.Invoice,
				licensing.FormatMoney(paid.AmountCents, paid.Currency), l.SEN)}
		} else if !l.NextBillingDate.IsZero() {
			r.Next = []string{fmt.Sprintf("It is charged on the next billing date, %s.", licensing.ShortDate(l.NextBillingDate))}
		}
	}
	return r, nil
}

// owed names the charge a saved card triggers, if any.
func owed(o *licensing.Overdue) string {
	if o == nil {
		return ""
	}
	return fmt.Sprintf(", and the result of charging invoice %s (%s)", o.Invoice, o.Amount())
}
