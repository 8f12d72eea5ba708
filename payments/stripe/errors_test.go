package stripeprovider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"licensedesk/payments"
)

// stripe-mock never declines, so the decline mapping is tested here with
// *stripe.Error values shaped like the ones stripe-go builds from Stripe's
// documented error responses.

func TestMapError_Declines(t *testing.T) {
	tests := []struct {
		name        string
		err         *stripe.Error
		code        string
		hard        bool
		needsAction bool
		chargeID    string
	}{
		{name: "generic decline",
			err:  &stripe.Error{Type: stripe.ErrorTypeCard, Code: stripe.ErrorCodeCardDeclined, DeclineCode: "generic_decline", Msg: "Your card was declined.", HTTPStatusCode: 402, PaymentIntent: &stripe.PaymentIntent{ID: "pi_1"}},
			code: "generic_decline", chargeID: "pi_1"},
		{name: "insufficient funds",
			err:  &stripe.Error{Type: stripe.ErrorTypeCard, Code: stripe.ErrorCodeCardDeclined, DeclineCode: stripe.DeclineCodeInsufficientFunds, Msg: "Your card has insufficient funds.", HTTPStatusCode: 402},
			code: "insufficient_funds"},
		{name: "expired card has a code and no decline code",
			err:  &stripe.Error{Type: stripe.ErrorTypeCard, Code: stripe.ErrorCodeExpiredCard, Msg: "Your card has expired.", HTTPStatusCode: 402, ChargeID: "ch_1"},
			code: "expired_card", chargeID: "ch_1"},
		{name: "stolen card is hard",
			err:  &stripe.Error{Type: stripe.ErrorTypeCard, Code: stripe.ErrorCodeCardDeclined, DeclineCode: stripe.DeclineCodeStolenCard, Msg: "Your card was declined.", HTTPStatusCode: 402},
			code: "stolen_card", hard: true},
		{name: "incorrect number (code only) is hard",
			err:  &stripe.Error{Type: stripe.ErrorTypeCard, Code: stripe.ErrorCodeIncorrectNumber, Msg: "Your card number is incorrect.", HTTPStatusCode: 402},
			code: "incorrect_number", hard: true},
		{name: "authentication required off-session: hard, needs action",
			err:  &stripe.Error{Type: stripe.ErrorTypeCard, Code: stripe.ErrorCodeAuthenticationRequired, DeclineCode: stripe.DeclineCodeAuthenticationRequired, Msg: "Your card was declined. This transaction requires authentication.", HTTPStatusCode: 402},
			code: "authentication_required", hard: true, needsAction: true},
	}
	for _, code := range payments.HardDeclineCodes() {
		tests = append(tests, struct {
			name        string
			err         *stripe.Error
			code        string
			hard        bool
			needsAction bool
			chargeID    string
		}{name: "spec list: " + code,
			err:  &stripe.Error{Type: stripe.ErrorTypeCard, Code: stripe.ErrorCodeCardDeclined, DeclineCode: stripe.DeclineCode(code), HTTPStatusCode: 402},
			code: code, hard: true, needsAction: code == "authentication_required"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mapError("charge", tt.err)
			var d *payments.DeclineError
			if !errors.As(err, &d) {
				t.Fatalf("%v is not a DeclineError", err)
			}
			if d.Code != tt.code || d.Hard != tt.hard || d.Message != tt.err.Msg || d.ChargeID != tt.chargeID {
				t.Errorf("decline = %+v", d)
			}
			if payments.Retryable(err) {
				t.Error("a decline is Retryable")
			}
			if got := errors.Is(err, payments.ErrNeedsAction); got != tt.needsAction {
				t.Errorf("errors.Is(ErrNeedsAction) = %v", got)
			}
			if payments.NeedsNewCard(err) != tt.hard {
				t.Errorf("NeedsNewCard = %v", !tt.hard)
			}
		})
	}
}

