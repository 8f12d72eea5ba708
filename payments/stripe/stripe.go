// Package stripeprovider is the payments.Provider for Stripe, through
// stripe-go v76. Cards are captured by Stripe Checkout in setup mode, so
// card numbers never reach us; charges are off-session PaymentIntents,
// confirmed at once, each under the caller's idempotency key.
//
// Config.APIURL (STRIPE_API_URL) points the client elsewhere; the tests
// point it at stripe-mock.
package stripeprovider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"licensedesk/payments"
)

// Config configures the Stripe client.
type Config struct {
	SecretKey string // STRIPE_SECRET_KEY (sk_live_... / sk_test_...); required
	// APIURL replaces https://api.stripe.com for every backend
	// (STRIPE_API_URL; tests: stripe-mock). Empty: Stripe.
	APIURL string
	// HTTPClient makes the requests; nil: a client with a 30 s timeout.
	HTTPClient *http.Client
	// MaxNetworkRetries is how often stripe-go itself retries a request
	// that failed in transit (with the same idempotency key). Nil: 2.
	MaxNetworkRetries *int64
	Logger            *slog.Logger
}

// Provider implements payments.Provider and payments.SetupResolver.
type Provider struct {
	api    *client.API
	logger *slog.Logger
}

var (
	_ payments.Provider      = (*Provider)(nil)
	_ payments.SetupResolver = (*Provider)(nil)
	_ payments.ChargeFinder  = (*Provider)(nil)
	_ payments.KeyWindow     = (*Provider)(nil)
)

// New returns a Stripe provider.
func New(cfg Config) (*Provider, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("stripe: STRIPE_SECRET_KEY is not set")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	// Wrap the transport so that a 5xx or 429 without a Stripe JSON error
	// (a load balancer's HTML page) still reaches us as a typed error.
	wrapped := *httpClient
	base := wrapped.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	wrapped.Transport = jsonErrorTransport{base: base}

	backend := func(t stripe.SupportedBackend) stripe.Backend {
		cfgB := &stripe.BackendConfig{
			HTTPClient:        &wrapped,
			LeveledLogger:     slogLeveled{logger},
			MaxNetworkRetries: cfg.MaxNetworkRetries,
		}
		if cfg.APIURL != "" {
			cfgB.URL = stripe.String(cfg.APIURL)
		}
		return stripe.GetBackendWithConfig(t, cfgB)
	}
	api := &client.API{}
	api.Init(cfg.SecretKey, &stripe.Backends{
		API:     backend(stripe.APIBackend),
		Connect: backend(stripe.ConnectBackend),
		Uploads: backend(stripe.UploadsBackend),
	})
	return &Provider{api: api, logger: logger}, nil
}

// EnsureCustomer creates the licence's Stripe customer, with metadata sen,
// under the idempotency key "customer/<SEN>". Stripe keeps idempotency keys
// for 24 hours: the caller stores the returned id and calls again only for a
// licence that has none.
func (p *Provider) EnsureCustomer(ctx context.Context, in payments.Customer) (string, error) {
	if in.SEN == "" {
		return "", errors.New("stripe: a customer needs a SEN")
	}
	params := &stripe.CustomerParams{
		Email:    optional(in.Email),
		Name:     optional(in.Name),
		Metadata: map[string]string{"sen": in.SEN},
	}
	params.Context = ctx
	params.SetIdempotencyKey("customer/" + in.SEN)
	c, err := p.api.Customers.New(params)
	if err != nil {
		return "", mapError("create customer", err)
	}
	return c.ID, nil
}

