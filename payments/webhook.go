package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// The event types the system acts on. Every other type is acknowledged and
// ignored.
const (
	EventCheckoutSessionCompleted = "checkout.session.completed"
	EventPaymentIntentSucceeded   = "payment_intent.succeeded"
	EventPaymentIntentFailed      = "payment_intent.payment_failed"
)

// WebhookTolerance is how far a signature's timestamp may be from now
// (either way) before the delivery is refused as stale or replayed.
const WebhookTolerance = 5 * time.Minute

// MaxWebhookBody bounds a webhook request body; Stripe's events are a few
// kilobytes.
const MaxWebhookBody = 1 << 20

// SignatureHeader is the header Stripe signs webhooks in.
const SignatureHeader = "Stripe-Signature"

// ErrWebhookSignature is a webhook whose Stripe-Signature header is missing,
// malformed, made with another secret, or stale.
var ErrWebhookSignature = errors.New("payments: webhook signature missing, invalid or stale")

// Event is a verified provider event, reduced to what licensedesk uses.
// Fields that do not apply to the event's type are empty.
type Event struct {
	ID      string // evt_...; the same on every delivery of one event
	Type    string
	Created time.Time

	// checkout.session.completed
	SessionID     string // cs_...
	SetupIntentID string // seti_...
	Reference     string // CardSessionInput.Reference (client_reference_id)

	// Both kinds.
	CustomerID string
	// PaymentMethodID is the captured or charged payment method. Stripe's
	// checkout.session.completed does not carry it: resolve it with
	// SetupResolver.ResolveSetup(SessionID). The sandbox includes it.
	PaymentMethodID string
	Status          string // the session's or PaymentIntent's status
	Metadata        map[string]string

	// payment_intent.*
	PaymentIntentID string
	AmountCents     int64
	Currency        string
	DeclineCode     string // payment_intent.payment_failed: decline_code, or code
	DeclineMessage  string
}

// Handled reports whether the system acts on events of e's type.
func (e Event) Handled() bool {
	switch e.Type {
	case EventCheckoutSessionCompleted, EventPaymentIntentSucceeded, EventPaymentIntentFailed:
		return true
	}
	return false
}

// ParseWebhook verifies a webhook delivery's Stripe-Signature header
// (t=<unix>,v1=<hex HMAC-SHA256 of "t.payload" with secret>) and decodes the
// event. now is the receiver's clock: a signature more than
// WebhookTolerance away from it is refused, so a captured delivery cannot
// be replayed later. Errors from a bad signature wrap ErrWebhookSignature.
//
// The same event delivered twice (Stripe retries; the sandbox redelivers a
// double-submitted form) parses to the same Event, with the same ID:
// whatever acts on events must be idempotent.
func ParseWebhook(payload []byte, sigHeader, secret string, now time.Time) (Event, error) {
	if secret == "" {
		return Event{}, fmt.Errorf("%w: no webhook signing secret is configured", ErrWebhookSignature)
	}
	// stripe-go checks the HMAC. Its own timestamp check reads the wall
	// clock, so it is off here and done below against now.
	//
	// IgnoreAPIVersionMismatch is deliberate: stripe-go refuses events
	// whose api_version differs from the one it was generated for, but the
	// sandbox and the Stripe account (whose webhook endpoint has its own
	// version) need not match it. We read only a handful of long-stable
	// fields (ids, status, metadata) and decode them ourselves below.
	ev, err := webhook.ConstructEventWithOptions(payload, sigHeader, secret, webhook.ConstructEventOptions{
		IgnoreTolerance:          true,
		IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		if errors.Is(err, webhook.ErrNotSigned) || errors.Is(err, webhook.ErrInvalidHeader) || errors.Is(err, webhook.ErrNoValidSignature) {
			return Event{}, fmt.Errorf("%w: %v", ErrWebhookSignature, err)
		}
		return Event{}, fmt.Errorf("payments: webhook payload: %v", err)
	}
	t, ok := signedAt(sigHeader)
	if !ok {
		return Event{}, fmt.Errorf("%w: no timestamp", ErrWebhookSignature)
	}
	if d := now.Sub(t); d > WebhookTolerance || d < -WebhookTolerance {
		return Event{}, fmt.Errorf("%w: signed at %s, %s away from now", ErrWebhookSignature, t.UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	if ev.ID == "" || ev.Type == "" {
		return Event{}, errors.New("payments: webhook payload is not an event (no id or type)")
	}
	out := Event{ID: ev.ID, Type: string(ev.Type), Created: time.Unix(ev.Created, 0).UTC()}
	if ev.Data == nil || len(ev.Data.Raw) == 0 {
		if out.Handled() {
			return Event{}, fmt.Errorf("payments: %s event %s has no data.object", ev.Type, ev.ID)
		}
		return out, nil
	}
	switch ev.Type {
	case EventCheckoutSessionCompleted:
		err = decodeSession(ev.Data.Raw, &out)
	case EventPaymentIntentSucceeded, EventPaymentIntentFailed:
		err = decodePaymentIntent(ev.Data.Raw, &out)
	}
	if err != nil {
		return Event{}, fmt.Errorf("payments: %s event %s: %v", ev.Type, ev.ID, err)
	}
	return out, nil
}

// signedAt returns the t= timestamp of a Stripe-Signature header, read the
// way stripe-go reads it (the last t= wins).
func signedAt(header string) (time.Time, bool) {
	var t time.Time
	found := false
	for _, pair := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k != "t" {
			continue
		}
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		t, found = time.Unix(sec, 0), true
	}
	return t, found
}

// SignWebhook returns the Stripe-Signature header value for payload signed
// with secret at now, exactly as Stripe computes it (stripe-go's test
// helper). The sandbox signs its deliveries with it; tests too.
func SignWebhook(payload []byte, secret string, now time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload:   payload,
		Secret:    secret,
		Timestamp: now,
	}).Header
}

