package sandbox

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"licensedesk/payments"
)

// The card page has its own small template: go:embed cannot reach
// web/templates from here, and the web package keeps its files to itself.
// Its styles follow web/templates/layout.html.
//
//go:embed templates/*.html
var templateFiles embed.FS

var pages = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

// maxForm bounds the card form's body; the real one is a few hundred bytes.
const maxForm = 16 << 10

// Handler serves the hosted card page, the stand-in for Stripe Checkout,
// and the bank's challenge (authenticate.go):
//
//	GET  /sandbox/checkout/{id}  the page: pick a test card, "Save card" or cancel; changes nothing
//	POST /sandbox/checkout/{id}  saves the card, completes the session, delivers the signed
//	                             checkout.session.completed webhook, redirects to the success URL
//	GET/POST /sandbox/authenticate/{id}  the bank's challenge of a charge: Complete or Fail
//
// The session id in the URL is the capability to use the page (as
// Stripe's is); the form also carries the session's own random token, so
// another site cannot submit it. Mount it at "/sandbox/".
func (s *Sandbox) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sandbox/checkout/{id}", s.show)
	mux.HandleFunc("POST /sandbox/checkout/{id}", s.submit)
	mux.HandleFunc("GET /sandbox/authenticate/{id}", s.showChallenge)
	mux.HandleFunc("POST /sandbox/authenticate/{id}", s.answerChallenge)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Robots-Tag", "noindex")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", csp(""))
		mux.ServeHTTP(w, r)
	})
}

// page is what the template receives.
type page struct {
	Title   string
	State   string // "open", "complete", "expired", "missing", "forbidden", "undelivered", "error"
	Session SessionRecord
	Cards   []TestCard
	Chosen  string
	Error   string
	Action  string // the form's own path
	Next    string // the success URL, with the session id filled in
}

func (s *Sandbox) show(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.load(w, r)
	if !ok {
		return
	}
	switch s.state(sess) {
	case SessionComplete:
		s.render(w, r, http.StatusOK, page{Title: "Card saved", State: "complete", Session: sess, Next: successURL(sess)})
	case SessionExpired:
		s.render(w, r, http.StatusGone, page{Title: "This card page has expired", State: "expired", Session: sess})
	default:
		s.render(w, r, http.StatusOK, s.form(r, sess, "pm_card_visa", ""))
	}
}

func (s *Sandbox) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, page{Title: "Something went wrong", State: "error", Error: "The form could not be read. Go back and try again."})
		return
	}
	sess, ok := s.load(w, r)
	if !ok {
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(sess.CSRFToken)) != 1 {
		s.logger.WarnContext(r.Context(), "sandbox card form refused: bad CSRF token", "session", sess.ID)
		s.render(w, r, http.StatusForbidden, page{Title: "This form was not sent from its page", State: "forbidden", Session: sess})
		return
	}
	switch s.state(sess) {
	case SessionExpired:
		s.render(w, r, http.StatusGone, page{Title: "This card page has expired", State: "expired", Session: sess})
		return
	case SessionComplete:
		// Pressed twice, or "Try again" after a failed delivery: deliver
		// the same event (same id) again; the receiver is idempotent.
		s.finish(w, r, sess)
		return
	}
	choice := r.PostForm.Get("card")
	tc, ok := LookupCard(choice)
	if !ok {
		s.render(w, r, http.StatusBadRequest, s.form(r, sess, "", "Pick one of the test cards."))
		return
	}
	now := s.now()
	pm := PaymentMethodRecord{
		ID:         newID("pm_sb_", 24),
		CustomerID: sess.CustomerID,
		TestCard:   tc.ID,
		Brand:      tc.Brand,
		Last4:      tc.Last4,
		ExpMonth:   12,
		ExpYear:    now.Year() + 4,
		CreatedAt:  now,
	}
	eventID := newID("evt_sb_", 24)
	payload, err := completedEvent(sess, eventID, pm.ID, now)
	if err != nil {
		s.fail(w, r, "build event", err)
		return
	}
	done, err := s.store.SandboxCompleteSession(r.Context(), sess.ID, pm, eventID, payload, now)
	switch {
	case errors.Is(err, ErrExpired):
		s.render(w, r, http.StatusGone, page{Title: "This card page has expired", State: "expired", Session: sess})
		return
	case errors.Is(err, ErrNotFound):
		s.render(w, r, http.StatusNotFound, page{Title: "Card page not found", State: "missing"})
		return
	case err != nil:
		s.fail(w, r, "complete session", err)
		return
	}
	s.logger.InfoContext(r.Context(), "sandbox card saved", "session", done.ID, "customer", done.CustomerID,
		"payment_method", done.PaymentMethod, "test_card", tc.ID, "reference", done.Reference)
	s.finish(w, r, done)
}

