package sandbox

// TestCard is one of Stripe's documented test payment methods
// (https://docs.stripe.com/testing), and what the sandbox does with it.
type TestCard struct {
	ID        string // Stripe's magic payment method id, e.g. pm_card_visa
	Brand     string
	Last4     string
	Label     string // "Visa ending in 4242"
	Behaviour string // what happens, in plain words, for the card page

	// A charge declines when DeclineCode or ErrorCode is set, as Stripe
	// does: error code card_declined with a decline_code, or an error code
	// alone (expired_card).
	ErrorCode   string
	DeclineCode string
	Message     string
	// Authenticate: the bank wants every payment confirmed by the
	// cardholder (3-D Secure), as Stripe's pm_card_authenticationRequired:
	// an off-session charge fails with authentication_required and waits;
	// confirmed on the bank's challenge page, it succeeds.
	Authenticate bool
}

// Declines reports whether charging the card fails.
func (c TestCard) Declines() bool { return c.ErrorCode != "" }

// Code is the decline code the providers report (payments.DeclineError.Code):
// the decline_code, or the error code when there is none.
func (c TestCard) Code() string {
	if c.Authenticate {
		return "authentication_required"
	}
	if c.DeclineCode != "" {
		return c.DeclineCode
	}
	return c.ErrorCode
}

// cards is SPEC §7's list, in the order the card page shows it.
var cards = []TestCard{
	{ID: "pm_card_visa", Brand: "visa", Last4: "4242", Label: "Visa ending in 4242",
		Behaviour: "Payments go through."},
	{ID: "pm_card_mastercard", Brand: "mastercard", Last4: "4444", Label: "Mastercard ending in 4444",
		Behaviour: "Payments go through."},
	{ID: "pm_card_chargeDeclined", Brand: "visa", Last4: "0002", Label: "Visa ending in 0002",
		Behaviour:   "Saved, but the bank declines every payment without a reason (generic decline). Retried later.",
		ErrorCode:   "card_declined",
		DeclineCode: "generic_decline", Message: "Your card was declined."},
	{ID: "pm_card_chargeDeclinedInsufficientFunds", Brand: "visa", Last4: "9995", Label: "Visa ending in 9995",
		Behaviour:   "Saved, but payments are declined for insufficient funds. Retried later.",
		ErrorCode:   "card_declined",
		DeclineCode: "insufficient_funds", Message: "Your card has insufficient funds."},
	{ID: "pm_card_chargeDeclinedStolenCard", Brand: "visa", Last4: "9979", Label: "Visa ending in 9979",
		Behaviour:   "Saved, but payments are declined because the card is reported stolen. Not retried until a new card is added.",
		ErrorCode:   "card_declined",
		DeclineCode: "stolen_card", Message: "Your card was declined."},
	{ID: "pm_card_chargeDeclinedExpiredCard", Brand: "visa", Last4: "0069", Label: "Visa ending in 0069",
		Behaviour: "Saved, but payments are declined because the card has expired. Retried later.",
		ErrorCode: "expired_card", Message: "Your card has expired."},
	{ID: "pm_card_authenticationRequired", Brand: "visa", Last4: "3184", Label: "Visa ending in 3184",
		Behaviour:    "Saved, but the bank asks the cardholder to confirm every payment (3-D Secure): a charge waits until they confirm it on the bank's page.",
		Authenticate: true, Message: "Your card was declined. This transaction requires authentication."},
	{ID: "pm_card_chargeCustomerFail", Brand: "visa", Last4: "0341", Label: "Visa ending in 0341",
		Behaviour:   "Saved on the account without trouble, then every payment fails (generic decline). Retried later.",
		ErrorCode:   "card_declined",
		DeclineCode: "generic_decline", Message: "Your card was declined."},
}

// Cards returns the test cards the sandbox knows, in display order.
func Cards() []TestCard { return append([]TestCard(nil), cards...) }

// LookupCard returns the test card with Stripe's magic id (pm_card_visa...).
func LookupCard(id string) (TestCard, bool) {
	for _, c := range cards {
		if c.ID == id {
			return c, true
		}
	}
	return TestCard{}, false
}
