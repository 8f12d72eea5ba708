package sandbox

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76"

	"licensedesk/licensing"
	"licensedesk/payments"
)

// Bank authentication, as Stripe does it for pm_card_authenticationRequired:
// the off-session charge fails with authentication_required and stays
// requires_payment_method; Authenticate confirms the same charge on-session
// (requires_action) and gives the URL of the bank's challenge, the
// sandbox's own page:
//
//	GET  /sandbox/authenticate/{id}  the challenge: Complete or Fail; changes nothing
//	POST /sandbox/authenticate/{id}  answers it, delivers the signed payment_intent.succeeded
//	                                 (or .payment_failed) webhook, sends the person to the return URL
//
// Every change of a charge is made with its row locked (Store.
// SandboxUpdateCharge): completing the challenge twice succeeds once and
// delivers the same event again; a charge cancelled before the challenge
// is completed stays cancelled, and one completed before it is cancelled
// cannot be cancelled.

// failedAuthentication is Stripe's code for a challenge the cardholder
// failed (last_payment_error.code).
const failedAuthentication = "payment_intent_authentication_failure"

// Authenticate opens (or reopens) the bank's challenge for a charge that
// waits for it.
func (s *Sandbox) Authenticate(ctx context.Context, in payments.AuthenticateInput) (payments.Authentication, error) {
	if in.ChargeID == "" || in.ReturnURL == "" {
		return payments.Authentication{}, errors.New("sandbox: authenticating a charge needs its id and a return URL")
	}
	if u, err := url.Parse(in.ReturnURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return payments.Authentication{}, fmt.Errorf("sandbox: %q is not an absolute http(s) URL", in.ReturnURL)
	}
	now := s.now()
	var refused error // the charge's state forbids it (not the store failing)
	c, err := s.store.SandboxUpdateCharge(ctx, in.ChargeID, func(c ChargeRecord) (ChargeRecord, bool, error) {
		switch {
		case c.Status == ChargeSucceeded || c.Status == ChargeCanceled:
			return c, false, nil
		case in.PaymentMethodID != "" && in.PaymentMethodID != c.PaymentMethod:
			refused = fmt.Errorf("sandbox: charge %s was made with %s, not %s", c.ID, c.PaymentMethod, in.PaymentMethodID)
			return c, false, refused
		case c.Status == ChargeDeclined && c.DeclineCode != "authentication_required" && c.DeclineCode != failedAuthentication:
			refused = fmt.Errorf("sandbox: charge %s was declined (%s); there is nothing to authenticate", c.ID, c.DeclineCode)
			return c, false, refused
		}
		c.Status, c.ReturnURL, c.UpdatedAt = ChargeRequiresAction, in.ReturnURL, now
		if c.ChallengeCSRF == "" {
			c.ChallengeCSRF = newToken()
		}
		return c, true, nil
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return payments.Authentication{}, fmt.Errorf("sandbox: no charge %q", in.ChargeID)
	case refused != nil:
		return payments.Authentication{}, refused
	case err != nil:
		return payments.Authentication{}, down("authenticate", err)
	case c.Status == ChargeCanceled:
		return payments.Authentication{Status: c.Status}, payments.ErrChargeCanceled
	case c.Status == ChargeSucceeded:
		return payments.Authentication{Status: c.Status}, nil
	}
	return payments.Authentication{Status: c.Status, URL: s.challengeURL(c.ID)}, nil
}

func (s *Sandbox) challengeURL(id string) string {
	return s.baseURL + "/sandbox/authenticate/" + url.PathEscape(id)
}

// LookupCharge reads a charge.
func (s *Sandbox) LookupCharge(ctx context.Context, chargeID string) (payments.Charge, error) {
	c, err := s.store.SandboxCharge(ctx, chargeID)
	if errors.Is(err, ErrNotFound) {
		return payments.Charge{}, fmt.Errorf("sandbox: no charge %q", chargeID)
	}
	if err != nil {
		return payments.Charge{}, down("get charge", err)
	}
	return payments.Charge{ID: c.ID, Status: c.Status}, nil
}

// CancelCharge cancels a charge that has not succeeded.
func (s *Sandbox) CancelCharge(ctx context.Context, chargeID string) (payments.Charge, error) {
	now := s.now()
	c, err := s.store.SandboxUpdateCharge(ctx, chargeID, func(c ChargeRecord) (ChargeRecord, bool, error) {
		if c.Status == ChargeSucceeded || c.Status == ChargeCanceled {
			return c, false, nil
		}
		c.Status, c.UpdatedAt = ChargeCanceled, now
		return c, true, nil
	})
	if errors.Is(err, ErrNotFound) {
		return payments.Charge{}, fmt.Errorf("sandbox: no charge %q", chargeID)
	}
	if err != nil {
		return payments.Charge{}, down("cancel charge", err)
	}
	return payments.Charge{ID: c.ID, Status: c.Status}, nil
}

// challengePage is what the challenge template receives.
type challengePage struct {
	Title  string
	State  string // "open", "succeeded", "canceled", "closed", "missing", "forbidden", "undelivered", "error"
	Charge ChargeRecord
	Amount string
	Error  string
	Action string
	Next   string // the return URL, with ?payment_intent=
}

func (s *Sandbox) showChallenge(w http.ResponseWriter, r *http.Request) {
	c, ok := s.loadCharge(w, r)
	if !ok {
		return
	}
	status, p := s.challengeState(c)
	s.renderChallenge(w, r, status, p)
}

// challengeState is the page for a charge as it is.
func (s *Sandbox) challengeState(c ChargeRecord) (int, challengePage) {
	p := challengePage{Charge: c, Amount: licensing.FormatMoney(c.AmountCents, c.Currency), Next: returnTo(c)}
	switch c.Status {
	case ChargeRequiresAction:
		p.Title, p.State = "Confirm this payment", "open"
		return http.StatusOK, p
	case ChargeSucceeded:
		p.Title, p.State = "Payment confirmed", "succeeded"
		return http.StatusOK, p
	case ChargeCanceled:
		p.Title, p.State = "This payment was cancelled", "canceled"
		return http.StatusGone, p
	}
	p.Title, p.State = "No confirmation is open for this payment", "closed"
	return http.StatusConflict, p
}

func (s *Sandbox) answerChallenge(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.renderChallenge(w, r, http.StatusBadRequest, challengePage{Title: "Something went wrong", State: "error", Error: "The form could not be read. Go back and try again."})
		return
	}
	c, ok := s.loadCharge(w, r)
	if !ok {
		return
	}
	csrf := r.PostForm.Get("csrf")
	if csrf == "" || subtle.ConstantTimeCompare([]byte(csrf), []byte(c.ChallengeCSRF)) != 1 {
		if c.Status == ChargeSucceeded {
			s.finishChallenge(w, r, c) // pressed again after it succeeded: the same answer
			return
		}
		s.logger.WarnContext(r.Context(), "sandbox challenge refused: bad CSRF token", "charge", c.ID)
		s.renderChallenge(w, r, http.StatusForbidden, challengePage{Title: "This form was not sent from its page", State: "forbidden", Charge: c})
		return
	}
	complete := r.PostForm.Get("outcome") == "complete"
	if !complete && r.PostForm.Get("outcome") != "fail" {
		status, p := s.challengeState(c)
		p.Error = "Choose Complete or Fail."
		s.renderChallenge(w, r, max(status, http.StatusBadRequest), p)
		return
	}
	now := s.now()
	answered := false
	c, err := s.store.SandboxUpdateCharge(r.Context(), c.ID, func(c ChargeRecord) (ChargeRecord, bool, error) {
		if c.Status != ChargeRequiresAction {
			return c, false, nil // answered or cancelled meanwhile
		}
		answered = true
		c.UpdatedAt = now
		if complete {
			c.Status, c.DeclineCode, c.Message = ChargeSucceeded, "", ""
		} else {
			c.Status, c.DeclineCode, c.Message = ChargeDeclined, failedAuthentication,
				"The bank could not authenticate this payment: the cardholder did not confirm it."
		}
		return c, true, nil
	})
	if err != nil {
		s.logger.ErrorContext(r.Context(), "sandbox challenge failed", "charge", c.ID, "err", err)
		s.renderChallenge(w, r, http.StatusInternalServerError, challengePage{Title: "Something went wrong", State: "error",
			Error: "Something went wrong on our side; it has been logged. Try again in a moment."})
		return
	}
	if !answered && c.Status != ChargeSucceeded {
		// Cancelled, or no challenge open: say so; nothing changed.
		status, p := s.challengeState(c)
		s.renderChallenge(w, r, status, p)
		return
	}
	s.logger.InfoContext(r.Context(), "sandbox challenge answered", "charge", c.ID, "status", c.Status)
	s.finishChallenge(w, r, c)
}

