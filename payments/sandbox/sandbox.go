// Package sandbox is the payment provider licensedesk runs with when no
// STRIPE_SECRET_KEY is set (SPEC §7). It behaves like Stripe in test mode,
// with state in PostgreSQL (through Store, which the postgres package
// implements):
//
//   - customers, one per SEN;
//   - card sessions served by its own hosted card page (Handler), the
//     stand-in for Stripe Checkout in setup mode, where the person picks
//     one of Stripe's test cards; on "Save card" it reports back with a
//     signed checkout.session.completed webhook to the same route Stripe
//     uses (POST /webhooks/stripe);
//   - off-session charges that succeed or decline as Stripe's test cards
//     do, idempotent by key: a key used before returns its first result.
//
// Payment method ids may also be Stripe's magic test ids themselves
// (pm_card_visa, pm_card_chargeDeclined, ...): the demo data stores them
// as-is. For the same reason the sandbox does not insist that a customer id
// is one it created (the demo licences name cus_demo_... customers).
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"licensedesk/payments"
)

// Session statuses, as Stripe names a Checkout Session's.
const (
	SessionOpen     = "open"
	SessionComplete = "complete"
	SessionExpired  = "expired"
)

// Charge statuses, as Stripe names a PaymentIntent's.
const (
	ChargeSucceeded      = payments.ChargeSucceeded
	ChargeDeclined       = payments.ChargeRequiresPaymentMethod // declined, or waiting for bank authentication
	ChargeRequiresAction = payments.ChargeRequiresAction        // the bank's challenge is open
	ChargeCanceled       = payments.ChargeCanceled
)

// Errors a Store returns.
var (
	ErrNotFound = errors.New("sandbox: not found")
	ErrExpired  = errors.New("sandbox: the card session has expired")
)

// Store keeps the sandbox's state. Every method is safe under concurrent
// calls; the postgres package implements it.
type Store interface {
	// SandboxEnsureCustomer stores c unless a customer with c.SEN exists,
	// and returns the customer stored for that SEN.
	SandboxEnsureCustomer(ctx context.Context, c CustomerRecord) (CustomerRecord, error)
	// SandboxCreateSession stores s. When s.IdempotencyKey is set and a
	// session already has it, that session is returned instead.
	SandboxCreateSession(ctx context.Context, s SessionRecord) (SessionRecord, error)
	// SandboxSession returns a session, or ErrNotFound.
	SandboxSession(ctx context.Context, id string) (SessionRecord, error)
	// SandboxCompleteSession, atomically: when the session is open and
	// not expired at now, stores pm, marks the session complete with pm
	// and the webhook event (eventID, payload), and returns it. A session
	// completed before is returned unchanged (first card and event win).
	// An open session past its expiry is marked expired: ErrExpired, as
	// for an expired one. ErrNotFound for an unknown id.
	SandboxCompleteSession(ctx context.Context, id string, pm PaymentMethodRecord, eventID string, payload []byte, now time.Time) (SessionRecord, error)
	// SandboxPaymentMethod returns a stored payment method, or ErrNotFound.
	SandboxPaymentMethod(ctx context.Context, id string) (PaymentMethodRecord, error)
	// SandboxSetDefault records the customer's default payment method
	// (nothing for a customer the sandbox did not create).
	SandboxSetDefault(ctx context.Context, customerID, paymentMethodID string) error
	// SandboxRecordCharge stores c unless a charge with c.IdempotencyKey
	// exists, and returns the charge stored under that key.
	SandboxRecordCharge(ctx context.Context, c ChargeRecord) (ChargeRecord, error)
	// SandboxRecordChargeSince is SandboxRecordCharge for a provider that
	// forgets keys: a key first used before forgetBefore is forgotten, and
	// c is stored under it as a new charge (its use starting again at
	// c.CreatedAt).
	SandboxRecordChargeSince(ctx context.Context, c ChargeRecord, forgetBefore time.Time) (ChargeRecord, error)
	// SandboxCustomerCharges lists a customer's charges created at or
	// after since, oldest first.
	SandboxCustomerCharges(ctx context.Context, customerID string, since time.Time) ([]ChargeRecord, error)
	// SandboxTakeToken takes one token from the bucket name (capacity
	// tokens, refilled at rate a second by the store's clock), or says
	// false when it is empty.
	SandboxTakeToken(ctx context.Context, name string, rate, capacity float64) (bool, error)
	// SandboxCharge returns a charge by id, or ErrNotFound.
	SandboxCharge(ctx context.Context, id string) (ChargeRecord, error)
	// SandboxUpdateCharge reads the charge with id, locked against every
	// other update of it, passes it to change, and stores the record
	// change returns when it says changed, all in one transaction; it
	// returns the charge as stored. ErrNotFound for an unknown id; an
	// error from change is returned and nothing is stored.
	SandboxUpdateCharge(ctx context.Context, id string, change func(ChargeRecord) (next ChargeRecord, changed bool, err error)) (ChargeRecord, error)
}