// CardSession creates a Checkout Session in setup mode for the customer:
// Stripe's hosted page captures the card and saves it on the customer.
// client_reference_id and metadata carry in.Reference back in the
// checkout.session.completed webhook.
func (p *Provider) CardSession(ctx context.Context, in payments.CardSessionInput) (payments.CardSession, error) {
	if in.CustomerID == "" || in.SuccessURL == "" || in.CancelURL == "" {
		return payments.CardSession{}, errors.New("stripe: a card session needs a customer, a success URL and a cancel URL")
	}
	meta := map[string]string{}
	if in.SEN != "" {
		meta["sen"] = in.SEN
	}
	if in.Reference != "" {
		meta["reference"] = in.Reference
	}
	params := &stripe.CheckoutSessionParams{
		Mode:               stripe.String(string(stripe.CheckoutSessionModeSetup)),
		Customer:           stripe.String(in.CustomerID),
		SuccessURL:         stripe.String(in.SuccessURL),
		CancelURL:          stripe.String(in.CancelURL),
		ClientReferenceID:  optional(in.Reference),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		Metadata:           meta,
		SetupIntentData:    &stripe.CheckoutSessionSetupIntentDataParams{Metadata: meta},
	}
	params.Context = ctx
	if in.IdempotencyKey != "" {
		params.SetIdempotencyKey(in.IdempotencyKey)
	}
	s, err := p.api.CheckoutSessions.New(params)
	if err != nil {
		return payments.CardSession{}, mapError("create checkout session", err)
	}
	out := payments.CardSession{ID: s.ID, URL: s.URL}
	if s.ExpiresAt > 0 {
		out.ExpiresAt = time.Unix(s.ExpiresAt, 0).UTC()
	}
	return out, nil
}

// ResolveSetup returns the payment method a completed setup-mode Checkout
// Session saved (the session's SetupIntent's payment_method), which
// Stripe's checkout.session.completed event does not include.
func (p *Provider) ResolveSetup(ctx context.Context, sessionID string) (string, error) {
	params := &stripe.CheckoutSessionParams{}
	params.Context = ctx
	params.AddExpand("setup_intent")
	s, err := p.api.CheckoutSessions.Get(sessionID, params)
	if err != nil {
		return "", mapError("get checkout session", err)
	}
	if s.SetupIntent == nil {
		return "", fmt.Errorf("stripe: checkout session %s has no setup intent (mode %q)", sessionID, s.Mode)
	}
	if s.SetupIntent.PaymentMethod == nil || s.SetupIntent.PaymentMethod.ID == "" {
		return "", fmt.Errorf("stripe: setup intent %s of checkout session %s has no payment method yet (status %q)", s.SetupIntent.ID, sessionID, s.SetupIntent.Status)
	}
	return s.SetupIntent.PaymentMethod.ID, nil
}

// SetDefault attaches the payment method to the customer if it is not yet
// (Checkout in setup mode has already done so), makes it the customer's
// invoice default, and describes the card. Calling it again is harmless.
func (p *Provider) SetDefault(ctx context.Context, customerID, paymentMethodID string) (payments.Card, error) {
	if customerID == "" || paymentMethodID == "" {
		return payments.Card{}, errors.New("stripe: SetDefault needs a customer and a payment method")
	}
	get := &stripe.PaymentMethodParams{}
	get.Context = ctx
	pm, err := p.api.PaymentMethods.Get(paymentMethodID, get)
	if err != nil {
		return payments.Card{}, mapError("get payment method", err)
	}
	switch {
	case pm.Customer == nil || pm.Customer.ID == "":
		attach := &stripe.PaymentMethodAttachParams{Customer: stripe.String(customerID)}
		attach.Context = ctx
		if pm, err = p.api.PaymentMethods.Attach(paymentMethodID, attach); err != nil {
			return payments.Card{}, mapError("attach payment method", err)
		}
	case pm.Customer.ID != customerID:
		return payments.Card{}, fmt.Errorf("stripe: payment method %s belongs to customer %s, not %s", paymentMethodID, pm.Customer.ID, customerID)
	}
	if pm.Card == nil {
		return payments.Card{}, fmt.Errorf("stripe: payment method %s is a %q, not a card", paymentMethodID, pm.Type)
	}
	update := &stripe.CustomerParams{
		InvoiceSettings: &stripe.CustomerInvoiceSettingsParams{DefaultPaymentMethod: stripe.String(paymentMethodID)},
	}
	update.Context = ctx
	if _, err := p.api.Customers.Update(customerID, update); err != nil {
		return payments.Card{}, mapError("set default payment method", err)
	}
	return payments.Card{
		ID:       pm.ID,
		Brand:    string(pm.Card.Brand),
		Last4:    pm.Card.Last4,
		ExpMonth: int(pm.Card.ExpMonth),
		ExpYear:  int(pm.Card.ExpYear),
	}, nil
}

