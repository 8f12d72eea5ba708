package stripeprovider

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"licensedesk/payments"
)

// stripe-mock answers every PaymentIntent request with one fixture, so the
// states of bank authentication are played here with Stripe's documented
// response bodies: the PaymentIntent an off-session charge left
// requires_payment_method, confirmed on-session into requires_action with
// next_action.redirect_to_url; one that succeeded or was cancelled; a
// cancel refused with payment_intent_unexpected_state.

// scripted serves one JSON body per "METHOD path", recording the requests.
type scripted struct {
	mu      sync.Mutex
	answers map[string]answer
	got     []string
	forms   []url.Values
}

type answer struct {
	status int
	body   string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(b))
	key := r.Method + " " + r.URL.Path
	s.mu.Lock()
	s.got, s.forms = append(s.got, key), append(s.forms, form)
	a, ok := s.answers[key]
	s.mu.Unlock()
	if !ok {
		a = answer{404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"Unrecognized request URL"}}`}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func pi(status, extra string) string {
	return `{"id":"pi_3DS","object":"payment_intent","amount":1000,"currency":"usd","status":"` + status + `","payment_method":"pm_1","metadata":{"invoice":"SEN-1000003-2026-11-20"}` + extra + `}`
}

const challengeURL = "https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_1&payment_intent=pi_3DS"

func scriptedProvider(t *testing.T, answers map[string]answer) (*Provider, *scripted) {
	t.Helper()
	s := &scripted{answers: answers}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	p, err := New(Config{SecretKey: "sk_test_x", APIURL: srv.URL, MaxNetworkRetries: stripe.Int64(0)})
	if err != nil {
		t.Fatal(err)
	}
	return p, s
}

func TestAuthenticate_ConfirmsTheSamePaymentIntentOnSession(t *testing.T) {
	p, s := scriptedProvider(t, map[string]answer{
		"GET /v1/payment_intents/pi_3DS": {200, pi("requires_payment_method",
			`,"last_payment_error":{"type":"card_error","code":"authentication_required","decline_code":"authentication_required","message":"Your card was declined. This transaction requires authentication."}`)},
		"POST /v1/payment_intents/pi_3DS/confirm": {200, pi("requires_action",
			`,"next_action":{"type":"redirect_to_url","redirect_to_url":{"url":"`+challengeURL+`","return_url":"https://desk.example/payment/confirmed"}}`)},
	})
	a, err := p.Authenticate(context.Background(), payments.AuthenticateInput{ChargeID: "pi_3DS", PaymentMethodID: "pm_1", ReturnURL: "https://desk.example/payment/confirmed"})
	if err != nil || a.Status != payments.ChargeRequiresAction || a.URL != challengeURL {
		t.Fatalf("authenticate = %+v, %v", a, err)
	}
	if strings.Join(s.got, "; ") != "GET /v1/payment_intents/pi_3DS; POST /v1/payment_intents/pi_3DS/confirm" {
		t.Fatalf("requests %v: a second PaymentIntent must never be made", s.got)
	}
	f := s.forms[1]
	if f.Get("return_url") != "https://desk.example/payment/confirmed" || f.Get("payment_method") != "pm_1" || f.Get("off_session") != "false" {
		t.Errorf("confirm form %v", f)
	}
}

func TestAuthenticate_States(t *testing.T) {
	open := `,"next_action":{"type":"redirect_to_url","redirect_to_url":{"url":"` + challengeURL + `"}}`
	tests := []struct {
		name, get  string
		status     string
		url        string
		err        error
		wantVisits string // requests made
	}{
		{"challenge already open: the same one, no new confirmation", pi("requires_action", open), "requires_action", challengeURL, nil, "GET /v1/payment_intents/pi_3DS"},
		{"paid meanwhile", pi("succeeded", ""), "succeeded", "", nil, "GET /v1/payment_intents/pi_3DS"},
		{"cancelled (a retry replaced it)", pi("canceled", ""), "canceled", "", payments.ErrChargeCanceled, "GET /v1/payment_intents/pi_3DS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, s := scriptedProvider(t, map[string]answer{"GET /v1/payment_intents/pi_3DS": {200, tt.get}})
			a, err := p.Authenticate(context.Background(), payments.AuthenticateInput{ChargeID: "pi_3DS", ReturnURL: "https://desk.example/r"})
			if a.Status != tt.status || a.URL != tt.url || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("authenticate = %+v, %v", a, err)
			}
			if strings.Join(s.got, "; ") != tt.wantVisits {
				t.Fatalf("requests %v", s.got)
			}
		})
	}
	// The bank declines at once on the on-session confirmation: a decline.
	p, _ := scriptedProvider(t, map[string]answer{
		"GET /v1/payment_intents/pi_3DS":          {200, pi("requires_payment_method", "")},
		"POST /v1/payment_intents/pi_3DS/confirm": {402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined.","payment_intent":{"id":"pi_3DS"}}}`},
	})
	_, err := p.Authenticate(context.Background(), payments.AuthenticateInput{ChargeID: "pi_3DS", ReturnURL: "https://desk.example/r"})
	var d *payments.DeclineError
	if !errors.As(err, &d) || d.Code != "generic_decline" {
		t.Fatalf("declined confirmation: %v", err)
	}
	if _, err := p.Authenticate(context.Background(), payments.AuthenticateInput{ChargeID: "pi_3DS"}); err == nil {
		t.Fatal("authenticated without a return URL")
	}
}

func TestCancelCharge_SucceededIsThePayment(t *testing.T) {
	p, s := scriptedProvider(t, map[string]answer{
		"POST /v1/payment_intents/pi_3DS/cancel": {400, `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"You cannot cancel this PaymentIntent because it has a status of succeeded."}}`},
		"GET /v1/payment_intents/pi_3DS":         {200, pi("succeeded", "")},
	})
	c, err := p.CancelCharge(context.Background(), "pi_3DS")
	if err != nil || c.Status != payments.ChargeSucceeded || c.ID != "pi_3DS" {
		t.Fatalf("cancel a succeeded charge = %+v, %v", c, err)
	}
	if s.forms[0].Get("cancellation_reason") != "abandoned" {
		t.Errorf("cancel form %v", s.forms[0])
	}
	p, _ = scriptedProvider(t, map[string]answer{"POST /v1/payment_intents/pi_3DS/cancel": {200, pi("canceled", "")}})
	if c, err := p.CancelCharge(context.Background(), "pi_3DS"); err != nil || c.Status != payments.ChargeCanceled {
		t.Fatalf("cancel = %+v, %v", c, err)
	}
	p, _ = scriptedProvider(t, map[string]answer{"POST /v1/payment_intents/pi_3DS/cancel": {503, `{"error":{"type":"api_error","message":"down"}}`}})
	if _, err := p.CancelCharge(context.Background(), "pi_3DS"); !payments.Retryable(err) {
		t.Fatalf("cancel while Stripe is down: %v", err)
	}
}
