package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"licensedesk/internal/pgtest"
	"licensedesk/payments"
	"licensedesk/payments/sandbox"
	"licensedesk/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const secret = "whsec_sandbox_test"

// clock is a settable time source shared by the sandbox and the receiver.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// receiver is the app's webhook route: it verifies every delivery with
// payments.ParseWebhook, as POST /webhooks/stripe does.
type receiver struct {
	mu       sync.Mutex
	events   []payments.Event
	failNext atomic.Int32 // answer 500 to this many deliveries first
	refused  atomic.Int32
}

func (rc *receiver) handler(now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rc.failNext.Load() > 0 {
			rc.failNext.Add(-1)
			http.Error(w, "not now", http.StatusInternalServerError)
			return
		}
		body, _ := io.ReadAll(r.Body)
		ev, err := payments.ParseWebhook(body, r.Header.Get("Stripe-Signature"), secret, now())
		if err != nil {
			rc.refused.Add(1)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.events = append(rc.events, ev)
		rc.mu.Unlock()
	})
}

func (rc *receiver) got() []payments.Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]payments.Event(nil), rc.events...)
}

type env struct {
	sb    *sandbox.Sandbox
	db    *postgres.DB
	clock *clock
	rc    *receiver
	page  *httptest.Server // the card page
}

func newDB(t *testing.T) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{db: newDB(t), clock: &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}, rc: &receiver{}}
	hook := httptest.NewServer(e.rc.handler(e.clock.Now))
	t.Cleanup(hook.Close)
	var sb *sandbox.Sandbox
	e.page = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sb.Handler().ServeHTTP(w, r) }))
	t.Cleanup(e.page.Close)
	var err error
	sb, err = sandbox.New(sandbox.Config{
		Store:         sandbox.NewPGStore(e.db.Pool()),
		BaseURL:       e.page.URL,
		WebhookURL:    hook.URL + "/webhooks/stripe",
		WebhookSecret: secret,
		Now:           e.clock.Now,
		RetryDelay:    time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.sb = sb
	return e
}

func count(t *testing.T, db *postgres.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCharge_TestCards: each of SPEC §7's cards, charged by its magic id (as
// the demo data stores them), succeeds or declines as Stripe's does.
func TestCharge_TestCards(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		card, code string
		hard       bool
	}{
		{"pm_card_visa", "", false},
		{"pm_card_mastercard", "", false},
		{"pm_card_chargeDeclined", "generic_decline", false},
		{"pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", false},
		{"pm_card_chargeDeclinedStolenCard", "stolen_card", true},
		{"pm_card_chargeDeclinedExpiredCard", "expired_card", false},
		{"pm_card_authenticationRequired", "authentication_required", true},
		{"pm_card_chargeCustomerFail", "generic_decline", false},
	}
	if len(tests) != len(sandbox.Cards()) {
		t.Fatalf("%d cards tested, the sandbox knows %d", len(tests), len(sandbox.Cards()))
	}
	for i, tt := range tests {
		t.Run(tt.card, func(t *testing.T) {
			c, err := e.sb.Charge(ctx, payments.ChargeInput{
				CustomerID: "cus_demo_SEN-1000003", PaymentMethodID: tt.card, AmountCents: 1000, Currency: "USD",
				IdempotencyKey: fmt.Sprintf("SEN-1000003-2026-11-20/%d", i+1),
			})
			if tt.code == "" {
				if err != nil || c.Status != payments.ChargeSucceeded || !strings.HasPrefix(c.ID, "pi_") {
					t.Fatalf("charge = %+v, %v; want success", c, err)
				}
				return
			}
			var d *payments.DeclineError
			if !errors.As(err, &d) {
				t.Fatalf("charge = %+v, %v; want a decline", c, err)
			}
			if d.Code != tt.code || d.Hard != tt.hard || d.Message == "" || d.ChargeID != c.ID || c.Status != "requires_payment_method" {
				t.Errorf("decline %+v, charge %+v", d, c)
			}
			if payments.Retryable(err) {
				t.Error("a decline is Retryable")
			}
		})
	}
	if n := count(t, e.db, `SELECT count(*) FROM sandbox_charges`); n != len(tests) {
		t.Errorf("%d charge rows; want %d", n, len(tests))
	}
}

func TestCharge_IdempotentByKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := payments.ChargeInput{CustomerID: "cus_demo_SEN-1000003", PaymentMethodID: "pm_card_chargeDeclined",
		AmountCents: 1000, Currency: "USD", IdempotencyKey: "SEN-1000003-2026-11-20/2"}

	first, err1 := e.sb.Charge(ctx, in)
	second, err2 := e.sb.Charge(ctx, in)
	if first.ID == "" || first != second || err1 == nil || err1.Error() != err2.Error() {
		t.Fatalf("repeat of a declined charge: %+v %v / %+v %v", first, err1, second, err2)
	}

	// Twenty concurrent tries of one successful charge: one row, one id.
	in.PaymentMethodID, in.IdempotencyKey = "pm_card_visa", "SEN-1000001-2026-12-01/1"
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Go(func() {
			c, err := e.sb.Charge(ctx, in)
			if err != nil {
				t.Error(err)
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("one key, several charges: %v", ids)
		}
	}
	if n := count(t, e.db, `SELECT count(*) FROM sandbox_charges WHERE idempotency_key = $1`, in.IdempotencyKey); n != 1 {
		t.Fatalf("%d rows for one key", n)
	}

	// The first result stands even if the card would now behave otherwise:
	// the key is what is remembered.
	again := in
	again.Metadata = map[string]string{"note": "retried activity"}
	if c, err := e.sb.Charge(ctx, again); err != nil || c.ID != ids[0] {
		t.Fatalf("retry = %+v, %v", c, err)
	}

	// Reusing a key with other parameters is refused, as Stripe refuses it.
	other := in
	other.AmountCents = 2000
	if _, err := e.sb.Charge(ctx, other); err == nil || payments.Retryable(err) {
		t.Fatalf("key reused for another amount: %v", err)
	}
	if n := count(t, e.db, `SELECT count(*) FROM sandbox_charges`); n != 2 {
		t.Fatalf("%d charge rows; want 2", n)
	}
	// No key, no charge.
	in.IdempotencyKey = ""
	if _, err := e.sb.Charge(ctx, in); err == nil {
		t.Fatal("charged without an idempotency key")
	}
	if _, err := e.sb.Charge(ctx, payments.ChargeInput{CustomerID: "cus_x", PaymentMethodID: "pm_nope", AmountCents: 1, Currency: "usd", IdempotencyKey: "k"}); err == nil || payments.Retryable(err) {
		t.Fatalf("unknown payment method: %v", err)
	}
}

func TestEnsureCustomer_OncePerSEN(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Go(func() {
			id, err := e.sb.EnsureCustomer(ctx, payments.Customer{SEN: "SEN-1000001", Email: "alice@acme.test"})
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || !strings.HasPrefix(id, "cus_sb_") {
			t.Fatalf("ids %v", ids)
		}
	}
	other, err := e.sb.EnsureCustomer(ctx, payments.Customer{SEN: "SEN-1000002"})
	if err != nil || other == ids[0] {
		t.Fatalf("second SEN: %q, %v", other, err)
	}
	if n := count(t, e.db, `SELECT count(*) FROM sandbox_customers`); n != 2 {
		t.Fatalf("%d customers; want 2", n)
	}
	if _, err := e.sb.EnsureCustomer(ctx, payments.Customer{}); err == nil {
		t.Fatal("customer without a SEN")
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func post(t *testing.T, u string, form url.Values) *http.Response {
	t.Helper()
	res, err := noRedirect.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func body(res *http.Response) string {
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func (e *env) session(t *testing.T, sen string) (customer string, s payments.CardSession) {
	t.Helper()
	ctx := context.Background()
	customer, err := e.sb.EnsureCustomer(ctx, payments.Customer{SEN: sen})
	if err != nil {
		t.Fatal(err)
	}
	s, err = e.sb.CardSession(ctx, payments.CardSessionInput{
		CustomerID: customer, SEN: sen, Reference: "card/" + sen + "/wf|42",
		SuccessURL: "https://app.test/card/saved?session={CHECKOUT_SESSION_ID}", CancelURL: "https://app.test/l/tok",
	})
	if err != nil {
		t.Fatal(err)
	}
	return customer, s
}

func TestCheckout_PageToWebhookToRedirect(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	customer, s := e.session(t, "SEN-1000003")
	if s.URL != e.page.URL+"/sandbox/checkout/"+s.ID || !strings.HasPrefix(s.ID, "cs_sb_") || !s.ExpiresAt.Equal(e.clock.Now().Add(24*time.Hour)) {
		t.Fatalf("session %+v", s)
	}

	status, page := get(t, s.URL)
	if status != http.StatusOK {
		t.Fatalf("GET %d", status)
	}
	for _, want := range []string{"<title>Add a card", "<h1>Add a card</h1>", "SEN-1000003", "Save card", `href="https://app.test/l/tok"`,
		`name="viewport"`, "Payments go through.", "reported stolen"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, c := range sandbox.Cards() {
		if !strings.Contains(page, `value="`+c.ID+`"`) || !strings.Contains(page, c.Label) {
			t.Errorf("page lacks card %s", c.ID)
		}
	}
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token in the form")
	}
	// GET changed nothing.
	if st, _ := get(t, s.URL); st != 200 || count(t, e.db, `SELECT count(*) FROM sandbox_sessions WHERE status = 'open'`) != 1 || len(e.rc.got()) != 0 {
		t.Fatal("GET changed something")
	}

	e.rc.failNext.Store(2) // the app is briefly unavailable: retried
	res := post(t, s.URL, url.Values{"csrf": {m[1]}, "card": {"pm_card_mastercard"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "https://app.test/card/saved?session="+s.ID {
		t.Fatalf("POST: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	evs := e.rc.got()
	if len(evs) != 1 || e.rc.refused.Load() != 0 {
		t.Fatalf("events %+v, %d refused", evs, e.rc.refused.Load())
	}
	ev := evs[0]
	if ev.Type != payments.EventCheckoutSessionCompleted || ev.SessionID != s.ID || ev.CustomerID != customer ||
		ev.Reference != "card/SEN-1000003/wf|42" || !strings.HasPrefix(ev.PaymentMethodID, "pm_sb_") ||
		!strings.HasPrefix(ev.SetupIntentID, "seti_sb_") || ev.Status != "complete" || ev.Metadata["sen"] != "SEN-1000003" ||
		!strings.HasPrefix(ev.ID, "evt_sb_") {
		t.Fatalf("event %+v", ev)
	}
	if pm, err := e.sb.ResolveSetup(ctx, s.ID); err != nil || pm != ev.PaymentMethodID {
		t.Fatalf("ResolveSetup = %q, %v", pm, err)
	}

	card, err := e.sb.SetDefault(ctx, customer, ev.PaymentMethodID)
	if err != nil || card.Brand != "mastercard" || card.Last4 != "4444" || card.ID != ev.PaymentMethodID || card.ExpMonth != 12 || card.ExpYear != 2030 {
		t.Fatalf("SetDefault = %+v, %v", card, err)
	}
	if n := count(t, e.db, `SELECT count(*) FROM sandbox_customers WHERE id = $1 AND default_payment_method = $2`, customer, ev.PaymentMethodID); n != 1 {
		t.Error("default not recorded")
	}
	if c, err := e.sb.Charge(ctx, payments.ChargeInput{CustomerID: customer, PaymentMethodID: ev.PaymentMethodID,
		AmountCents: 1000, Currency: "USD", IdempotencyKey: "SEN-1000003-2026-11-20/3"}); err != nil || c.Status != "succeeded" {
		t.Fatalf("charge = %+v, %v", c, err)
	}
	// The card is this customer's: nobody else can use it.
	if _, err := e.sb.Charge(ctx, payments.ChargeInput{CustomerID: "cus_other", PaymentMethodID: ev.PaymentMethodID,
		AmountCents: 1000, Currency: "USD", IdempotencyKey: "other/1"}); err == nil {
		t.Fatal("charged another customer's card")
	}
	if _, err := e.sb.SetDefault(ctx, "cus_other", ev.PaymentMethodID); err == nil {
		t.Fatal("another customer's card became a default")
	}

	// Pressed twice: the same event again (same id), one card, and on.
	res = post(t, s.URL, url.Values{"csrf": {m[1]}, "card": {"pm_card_visa"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second POST: %d", res.StatusCode)
	}
	if evs := e.rc.got(); len(evs) != 2 || evs[1].ID != ev.ID || evs[1].PaymentMethodID != ev.PaymentMethodID {
		t.Fatalf("redelivery %+v", evs)
	}
	if n := count(t, e.db, `SELECT count(*) FROM sandbox_payment_methods`); n != 1 {
		t.Fatalf("%d cards saved", n)
	}

	// The page now says it is done.
	status, page = get(t, s.URL)
	if status != http.StatusOK || !strings.Contains(page, "Card saved") || !strings.Contains(page, "already been saved") || strings.Contains(page, `name="card"`) {
		t.Fatalf("completed page: %d\n%s", status, page)
	}
}

func TestCheckout_ExpiredSession(t *testing.T) {
	e := newEnv(t)
	_, s := e.session(t, "SEN-1000001")
	status, page := get(t, s.URL)
	m := csrfRE.FindStringSubmatch(page)
	if status != 200 || m == nil {
		t.Fatal("no form")
	}
	e.clock.Add(24*time.Hour + time.Second)
	status, page = get(t, s.URL)
	if status != http.StatusGone || !strings.Contains(page, "expired") || strings.Contains(page, `name="card"`) {
		t.Fatalf("expired page: %d\n%s", status, page)
	}
	if count(t, e.db, `SELECT count(*) FROM sandbox_sessions WHERE status = 'open'`) != 1 {
		t.Fatal("GET changed the session")
	}
	res := post(t, s.URL, url.Values{"csrf": {m[1]}, "card": {"pm_card_visa"}})
	if res.StatusCode != http.StatusGone || !strings.Contains(body(res), "expired") {
		t.Fatalf("POST on an expired session: %d", res.StatusCode)
	}
	if len(e.rc.got()) != 0 || count(t, e.db, `SELECT count(*) FROM sandbox_payment_methods`) != 0 {
		t.Fatal("an expired session saved a card or sent an event")
	}
	if _, err := e.sb.ResolveSetup(context.Background(), s.ID); err == nil {
		t.Fatal("ResolveSetup on an expired session")
	}
}

func TestCheckout_Refusals(t *testing.T) {
	e := newEnv(t)
	_, s := e.session(t, "SEN-1000001")
	_, page := get(t, s.URL)
	token := csrfRE.FindStringSubmatch(page)[1]

	for name, form := range map[string]url.Values{
		"no token":              {"card": {"pm_card_visa"}},
		"wrong token":           {"csrf": {strings.Repeat("A", len(token))}, "card": {"pm_card_visa"}},
		"another page's token?": {"csrf": {token + "x"}, "card": {"pm_card_visa"}},
	} {
		res := post(t, s.URL, form)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d; want 403", name, res.StatusCode)
		}
	}
	// A card that is not a test card.
	res := post(t, s.URL, url.Values{"csrf": {token}, "card": {"4242424242424242"}})
	if b := body(res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, "Pick one of the test cards") {
		t.Errorf("bad card: %d", res.StatusCode)
	}
	if len(e.rc.got()) != 0 || count(t, e.db, `SELECT count(*) FROM sandbox_sessions WHERE status = 'open'`) != 1 {
		t.Fatal("a refused form changed something")
	}
	// Unknown session.
	if st, page := get(t, e.page.URL+"/sandbox/checkout/cs_sb_nope"); st != http.StatusNotFound || !strings.Contains(page, "not found") {
		t.Errorf("unknown session: %d", st)
	}
	if res := post(t, e.page.URL+"/sandbox/checkout/cs_sb_nope", url.Values{"csrf": {token}, "card": {"pm_card_visa"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("POST unknown session: %d", res.StatusCode)
	}
	// Other methods.
	req, _ := http.NewRequest(http.MethodDelete, s.URL, nil)
	if res, err := noRedirect.Do(req); err != nil || res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %v %v", res.StatusCode, err)
	}
}

// TestCheckout_UndeliveredWebhook: when the app does not answer, the card
// stays saved, the page says so and offers to try again, which delivers the
// same event.
func TestCheckout_UndeliveredWebhook(t *testing.T) {
	e := newEnv(t)
	_, s := e.session(t, "SEN-1000001")
	_, page := get(t, s.URL)
	token := csrfRE.FindStringSubmatch(page)[1]

	e.rc.failNext.Store(100)
	res := post(t, s.URL, url.Values{"csrf": {token}, "card": {"pm_card_chargeDeclined"}})
	b := body(res)
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(b, "Try again") || !strings.Contains(b, token) {
		t.Fatalf("undelivered: %d\n%s", res.StatusCode, b)
	}
	if got := 100 - e.rc.failNext.Load(); got != 5 {
		t.Errorf("%d delivery attempts; want 5", got)
	}
	e.rc.failNext.Store(0)
	res = post(t, s.URL, url.Values{"csrf": {token}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("try again: %d", res.StatusCode)
	}
	if evs := e.rc.got(); len(evs) != 1 || evs[0].PaymentMethodID == "" {
		t.Fatalf("events %+v", evs)
	}
}

func TestCardSession_Idempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := payments.CardSessionInput{CustomerID: "cus_demo_SEN-1000003", SEN: "SEN-1000003", Reference: "r",
		SuccessURL: "https://app.test/ok", CancelURL: "https://app.test/no", IdempotencyKey: "card/SEN-1000003/1"}
	a, err := e.sb.CardSession(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.sb.CardSession(ctx, in)
	if err != nil || a != b {
		t.Fatalf("same key, different sessions: %+v %+v %v", a, b, err)
	}
	in.IdempotencyKey = ""
	c, err := e.sb.CardSession(ctx, in)
	if err != nil || c.ID == a.ID {
		t.Fatalf("no key: %+v, %v", c, err)
	}
	for _, bad := range []payments.CardSessionInput{
		{CustomerID: "cus_1", SuccessURL: "javascript:alert(1)", CancelURL: "https://app.test/no"},
		{CustomerID: "cus_1", SuccessURL: "https://app.test/ok"},
		{SuccessURL: "https://app.test/ok", CancelURL: "https://app.test/no"},
	} {
		if _, err := e.sb.CardSession(ctx, bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestNew_Validates(t *testing.T) {
	db := newDB(t)
	for name, cfg := range map[string]sandbox.Config{
		"no store":    {BaseURL: "http://127.0.0.1:8080", WebhookSecret: "s"},
		"no base URL": {Store: sandbox.NewPGStore(db.Pool()), WebhookSecret: "s"},
		"relative":    {Store: sandbox.NewPGStore(db.Pool()), BaseURL: "/x", WebhookSecret: "s"},
		"no secret":   {Store: sandbox.NewPGStore(db.Pool()), BaseURL: "http://127.0.0.1:8080"},
	} {
		if _, err := sandbox.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestCheckout_EveryPageSaysItIsATestSandbox: whatever state the page is
// in, it says plainly that no real payment is taken.
func TestCheckout_EveryPageSaysItIsATestSandbox(t *testing.T) {
	e := newEnv(t)
	_, s := e.session(t, "SEN-1000001")
	const banner = "This is a test sandbox.</strong> No real payment is taken"
	pages := map[string]string{}
	_, pages["open"] = get(t, s.URL)
	_, pages["missing"] = get(t, e.page.URL+"/sandbox/checkout/cs_sb_nope")
	e.clock.Add(24*time.Hour + time.Second)
	_, pages["expired"] = get(t, s.URL)
	for state, page := range pages {
		if !strings.Contains(page, banner) {
			t.Errorf("%s page has no sandbox banner:\n%s", state, page)
		}
	}
}