// Charge creates and confirms an off-session PaymentIntent under
// in.IdempotencyKey: Stripe answers a repeated request with the first
// one's result (for 24 hours), so a retried activity never charges twice.
func (p *Provider) Charge(ctx context.Context, in payments.ChargeInput) (payments.Charge, error) {
	if err := in.Validate(); err != nil {
		return payments.Charge{}, err
	}
	params := &stripe.PaymentIntentParams{
		Amount:             stripe.Int64(in.AmountCents),
		Currency:           stripe.String(strings.ToLower(in.Currency)),
		Customer:           stripe.String(in.CustomerID),
		PaymentMethod:      stripe.String(in.PaymentMethodID),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		Confirm:            stripe.Bool(true),
		OffSession:         stripe.Bool(true),
		Description:        optional(in.Description),
		Metadata:           in.Metadata,
	}
	params.Context = ctx
	params.SetIdempotencyKey(in.IdempotencyKey)
	pi, err := p.api.PaymentIntents.New(params)
	if err != nil {
		mapped := mapError("charge", err)
		var d *payments.DeclineError
		if errors.As(mapped, &d) {
			return payments.Charge{ID: d.ChargeID, Status: string(stripe.PaymentIntentStatusRequiresPaymentMethod)}, mapped
		}
		return payments.Charge{}, mapped
	}
	return chargeResult(pi)
}

// IdempotencyWindow is how long Stripe keeps an idempotency key: keys
// "are eligible to be removed after they're at least 24 hours old".
func (p *Provider) IdempotencyWindow() time.Duration { return payments.DefaultIdempotencyWindow }

// FindCharges lists the customer's PaymentIntents created since in.Since
// (GET /v1/payment_intents?customer=…&created[gte]=…, a page of 100 at a
// time) and keeps those whose metadata names the invoice. The list is used
// rather than the Search API because it is strongly consistent: a charge
// is listed as soon as it exists, where search may lag, and search is not
// offered in every country.
func (p *Provider) FindCharges(ctx context.Context, in payments.FindChargesInput) ([]payments.FoundCharge, error) {
	if in.CustomerID == "" || in.Invoice == "" {
		return nil, errors.New("stripe: FindCharges needs a customer and an invoice")
	}
	params := &stripe.PaymentIntentListParams{Customer: stripe.String(in.CustomerID)}
	if !in.Since.IsZero() {
		params.CreatedRange = &stripe.RangeQueryParams{GreaterThanOrEqual: in.Since.Unix()}
	}
	params.Context = ctx
	params.Limit = stripe.Int64(100)
	var out []payments.FoundCharge
	it := p.api.PaymentIntents.List(params)
	for it.Next() {
		pi := it.PaymentIntent()
		if pi.Metadata["invoice"] != in.Invoice {
			continue
		}
		f := payments.FoundCharge{ID: pi.ID, Status: string(pi.Status), Attempt: pi.Metadata["attempt"], Created: time.Unix(pi.Created, 0).UTC()}
		if e := pi.LastPaymentError; e != nil {
			f.DeclineCode, f.Message = declineCode(e), e.Msg
		}
		out = append(out, f)
	}
	if err := it.Err(); err != nil {
		return nil, mapError("list payment intents", err)
	}
	return out, nil
}

// chargeResult turns a confirmed PaymentIntent that came back without an
// API error into our result.
func chargeResult(pi *stripe.PaymentIntent) (payments.Charge, error) {
	out := payments.Charge{ID: pi.ID, Status: string(pi.Status)}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		return out, nil
	case stripe.PaymentIntentStatusProcessing:
		return out, payments.ErrProcessing
	case stripe.PaymentIntentStatusRequiresAction, stripe.PaymentIntentStatusRequiresConfirmation:
		return out, fmt.Errorf("stripe: payment intent %s is %s: %w", pi.ID, pi.Status, payments.ErrNeedsAction)
	case stripe.PaymentIntentStatusRequiresPaymentMethod:
		if e := pi.LastPaymentError; e != nil && (e.Type == stripe.ErrorTypeCard || (e.Type == "" && declineCode(e) != "")) {
			return out, payments.NewDecline(declineCode(e), e.Msg, pi.ID)
		}
	}
	// Stripe answers a failed off-session confirmation with an error, so
	// this is unexpected (stripe-mock does it: its fixture is always
	// requires_payment_method). Not a decline, not retryable: look at it.
	return out, fmt.Errorf("stripe: payment intent %s came back %q without a decline", pi.ID, pi.Status)
}