// CustomerRecord is a sandbox customer.
type CustomerRecord struct {
	ID, SEN, Email, Name string
	DefaultPaymentMethod string
	CreatedAt            time.Time
}

// SessionRecord is a hosted card session.
type SessionRecord struct {
	ID             string
	CustomerID     string
	SEN            string
	Reference      string
	SuccessURL     string
	CancelURL      string
	Status         string // SessionOpen, SessionComplete, SessionExpired
	CSRFToken      string // embedded in the card form; a POST must carry it
	SetupIntentID  string
	PaymentMethod  string // set when complete
	IdempotencyKey string
	EventID        string // the checkout.session.completed event, set when complete
	EventPayload   []byte
	CreatedAt      time.Time
	ExpiresAt      time.Time
	CompletedAt    time.Time
}

// PaymentMethodRecord is a card saved through the card page.
type PaymentMethodRecord struct {
	ID         string
	CustomerID string
	TestCard   string // which test card (pm_card_visa, ...)
	Brand      string
	Last4      string
	ExpMonth   int
	ExpYear    int
	CreatedAt  time.Time
}

// ChargeRecord is a charge, stored under its idempotency key.
type ChargeRecord struct {
	ID             string
	IdempotencyKey string
	CustomerID     string
	PaymentMethod  string
	AmountCents    int64
	Currency       string // lower case, as Stripe returns it
	Description    string
	Metadata       map[string]string
	Status         string // ChargeSucceeded, ChargeDeclined, ChargeRequiresAction or ChargeCanceled
	DeclineCode    string // payments.DeclineError.Code when declined
	Message        string
	CreatedAt      time.Time
	// The bank's challenge (bank authentication): where it sends the
	// cardholder back, and its form's token; set while ChargeRequiresAction.
	ReturnURL     string
	ChallengeCSRF string
	UpdatedAt     time.Time // the last change after creation; zero: none
}

// Config configures a Sandbox.
type Config struct {
	Store Store
	// BaseURL is the app's public base URL (PUBLIC_BASE_URL): card session
	// URLs are BaseURL/sandbox/checkout/<id>, and webhooks go to
	// BaseURL/webhooks/stripe unless WebhookURL says otherwise.
	BaseURL    string
	WebhookURL string
	// WebhookSecret signs deliveries; the receiver checks it with
	// payments.ParseWebhook (STRIPE_WEBHOOK_SECRET).
	WebhookSecret string
	// HTTPClient delivers webhooks; nil: a client with a 10 s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time // nil: time.Now
	// SessionLifetime is how long a card session stays open; 0: 24 hours,
	// like Stripe Checkout.
	SessionLifetime time.Duration
	// DeliveryAttempts and RetryDelay shape webhook delivery: that many
	// tries, waiting RetryDelay, then twice as long, and so on. 0: 5 tries
	// from 200 ms (about 3 s in all).
	DeliveryAttempts int
	RetryDelay       time.Duration

	// Latency is how long each charge takes to answer (Stripe confirms an
	// off-session PaymentIntent in a few hundred milliseconds); 0: at once.
	Latency time.Duration
	// RateLimit is how many API requests a second the sandbox answers
	// before it answers 429 with Stripe's rate_limit error, counted across
	// every process that runs it (a token bucket in the store holding one
	// second's worth, as Stripe's limiter is per account); 0: no limit.
	RateLimit float64
	// KeyWindow is how long an idempotency key is remembered (Stripe: 24
	// hours); 0: 24 hours. The same key sent later makes a new charge.
	KeyWindow time.Duration
}