// finish delivers a completed session's webhook and sends the person on to
// the success URL; when delivery fails, it says so and offers to try again.
func (s *Sandbox) finish(w http.ResponseWriter, r *http.Request, sess SessionRecord) {
	// Deliver even if the person closes the tab meanwhile.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 60*time.Second)
	defer cancel()
	if err := s.deliver(ctx, sess.EventID, sess.EventPayload); err != nil {
		s.logger.ErrorContext(ctx, "sandbox webhook not delivered", "session", sess.ID, "event", sess.EventID, "url", s.webhookURL, "err", err)
		p := s.form(r, sess, "", "")
		p.Title, p.State = "Your card was saved, but licensedesk has not heard yet", "undelivered"
		s.render(w, r, http.StatusBadGateway, p)
		return
	}
	http.Redirect(w, r, successURL(sess), http.StatusSeeOther)
}

// load reads the session named in the path, answering 404 itself.
func (s *Sandbox) load(w http.ResponseWriter, r *http.Request) (SessionRecord, bool) {
	id := r.PathValue("id")
	if id == "" || len(id) > 100 {
		s.render(w, r, http.StatusNotFound, page{Title: "Card page not found", State: "missing"})
		return SessionRecord{}, false
	}
	sess, err := s.store.SandboxSession(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		s.render(w, r, http.StatusNotFound, page{Title: "Card page not found", State: "missing"})
		return SessionRecord{}, false
	}
	if err != nil {
		s.fail(w, r, "load session", err)
		return SessionRecord{}, false
	}
	// The form's POST ends in a redirect to the success URL, which
	// browsers check against form-action: allow that origin too.
	if u, err := url.Parse(sess.SuccessURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") && hostRE.MatchString(u.Host) {
		w.Header().Set("Content-Security-Policy", csp(u.Scheme+"://"+u.Host))
	}
	return sess, true
}

var hostRE = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]+)?$|^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

// csp is the pages' Content-Security-Policy (web's, plus the origin the
// form may redirect to).
func csp(redirectOrigin string) string {
	formAction := "'self'"
	if redirectOrigin != "" {
		formAction += " " + redirectOrigin
	}
	return "default-src 'none'; style-src 'unsafe-inline'; form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
}

// state is the session's status as of now: an open session past its
// expiry shows as expired (without writing anything: GET changes nothing).
func (s *Sandbox) state(sess SessionRecord) string {
	if sess.Status == SessionOpen && !s.now().Before(sess.ExpiresAt) {
		return SessionExpired
	}
	return sess.Status
}

func (s *Sandbox) form(r *http.Request, sess SessionRecord, chosen, msg string) page {
	return page{
		Title:   "Add a card",
		State:   "open",
		Session: sess,
		Cards:   cards,
		Chosen:  chosen,
		Error:   msg,
		Action:  r.URL.Path,
	}
}

func (s *Sandbox) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.logger.ErrorContext(r.Context(), "sandbox card page failed", "step", what, "err", err)
	s.render(w, r, http.StatusInternalServerError, page{Title: "Something went wrong", State: "error",
		Error: "Something went wrong on our side; it has been logged. Try again in a moment."})
}

func (s *Sandbox) render(w http.ResponseWriter, r *http.Request, status int, p page) {
	if p.Action == "" {
		p.Action = r.URL.Path
	}
	s.renderTemplate(w, r, status, "checkout.html", p)
}

