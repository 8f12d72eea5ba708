package licensing

import (
	"slices"
	"time"
)

// BillingDigest is what one billing run did, as its digest in the billing
// channel says it: how many invoices it charged and where each one's
// collection stands now, with amounts per currency. It changes as the
// run's collections finish (a retry that pays, a suspension on day 15).
type BillingDigest struct {
	Run          int64
	StartedAt    time.Time
	ChargingDone bool // every first attempt has been made
	Invoiced     int
	Charging     int // first attempt not made (or not answered) yet
	Paid         int
	DeclinedSoft int // declined, retried on schedule
	DeclinedHard int // declined, waiting for a new card
	Suspended    int
	Reactivated  int // paid after the licence was past due or suspended
	Exceptions   int // lines for a person in the thread, posted or not
	Currencies   []CurrencyTotal
}

// CurrencyTotal is a billing run's money in one currency, in minor units.
type CurrencyTotal struct {
	Currency string
	Invoices int
	Invoiced int64
	Paid     int64
}

// Outstanding is what is invoiced and not paid.
func (c CurrencyTotal) Outstanding() int64 { return c.Invoiced - c.Paid }

// Declined is every invoice whose last attempt was declined.
func (d BillingDigest) Declined() int { return d.DeclinedSoft + d.DeclinedHard }

// SortCurrencies orders the totals by currency code, so the digest reads
// the same on every update.
func (d *BillingDigest) SortCurrencies() {
	slices.SortFunc(d.Currencies, func(a, b CurrencyTotal) int {
		switch {
		case a.Currency < b.Currency:
			return -1
		case a.Currency > b.Currency:
			return 1
		}
		return 0
	})
}

// Billing states of an invoice in its run (billing_run_invoices.state).
const (
	BillingCharging     = "charging"
	BillingPaid         = "paid"
	BillingDeclinedSoft = "declined_soft"
	BillingDeclinedHard = "declined_hard"
	BillingSuspended    = "suspended"
)

// ExceptionKind is why a billing event needs a person.
type ExceptionKind string

const (
	ExceptionHardDecline  ExceptionKind = "hard_decline"  // waiting for a new card
	ExceptionSuspended    ExceptionKind = "suspended"     // the licence is suspended
	ExceptionLargeFailure ExceptionKind = "large_failure" // a large invoice's charge failed
)

// BillingException is one line in a digest's thread: an event that needs
// a person, with what to do about it.
type BillingException struct {
	Kind        ExceptionKind
	SEN         SEN
	Invoice     string
	AmountCents int64
	Currency    string
	Reason      string    // the provider's words, for a decline
	NextRetry   time.Time // for a soft decline; zero when none
}

// Amount is "USD 10.00".
func (e BillingException) Amount() string { return FormatMoney(e.AmountCents, e.Currency) }

// ExceptionFor says which line, if any, a billing event puts in the
// digest's thread: a hard decline (someone must get a new card), a
// suspension, or the failed charge of an invoice of at least large (minor
// units, in its own currency; 0: none is large). A paid invoice or an
// ordinary soft decline needs nobody.
func ExceptionFor(paid, hard, suspended bool, amountCents, large int64) (ExceptionKind, bool) {
	switch {
	case paid:
		return "", false
	case suspended:
		return ExceptionSuspended, true
	case hard:
		return ExceptionHardDecline, true
	case large > 0 && amountCents >= large:
		return ExceptionLargeFailure, true
	}
	return "", false
}