func TestMapError_ProviderDownAndOrdinary(t *testing.T) {
	down := []error{
		&stripe.Error{Type: stripe.ErrorTypeAPI, Msg: "An unknown error occurred", HTTPStatusCode: 500},
		&stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeRateLimit, Msg: "Too many requests", HTTPStatusCode: 429},
		&stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeLockTimeout, Msg: "lock timeout", HTTPStatusCode: 409},
		&stripe.Error{Msg: "bad gateway", HTTPStatusCode: 502},
		&url.Error{Op: "Post", URL: "https://api.stripe.com/v1/payment_intents", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}},
		fmt.Errorf("request: %w", context.DeadlineExceeded),
		io.ErrUnexpectedEOF,
	}
	for _, err := range down {
		mapped := mapError("charge", err)
		var d *payments.ProviderDownError
		if !errors.As(mapped, &d) || !payments.Retryable(mapped) || d.Op != "charge" {
			t.Errorf("%v → %v; want a retryable ProviderDownError", err, mapped)
		}
	}
	ordinary := []error{
		&stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeResourceMissing, Msg: "No such customer: 'cus_x'", HTTPStatusCode: 404},
		&stripe.Error{Type: stripe.ErrorTypeIdempotency, Msg: "Keys for idempotent requests can only be used with the same parameters they were first used with.", HTTPStatusCode: 400},
		&stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Msg: "Invalid API Key provided", HTTPStatusCode: 401},
		context.Canceled,
		errors.New("something else"),
	}
	for _, err := range ordinary {
		mapped := mapError("charge", err)
		var d *payments.DeclineError
		if mapped == nil || payments.Retryable(mapped) || errors.As(mapped, &d) || errors.Is(mapped, payments.ErrNeedsAction) {
			t.Errorf("%v → %v; want an ordinary error", err, mapped)
		}
		if !errors.Is(mapped, err) && !isStripeErr(mapped, err) {
			t.Errorf("%v is not reachable in %v", err, mapped)
		}
	}
	msg := mapError("create customer", &stripe.Error{Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeResourceMissing, Msg: "No such customer: 'cus_x'", HTTPStatusCode: 404, RequestID: "req_1"}).Error()
	if msg != "stripe create customer: No such customer: 'cus_x' (invalid_request_error, resource_missing, HTTP 404, request req_1)" {
		t.Errorf("message %q", msg)
	}
}

func isStripeErr(mapped, orig error) bool {
	var se *stripe.Error
	return errors.As(mapped, &se) && error(se) == orig
}

func TestChargeResult_Statuses(t *testing.T) {
	if c, err := chargeResult(&stripe.PaymentIntent{ID: "pi_1", Status: stripe.PaymentIntentStatusSucceeded}); err != nil || c != (payments.Charge{ID: "pi_1", Status: "succeeded"}) {
		t.Errorf("succeeded: %+v, %v", c, err)
	}
	if _, err := chargeResult(&stripe.PaymentIntent{ID: "pi_1", Status: stripe.PaymentIntentStatusRequiresAction}); !errors.Is(err, payments.ErrNeedsAction) || !payments.NeedsNewCard(err) {
		t.Errorf("requires_action: %v", err)
	}
	if _, err := chargeResult(&stripe.PaymentIntent{ID: "pi_1", Status: stripe.PaymentIntentStatusProcessing}); !errors.Is(err, payments.ErrProcessing) {
		t.Errorf("processing: %v", err)
	}
	c, err := chargeResult(&stripe.PaymentIntent{ID: "pi_1", Status: stripe.PaymentIntentStatusRequiresPaymentMethod,
		LastPaymentError: &stripe.Error{Type: stripe.ErrorTypeCard, Code: stripe.ErrorCodeCardDeclined, DeclineCode: "lost_card", Msg: "Your card was declined."}})
	var d *payments.DeclineError
	if !errors.As(err, &d) || d.Code != "lost_card" || !d.Hard || d.ChargeID != "pi_1" || c.ID != "pi_1" {
		t.Errorf("requires_payment_method with an error: %+v, %v", c, err)
	}
	if _, err := chargeResult(&stripe.PaymentIntent{ID: "pi_1", Status: stripe.PaymentIntentStatusRequiresPaymentMethod}); err == nil || errors.As(err, &d) || payments.Retryable(err) {
		t.Errorf("requires_payment_method without an error: %v", err)
	}
}