// finishChallenge tells licensedesk how the challenge ended (the same
// event for the same outcome, however often) and sends the person back.
func (s *Sandbox) finishChallenge(w http.ResponseWriter, r *http.Request, c ChargeRecord) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 60*time.Second)
	defer cancel()
	id, payload, err := chargeEvent(c)
	if err == nil {
		err = s.deliver(ctx, id, payload)
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "sandbox webhook not delivered", "charge", c.ID, "url", s.webhookURL, "err", err)
		_, p := s.challengeState(c)
		p.Title, p.State = "Your bank answered, but licensedesk has not heard yet", "undelivered"
		s.renderChallenge(w, r, http.StatusBadGateway, p)
		return
	}
	http.Redirect(w, r, returnTo(c), http.StatusSeeOther)
}

// returnTo is the return URL with the charge named, as Stripe adds
// payment_intent to it.
func returnTo(c ChargeRecord) string {
	u, err := url.Parse(c.ReturnURL)
	if err != nil || c.ReturnURL == "" {
		return ""
	}
	q := u.Query()
	q.Set("payment_intent", c.ID)
	u.RawQuery = q.Encode()
	return u.String()
}

// loadCharge reads the charge named in the path, answering 404 itself.
func (s *Sandbox) loadCharge(w http.ResponseWriter, r *http.Request) (ChargeRecord, bool) {
	id := r.PathValue("id")
	missing := challengePage{Title: "Payment not found", State: "missing"}
	if id == "" || len(id) > 100 {
		s.renderChallenge(w, r, http.StatusNotFound, missing)
		return ChargeRecord{}, false
	}
	c, err := s.store.SandboxCharge(r.Context(), id)
	if errors.Is(err, ErrNotFound) || (err == nil && c.ReturnURL == "") {
		// Never offered for authentication: as unknown as a made-up id.
		s.renderChallenge(w, r, http.StatusNotFound, missing)
		return ChargeRecord{}, false
	}
	if err != nil {
		s.fail(w, r, "load charge", err)
		return ChargeRecord{}, false
	}
	if u, err := url.Parse(c.ReturnURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") && hostRE.MatchString(u.Host) {
		w.Header().Set("Content-Security-Policy", csp(u.Scheme+"://"+u.Host))
	}
	return c, true
}