// Sandbox is the sandbox provider and its card page.
type Sandbox struct {
	store      Store
	baseURL    string
	webhookURL string
	secret     string
	client     *http.Client
	logger     *slog.Logger
	now        func() time.Time
	lifetime   time.Duration
	attempts   int
	retryDelay time.Duration
	latency    time.Duration
	rateLimit  float64
	keyWindow  time.Duration
	limited    atomic.Int64 // requests answered 429
}

var (
	_ payments.Provider      = (*Sandbox)(nil)
	_ payments.SetupResolver = (*Sandbox)(nil)
	_ payments.ChargeFinder  = (*Sandbox)(nil)
	_ payments.KeyWindow     = (*Sandbox)(nil)
	_ payments.Authenticator = (*Sandbox)(nil)
)

// New returns a sandbox provider.
func New(cfg Config) (*Sandbox, error) {
	if cfg.Store == nil {
		return nil, errors.New("sandbox: no store")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("sandbox: base URL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	if cfg.WebhookSecret == "" {
		return nil, errors.New("sandbox: no webhook signing secret")
	}
	s := &Sandbox{
		store:      cfg.Store,
		baseURL:    strings.TrimRight(cfg.BaseURL, "/"),
		webhookURL: cfg.WebhookURL,
		secret:     cfg.WebhookSecret,
		client:     cfg.HTTPClient,
		logger:     cfg.Logger,
		now:        cfg.Now,
		lifetime:   cfg.SessionLifetime,
		attempts:   cfg.DeliveryAttempts,
		retryDelay: cfg.RetryDelay,
		latency:    cfg.Latency,
		rateLimit:  cfg.RateLimit,
		keyWindow:  cfg.KeyWindow,
	}
	if s.keyWindow <= 0 {
		s.keyWindow = payments.DefaultIdempotencyWindow
	}
	if s.webhookURL == "" {
		s.webhookURL = s.baseURL + "/webhooks/stripe"
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now //clock:wall it stands in for the provider, whose clock is the real one
	}
	if s.lifetime <= 0 {
		s.lifetime = 24 * time.Hour
	}
	if s.attempts <= 0 {
		s.attempts = 5
	}
	if s.retryDelay <= 0 {
		s.retryDelay = 200 * time.Millisecond
	}
	return s, nil
}

// down reports a store failure as the provider being unavailable: the
// caller retries, as it would a Stripe outage.
func down(op string, err error) error {
	return &payments.ProviderDownError{Op: "sandbox " + op, Err: err}
}

// EnsureCustomer returns the SEN's customer, creating it the first time.
func (s *Sandbox) EnsureCustomer(ctx context.Context, in payments.Customer) (string, error) {
	if in.SEN == "" {
		return "", errors.New("sandbox: a customer needs a SEN")
	}
	if err := s.admit(ctx, "create customer"); err != nil {
		return "", err
	}
	c, err := s.store.SandboxEnsureCustomer(ctx, CustomerRecord{
		ID: newID("cus_sb_", 14), SEN: in.SEN, Email: in.Email, Name: in.Name, CreatedAt: s.now(),
	})
	if err != nil {
		return "", down("create customer", err)
	}
	return c.ID, nil
}

// CardSession opens a card session; its URL is the sandbox's card page.
func (s *Sandbox) CardSession(ctx context.Context, in payments.CardSessionInput) (payments.CardSession, error) {
	if in.CustomerID == "" || in.SuccessURL == "" || in.CancelURL == "" {
		return payments.CardSession{}, errors.New("sandbox: a card session needs a customer, a success URL and a cancel URL")
	}
	for _, u := range []string{in.SuccessURL, in.CancelURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return payments.CardSession{}, fmt.Errorf("sandbox: %q is not an absolute http(s) URL", u)
		}
	}
	if err := s.admit(ctx, "create card session"); err != nil {
		return payments.CardSession{}, err
	}
	now := s.now()
	sess, err := s.store.SandboxCreateSession(ctx, SessionRecord{
		ID:             newID("cs_sb_", 24),
		CustomerID:     in.CustomerID,
		SEN:            in.SEN,
		Reference:      in.Reference,
		SuccessURL:     in.SuccessURL,
		CancelURL:      in.CancelURL,
		Status:         SessionOpen,
		CSRFToken:      newToken(),
		SetupIntentID:  newID("seti_sb_", 24),
		IdempotencyKey: in.IdempotencyKey,
		CreatedAt:      now,
		ExpiresAt:      now.Add(s.lifetime),
	})
	if err != nil {
		return payments.CardSession{}, down("create card session", err)
	}
	return payments.CardSession{ID: sess.ID, URL: s.sessionURL(sess.ID), ExpiresAt: sess.ExpiresAt}, nil
}

