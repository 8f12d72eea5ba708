package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"licensedesk/payments"
)

// APIError is an error as Stripe's API answers it: an HTTP status and the
// error object's type, code and message.
type APIError struct {
	Status  int
	Type    string
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (%s, %s, HTTP %d)", e.Message, e.Type, e.Code, e.Status)
}

// rateLimitMessage is Stripe's own wording of its rate_limit error.
const rateLimitMessage = "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."

// admit spends one of the rate limiter's tokens, or answers as Stripe does
// past its limit: HTTP 429, an invalid_request_error with code rate_limit,
// and nothing done.
func (s *Sandbox) admit(ctx context.Context, op string) error {
	if s.rateLimit <= 0 {
		return nil
	}
	ok, err := s.store.SandboxTakeToken(ctx, "api", s.rateLimit, s.rateLimit)
	if err != nil {
		return down(op, err)
	}
	if ok {
		return nil
	}
	s.limited.Add(1)
	return &payments.ProviderDownError{Op: "sandbox " + op, StatusCode: http.StatusTooManyRequests,
		Err: &APIError{Status: http.StatusTooManyRequests, Type: "invalid_request_error", Code: "rate_limit", Message: rateLimitMessage}}
}

// RateLimited is how many requests this process's sandbox answered with 429.
func (s *Sandbox) RateLimited() int64 { return s.limited.Load() }

// IdempotencyWindow is how long the sandbox remembers an idempotency key
// (payments.KeyWindow).
func (s *Sandbox) IdempotencyWindow() time.Duration { return s.keyWindow }

// FindCharges lists the customer's charges since in.Since whose metadata
// names in.Invoice, as Stripe's list of a customer's PaymentIntents does
// once filtered (payments.ChargeFinder).
func (s *Sandbox) FindCharges(ctx context.Context, in payments.FindChargesInput) ([]payments.FoundCharge, error) {
	if in.CustomerID == "" || in.Invoice == "" {
		return nil, errors.New("sandbox: FindCharges needs a customer and an invoice")
	}
	if err := s.admit(ctx, "list charges"); err != nil {
		return nil, err
	}
	recs, err := s.store.SandboxCustomerCharges(ctx, in.CustomerID, in.Since)
	if err != nil {
		return nil, down("list charges", err)
	}
	var out []payments.FoundCharge
	for _, r := range recs {
		if r.Metadata["invoice"] != in.Invoice {
			continue
		}
		out = append(out, payments.FoundCharge{ID: r.ID, Status: r.Status, Attempt: r.Metadata["attempt"],
			DeclineCode: r.DeclineCode, Message: r.Message, Created: r.CreatedAt})
	}
	return out, nil
}

func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// ParseRate reads PAYMENTS_SANDBOX_RATE: requests a second, 0 for none.
func ParseRate(s string) (float64, error) {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r < 0 || r > 100000 {
		return 0, fmt.Errorf("PAYMENTS_SANDBOX_RATE: %q is not a number of requests a second from 0 (no limit) to 100000", s)
	}
	return r, nil
}