func (s *Sandbox) renderChallenge(w http.ResponseWriter, r *http.Request, status int, p challengePage) {
	if p.Action == "" {
		p.Action = r.URL.Path
	}
	s.renderTemplate(w, r, status, "challenge.html", p)
}

// chargeEvent is the payment_intent.succeeded or .payment_failed event of a
// charge, shaped like Stripe's. Its id is derived from the charge and its
// last change, so the same outcome delivered again is the same event.
func chargeEvent(c ChargeRecord) (string, []byte, error) {
	typ := payments.EventPaymentIntentSucceeded
	if c.Status != ChargeSucceeded {
		typ = payments.EventPaymentIntentFailed
	}
	sum := sha256.Sum256([]byte(c.ID + "|" + c.Status + "|" + strconv.FormatInt(c.UpdatedAt.UnixNano(), 10)))
	id := "evt_sb_" + hex.EncodeToString(sum[:12])
	type lastError struct {
		Type        string `json:"type"`
		Code        string `json:"code"`
		DeclineCode string `json:"decline_code,omitempty"`
		Message     string `json:"message"`
	}
	type object struct {
		ID               string            `json:"id"`
		Object           string            `json:"object"`
		Status           string            `json:"status"`
		Amount           int64             `json:"amount"`
		Currency         string            `json:"currency"`
		Customer         string            `json:"customer"`
		PaymentMethod    string            `json:"payment_method"`
		Description      string            `json:"description"`
		Metadata         map[string]string `json:"metadata"`
		LastPaymentError *lastError        `json:"last_payment_error"`
		Created          int64             `json:"created"`
		Livemode         bool              `json:"livemode"`
	}
	ev := struct {
		ID         string `json:"id"`
		Object     string `json:"object"`
		APIVersion string `json:"api_version"`
		Created    int64  `json:"created"`
		Livemode   bool   `json:"livemode"`
		Type       string `json:"type"`
		Data       struct {
			Object object `json:"object"`
		} `json:"data"`
	}{ID: id, Object: "event", APIVersion: stripe.APIVersion, Created: c.UpdatedAt.Unix(), Type: typ}
	ev.Data.Object = object{ID: c.ID, Object: "payment_intent", Status: c.Status, Amount: c.AmountCents, Currency: c.Currency,
		Customer: c.CustomerID, PaymentMethod: c.PaymentMethod, Description: c.Description, Metadata: c.Metadata, Created: c.CreatedAt.Unix()}
	if c.Status != ChargeSucceeded {
		ev.Data.Object.LastPaymentError = &lastError{Type: "invalid_request_error", Code: c.DeclineCode, Message: c.Message}
	}
	b, err := json.Marshal(ev)
	return id, b, err
}