func (s *Sandbox) sessionURL(id string) string {
	return s.baseURL + "/sandbox/checkout/" + url.PathEscape(id)
}

// ResolveSetup returns the payment method a completed session saved.
func (s *Sandbox) ResolveSetup(ctx context.Context, sessionID string) (string, error) {
	if err := s.admit(ctx, "get card session"); err != nil {
		return "", err
	}
	sess, err := s.store.SandboxSession(ctx, sessionID)
	if errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("sandbox: no card session %q", sessionID)
	}
	if err != nil {
		return "", down("get card session", err)
	}
	if sess.PaymentMethod == "" {
		return "", fmt.Errorf("sandbox: card session %s is %s, with no payment method yet", sessionID, sess.Status)
	}
	return sess.PaymentMethod, nil
}

// card finds what paymentMethodID stands for: a saved card (which must
// belong to customerID) or one of Stripe's magic test ids.
func (s *Sandbox) card(ctx context.Context, customerID, paymentMethodID string) (payments.Card, TestCard, error) {
	pm, err := s.store.SandboxPaymentMethod(ctx, paymentMethodID)
	switch {
	case err == nil:
		if pm.CustomerID != customerID {
			return payments.Card{}, TestCard{}, fmt.Errorf("sandbox: payment method %s belongs to customer %s, not %s", pm.ID, pm.CustomerID, customerID)
		}
		tc, ok := LookupCard(pm.TestCard)
		if !ok {
			return payments.Card{}, TestCard{}, fmt.Errorf("sandbox: payment method %s has unknown test card %q", pm.ID, pm.TestCard)
		}
		return payments.Card{ID: pm.ID, Brand: pm.Brand, Last4: pm.Last4, ExpMonth: pm.ExpMonth, ExpYear: pm.ExpYear}, tc, nil
	case errors.Is(err, ErrNotFound):
		tc, ok := LookupCard(paymentMethodID)
		if !ok {
			return payments.Card{}, TestCard{}, fmt.Errorf("sandbox: no such payment method: %q", paymentMethodID)
		}
		return payments.Card{ID: tc.ID, Brand: tc.Brand, Last4: tc.Last4, ExpMonth: 12, ExpYear: s.now().Year() + 4}, tc, nil
	default:
		return payments.Card{}, TestCard{}, down("get payment method", err)
	}
}

