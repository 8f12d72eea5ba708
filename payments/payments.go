// Package payments is what licensedesk's billing needs from a payment
// provider, with one error vocabulary for every implementation:
//
//   - payments/stripe talks to Stripe through stripe-go (or to stripe-mock
//     in tests, through STRIPE_API_URL);
//   - payments/sandbox is the embedded stand-in used when no
//     STRIPE_SECRET_KEY is set (SPEC §7): stateful in PostgreSQL, with
//     Stripe's test cards and its own hosted card page.
//
// Cards are captured by the provider's hosted page, never by us: we only
// ever hold a payment method's id, brand, last four digits and expiry.
//
// Both implementations report back through the same signed webhook format,
// Stripe's (see ParseWebhook and WebhookHandler).
package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"
)

// Provider is what the billing workflows' activities call. Every method is
// safe to call again after a crash or timeout: EnsureCustomer is idempotent
// by SEN, CardSession and Charge by their IdempotencyKey, SetDefault by
// nature.
type Provider interface {
	// EnsureCustomer returns the provider's customer for a licence,
	// creating it once (idempotent by SEN). Store the id (licenses.
	// payment_customer) and pass it to the other calls.
	EnsureCustomer(ctx context.Context, in Customer) (customerID string, err error)

	// CardSession starts a hosted card capture (Stripe Checkout in setup
	// mode); the person is sent to the session's URL. When they finish, a
	// checkout.session.completed webhook carries in.Reference back.
	CardSession(ctx context.Context, in CardSessionInput) (CardSession, error)

	// SetDefault makes a captured payment method the customer's invoice
	// default (attaching it first if needed) and describes the card.
	SetDefault(ctx context.Context, customerID, paymentMethodID string) (Card, error)

	// Charge charges off-session and confirms at once. The caller builds
	// in.IdempotencyKey from business data (invoice number and attempt):
	// the same key never charges twice, and a call repeated with it
	// returns the first call's outcome.
	//
	// A nil error means the money was taken (Charge.Status "succeeded").
	// Otherwise the error is a *DeclineError (the card was refused; Hard
	// says whether retrying the same card is pointless), ErrNeedsAction,
	// ErrProcessing, a *ProviderDownError (no answer: call again with the
	// same key), or an ordinary error (a bug or a configuration problem).
	// On a decline the returned Charge still carries the provider's id.
	Charge(ctx context.Context, in ChargeInput) (Charge, error)
}

// SetupResolver finds the payment method a completed card session
// captured. Stripe's checkout.session.completed event names only the
// SetupIntent, so the Stripe provider fetches it; the sandbox puts the
// payment method in the event already and answers from its own records.
// Both providers implement it.
type SetupResolver interface {
	ResolveSetup(ctx context.Context, sessionID string) (paymentMethodID string, err error)
}

// Customer is the licence a provider customer stands for.
type Customer struct {
	SEN   string // required; the customer's idempotency key and metadata
	Email string // the primary billing contact, for the provider's receipts
	Name  string
}

// CardSessionInput describes a hosted card capture.
type CardSessionInput struct {
	CustomerID string
	SEN        string
	// Reference is ours (a link or workflow reference); the provider
	// echoes it back in the webhook as client_reference_id.
	Reference string
	// SuccessURL and CancelURL are where the person lands afterwards.
	// "{CHECKOUT_SESSION_ID}" in SuccessURL is replaced by the session id
	// (Stripe does it; so does the sandbox).
	SuccessURL string
	CancelURL  string
	// IdempotencyKey, when set, makes a repeated call return the same
	// session instead of a new one.
	IdempotencyKey string
}

// CardSession is a started hosted card capture.
type CardSession struct {
	ID  string
	URL string // send the person here
	// ExpiresAt is when the provider stops accepting the session (Stripe:
	// 24 hours). Create sessions when the person arrives, not when an
	// email is sent.
	ExpiresAt time.Time
}

