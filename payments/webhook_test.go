package payments_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"licensedesk/payments"
)

const secret = "whsec_test_licensedesk"

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// sessionCompleted is shaped like Stripe's checkout.session.completed for a
// setup-mode session (trimmed), with an API version other than stripe-go's.
const sessionCompleted = `{
  "id": "evt_1QAbCd",
  "object": "event",
  "api_version": "2024-06-20",
  "created": 1795521600,
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": null, "idempotency_key": null},
  "type": "checkout.session.completed",
  "data": {"object": {
    "id": "cs_test_a1b2",
    "object": "checkout.session",
    "client_reference_id": "card/SEN-1000003/7f3a",
    "customer": "cus_Q1w2e3",
    "metadata": {"sen": "SEN-1000003", "reference": "card/SEN-1000003/7f3a"},
    "mode": "setup",
    "payment_intent": null,
    "setup_intent": "seti_1Q9z8y",
    "status": "complete",
    "success_url": "https://licensedesk.example/card/done"
  }}
}`

const paymentFailed = `{
  "id": "evt_2",
  "object": "event",
  "api_version": "2023-10-16",
  "created": 1795521600,
  "type": "payment_intent.payment_failed",
  "data": {"object": {
    "id": "pi_3Q", "object": "payment_intent", "amount": 1000, "currency": "usd",
    "customer": {"id": "cus_Q1w2e3", "object": "customer"},
    "payment_method": "pm_1Q",
    "status": "requires_payment_method",
    "metadata": {"invoice": "SEN-1000003-2026-11-20", "attempt": "2", "reference": "invoice/SEN-1000003-2026-11-20"},
    "last_payment_error": {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}
  }}
}`

// sign uses stripe-go's own test helper, independently of SignWebhook.
func sign(payload, key string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: key, Timestamp: at}).Header
}

func TestParseWebhook_CheckoutSessionCompleted(t *testing.T) {
	ev, err := payments.ParseWebhook([]byte(sessionCompleted), sign(sessionCompleted, secret, now), secret, now)
	if err != nil {
		t.Fatal(err)
	}
	want := payments.Event{
		ID: "evt_1QAbCd", Type: payments.EventCheckoutSessionCompleted, Created: time.Unix(1795521600, 0).UTC(),
		SessionID: "cs_test_a1b2", SetupIntentID: "seti_1Q9z8y", Reference: "card/SEN-1000003/7f3a",
		CustomerID: "cus_Q1w2e3", Status: "complete",
		Metadata: map[string]string{"sen": "SEN-1000003", "reference": "card/SEN-1000003/7f3a"},
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("event\n got %+v\nwant %+v", ev, want)
	}
	if !ev.Handled() {
		t.Error("Handled() = false")
	}
}

func TestParseWebhook_PaymentFailed(t *testing.T) {
	ev, err := payments.ParseWebhook([]byte(paymentFailed), sign(paymentFailed, secret, now), secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if ev.PaymentIntentID != "pi_3Q" || ev.CustomerID != "cus_Q1w2e3" || ev.PaymentMethodID != "pm_1Q" ||
		ev.DeclineCode != "insufficient_funds" || ev.DeclineMessage != "Your card has insufficient funds." ||
		ev.AmountCents != 1000 || ev.Currency != "usd" || ev.Metadata["invoice"] != "SEN-1000003-2026-11-20" ||
		ev.Reference != "invoice/SEN-1000003-2026-11-20" || ev.Status != "requires_payment_method" {
		t.Fatalf("event %+v", ev)
	}
}

func TestParseWebhook_Refusals(t *testing.T) {
	good := sign(sessionCompleted, secret, now)
	tests := []struct {
		name, payload, header, secret string
		at                            time.Time
	}{
		{"tampered body", strings.Replace(sessionCompleted, "cus_Q1w2e3", "cus_EVIL00", 1), good, secret, now},
		{"wrong secret", sessionCompleted, sign(sessionCompleted, "whsec_other", now), secret, now},
		{"stale: signed 6 minutes ago", sessionCompleted, sign(sessionCompleted, secret, now.Add(-6*time.Minute)), secret, now},
		{"from the future: 6 minutes ahead", sessionCompleted, sign(sessionCompleted, secret, now.Add(6*time.Minute)), secret, now},
		{"replayed an hour later", sessionCompleted, good, secret, now.Add(time.Hour)},
		{"missing header", sessionCompleted, "", secret, now},
		{"garbage header", sessionCompleted, "hello", secret, now},
		{"no v1 signature", sessionCompleted, fmt.Sprintf("t=%d", now.Unix()), secret, now},
		{"v0 only", sessionCompleted, strings.Replace(good, "v1=", "v0=", 1), secret, now},
		{"no secret configured", sessionCompleted, good, "", now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := payments.ParseWebhook([]byte(tt.payload), tt.header, tt.secret, tt.at)
			if !errors.Is(err, payments.ErrWebhookSignature) {
				t.Fatalf("err = %v; want ErrWebhookSignature", err)
			}
			if !reflect.DeepEqual(ev, payments.Event{}) {
				t.Fatalf("refused delivery still returned %+v", ev)
			}
		})
	}
	// Within the tolerance either way is fine (clock skew).
	for _, d := range []time.Duration{-4 * time.Minute, 4 * time.Minute} {
		if _, err := payments.ParseWebhook([]byte(sessionCompleted), sign(sessionCompleted, secret, now.Add(d)), secret, now); err != nil {
			t.Errorf("signed %v from now: %v", d, err)
		}
	}
	// A validly signed body that is not an event is refused, but not as a
	// signature problem.
	for _, body := range []string{`not json`, `{"object":"event"}`, `{"id":"evt_1","type":"checkout.session.completed","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`} {
		_, err := payments.ParseWebhook([]byte(body), sign(body, secret, now), secret, now)
		if err == nil || errors.Is(err, payments.ErrWebhookSignature) {
			t.Errorf("%s: err = %v; want a payload error", body, err)
		}
	}
}

