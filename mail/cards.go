package mail

import (
	"time"

	"licensedesk/licensing"
)

// ConfirmPayment asks someone allowed to pay for a licence to confirm a
// charge with their bank (bank authentication, SCA): the bank asked the
// cardholder to confirm an off-session charge. Sent when the bank asks,
// again on the retry schedule (Reminder), and at suspension (Suspended).
type ConfirmPayment struct {
	Name          string    // the recipient's display name; may be empty
	SEN           string    // the licence
	Product       string    // the licence's product name
	Amount        string    // the invoice's amount, "USD 10.00"
	InvoiceNumber string    // the invoice
	Card          string    // optional, the card the bank asks about: "visa •••• 3184"
	AskedAt       time.Time // when the bank asked; zero: not said
	// ConfirmURL is the recipient's own link to the bank's check of this
	// same payment; without it, they are told whom to ask.
	ConfirmURL string
	Deadline   time.Time // when ConfirmURL expires (needed only with it)
	// UpdateURL, optional: their own update-card link, the other way to pay.
	UpdateURL      string
	UpdateDeadline time.Time
	SuspendOn      time.Time // when the licence is suspended if still unpaid; may be zero
	Suspended      bool      // it is suspended now
	Reminder       bool      // a reminder of an earlier mail: the subject says so
	UpdaterOnly    bool      // not a billing contact: someone who may update the card
	SiteAdmins     []string  // named when the recipient must ask a site admin
}

// CardExpiring tells someone allowed to update a licence's card that the
// card expires soon (30 and 7 days before), or that a charge is due after
// it expired, with their own update-card link.
type CardExpiring struct {
	Name       string    // the recipient's display name; may be empty
	SEN        string    // the licence
	Product    string    // the licence's product name
	Card       string    // the card: "Visa ending 4242"
	Expires    time.Time // the first day the card no longer works
	Expired    bool      // it has expired already
	NextCharge time.Time // the next billing date; zero: not said
	Amount     string    // the next charge, "USD 10.00"; may be empty
	UpdateURL  string    // their own update-card link
	Deadline   time.Time // when UpdateURL expires
	Annual     bool      // an annual licence, whose card only a site admin may update
}

// LastGoodDay is the last day the card works: the end of its expiry month.
func (d CardExpiring) LastGoodDay() time.Time { return d.Expires.AddDate(0, 0, -1) }

// ChargeAfterExpiry reports whether the next charge falls after the card expires.
func (d CardExpiring) ChargeAfterExpiry() bool {
	return !d.NextCharge.IsZero() && !d.NextCharge.Before(d.Expires)
}

func (d ConfirmPayment) Why() string { return licensing.DeclineWords("authentication_required", "") }

func (d ConfirmPayment) check() error {
	p := need("SEN", d.SEN, "Amount", d.Amount, "InvoiceNumber", d.InvoiceNumber)
	if d.ConfirmURL != "" {
		p = p.deadline(d.Deadline)
	}
	if d.UpdateURL != "" && d.UpdateDeadline.IsZero() {
		p = append(p, "UpdateDeadline")
	}
	return p.err()
}

func (d CardExpiring) check() error {
	p := need("SEN", d.SEN, "Card", d.Card, "UpdateURL", d.UpdateURL).deadline(d.Deadline)
	if d.Expires.IsZero() {
		p = append(p, "Expires")
	}
	return p.err()
}

func (d ConfirmPayment) reminder() bool { return d.Reminder }