// expandable is a Stripe field that is either an id string or, when
// expanded, an object with an id.
type expandable string

func (x *expandable) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*x = ""
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*x = expandable(s)
		return nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*x = expandable(obj.ID)
	return nil
}

func decodeSession(raw json.RawMessage, out *Event) error {
	var s struct {
		ID                string            `json:"id"`
		Object            string            `json:"object"`
		Mode              string            `json:"mode"`
		Status            string            `json:"status"`
		Customer          expandable        `json:"customer"`
		ClientReferenceID string            `json:"client_reference_id"`
		SetupIntent       expandable        `json:"setup_intent"`
		PaymentMethod     expandable        `json:"payment_method"` // the sandbox's addition
		Metadata          map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	if s.ID == "" || (s.Object != "" && s.Object != "checkout.session") {
		return fmt.Errorf("data.object is not a checkout session")
	}
	out.SessionID = s.ID
	out.SetupIntentID = string(s.SetupIntent)
	out.CustomerID = string(s.Customer)
	out.PaymentMethodID = string(s.PaymentMethod)
	out.Status = s.Status
	out.Metadata = s.Metadata
	out.Reference = s.ClientReferenceID
	if out.Reference == "" {
		out.Reference = s.Metadata["reference"]
	}
	return nil
}

func decodePaymentIntent(raw json.RawMessage, out *Event) error {
	var pi struct {
		ID               string            `json:"id"`
		Object           string            `json:"object"`
		Status           string            `json:"status"`
		Amount           int64             `json:"amount"`
		Currency         string            `json:"currency"`
		Customer         expandable        `json:"customer"`
		PaymentMethod    expandable        `json:"payment_method"`
		Metadata         map[string]string `json:"metadata"`
		LastPaymentError *struct {
			Code        string `json:"code"`
			DeclineCode string `json:"decline_code"`
			Message     string `json:"message"`
		} `json:"last_payment_error"`
	}
	if err := json.Unmarshal(raw, &pi); err != nil {
		return err
	}
	if pi.ID == "" || (pi.Object != "" && pi.Object != "payment_intent") {
		return fmt.Errorf("data.object is not a payment intent")
	}
	out.PaymentIntentID = pi.ID
	out.Status = pi.Status
	out.AmountCents = pi.Amount
	out.Currency = pi.Currency
	out.CustomerID = string(pi.Customer)
	out.PaymentMethodID = string(pi.PaymentMethod)
	out.Metadata = pi.Metadata
	out.Reference = pi.Metadata["reference"]
	if e := pi.LastPaymentError; e != nil {
		out.DeclineCode = e.DeclineCode
		if out.DeclineCode == "" {
			out.DeclineCode = e.Code
		}
		out.DeclineMessage = e.Message
	}
	return nil
}

// WebhookHandler serves POST /webhooks/stripe. It reads the raw body (at
// most MaxWebhookBody), verifies it with ParseWebhook against now(), and:
//
//   - answers 400 with a short message to a missing, bad or stale signature
//     or a malformed event, without calling handle;
//   - answers 200 to event types the system does not use, without calling
//     handle;
//   - calls handle, and answers 200 when it returns nil, or 500 when it
//     fails, so that Stripe (or the sandbox) delivers the event again.
//
// Stripe delivers at least once and in no particular order: handle gets
// duplicates (same Event.ID) and must be idempotent, and must cope with,
// e.g., payment_intent.payment_failed arriving after payment_intent.
// succeeded for another attempt. The request's context is passed on; Stripe
// gives up on a delivery after about 10 seconds, so handle should hand work
// to a workflow (signal) rather than do it.
func WebhookHandler(secret string, now func() time.Time, handle func(ctx context.Context, ev Event) error, logger *slog.Logger) http.Handler {
	if now == nil {
		now = time.Now //clock:wall the provider's timestamps are real time
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				logger.WarnContext(r.Context(), "webhook refused: body too large", "limit", MaxWebhookBody)
				http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "could not read body", http.StatusBadRequest)
			return
		}
		ev, err := ParseWebhook(body, r.Header.Get(SignatureHeader), secret, now())
		if err != nil {
			logger.WarnContext(r.Context(), "webhook refused", "err", err, "bytes", len(body))
			if errors.Is(err, ErrWebhookSignature) {
				http.Error(w, "invalid signature", http.StatusBadRequest)
			} else {
				http.Error(w, "malformed event", http.StatusBadRequest)
			}
			return
		}
		log := logger.With("event_id", ev.ID, "event_type", ev.Type)
		if !ev.Handled() {
			log.DebugContext(r.Context(), "webhook ignored")
			writeText(w, http.StatusOK, "ignored")
			return
		}
		if err := handle(r.Context(), ev); err != nil {
			log.ErrorContext(r.Context(), "webhook handling failed; the provider will deliver it again", "err", err)
			http.Error(w, "could not handle the event now; deliver it again", http.StatusInternalServerError)
			return
		}
		log.InfoContext(r.Context(), "webhook handled", "reference", ev.Reference, "session", ev.SessionID, "payment_intent", ev.PaymentIntentID)
		writeText(w, http.StatusOK, "ok")
	})
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
