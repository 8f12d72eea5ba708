package stripeprovider_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"licensedesk/payments"
	stripeprovider "licensedesk/payments/stripe"
)

// The adapter against stripe-mock (github.com/stripe/stripe-mock, pinned in
// tools.mod), over HTTP. stripe-mock validates every request against
// Stripe's OpenAPI spec and answers with fixtures: it is stateless (it does
// not remember customers or idempotency keys) and never declines, so these
// tests check what we send and that we read what comes back; declines are
// tested with Stripe's error shapes in errors_test.go, and idempotent
// charging with the stateful sandbox.
//
// STRIPE_MOCK_URL uses an already running stripe-mock instead.

// startStripeMock builds (once, cached by Go) and starts stripe-mock on two
// free loopback ports, waits until it answers, and stops it when the test
// ends. It skips the test only when stripe-mock cannot be built.
func startStripeMock(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("STRIPE_MOCK_URL"); u != "" {
		return u
	}
	bin := stripeMockBinary(t)
	var lastOut string
	// A free port can be taken between our probe and stripe-mock's bind:
	// then it exits at once, and we try other ports.
	for range 3 {
		base, out, ok := runStripeMock(t, bin)
		if ok {
			return base
		}
		lastOut = out
	}
	t.Fatalf("stripe-mock did not start:\n%s", lastOut)
	return ""
}

func runStripeMock(t *testing.T, bin string) (base, output string, ok bool) {
	httpAddr, httpsAddr := freeAddr(t), freeAddr(t)
	var out lockedBuffer
	cmd := exec.Command(bin, "-http-addr", httpAddr, "-https-addr", httpsAddr)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	base = "http://" + httpAddr
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/customers", nil)
		req.SetBasicAuth("sk_test_licensedesk", "")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				t.Cleanup(stop)
				return base, "", true
			}
		}
		select {
		case err := <-exited:
			return "", fmt.Sprintf("exited (%v):\n%s", err, out.String()), false
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Sprintf("no answer on %s within 30 s:\n%s", base, out.String()), false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var stripeMock struct {
	once sync.Once
	path string
	err  error
}

// stripeMockBinary resolves the pinned stripe-mock with
// `go tool -modfile=tools.mod -n stripe-mock` from the repository root: Go
// builds it through the module proxy on first use and prints the cached
// binary's path.
func stripeMockBinary(t *testing.T) string {
	stripeMock.once.Do(func() {
		root, err := repoRoot()
		if err != nil {
			stripeMock.err = err
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command("go", "tool", "-modfile=tools.mod", "-n", "stripe-mock")
		cmd.Dir = root
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			stripeMock.err = fmt.Errorf("go tool -modfile=tools.mod -n stripe-mock: %v: %s", err, strings.TrimSpace(stderr.String()))
			return
		}
		stripeMock.path = strings.TrimSpace(string(out))
	})
	if stripeMock.err != nil {
		t.Skipf("stripe-mock could not be built, so the Stripe adapter is not tested over HTTP: %v", stripeMock.err)
	}
	return stripeMock.path
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no tools.mod above the test's directory")
		}
		dir = parent
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// recorded is one request the provider sent, as stripe-mock received it.
type recorded struct {
	Method, Path   string
	Form           url.Values
	Query          url.Values
	IdempotencyKey string
	Status         int
}

// recorder is a reverse proxy in front of stripe-mock that keeps every
// request, so the tests can check what went over the wire.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (rec *recorder) take() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	r := rec.reqs
	rec.reqs = nil
	return r
}

func proxyTo(t *testing.T, target string) (string, *recorder) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(res *http.Response) error {
		rec.mu.Lock()
		rec.reqs[len(rec.reqs)-1].Status = res.StatusCode
		rec.mu.Unlock()
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{Method: r.Method, Path: r.URL.Path, Form: form, Query: r.URL.Query(), IdempotencyKey: r.Header.Get("Idempotency-Key")})
		rec.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, rec
}