// TestCharge_OverHTTP runs Stripe's documented response bodies through
// stripe-go and the provider: a 402 card error, a JSON 500, a proxy's HTML
// 503 and a dropped connection.
func TestCharge_OverHTTP(t *testing.T) {
	cases := []struct {
		name  string
		serve func(w http.ResponseWriter)
		check func(t *testing.T, c payments.Charge, err error)
	}{
		{"402 insufficient funds", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Request-Id", "req_402")
			w.WriteHeader(402)
			io.WriteString(w, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds.","payment_intent":{"id":"pi_402","object":"payment_intent","status":"requires_payment_method"}}}`)
		}, func(t *testing.T, c payments.Charge, err error) {
			var d *payments.DeclineError
			if !errors.As(err, &d) || d.Code != "insufficient_funds" || d.Hard || d.ChargeID != "pi_402" || c.ID != "pi_402" {
				t.Fatalf("%+v, %v", c, err)
			}
		}},
		{"402 stolen card", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(402)
			io.WriteString(w, `{"error":{"type":"card_error","code":"card_declined","decline_code":"stolen_card","message":"Your card was declined."}}`)
		}, func(t *testing.T, c payments.Charge, err error) {
			if !payments.NeedsNewCard(err) {
				t.Fatalf("%v", err)
			}
		}},
		{"500 api_error", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			io.WriteString(w, `{"error":{"type":"api_error","message":"An unknown error occurred"}}`)
		}, func(t *testing.T, c payments.Charge, err error) {
			if !payments.Retryable(err) {
				t.Fatalf("%v", err)
			}
		}},
		{"503 html from a proxy", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(503)
			io.WriteString(w, `<html><body>Service Unavailable</body></html>`)
		}, func(t *testing.T, c payments.Charge, err error) {
			var d *payments.ProviderDownError
			if !errors.As(err, &d) || d.StatusCode != 503 {
				t.Fatalf("%v", err)
			}
		}},
		{"429 rate_limit", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."}}`)
		}, func(t *testing.T, c payments.Charge, err error) {
			var d *payments.DeclineError
			if !payments.RateLimited(err) || !payments.Retryable(err) || errors.As(err, &d) {
				t.Fatalf("a 429 must be a retryable rate limit, never a decline: %v", err)
			}
		}},
		{"connection dropped", func(w http.ResponseWriter) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}, func(t *testing.T, c payments.Charge, err error) {
			if !payments.Retryable(err) {
				t.Fatalf("%v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Get("Idempotency-Key"); got != "SEN-1000003-2026-11-20/2" {
					t.Errorf("Idempotency-Key = %q", got)
				}
				tc.serve(w)
			}))
			t.Cleanup(srv.Close)
			p, err := New(Config{SecretKey: "sk_test_x", APIURL: srv.URL, MaxNetworkRetries: stripe.Int64(0)})
			if err != nil {
				t.Fatal(err)
			}
			c, err := p.Charge(context.Background(), payments.ChargeInput{
				CustomerID: "cus_1", PaymentMethodID: "pm_1", AmountCents: 1000, Currency: "USD",
				IdempotencyKey: "SEN-1000003-2026-11-20/2",
			})
			if err == nil {
				t.Fatal("no error")
			}
			tc.check(t, c, err)
			if strings.Contains(err.Error(), "{") {
				t.Errorf("error message is JSON: %v", err)
			}
		})
	}
}

func TestNew_NeedsAKey(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("no error without a secret key")
	}
}

// FindCharges reads Stripe's list of a customer's PaymentIntents and keeps
// the invoice's, with the decline of a failed one.
func TestFindCharges_KeepsTheInvoicesPaymentIntents(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/payment_intents" || r.URL.Query().Get("customer") != "cus_1" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","url":"/v1/payment_intents","has_more":false,"data":[
			{"id":"pi_paid","object":"payment_intent","status":"succeeded","created":1796083200,"metadata":{"invoice":"SEN-1-2026-12-01","attempt":"1"}},
			{"id":"pi_other","object":"payment_intent","status":"succeeded","created":1796083200,"metadata":{"invoice":"SEN-1-2026-11-01","attempt":"1"}},
			{"id":"pi_declined","object":"payment_intent","status":"requires_payment_method","created":1796083100,"metadata":{"invoice":"SEN-1-2026-12-01","attempt":"2"},
			 "last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}]}`)
	}))
	t.Cleanup(srv.Close)
	p, err := New(Config{SecretKey: "sk_test_x", APIURL: srv.URL, MaxNetworkRetries: stripe.Int64(0)})
	if err != nil {
		t.Fatal(err)
	}
	found, err := p.FindCharges(context.Background(), payments.FindChargesInput{CustomerID: "cus_1", Invoice: "SEN-1-2026-12-01"})
	if err != nil || len(found) != 2 {
		t.Fatalf("FindCharges = %+v, %v", found, err)
	}
	if f := found[0]; f.ID != "pi_paid" || f.Status != payments.ChargeSucceeded || f.Attempt != "1" || f.Created.Unix() != 1796083200 {
		t.Errorf("paid: %+v", f)
	}
	if f := found[1]; f.ID != "pi_declined" || f.DeclineCode != "insufficient_funds" || f.Attempt != "2" || f.Message == "" {
		t.Errorf("declined: %+v", f)
	}
	if p.IdempotencyWindow() != 24*time.Hour {
		t.Errorf("IdempotencyWindow = %v", p.IdempotencyWindow())
	}
}