// Card describes a payment method; never a card number.
type Card struct {
	ID       string // the provider's payment method id
	Brand    string // "visa", "mastercard", ...
	Last4    string
	ExpMonth int
	ExpYear  int
}

// ChargeInput is one off-session charge.
type ChargeInput struct {
	CustomerID      string
	PaymentMethodID string
	AmountCents     int64
	Currency        string // ISO 4217, either case ("USD" or "usd")
	Description     string
	// IdempotencyKey is required, and built from business data, e.g.
	// "SEN-1000001-2026-12/2" (invoice number and attempt number).
	IdempotencyKey string
	Metadata       map[string]string
}

// Charge is the provider's record of a charge.
type Charge struct {
	ID     string // Stripe: the PaymentIntent id (pi_...)
	Status string // "succeeded" when the money was taken
}

// ChargeSucceeded is Charge.Status when the money was taken.
const ChargeSucceeded = "succeeded"

var currencyRE = regexp.MustCompile(`^[A-Za-z]{3}$`)

// Validate reports a charge that must not be sent: every field but
// Description and Metadata is required, the amount must be positive.
func (in ChargeInput) Validate() error {
	switch {
	case in.IdempotencyKey == "":
		return errors.New("payments: a charge needs an idempotency key built from business data")
	case in.CustomerID == "":
		return errors.New("payments: a charge needs a customer")
	case in.PaymentMethodID == "":
		return errors.New("payments: a charge needs a payment method")
	case in.AmountCents <= 0:
		return fmt.Errorf("payments: charge amount %d is not positive", in.AmountCents)
	case !currencyRE.MatchString(in.Currency):
		return fmt.Errorf("payments: currency %q is not an ISO 4217 code", in.Currency)
	}
	return nil
}

// hardDeclines are the decline codes SPEC §2 says not to retry until a new
// card is set: retrying the same card cannot succeed (or must not be tried).
var hardDeclines = map[string]bool{
	"incorrect_number":                 true,
	"lost_card":                        true,
	"pickup_card":                      true,
	"stolen_card":                      true,
	"revocation_of_authorization":      true,
	"revocation_of_all_authorizations": true,
	"authentication_required":          true,
	"transaction_not_allowed":          true,
}

// HardDeclineCodes returns SPEC §2's list of hard decline codes.
func HardDeclineCodes() []string {
	return []string{
		"incorrect_number", "lost_card", "pickup_card", "stolen_card",
		"revocation_of_authorization", "revocation_of_all_authorizations",
		"authentication_required", "transaction_not_allowed",
	}
}

// IsHardDecline reports whether a decline code (Stripe's decline_code, or
// its error code when there is none) is on SPEC §2's hard list.
func IsHardDecline(code string) bool { return hardDeclines[code] }

// DeclineError is a charge the card issuer (or the provider's fraud checks)
// refused. Soft declines (insufficient_funds, generic_decline, expired_card,
// ...) may succeed later on the retry schedule; hard ones wait for a new
// card.
type DeclineError struct {
	Code     string // Stripe's decline_code, or its error code when there is none
	Hard     bool   // IsHardDecline(Code)
	Message  string // the provider's words, fit to show a customer
	ChargeID string // the provider's charge (PaymentIntent) id, when one was created
}

// NewDecline returns a DeclineError with Hard set from SPEC §2's list.
func NewDecline(code, message, chargeID string) *DeclineError {
	return &DeclineError{Code: code, Hard: IsHardDecline(code), Message: message, ChargeID: chargeID}
}

func (e *DeclineError) Error() string {
	kind := "soft"
	if e.Hard {
		kind = "hard"
	}
	if e.Message == "" {
		return fmt.Sprintf("card declined (%s, %s)", e.Code, kind)
	}
	return fmt.Sprintf("card declined (%s, %s): %s", e.Code, kind, e.Message)
}

// Is makes an authentication_required decline match ErrNeedsAction too: an
// off-session charge the bank wants the customer to authenticate is both.
func (e *DeclineError) Is(target error) bool {
	return target == ErrNeedsAction && e.Code == "authentication_required"
}

