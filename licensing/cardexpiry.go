package licensing

import (
	"fmt"
	"time"
)

// Expiring cards. A card is good to the last day of its expiry month: it
// expires (no longer works) on the first day of the month after. Those
// allowed to update it are told 30 and 7 days before (CardReminder30,
// CardReminder7), and again before a charge that falls due after it
// expired (CardReminderDue); the account page shows a banner from 30 days
// before until the card is replaced.

// CardReminderDays are the days before a card expires that its reminders
// go out, earliest first.
var CardReminderDays = []int{30, 7}

// CardDueNoticeDays is how long before a charge due after the card
// expired its reminder goes out.
const CardDueNoticeDays = 7

// CardExpiresOn is the first day a card with this expiry no longer works
// (UTC midnight).
func CardExpiresOn(month, year int) time.Time {
	return time.Date(year, time.Month(month)+1, 1, 0, 0, 0, 0, time.UTC)
}

// ExpiringCard is a licence's card that expires soon or has expired: what
// its banner and reminders say.
type ExpiringCard struct {
	SEN        SEN
	Product    string
	Card       string    // "Visa ending 4242"
	Expires    time.Time // the first day it no longer works
	Expired    bool
	NextCharge time.Time // the next billing date
	Amount     string    // of that charge, "USD 10.00"
}

// CardExpiry says whether l's card needs replacing as of now: it expires
// within the first reminder's days or has expired, on a licence still
// billed (cloud, not cancelled). Nil when not.
func CardExpiry(l License, now time.Time) *ExpiringCard {
	if l.PaymentMethod == nil || l.Deployment != Cloud || l.Status == Cancelled {
		return nil
	}
	pm := *l.PaymentMethod
	expires := CardExpiresOn(pm.ExpMonth, pm.ExpYear)
	if now.AddDate(0, 0, CardReminderDays[0]).Before(expires) {
		return nil
	}
	return &ExpiringCard{SEN: l.SEN, Product: l.Product, Card: CardName(pm), Expires: expires, Expired: !now.Before(expires),
		NextCharge: l.NextBillingDate, Amount: FormatMoney(l.PriceCents, l.Currency)}
}

// ChargeAfterExpiry reports whether the next charge falls on or after the
// day the card stops working.
func (c ExpiringCard) ChargeAfterExpiry() bool {
	return !c.NextCharge.IsZero() && !c.NextCharge.Before(c.Expires)
}

// Title is the banner's heading.
func (c ExpiringCard) Title() string {
	if c.Expired {
		return fmt.Sprintf("The card for %s has expired", c.SEN)
	}
	return fmt.Sprintf("The card for %s expires soon", c.SEN)
}

// Sentence says what happens and what to do: "Visa ending 4242 works until
// 31 Dec 2026; the next charge, USD 10.00 on 15 Jan 2027, comes after it.
// Update the card before then."
func (c ExpiringCard) Sentence() string {
	last := ShortDate(c.Expires.AddDate(0, 0, -1))
	s := fmt.Sprintf("%s works until %s.", c.Card, last)
	if c.Expired {
		s = fmt.Sprintf("%s expired after %s.", c.Card, last)
	}
	if c.ChargeAfterExpiry() {
		return s + fmt.Sprintf(" The next charge, %s on %s, would fail with it: update the card before then.", c.Amount, ShortDate(c.NextCharge))
	}
	return s + " Update the card to keep the charges after that going through."
}
