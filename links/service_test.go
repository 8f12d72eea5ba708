package links_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"licensedesk/internal/pgtest"
	"licensedesk/licensing"
	"licensedesk/links"
	"licensedesk/passwords"
	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
	"licensedesk/web"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture is the links service on the demo database, behind the real
// /l/ handler. Account setup needs no Temporal, so there is none.
type fixture struct {
	db  *postgres.DB
	svc *links.Service
	h   http.Handler
	log *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, now := postgrestest.NewDemo(t)
	f := &fixture{db: db, log: &bytes.Buffer{}}
	f.svc = &links.Service{DB: db, PublicBaseURL: "https://desk.licensedesk.test", Hasher: passwords.NewHasher(2), Clock: now}
	f.h = web.LinkPages(f.svc, slog.New(slog.NewTextHandler(f.log, nil)), web.WithClock(now))
	return f
}

// setupLink makes a pending account for email and its account-setup link.
func (f *fixture) setupLink(t *testing.T, email licensing.Email) string {
	t.Helper()
	ctx := context.Background()
	// As ContactAdd does: a pending account, added as a contact, invited.
	if _, err := f.db.EnsureContact(ctx, "SEN-1000001", licensing.Billing, email, licensing.Actor{Kind: "system", ID: "test"}); err != nil {
		t.Fatal(err)
	}
	token, _, err := f.db.CreateLink(ctx, postgres.NewLink{
		Purpose: "complete_account", Email: email, SEN: "SEN-1000001", WorkflowID: "contact-add/SEN-1000001/billing/" + string(email), TTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func (f *fixture) account(t *testing.T, email licensing.Email) postgres.Account {
	t.Helper()
	a, err := f.db.AccountByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// csrf is a well-formed double-submit token: the browser's cookie and the
// form's field carry the same value.
const csrf = "Y3NyZi10b2tlbi1vZi10aGUtdGVzdHMtMzItYnl0ZXM"

type response struct {
	status int
	body   string // the page's text, unescaped
}

func (f *fixture) do(r *http.Request) response {
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return response{status: w.Code, body: html.UnescapeString(string(b))}
}

func (f *fixture) get(token string) response {
	return f.do(httptest.NewRequest("GET", "/l/"+token, nil))
}

// post submits a link's form as a browser does after showing it.
func (f *fixture) post(token string, form url.Values) response {
	form.Set("csrf", csrf)
	r := httptest.NewRequest("POST", "/l/"+token, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "null")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.AddCookie(&http.Cookie{Name: "csrf", Value: csrf})
	return f.do(r)
}

const setupPassword = "purple tractor sings at dawn"

func setupForm(name string) url.Values {
	return url.Values{"display_name": {name}, "password": {setupPassword}, "password_confirm": {setupPassword}}
}

// badNames are refused by the one display-name rule, on the profile form
// and here alike (licensing.CheckDisplayName).
var badNames = []struct{ name, value, msg string }{
	{"CR LF", "Dana\r\nBcc: mallory@evil.test", "control character"},
	{"LF", "Dana\nDoe", "control character"},
	{"tab", "Dana\tDoe", "control character"},
	{"NUL", "Dana\x00Doe", "control character"},
	{"escape", "Dana\x1b[2J", "control character"},
	{"right-to-left override", "Dana \u202Efdp.exe", "changes the direction of text (U+202E)"},
	{"isolate", "Dana \u2066x", "(U+2066)"},
	{"too long", strings.Repeat("d", licensing.MaxDisplayName+1), "too long: use at most 200 characters (it has 201)"},
	{"blank", "   ", "Enter a display name"},
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func TestAccountSetup_RefusesTheNamesTheProfileRefuses(t *testing.T) {
	f := newFixture(t)
	const email = licensing.Email("dana@new.test")
	token := f.setupLink(t, email)
	for _, tc := range badNames {
		res := f.post(token, setupForm(tc.value))
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, tc.msg) {
			t.Errorf("%s: %d; want 422 saying %q:\n%s", tc.name, res.status, tc.msg, tagRE.ReplaceAllString(res.body, ""))
		}
	}
	if a := f.account(t, email); a.Status != licensing.AccountPending || a.DisplayName != "" || a.PasswordHash != "" {
		t.Fatalf("refused names changed the account: %+v", a)
	}
	if _, err := f.db.LookupLink(context.Background(), token); err != nil {
		t.Fatalf("refused names spent the link: %v", err)
	}
	// The same form with a good name sets the account up.
	if res := f.post(token, setupForm("  Dana Doe  ")); res.status != http.StatusOK || !strings.Contains(res.body, "Your account is ready") {
		t.Fatalf("good name: %d %s", res.status, tagRE.ReplaceAllString(res.body, ""))
	}
	if a := f.account(t, email); a.Status != licensing.AccountActive || a.DisplayName != "Dana Doe" {
		t.Fatalf("account after setup: %+v", a)
	}
}

// hashCounter watches a Hasher: how many computations, and the most at once.
type hashCounter struct {
	mu          sync.Mutex
	total, peak int
}

func (c *hashCounter) watch(h *passwords.Hasher) *passwords.Hasher {
	h.OnStart = func(running int) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.total++
		c.peak = max(c.peak, running)
	}
	return h
}

func (c *hashCounter) get() (total, peak int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total, c.peak
}

// Issue 9, item 12: account setups posted at once hash through the shared
// limiter, never more than its limit at a time.
func TestAccountSetup_HashesWithinTheSharedLimit(t *testing.T) {
	f := newFixture(t)
	var hashes hashCounter
	f.svc.Hasher = hashes.watch(passwords.NewHasher(2))
	const n = 8
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = f.setupLink(t, licensing.Email(fmt.Sprintf("new%d@new.test", i)))
	}
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i, token := range tokens {
		wg.Go(func() { statuses[i] = f.post(token, setupForm(fmt.Sprintf("New Person %d", i))).status })
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("setup %d: status %d", i, st)
		}
		if a := f.account(t, licensing.Email(fmt.Sprintf("new%d@new.test", i))); a.Status != licensing.AccountActive {
			t.Errorf("account %d is %s", i, a.Status)
		}
	}
	if total, peak := hashes.get(); total != n || peak > 2 {
		t.Fatalf("%d hashes through the limiter, at most %d at once; want %d, at most 2", total, peak, n)
	}
}

// The link is checked before any hashing: a link that cannot set an account
// up, or a form that is refused anyway, costs no argon2id.
func TestAccountSetup_BadLinkOrFormHashesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var hashes hashCounter
	f.svc.Hasher = hashes.watch(passwords.NewHasher(2))

	used := f.setupLink(t, "used@new.test")
	if _, err := f.db.CompleteAccount(ctx, used, "Used", "$argon2id$x"); err != nil {
		t.Fatal(err)
	}
	expired, _, err := f.db.CreateLink(ctx, postgres.NewLink{Purpose: "complete_account", Email: "alice@acme.test", TTL: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Set up by other means since the link was sent (bob is active).
	bob := f.account(t, "bob@acme.test")
	setUp, _, err := f.db.CreateLink(ctx, postgres.NewLink{Purpose: "complete_account", Email: "bob@acme.test", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	reset, _, err := f.db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposePasswordReset, Email: "carol@acme.test", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	good := f.setupLink(t, "good@new.test")
	for _, tc := range []struct {
		name   string
		token  string
		form   url.Values
		status int
	}{
		{"unknown token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", setupForm("Someone"), http.StatusNotFound},
		{"used link", used, setupForm("Someone"), http.StatusGone},
		{"expired link", expired, setupForm("Someone"), http.StatusGone},
		{"account already set up", setUp, setupForm("Someone"), http.StatusGone},
		{"a reset link", reset, setupForm("Someone"), http.StatusNotFound},
		{"bad name", good, setupForm("Good\r\nPerson"), http.StatusUnprocessableEntity},
		{"weak password", good, url.Values{"display_name": {"Good"}, "password": {"password1234567"}, "password_confirm": {"password1234567"}}, http.StatusUnprocessableEntity},
		{"passwords differ", good, url.Values{"display_name": {"Good"}, "password": {setupPassword}, "password_confirm": {setupPassword + "!"}}, http.StatusUnprocessableEntity},
	} {
		if res := f.post(tc.token, tc.form); res.status != tc.status {
			t.Errorf("%s: status %d; want %d", tc.name, res.status, tc.status)
		}
		if total, _ := hashes.get(); total != 0 {
			t.Fatalf("%s: %d passwords hashed; want none", tc.name, total)
		}
	}
	if a := f.account(t, "bob@acme.test"); a != bob {
		t.Fatalf("an active account was set up again: %+v", a)
	}
	if _, err := f.db.LookupLink(ctx, good); err != nil {
		t.Fatalf("refused forms spent the link: %v", err)
	}
}

// A token of another purpose on /l/ (a password-reset token) is the 404
// page on GET and POST, whatever the form says, and nothing is spent.
func TestLinks_ATokenOfAnotherPurposeIsUnknown(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	reset, _, err := f.db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposePasswordReset, Email: "alice@acme.test", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	alice := f.account(t, "alice@acme.test")
	for name, res := range map[string]response{
		"GET":                  f.get(reset),
		"POST a decision":      f.post(reset, url.Values{"decision": {"approve"}}),
		"POST account details": f.post(reset, setupForm("Mallory")),
	} {
		if res.status != http.StatusNotFound || !strings.Contains(res.body, "This link isn't valid") {
			t.Errorf("%s: %d; want the 404 page:\n%s", name, res.status, tagRE.ReplaceAllString(res.body, ""))
		}
	}
	if _, err := f.db.LookupLink(ctx, reset); err != nil {
		t.Fatalf("the reset link after /l/: %v; want it untouched", err)
	}
	if a := f.account(t, "alice@acme.test"); a != alice {
		t.Fatalf("the account changed: %+v", a)
	}
	if strings.Contains(f.log.String(), reset) {
		t.Errorf("the token appears in the log:\n%s", f.log.String())
	}
}
