package licensing

import (
	"fmt"
	"strings"
	"time"
)

// Overdue is a past-due or suspended licence's outstanding invoice and how
// its last charge failed: what a past-due banner, /license show and the
// failure mail say, in the same words.
type Overdue struct {
	SEN         SEN
	Product     string
	Status      Status // PastDue or Suspended
	Invoice     string // its number
	AmountCents int64
	Currency    string
	DueDate     time.Time
	FailedAt    time.Time // the last failed charge; zero when none is recorded
	DeclineCode string    // of that charge
	Reason      string    // the provider's words for it: "Your card was declined."
	// SuspendOn is when a still-unpaid licence is suspended: the due date
	// plus BILLING_SUSPEND_DAYS (WithSuspension sets it). Zero: unknown.
	SuspendOn time.Time
}

// WithSuspension sets SuspendOn from the days after the due date at which
// an unpaid licence is suspended.
func (o Overdue) WithSuspension(after time.Duration) Overdue {
	if after > 0 && !o.DueDate.IsZero() {
		o.SuspendOn = o.DueDate.Add(after)
	}
	return o
}

// Amount is the outstanding amount: "USD 10.00".
func (o Overdue) Amount() string { return FormatMoney(o.AmountCents, o.Currency) }

// Headline says what went wrong: "Payment of USD 10.00 for SEN-1000003
// failed on 28 Nov 2026: card declined."
func (o Overdue) Headline() string {
	switch {
	case o.Status == Suspended:
		s := fmt.Sprintf("%s is suspended: invoice %s (%s) is unpaid.", o.SEN, o.Invoice, o.Amount())
		if !o.FailedAt.IsZero() {
			s += fmt.Sprintf(" The last payment failed on %s: %s.", ShortDate(o.FailedAt), o.DeclineWords())
		}
		return s
	case o.FailedAt.IsZero():
		return fmt.Sprintf("Invoice %s (%s) for %s is unpaid since %s.", o.Invoice, o.Amount(), o.SEN, ShortDate(o.DueDate))
	case o.NeedsAuthentication():
		return fmt.Sprintf("The payment of %s for %s waits for the cardholder: on %s the bank asked them to confirm it.", o.Amount(), o.SEN, ShortDate(o.FailedAt))
	}
	return fmt.Sprintf("Payment of %s for %s failed on %s: %s.", o.Amount(), o.SEN, ShortDate(o.FailedAt), o.DeclineWords())
}

// NeedsAuthentication reports whether the charge waits for the cardholder
// to confirm it with their bank (SCA), rather than for a new card.
func (o Overdue) NeedsAuthentication() bool { return o.DeclineCode == "authentication_required" }

// NextStep says what to do, and by when: "Update your card before 13 Dec
// 2026 to keep Jira Service Management running."
func (o Overdue) NextStep(now time.Time) string {
	product := o.Product
	if product == "" {
		product = string(o.SEN)
	}
	if o.NeedsAuthentication() {
		return o.confirmStep(now, product)
	}
	switch {
	case o.Status == Suspended:
		return fmt.Sprintf("Update your card to make %s active again: the invoice is charged as soon as the card is saved.", product)
	case o.SuspendOn.IsZero() || !now.Before(o.SuspendOn):
		return fmt.Sprintf("Update your card now to keep %s running.", product)
	}
	return fmt.Sprintf("Update your card before %s to keep %s running.", ShortDate(o.SuspendOn), product)
}

// confirmStep is NextStep for a charge waiting for bank authentication.
func (o Overdue) confirmStep(now time.Time, product string) string {
	switch {
	case o.Status == Suspended:
		return fmt.Sprintf("Confirm the payment with your bank (or use another card) to make %s active again.", product)
	case o.SuspendOn.IsZero() || !now.Before(o.SuspendOn):
		return fmt.Sprintf("Confirm the payment with your bank now (or use another card) to keep %s running.", product)
	}
	return fmt.Sprintf("Confirm the payment with your bank before %s (or use another card) to keep %s running.", ShortDate(o.SuspendOn), product)
}

// Sentence is the headline and the next step.
func (o Overdue) Sentence(now time.Time) string { return o.Headline() + " " + o.NextStep(now) }

// DeclineWords is why the charge failed, in plain words for a customer
// ("card declined", "insufficient funds"), from its decline code, else the
// provider's message.
func (o Overdue) DeclineWords() string { return DeclineWords(o.DeclineCode, o.Reason) }

// DeclineWords is a decline in plain words: known codes have our own, and
// anything else the provider's message (or "the charge failed").
func DeclineWords(code, message string) string {
	switch code {
	case "generic_decline", "card_declined", "do_not_honor", "call_issuer":
		return "card declined"
	case "insufficient_funds":
		return "insufficient funds"
	case "lost_card", "stolen_card", "pickup_card":
		return "the card was reported lost or stolen"
	case "expired_card":
		return "the card has expired"
	case "incorrect_number", "invalid_number":
		return "the card number is not right"
	case "incorrect_cvc", "invalid_cvc":
		return "the card's security code is not right"
	case "authentication_required":
		return "the bank wants the cardholder to confirm the payment"
	case "transaction_not_allowed", "revocation_of_authorization", "revocation_of_all_authorizations":
		return "the bank does not allow this payment"
	case "no_card":
		return "no card on file"
	}
	m := strings.TrimSuffix(strings.TrimSpace(message), ".")
	if m == "" {
		return "the charge failed"
	}
	return strings.ToLower(m[:1]) + m[1:]
}

// ShortDate is a day customers read without doubt: "28 Nov 2026" (UTC).
func ShortDate(t time.Time) string { return t.UTC().Format("2 Jan 2006") }