// SetDefault makes the payment method the customer's default and
// describes it.
func (s *Sandbox) SetDefault(ctx context.Context, customerID, paymentMethodID string) (payments.Card, error) {
	if customerID == "" || paymentMethodID == "" {
		return payments.Card{}, errors.New("sandbox: SetDefault needs a customer and a payment method")
	}
	if err := s.admit(ctx, "set default payment method"); err != nil {
		return payments.Card{}, err
	}
	c, _, err := s.card(ctx, customerID, paymentMethodID)
	if err != nil {
		return payments.Card{}, err
	}
	if err := s.store.SandboxSetDefault(ctx, customerID, c.ID); err != nil {
		return payments.Card{}, down("set default payment method", err)
	}
	return c, nil
}

// Charge charges as Stripe would charge the test card, once per
// idempotency key within the key window: a key used before returns the
// first result (the same success, or the same decline) without charging
// again, and is refused with different parameters, as Stripe refuses it.
// A key older than the window is forgotten: the charge is made again. It
// answers after Latency, and with 429 past RateLimit.
func (s *Sandbox) Charge(ctx context.Context, in payments.ChargeInput) (payments.Charge, error) {
	if err := in.Validate(); err != nil {
		return payments.Charge{}, err
	}
	if err := s.admit(ctx, "charge"); err != nil {
		return payments.Charge{}, err
	}
	_, tc, err := s.card(ctx, in.CustomerID, in.PaymentMethodID)
	if err != nil {
		return payments.Charge{}, err
	}
	if err := wait(ctx, s.latency); err != nil {
		return payments.Charge{}, &payments.ProviderDownError{Op: "sandbox charge", Err: err}
	}
	rec := ChargeRecord{
		ID:             newID("pi_sb_", 24),
		IdempotencyKey: in.IdempotencyKey,
		CustomerID:     in.CustomerID,
		PaymentMethod:  in.PaymentMethodID,
		AmountCents:    in.AmountCents,
		Currency:       strings.ToLower(in.Currency),
		Description:    in.Description,
		Metadata:       in.Metadata,
		Status:         ChargeSucceeded,
		CreatedAt:      s.now(),
	}
	if rec.Metadata == nil {
		rec.Metadata = map[string]string{}
	}
	if tc.Declines() || tc.Authenticate {
		rec.Status, rec.DeclineCode, rec.Message = ChargeDeclined, tc.Code(), tc.Message
	}
	got, err := s.store.SandboxRecordChargeSince(ctx, rec, rec.CreatedAt.Add(-s.keyWindow))
	if err != nil {
		return payments.Charge{}, down("charge", err)
	}
	if got.ID != rec.ID && (got.CustomerID != rec.CustomerID || got.PaymentMethod != rec.PaymentMethod ||
		got.AmountCents != rec.AmountCents || got.Currency != rec.Currency) {
		return payments.Charge{}, fmt.Errorf("sandbox: idempotency key %q was first used for %d %s on %s/%s; it can only be reused with the same parameters",
			in.IdempotencyKey, got.AmountCents, got.Currency, got.CustomerID, got.PaymentMethod)
	}
	out := payments.Charge{ID: got.ID, Status: got.Status}
	if got.Status != ChargeSucceeded {
		return out, payments.NewDecline(got.DeclineCode, got.Message, got.ID)
	}
	return out, nil
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix and n random characters, like Stripe's ids. A
// session id is also the capability to open its card page: 24 characters
// carry 142 bits.
func newID(prefix string, n int) string {
	out := make([]byte, 0, len(prefix)+n)
	out = append(out, prefix...)
	var buf [64]byte
	for len(out) < cap(out) {
		_, _ = rand.Read(buf[:]) // never fails
		for _, c := range buf {
			// 248 = 4×62: dropping larger bytes keeps every character
			// equally likely.
			if c < 248 && len(out) < cap(out) {
				out = append(out, idAlphabet[c%62])
			}
		}
	}
	return string(out)
}

// newToken returns 32 random bytes, base64url: a session's CSRF token.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