func (s *Sandbox) renderTemplate(w http.ResponseWriter, r *http.Request, status int, name string, p any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, p); err != nil {
		s.logger.ErrorContext(r.Context(), "sandbox card page: render failed", "err", err)
		http.Error(w, "Something went wrong on our side; it has been logged.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// successURL fills in Stripe's {CHECKOUT_SESSION_ID} template variable.
func successURL(sess SessionRecord) string {
	return strings.ReplaceAll(sess.SuccessURL, "{CHECKOUT_SESSION_ID}", sess.ID)
}

// completedEvent is the checkout.session.completed event, shaped like
// Stripe's (same envelope and field names), plus the session's
// payment_method, which Stripe leaves to a SetupIntent lookup.
func completedEvent(sess SessionRecord, eventID, paymentMethod string, now time.Time) ([]byte, error) {
	meta := map[string]string{}
	if sess.SEN != "" {
		meta["sen"] = sess.SEN
	}
	if sess.Reference != "" {
		meta["reference"] = sess.Reference
	}
	var ref *string
	if sess.Reference != "" {
		ref = &sess.Reference
	}
	type object struct {
		ID                string            `json:"id"`
		Object            string            `json:"object"`
		Mode              string            `json:"mode"`
		Status            string            `json:"status"`
		Customer          string            `json:"customer"`
		ClientReferenceID *string           `json:"client_reference_id"`
		SetupIntent       string            `json:"setup_intent"`
		PaymentIntent     *string           `json:"payment_intent"`
		PaymentMethod     string            `json:"payment_method"`
		PaymentMethodType []string          `json:"payment_method_types"`
		Metadata          map[string]string `json:"metadata"`
		SuccessURL        string            `json:"success_url"`
		CancelURL         string            `json:"cancel_url"`
		Created           int64             `json:"created"`
		ExpiresAt         int64             `json:"expires_at"`
		Livemode          bool              `json:"livemode"`
		URL               *string           `json:"url"`
	}
	ev := struct {
		ID              string `json:"id"`
		Object          string `json:"object"`
		APIVersion      string `json:"api_version"`
		Created         int64  `json:"created"`
		Livemode        bool   `json:"livemode"`
		PendingWebhooks int    `json:"pending_webhooks"`
		Request         struct {
			ID             *string `json:"id"`
			IdempotencyKey *string `json:"idempotency_key"`
		} `json:"request"`
		Type string `json:"type"`
		Data struct {
			Object object `json:"object"`
		} `json:"data"`
	}{
		ID: eventID, Object: "event", APIVersion: stripe.APIVersion, Created: now.Unix(),
		PendingWebhooks: 1, Type: payments.EventCheckoutSessionCompleted,
	}
	ev.Data.Object = object{
		ID: sess.ID, Object: "checkout.session", Mode: "setup", Status: SessionComplete,
		Customer: sess.CustomerID, ClientReferenceID: ref, SetupIntent: sess.SetupIntentID,
		PaymentMethod: paymentMethod, PaymentMethodType: []string{"card"}, Metadata: meta,
		SuccessURL: sess.SuccessURL, CancelURL: sess.CancelURL,
		Created: sess.CreatedAt.Unix(), ExpiresAt: sess.ExpiresAt.Unix(),
	}
	return json.Marshal(ev)
}

// deliver POSTs a signed event to the webhook URL until it answers 2xx,
// DeliveryAttempts times at most, backing off between tries. Each attempt
// is signed afresh, as Stripe signs each delivery.
func (s *Sandbox) deliver(ctx context.Context, eventID string, payload []byte) error {
	if len(payload) == 0 {
		return errors.New("no event stored for the session")
	}
	delay := s.retryDelay
	var last error
	for attempt := 1; attempt <= s.attempts; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
			case <-t.C:
			}
			delay *= 2
		}
		last = s.post(ctx, payload)
		if last == nil {
			s.logger.InfoContext(ctx, "sandbox webhook delivered", "event", eventID, "attempt", attempt)
			return nil
		}
		s.logger.WarnContext(ctx, "sandbox webhook delivery failed", "event", eventID, "attempt", attempt, "of", s.attempts, "err", last)
	}
	return last
}

func (s *Sandbox) post(ctx context.Context, payload []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.webhookURL, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "licensedesk-payments-sandbox")
	req.Header.Set(payments.SignatureHeader, payments.SignWebhook(payload, s.secret, s.now()))
	res, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}