// TestParseWebhook_DuplicateDeliveryParsesTheSame: Stripe redelivers an
// event with the same body and a fresh signature timestamp.
func TestParseWebhook_DuplicateDeliveryParsesTheSame(t *testing.T) {
	first, err := payments.ParseWebhook([]byte(sessionCompleted), sign(sessionCompleted, secret, now), secret, now)
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	again, err := payments.ParseWebhook([]byte(sessionCompleted), sign(sessionCompleted, secret, later), secret, later)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, again) {
		t.Fatalf("redelivery parsed differently:\n%+v\n%+v", first, again)
	}
}

func TestSignWebhook_MatchesStripe(t *testing.T) {
	h := payments.SignWebhook([]byte(sessionCompleted), secret, now)
	if h != sign(sessionCompleted, secret, now) {
		t.Fatalf("SignWebhook = %q; stripe-go's helper gives %q", h, sign(sessionCompleted, secret, now))
	}
	// stripe-go's own verifier (wall clock) accepts a header signed now.
	fresh := time.Now()
	if err := webhook.ValidatePayload([]byte(sessionCompleted), payments.SignWebhook([]byte(sessionCompleted), secret, fresh), secret); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, fmt.Sprintf("t=%d,v1=", now.Unix())) {
		t.Errorf("header %q", h)
	}
}

func TestParseWebhook_OtherTypesParseButAreNotHandled(t *testing.T) {
	body := `{"id":"evt_9","object":"event","type":"customer.created","created":1795521600,"data":{"object":{"id":"cus_1","object":"customer"}}}`
	ev, err := payments.ParseWebhook([]byte(body), sign(body, secret, now), secret, now)
	if err != nil || ev.ID != "evt_9" || ev.Handled() {
		t.Fatalf("ev = %+v, %v", ev, err)
	}
}

func TestWebhookHandler(t *testing.T) {
	var calls atomic.Int32
	var fail atomic.Bool
	var got atomic.Value
	h := payments.WebhookHandler(secret, func() time.Time { return now }, func(ctx context.Context, ev payments.Event) error {
		calls.Add(1)
		got.Store(ev)
		if fail.Load() {
			return errors.New("temporal unavailable")
		}
		return nil
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))

	post := func(body, sig string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", strings.NewReader(body))
		if sig != "" {
			r.Header.Set("Stripe-Signature", sig)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	refusals := map[string]*httptest.ResponseRecorder{
		"missing signature": post(sessionCompleted, ""),
		"wrong secret":      post(sessionCompleted, sign(sessionCompleted, "whsec_other", now)),
		"stale":             post(sessionCompleted, sign(sessionCompleted, secret, now.Add(-10*time.Minute))),
		"tampered":          post(strings.Replace(sessionCompleted, "SEN-1000003", "SEN-1000001", -1), sign(sessionCompleted, secret, now)),
		"signed garbage":    post("{}", sign("{}", secret, now)),
	}
	for name, w := range refusals {
		if w.Code != http.StatusBadRequest || len(w.Body.String()) > 40 {
			t.Errorf("%s: %d %q; want 400 with a short message", name, w.Code, w.Body.String())
		}
	}
	if calls.Load() != 0 {
		t.Fatalf("handle ran %d times for refused deliveries", calls.Load())
	}

	if w := post(sessionCompleted, sign(sessionCompleted, secret, now)); w.Code != http.StatusOK {
		t.Fatalf("valid: %d %s", w.Code, w.Body)
	}
	if calls.Load() != 1 || got.Load().(payments.Event).SessionID != "cs_test_a1b2" {
		t.Fatalf("handle calls %d, event %+v", calls.Load(), got.Load())
	}

	other := `{"id":"evt_9","object":"event","type":"customer.created","data":{"object":{"id":"cus_1"}}}`
	if w := post(other, sign(other, secret, now)); w.Code != http.StatusOK {
		t.Fatalf("ignored type: %d", w.Code)
	}
	if calls.Load() != 1 {
		t.Fatal("handle ran for an event type the system ignores")
	}

	fail.Store(true)
	if w := post(paymentFailed, sign(paymentFailed, secret, now)); w.Code != http.StatusInternalServerError {
		t.Fatalf("failing handle: %d; want 500 so the provider retries", w.Code)
	}

	big := `{"id":"evt_big","type":"customer.created","pad":"` + strings.Repeat("x", payments.MaxWebhookBody) + `"}`
	if w := post(big, sign(big, secret, now)); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", w.Code)
	}

	r := httptest.NewRequest(http.MethodGet, "/webhooks/stripe", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
}