func TestStripeMock(t *testing.T) {
	mock := startStripeMock(t)
	apiURL, rec := proxyTo(t, mock)
	p, err := stripeprovider.New(stripeprovider.Config{SecretKey: "sk_test_licensedesk", APIURL: apiURL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("customer", func(t *testing.T) {
		id, err := p.EnsureCustomer(ctx, payments.Customer{SEN: "SEN-1000001", Email: "alice@acme.test", Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(id, "cus_") {
			t.Errorf("customer id %q", id)
		}
		reqs := rec.take()
		if len(reqs) != 1 {
			t.Fatalf("%d requests", len(reqs))
		}
		r := reqs[0]
		if r.Method != "POST" || r.Path != "/v1/customers" || r.Status != 200 || r.IdempotencyKey != "customer/SEN-1000001" ||
			r.Form.Get("metadata[sen]") != "SEN-1000001" || r.Form.Get("email") != "alice@acme.test" || r.Form.Get("name") != "Acme" {
			t.Errorf("request %+v", r)
		}
		if _, err := p.EnsureCustomer(ctx, payments.Customer{}); err == nil {
			t.Error("a customer without a SEN was created")
		}
	})

	t.Run("checkout session in setup mode", func(t *testing.T) {
		s, err := p.CardSession(ctx, payments.CardSessionInput{
			CustomerID: "cus_Q1", SEN: "SEN-1000003", Reference: "card/SEN-1000003/7f3a",
			SuccessURL: "https://licensedesk.example/card/done?session={CHECKOUT_SESSION_ID}", CancelURL: "https://licensedesk.example/card/cancel",
			IdempotencyKey: "card-session/7f3a",
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s.ID, "cs_") || !strings.HasPrefix(s.URL, "https://") {
			t.Errorf("session %+v", s)
		}
		r := rec.take()[0]
		want := map[string]string{
			"mode": "setup", "customer": "cus_Q1", "client_reference_id": "card/SEN-1000003/7f3a",
			"success_url":             "https://licensedesk.example/card/done?session={CHECKOUT_SESSION_ID}",
			"cancel_url":              "https://licensedesk.example/card/cancel",
			"payment_method_types[0]": "card",
			"metadata[sen]":           "SEN-1000003", "metadata[reference]": "card/SEN-1000003/7f3a",
			"setup_intent_data[metadata][reference]": "card/SEN-1000003/7f3a",
		}
		for k, v := range want {
			if got := r.Form.Get(k); got != v {
				t.Errorf("%s = %q; want %q", k, got, v)
			}
		}
		if r.Path != "/v1/checkout/sessions" || r.IdempotencyKey != "card-session/7f3a" || r.Status != 200 {
			t.Errorf("request %+v", r)
		}
	})

	t.Run("resolve setup", func(t *testing.T) {
		// stripe-mock's SetupIntent fixture has no payment method: the
		// request goes out expanded, and the answer is a clear error.
		_, err := p.ResolveSetup(ctx, "cs_test_1")
		if err == nil || !strings.Contains(err.Error(), "no payment method yet") {
			t.Fatalf("err = %v", err)
		}
		r := rec.take()[0]
		if r.Method != "GET" || r.Path != "/v1/checkout/sessions/cs_test_1" || r.Query.Get("expand[0]") != "setup_intent" {
			t.Errorf("request %+v", r)
		}
	})

	t.Run("set default", func(t *testing.T) {
		card, err := p.SetDefault(ctx, "cus_Q1", "pm_123")
		if err != nil {
			t.Fatal(err)
		}
		// stripe-mock's card fixture.
		if card.ID != "pm_123" || card.Brand != "visa" || card.Last4 != "4242" || card.ExpMonth < 1 || card.ExpYear < 2000 {
			t.Errorf("card %+v", card)
		}
		reqs := rec.take()
		var got []string
		for _, r := range reqs {
			got = append(got, r.Method+" "+r.Path)
		}
		// The fixture is not attached to anyone, so it is attached first.
		want := []string{"GET /v1/payment_methods/pm_123", "POST /v1/payment_methods/pm_123/attach", "POST /v1/customers/cus_Q1"}
		if strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Fatalf("requests %v; want %v", got, want)
		}
		if reqs[1].Form.Get("customer") != "cus_Q1" || reqs[2].Form.Get("invoice_settings[default_payment_method]") != "pm_123" {
			t.Errorf("attach %v, update %v", reqs[1].Form, reqs[2].Form)
		}
	})

	t.Run("off-session charge with an idempotency key", func(t *testing.T) {
		in := payments.ChargeInput{
			CustomerID: "cus_Q1", PaymentMethodID: "pm_123", AmountCents: 1000, Currency: "USD",
			Description: "Invoice SEN-1000003-2026-11-20", IdempotencyKey: "SEN-1000003-2026-11-20/2",
			Metadata: map[string]string{"invoice": "SEN-1000003-2026-11-20", "attempt": "2"},
		}
		// The same call twice, as a retried activity would: both carry the
		// same key, which is what makes Stripe charge once.
		for range 2 {
			c, err := p.Charge(ctx, in)
			// stripe-mock's PaymentIntent fixture is always
			// requires_payment_method, with no error: reported as an
			// ordinary (not retryable, not decline) error with the id.
			if err == nil || payments.Retryable(err) || !strings.Contains(err.Error(), "without a decline") {
				t.Fatalf("charge = %+v, %v", c, err)
			}
			if !strings.HasPrefix(c.ID, "pi_") || c.Status != "requires_payment_method" {
				t.Errorf("charge %+v", c)
			}
		}
		reqs := rec.take()
		if len(reqs) != 2 {
			t.Fatalf("%d requests", len(reqs))
		}
		for _, r := range reqs {
			want := map[string]string{
				"amount": "1000", "currency": "usd", "customer": "cus_Q1", "payment_method": "pm_123",
				"confirm": "true", "off_session": "true", "payment_method_types[0]": "card",
				"description": "Invoice SEN-1000003-2026-11-20", "metadata[invoice]": "SEN-1000003-2026-11-20", "metadata[attempt]": "2",
			}
			for k, v := range want {
				if got := r.Form.Get(k); got != v {
					t.Errorf("%s = %q; want %q", k, got, v)
				}
			}
			if r.Path != "/v1/payment_intents" || r.Status != 200 || r.IdempotencyKey != "SEN-1000003-2026-11-20/2" {
				t.Errorf("request %+v", r)
			}
		}
		// Without a key nothing is sent.
		in.IdempotencyKey = ""
		if _, err := p.Charge(ctx, in); err == nil {
			t.Fatal("charged without an idempotency key")
		}
		if n := len(rec.take()); n != 0 {
			t.Fatalf("%d requests for a charge without a key", n)
		}
	})

	t.Run("find an invoice's charges by listing the customer's payment intents", func(t *testing.T) {
		since := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		// stripe-mock's fixture carries no metadata: nothing matches, and
		// the answer is read without error.
		found, err := p.FindCharges(ctx, payments.FindChargesInput{CustomerID: "cus_Q1", Invoice: "SEN-1000003-2026-11-20", Since: since})
		if err != nil || len(found) != 0 {
			t.Fatalf("FindCharges = %+v, %v", found, err)
		}
		reqs := rec.take()
		if len(reqs) != 1 {
			t.Fatalf("%d requests", len(reqs))
		}
		r := reqs[0]
		if r.Method != "GET" || r.Path != "/v1/payment_intents" || r.Status != 200 || r.Query.Get("customer") != "cus_Q1" ||
			r.Query.Get("created[gte]") != fmt.Sprint(since.Unix()) || r.Query.Get("limit") != "100" {
			t.Errorf("request %+v", r)
		}
	})

	t.Run("unknown path is an ordinary error", func(t *testing.T) {
		// stripe-mock answers 404 for an id with a slash in it; the error
		// is neither a decline nor retryable.
		_, err := p.SetDefault(ctx, "cus_Q1", "pm/with/slash")
		if err == nil || payments.Retryable(err) {
			t.Fatalf("err = %v", err)
		}
		rec.take()
	})
}

// TestStripeMock_Authentication sends bank authentication's requests to
// stripe-mock, which checks them against Stripe's OpenAPI spec: the same
// PaymentIntent is read and confirmed on-session with the return URL (no
// new PaymentIntent), looked up, and cancelled. Its fixture never has a
// challenge open, so Authenticate ends with a clear error; the states are
// played in authenticate_test.go.
func TestStripeMock_Authentication(t *testing.T) {
	mock := startStripeMock(t)
	apiURL, rec := proxyTo(t, mock)
	p, err := stripeprovider.New(stripeprovider.Config{SecretKey: "sk_test_licensedesk", APIURL: apiURL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = p.Authenticate(ctx, payments.AuthenticateInput{ChargeID: "pi_3DS", PaymentMethodID: "pm_123", ReturnURL: "https://licensedesk.example/payment/confirmed"})
	if err != nil && !strings.Contains(err.Error(), "without a bank challenge") {
		t.Fatalf("authenticate: %v", err)
	}
	t.Logf("authenticate against stripe-mock's fixture: %v", err)
	reqs := rec.take()
	var got []string
	for _, r := range reqs {
		got = append(got, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
		if r.Method == "POST" && r.Path == "/v1/payment_intents" {
			t.Fatal("a second PaymentIntent was created")
		}
	}
	if len(reqs) != 2 {
		t.Fatalf("requests %v; want the PaymentIntent read, then confirmed", got)
	} else {
		f := reqs[1].Form
		if reqs[1].Path != "/v1/payment_intents/pi_3DS/confirm" || f.Get("return_url") != "https://licensedesk.example/payment/confirmed" ||
			f.Get("payment_method") != "pm_123" || f.Get("off_session") != "false" {
			t.Errorf("confirm %+v", reqs[1])
		}
	}
	if len(reqs) < 1 || reqs[0].Path != "/v1/payment_intents/pi_3DS" || reqs[0].Status != 200 {
		t.Fatalf("requests %v", got)
	}
	for _, r := range reqs {
		if r.Status != 200 {
			t.Errorf("stripe-mock refused %s %s: %d", r.Method, r.Path, r.Status)
		}
	}

	c, err := p.LookupCharge(ctx, "pi_3DS")
	if err != nil || !strings.HasPrefix(c.ID, "pi_") || c.Status == "" {
		t.Fatalf("lookup = %+v, %v", c, err)
	}
	if r := rec.take(); len(r) != 1 || r[0].Method != "GET" || r[0].Path != "/v1/payment_intents/pi_3DS" {
		t.Fatalf("lookup requests %+v", r)
	}
	c, err = p.CancelCharge(ctx, "pi_3DS")
	if err != nil || !strings.HasPrefix(c.ID, "pi_") {
		t.Fatalf("cancel = %+v, %v", c, err)
	}
	if r := rec.take(); len(r) != 1 || r[0].Path != "/v1/payment_intents/pi_3DS/cancel" || r[0].Form.Get("cancellation_reason") != "abandoned" || r[0].Status != 200 {
		t.Fatalf("cancel requests %+v", r)
	}
}