func declineCode(e *stripe.Error) string {
	if e.DeclineCode != "" {
		return string(e.DeclineCode)
	}
	return string(e.Code)
}

// mapError turns stripe-go's errors into payments' vocabulary.
func mapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *stripe.Error
	if errors.As(err, &se) {
		switch {
		case se.Type == stripe.ErrorTypeCard:
			chargeID := se.ChargeID
			if se.PaymentIntent != nil && se.PaymentIntent.ID != "" {
				chargeID = se.PaymentIntent.ID
			}
			return payments.NewDecline(declineCode(se), se.Msg, chargeID)
		case se.Type == stripe.ErrorTypeAPI, se.HTTPStatusCode >= 500,
			se.HTTPStatusCode == http.StatusTooManyRequests, se.Code == stripe.ErrorCodeRateLimit,
			se.Code == stripe.ErrorCodeLockTimeout:
			return &payments.ProviderDownError{Op: op, StatusCode: se.HTTPStatusCode, Err: stripeError{se}}
		}
		return fmt.Errorf("stripe %s: %w", op, stripeError{se})
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("stripe %s: %w", op, err)
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) || errors.As(err, &urlErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) {
		return &payments.ProviderDownError{Op: op, Err: err}
	}
	return fmt.Errorf("stripe %s: %w", op, err)
}

// stripeError gives a *stripe.Error a readable message (stripe-go's is
// the whole error as JSON) while keeping it reachable with errors.As.
type stripeError struct{ e *stripe.Error }

func (s stripeError) Error() string {
	var b strings.Builder
	b.WriteString(s.e.Msg)
	var parts []string
	if s.e.Type != "" {
		parts = append(parts, string(s.e.Type))
	}
	if s.e.Code != "" {
		parts = append(parts, string(s.e.Code))
	}
	if s.e.HTTPStatusCode != 0 {
		parts = append(parts, "HTTP "+strconv.Itoa(s.e.HTTPStatusCode))
	}
	if s.e.RequestID != "" {
		parts = append(parts, "request "+s.e.RequestID)
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	return b.String()
}

func (s stripeError) Unwrap() error { return s.e }

// jsonErrorTransport rewrites a 5xx or 429 response whose body is not JSON
// (a proxy's or load balancer's page) into a Stripe-shaped api_error, so
// stripe-go returns a *stripe.Error with the status code rather than a
// "couldn't deserialize JSON" string.
type jsonErrorTransport struct{ base http.RoundTripper }

func (t jsonErrorTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(r)
	if err != nil || (res.StatusCode < 500 && res.StatusCode != http.StatusTooManyRequests) {
		return res, err
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt == "application/json" {
		return res, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	body := fmt.Sprintf(`{"error":{"type":"api_error","message":%q}}`, fmt.Sprintf("HTTP %d from the payment provider without a JSON error", res.StatusCode))
	res.Body = io.NopCloser(bytes.NewReader([]byte(body)))
	res.ContentLength = int64(len(body))
	res.Header = res.Header.Clone()
	res.Header.Set("Content-Type", "application/json")
	res.Header.Del("Content-Length")
	return res, nil
}

// slogLeveled adapts slog to stripe-go's logger. Stripe-go logs every
// request at info and every error response at error; we return errors to
// the caller, who decides what is worth a log line, so both go lower.
type slogLeveled struct{ l *slog.Logger }

func (s slogLeveled) Debugf(format string, v ...any) {
	s.l.Debug("stripe: " + fmt.Sprintf(format, v...))
}
func (s slogLeveled) Infof(format string, v ...any) {
	s.l.Debug("stripe: " + fmt.Sprintf(format, v...))
}
func (s slogLeveled) Warnf(format string, v ...any) { s.l.Warn("stripe: " + fmt.Sprintf(format, v...)) }
func (s slogLeveled) Errorf(format string, v ...any) {
	s.l.Info("stripe: " + fmt.Sprintf(format, v...))
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return stripe.String(s)
}