// ErrNeedsAction is a charge the customer must act on (authenticate with
// their bank: Stripe's authentication_required, the PaymentIntent left
// open). Off-session there is nobody to act: the charge waits for the
// cardholder to confirm it on-session (Authenticator), or for a new card.
var ErrNeedsAction = errors.New("payments: the customer must authenticate this payment or use another card")

// ErrProcessing is a charge the provider accepted but has not finished
// (PaymentIntent status processing; cards practically never do this). Do
// not charge again under a new key: wait for payment_intent.succeeded or
// payment_intent.payment_failed, or call Charge again with the same key.
var ErrProcessing = errors.New("payments: the provider is still processing this charge")

// ProviderDownError is a call that got no usable answer: a network error, a
// timeout, HTTP 5xx, a rate limit. The operation may or may not have
// happened; repeat it with the same idempotency key.
type ProviderDownError struct {
	Op         string // "charge", "create customer", ...
	StatusCode int    // HTTP status, 0 when there was no response
	Err        error
}

func (e *ProviderDownError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("payment provider unavailable (%s, HTTP %d): %v", e.Op, e.StatusCode, e.Err)
	}
	return fmt.Sprintf("payment provider unavailable (%s): %v", e.Op, e.Err)
}

func (e *ProviderDownError) Unwrap() error { return e.Err }

// Retryable reports whether err means "no answer, call again with the same
// idempotency key" (a *ProviderDownError anywhere in the chain). Declines
// are answers, not retryable in this sense: soft ones are retried on the
// dunning schedule, under a new attempt's key.
func Retryable(err error) bool {
	var down *ProviderDownError
	return errors.As(err, &down)
}

// NeedsNewCard reports whether err means the current card must not be
// charged again: a hard decline or ErrNeedsAction.
func NeedsNewCard(err error) bool {
	var d *DeclineError
	if errors.As(err, &d) && d.Hard {
		return true
	}
	return errors.Is(err, ErrNeedsAction)
}

// RateLimited reports whether err is the provider saying "too many
// requests" (HTTP 429, Stripe's rate_limit): an answer that nothing
// happened, to be retried later with the same idempotency key, never a
// decline.
func RateLimited(err error) bool {
	var down *ProviderDownError
	return errors.As(err, &down) && down.StatusCode == http.StatusTooManyRequests
}

// DefaultIdempotencyWindow is how long Stripe remembers an idempotency
// key: "at least 24 hours". A request repeated later with the same key is
// a new request.
const DefaultIdempotencyWindow = 24 * time.Hour

// KeyWindow is a provider that says how long it remembers idempotency keys.
type KeyWindow interface {
	IdempotencyWindow() time.Duration
}

// IdempotencyWindowOf is how long p remembers idempotency keys.
func IdempotencyWindowOf(p Provider) time.Duration {
	if w, ok := p.(KeyWindow); ok && w.IdempotencyWindow() > 0 {
		return w.IdempotencyWindow()
	}
	return DefaultIdempotencyWindow
}

// ChargeFinder finds the charges already made for an invoice. Before an
// attempt is sent again after the provider may have forgotten its
// idempotency key, the caller looks here: a charge made by the first
// sending (whose answer was lost) must be recorded, not made again.
// Charges carry the invoice (and the attempt) in their metadata.
type ChargeFinder interface {
	FindCharges(ctx context.Context, in FindChargesInput) ([]FoundCharge, error)
}

// FindChargesInput names an invoice's charges: its customer's charges
// created since Since whose metadata names Invoice.
type FindChargesInput struct {
	CustomerID string
	Invoice    string
	Since      time.Time
}

// FoundCharge is one charge the provider has for an invoice.
type FoundCharge struct {
	ID          string
	Status      string // ChargeSucceeded, "processing", "requires_payment_method" (declined)...
	Attempt     string // metadata "attempt", when the charge carries it
	DeclineCode string // for a declined charge
	Message     string
	Created     time.Time
}
