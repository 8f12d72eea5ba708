package web_test

// Handler tests of the self-service pages on the real accounts service and
// a PostgreSQL database with the demo data (SPEC §6); contact changes and
// mail go through accountstest.Ops instead of workflows.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"licensedesk/internal/clock"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"licensedesk/accounts"
	"licensedesk/accounts/accountstest"
	"licensedesk/internal/pgtest"
	"licensedesk/licensing"
	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
	"licensedesk/web"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const demoPassword = postgres.DemoPassword

// site is the self-service pages on a fresh demo database.
type site struct {
	t    *testing.T
	db   *postgres.DB
	ops  *accountstest.Ops
	svc  *accounts.Service
	srv  *httptest.Server
	logs *syncBuffer
	now  clock.Clock // the pages' and the services' clock
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newSite serves the pages as the server mounts them, with the headers
// every response gets, plus a stand-in card page at /test/card/.
func newSite(t *testing.T, opt accounts.Options, hopts ...web.AccountOption) *site {
	t.Helper()
	db, now := postgrestest.NewDemo(t)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opt.Logger = logger
	if opt.Now != nil {
		now = opt.Now // the test's own clock rules the pages and the store too
		db.SetClock(now)
	}
	opt.Now = now
	hopts = append([]web.AccountOption{web.WithClock(now)}, hopts...)
	ops := accountstest.New(db)
	svc, err := accounts.New(db, ops, opt)
	if err != nil {
		t.Fatal(err)
	}
	ops.Service = svc
	t.Cleanup(ops.Wait)

	pages := web.Account(svc, logger, false, hopts...)
	mux := http.NewServeMux()
	for _, p := range []string{"/{$}", "/signin", "/signout", "/account", "/account/", "/password/forgot", "/password/reset/"} {
		mux.Handle(p, pages)
	}
	mux.HandleFunc("/test/card/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<!doctype html><title>Card</title><h1>Card page for "+html.EscapeString(strings.TrimPrefix(r.URL.Path, "/test/card/"))+"</h1>")
	})
	srv := httptest.NewServer(web.SecurityHeaders(mux, false))
	t.Cleanup(srv.Close)
	return &site{t: t, db: db, ops: ops, svc: svc, srv: srv, logs: logs, now: now}
}

// client is a browser without JavaScript: it keeps cookies, does not
// follow redirects by itself, and fills in the CSRF field of its forms with
// the token of the last page it saw.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func (s *site) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: s.t, base: s.srv.URL, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	Status   int
	Body     string
	Header   http.Header
	Location string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	p := page{Status: res.StatusCode, Body: string(b), Header: res.Header, Location: res.Header.Get("Location")}
	if m := csrfField.FindStringSubmatch(p.Body); m != nil {
		c.csrf = m[1]
	}
	return p
}

func (c *client) get(path string) page {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

// post submits form; its csrf field is the last page's token unless form
// sets one (an empty value leaves it out).
func (c *client) post(path string, form url.Values) page {
	c.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	} else if form.Get("csrf") == "" {
		form.Del("csrf")
	}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// follow GETs where a redirect points.
func (c *client) follow(p page) page {
	c.t.Helper()
	if p.Status != http.StatusSeeOther {
		c.t.Fatalf("status %d, want 303; body: %s", p.Status, text(p.Body))
	}
	loc, _, _ := strings.Cut(p.Location, "#")
	return c.get(loc)
}

// cookie returns the client's cookie named name, or "".
func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, k := range c.hc.Jar.Cookies(u) {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

func (c *client) setCookie(name, value string) {
	u, _ := url.Parse(c.base)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// signIn signs the client in and returns the account page.
func (c *client) signIn(email, password string) page {
	c.t.Helper()
	c.get("/signin")
	p := c.post("/signin", url.Values{"email": {email}, "password": {password}})
	if p.Status != http.StatusSeeOther || p.Location != "/account" {
		c.t.Fatalf("sign in %s: status %d, location %q: %s", email, p.Status, p.Location, text(p.Body))
	}
	return c.follow(p)
}

var tags = regexp.MustCompile(`(?s)<style>.*?</style>|<[^>]*>|\s+`)

// text is a page's text, roughly: tags removed, spaces collapsed, entities
// decoded.
func text(body string) string {
	return strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(body, " ")))
}

func wantStatus(t *testing.T, p page, status int) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d: %s", p.Status, status, text(p.Body))
	}
}

func wantText(t *testing.T, p page, parts ...string) {
	t.Helper()
	tx := text(p.Body)
	for _, s := range parts {
		if !strings.Contains(tx, s) {
			t.Errorf("page lacks %q:\n%s", s, tx)
		}
	}
}

func noText(t *testing.T, p page, parts ...string) {
	t.Helper()
	tx := text(p.Body)
	for _, s := range parts {
		if strings.Contains(tx, s) {
			t.Errorf("page has %q:\n%s", s, tx)
		}
	}
}

func (s *site) license(sen licensing.SEN) licensing.License {
	s.t.Helper()
	l, err := s.db.License(context.Background(), sen)
	if err != nil {
		s.t.Fatal(err)
	}
	return l
}

func (s *site) account(email licensing.Email) postgres.Account {
	s.t.Helper()
	a, err := s.db.AccountByEmail(context.Background(), email)
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

const emailSentence = "Your email is your login and can't be changed. To use another email, add it as a contact on your licences and make it primary, or ask our sales team to move your licences (give them the SEN)."

func TestAccount_NeedsASession(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	p := c.get("/account")
	if p.Status != http.StatusSeeOther || p.Location != "/signin" {
		t.Fatalf("no session: %d %q", p.Status, p.Location)
	}
	c.setCookie("session", "forged-or-old-value")
	p = c.get("/account")
	if p.Status != http.StatusSeeOther || p.Location != "/signin" || c.cookie("session") != "" {
		t.Fatalf("bad cookie: %d %q, cookie kept: %q", p.Status, p.Location, c.cookie("session"))
	}
	p = c.post("/account", url.Values{"action": {"profile"}, "display_name": {"Mallory"}})
	if p.Status != http.StatusSeeOther || p.Location != "/signin" {
		t.Fatalf("post without session: %d %q", p.Status, p.Location)
	}
}

func TestAccount_PageShowsProfileEmailAndLicences(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	p := c.signIn("alice@acme.test", demoPassword)
	wantStatus(t, p, http.StatusOK)
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	wantText(t, p, "Your account", "alice@acme.test", emailSentence, "Save changes", "Change password", "My licences",
		"SEN-1000001", "Jira Software, cloud, billed monthly", "USD 10.00 a month", "Next bill", "Added by you", "Invoices", "acme.example.net", "Active",
		"Primary billing contact and primary technical contact", "Visa ending 4242", "carol@acme.test",
		"bob@acme.test", "Secondary", "Update card", "Add a contact")
	if !regexp.MustCompile(`<input id="login_email" type="email" value="alice@acme.test" readonly`).MatchString(p.Body) {
		t.Error("the email is not shown read-only")
	}
	if strings.Contains(p.Body, `name="email" value="alice@acme.test"`) {
		t.Error("the email is an editable field")
	}
	// bob is secondary: alice may remove him; alice is primary: nobody may.
	if !strings.Contains(p.Body, `aria-label="Remove bob@acme.test as technical contact"`) ||
		strings.Contains(p.Body, `aria-label="Remove alice@acme.test`) {
		t.Error("remove buttons: want one for bob, none for alice")
	}
	noText(t, p, "Make me primary", "Billing address")

	// bob, secondary technical: may make himself primary.
	b := s.client().signIn("bob@acme.test", demoPassword)
	wantText(t, b, "Make me primary technical contact", "Secondary technical contact")
	// carol, site admin only: billing contacts and the billing address.
	cp := s.client().signIn("carol@acme.test", demoPassword)
	wantText(t, cp, "Site admin", "Billing contacts", "alice@acme.test", "Billing address", "Update card")
	noText(t, cp, "bob@acme.test", "Add a contact")
	// hank, server licence: no card.
	h := s.client().signIn("hank@umbrella.test", demoPassword)
	wantText(t, h, "SEN-2000001", "Bitbucket Data Center, server")
	noText(t, h, "Update card", "Card", "Price", "USD 0.00", "Next bill", "Invoices")
	// erin, technical contact of an annual licence: no card update.
	e := s.client().signIn("erin@globex.test", demoPassword)
	noText(t, e, "Update card")
}

func TestAccount_ProfileIsSavedAndRenderedInert(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	evil := `<script>alert(1)</script>"><img src=x onerror=alert(2)>`
	p := c.post("/account", url.Values{"action": {"profile"}, "display_name": {evil}, "phone": {"+1 555 0100"},
		"company": {"Acme </textarea><script>x()</script>"}, "address": {"1 Road\r\nTown"}})
	if p.Status != http.StatusSeeOther || p.Location != "/account#profile" {
		t.Fatalf("save: %d %q: %s", p.Status, p.Location, text(p.Body))
	}
	p = c.follow(p)
	wantText(t, p, "Your changes are saved.")
	if strings.Contains(p.Body, "<script>") || strings.Contains(p.Body, "<img src=x") {
		t.Fatal("profile fields reached the page unescaped")
	}
	if !strings.Contains(p.Body, `&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;`) {
		t.Errorf("display name not shown escaped:\n%s", p.Body)
	}
	a := s.account("alice@acme.test")
	if a.DisplayName != evil || a.Address != "1 Road\nTown" || a.Phone != "+1 555 0100" {
		t.Fatalf("stored %+v", a)
	}
	// The notice is shown once.
	noText(t, c.get("/account"), "Your changes are saved.")
}

func TestAccount_ProfileErrorsKeepWhatWasTyped(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	for name, tc := range map[string]struct {
		form url.Values
		want string
	}{
		"phone with letters": {url.Values{"display_name": {"Alice Two"}, "phone": {"call me"}}, "Write the phone number with digits"},
		"phone too long":     {url.Values{"display_name": {"Alice Two"}, "phone": {strings.Repeat("1", 51)}}, "The phone number is too long: use at most 50 characters"},
		"no name":            {url.Values{"display_name": {"   "}}, "Enter a display name"},
		"name too long":      {url.Values{"display_name": {strings.Repeat("n", 201)}}, "The display name is too long"},
		"address too long":   {url.Values{"display_name": {"Alice Two"}, "address": {strings.Repeat("a", 1001)}}, "The address is too long"},
	} {
		tc.form.Set("action", "profile")
		p := c.post("/account", tc.form)
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", name, p.Status)
			continue
		}
		wantText(t, p, tc.want)
		if tc.form.Get("display_name") == "Alice Two" && !strings.Contains(p.Body, `value="Alice Two"`) {
			t.Errorf("%s: what was typed is lost", name)
		}
	}
	if a := s.account("alice@acme.test"); a.DisplayName != "Alice Anders" || a.Phone != "" {
		t.Fatalf("refused forms changed the profile: %+v", a)
	}
}

// The display name has one rule, here and in account setup through a link
// (licensing.CheckDisplayName; links/service_test.go has the other side):
// no line breaks or other control characters, no bidirectional overrides,
// at most 200 characters. Other fields refuse the same characters.
func TestAccount_ProfileRefusesControlAndBidiCharacters(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	before := s.account("alice@acme.test")
	for name, tc := range map[string]struct {
		form url.Values
		want string
	}{
		"name with CR LF":      {url.Values{"display_name": {"Alice\r\nBcc: mallory@evil.test"}}, "The display name has a control character"},
		"name with a tab":      {url.Values{"display_name": {"Alice\tAnders"}}, "The display name has a control character"},
		"name with NUL":        {url.Values{"display_name": {"Alice\x00"}}, "The display name has a control character"},
		"name with an escape":  {url.Values{"display_name": {"Alice\x1b[2J"}}, "The display name has a control character"},
		"name with U+202E":     {url.Values{"display_name": {"Alice \u202Efdp.exe"}}, "The display name has an invisible character that changes the direction of text (U+202E)"},
		"name with U+2066":     {url.Values{"display_name": {"Alice \u2066x"}}, "(U+2066)"},
		"name of 201":          {url.Values{"display_name": {strings.Repeat("é", 201)}}, "The display name is too long: use at most 200 characters (it has 201)"},
		"company with U+202E":  {url.Values{"display_name": {"Alice"}, "company": {"Acme \u202Ecni"}}, "The company has an invisible character"},
		"address with U+202E":  {url.Values{"display_name": {"Alice"}, "address": {"1 Road\n\u202ETown"}}, "The address has an invisible character"},
		"phone with a newline": {url.Values{"display_name": {"Alice"}, "phone": {"555\n0100"}}, "The phone number has a control character"},
	} {
		tc.form.Set("action", "profile")
		p := c.post("/account", tc.form)
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", name, p.Status)
			continue
		}
		wantText(t, p, tc.want)
	}
	if a := s.account("alice@acme.test"); a != before {
		t.Fatalf("refused forms changed the profile: %+v; was %+v", a, before)
	}
}

func TestAccount_FormsNeedTheCSRFToken(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	for name, token := range map[string]string{"without": "", "wrong": strings.Repeat("A", 43)} {
		for _, form := range []url.Values{
			{"action": {"profile"}, "display_name": {"Mallory"}},
			{"action": {"add_contact"}, "sen": {"SEN-1000001"}, "role": {"billing"}, "email": {"mallory@evil.test"}},
			{"action": {"password"}, "current_password": {demoPassword}, "new_password": {"purple tractor sings at dawn"}, "new_password_confirm": {"purple tractor sings at dawn"}},
		} {
			form.Set("csrf", token)
			p := c.post("/account", form)
			if p.Status != http.StatusForbidden {
				t.Errorf("%s token, %s: status %d", name, form.Get("action"), p.Status)
			}
			wantText(t, p, "This form expired; reload the page and try again.")
		}
	}
	// A cross-site form with the right token (stolen somehow) is refused too.
	c.get("/account")
	req, _ := http.NewRequest("POST", c.base+"/account", strings.NewReader(url.Values{"csrf": {c.csrf}, "action": {"profile"}, "display_name": {"Mallory"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, c.do(req), http.StatusForbidden)

	if a := s.account("alice@acme.test"); a.DisplayName != "Alice Anders" {
		t.Fatalf("profile changed: %+v", a)
	}
	if l := s.license("SEN-1000001"); len(l.Contacts) != 3 {
		t.Fatalf("contacts changed: %v", l.Contacts)
	}
	if _, err := s.svc.SignIn(context.Background(), accounts.SignInRequest{Email: "alice@acme.test", Password: demoPassword}); err != nil {
		t.Fatalf("password changed: %v", err)
	}
}

func TestAccount_FormBodyIsLimited(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	p := c.post("/account", url.Values{"action": {"profile"}, "display_name": {strings.Repeat("x", 70<<10)}})
	wantStatus(t, p, http.StatusRequestEntityTooLarge)
}

func TestAccount_ChangePassword(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	elsewhere := s.client()
	elsewhere.signIn("alice@acme.test", demoPassword)
	const next = "purple tractor sings at dawn"
	change := func(current, pw, confirm string) page {
		return c.post("/account", url.Values{"action": {"password"}, "current_password": {current}, "new_password": {pw}, "new_password_confirm": {confirm}})
	}
	for name, tc := range map[string]struct {
		current, pw, confirm, want string
	}{
		"wrong current password": {"not my password", next, next, "That isn't your current password."},
		"short":                  {demoPassword, "short", "short", "Use at least 15 characters"},
		"common":                 {demoPassword, "iloveyouforever", "iloveyouforever", "That password is too common"},
		"too long":               {demoPassword, strings.Repeat("long words ", 12), strings.Repeat("long words ", 12), "Use at most 128 characters."},
		"mismatched":             {demoPassword, next, "purple tractor sings at dusk", "The two passwords don't match"},
	} {
		p := change(tc.current, tc.pw, tc.confirm)
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", name, p.Status)
			continue
		}
		wantText(t, p, tc.want)
		if strings.Contains(p.Body, tc.pw) && tc.pw != "short" {
			t.Errorf("%s: the page repeats the password", name)
		}
	}
	old := c.cookie("session")
	p := change(demoPassword, next, next)
	if p.Status != http.StatusSeeOther || p.Location != "/account#password" {
		t.Fatalf("change: %d %q: %s", p.Status, p.Location, text(p.Body))
	}
	if now := c.cookie("session"); now == "" || now == old {
		t.Fatal("the session id did not rotate")
	}
	wantText(t, c.follow(p), "Your password has been changed.", "signed you out everywhere else")
	// The other browser is signed out.
	if p := elsewhere.get("/account"); p.Status != http.StatusSeeOther || p.Location != "/signin" {
		t.Fatalf("other session after the change: %d %q", p.Status, p.Location)
	}
	// The old cookie value no longer works either.
	stale := s.client()
	stale.setCookie("session", old)
	if p := stale.get("/account"); p.Status != http.StatusSeeOther {
		t.Fatalf("old cookie after the change: %d", p.Status)
	}
	if m := s.ops.MailsTo("alice@acme.test"); len(m) != 1 || m[0].Subject != "Your password was changed" {
		t.Fatalf("mails: %+v", m)
	}
	s.client().signIn("alice@acme.test", next)
}

// A form posted from a page loaded before the password was changed in
// another browser does nothing.
func TestAccount_SessionEndedElsewhereChangesNothing(t *testing.T) {
	s := newSite(t, accounts.Options{})
	a, b := s.client(), s.client()
	a.signIn("alice@acme.test", demoPassword)
	b.signIn("alice@acme.test", demoPassword)
	const next = "purple tractor sings at dawn"
	p := b.post("/account", url.Values{"action": {"password"}, "current_password": {demoPassword}, "new_password": {next}, "new_password_confirm": {next}})
	wantStatus(t, p, http.StatusSeeOther)
	p = a.post("/account", url.Values{"action": {"profile"}, "display_name": {"Changed from a dead session"}})
	if p.Status != http.StatusSeeOther || p.Location != "/signin" {
		t.Fatalf("dead session post: %d %q", p.Status, p.Location)
	}
	if got := s.account("alice@acme.test").DisplayName; got != "Alice Anders" {
		t.Fatalf("display name %q", got)
	}
}

func TestAccount_AddContact(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	add := func(role, email string) page {
		return c.post("/account", url.Values{"action": {"add_contact"}, "sen": {"SEN-1000001"}, "role": {role}, "email": {email}})
	}
	p := add("technical", "bob@acme.test")
	wantStatus(t, p, http.StatusConflict)
	wantText(t, p, "bob@acme.test is already a technical contact of SEN-1000001.")
	if !strings.Contains(p.Body, `value="bob@acme.test" autocomplete="off"`) {
		t.Error("the typed email is lost")
	}
	p = add("billing", "not-an-email")
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantText(t, p, "is not an email address")
	if l := s.license("SEN-1000001"); len(l.Contacts) != 3 {
		t.Fatalf("refused adds changed the contacts: %v", l.Contacts)
	}

	p = add("billing", "Dana@New.test")
	if p.Status != http.StatusSeeOther || p.Location != "/account?from=SEN-1000001#lic-SEN-1000001" {
		t.Fatalf("add: %d %q: %s", p.Status, p.Location, text(p.Body))
	}
	p = c.follow(p)
	wantText(t, p, "dana@new.test is now a billing contact of SEN-1000001.", "Newly added")
	if m := s.ops.MailsTo("dana@new.test"); len(m) != 1 {
		t.Fatalf("mails to dana: %+v", m)
	}
}

// The primary role is offered only when the adder ticks the box; and one
// account adds at most InvitesPerDay contacts a day (each add mails
// someone), with nothing added past the limit.
func TestAccount_AddContactOffersPrimaryOnlyWhenAskedAndIsLimited(t *testing.T) {
	s := newSite(t, accounts.Options{InvitesPerDay: 2})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	wantText(t, c.get("/account"), "Also email them an offer to become the primary contact")
	c.post("/account", url.Values{"action": {"add_contact"}, "sen": {"SEN-1000001"}, "role": {"billing"}, "email": {"one@new.test"}})
	c.post("/account", url.Values{"action": {"add_contact"}, "sen": {"SEN-1000001"}, "role": {"billing"}, "email": {"two@new.test"}, "offer_primary": {"yes"}})
	calls := strings.Join(s.ops.Calls(), "\n")
	if !strings.Contains(calls, "add SEN-1000001 billing one@new.test by alice@acme.test\n") || !strings.Contains(calls, "add SEN-1000001 billing two@new.test by alice@acme.test offering primary") {
		t.Errorf("calls:\n%s", calls)
	}
	p := c.post("/account", url.Values{"action": {"add_contact"}, "sen": {"SEN-1000001"}, "role": {"billing"}, "email": {"three@new.test"}})
	wantStatus(t, p, http.StatusTooManyRequests)
	wantText(t, p, "Too many attempts")
	if l := s.license("SEN-1000001"); len(l.Contacts) != 5 {
		t.Errorf("contacts after the limit: %v", l.Contacts)
	}
}

func TestAccount_RemoveContact(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("bob@acme.test", demoPassword)
	remove := func(role, email string, confirm bool) page {
		f := url.Values{"action": {"remove_contact"}, "sen": {"SEN-1000001"}, "role": {role}, "email": {email}}
		if confirm {
			f.Set("confirm", "yes")
		}
		return c.post("/account", f)
	}
	for _, confirm := range []bool{false, true} {
		p := remove("technical", "alice@acme.test", confirm)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantText(t, p, "alice@acme.test is the primary technical contact of SEN-1000001; someone else must promote themselves first.")
		p = remove("billing", "alice@acme.test", confirm)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantText(t, p, "alice@acme.test is the last billing contact of SEN-1000001")
	}
	// A secondary contact: confirm first, then removed.
	c2 := s.client()
	c2.signIn("alice@acme.test", demoPassword)
	p := c2.post("/account", url.Values{"action": {"remove_contact"}, "sen": {"SEN-1000001"}, "role": {"technical"}, "email": {"bob@acme.test"}})
	wantStatus(t, p, http.StatusOK)
	wantText(t, p, "Remove this contact?", "bob@acme.test will no longer be a technical contact of SEN-1000001.", "Cancel")
	if l := s.license("SEN-1000001"); len(l.Contacts) != 3 {
		t.Fatal("removed before confirmation")
	}
	p = c2.post("/account", url.Values{"action": {"remove_contact"}, "sen": {"SEN-1000001"}, "role": {"technical"}, "email": {"bob@acme.test"}, "confirm": {"yes"}})
	wantStatus(t, p, http.StatusSeeOther)
	wantText(t, c2.follow(p), "bob@acme.test is no longer a technical contact of SEN-1000001.")
	if l := s.license("SEN-1000001"); len(l.Contacts) != 2 {
		t.Fatalf("contacts: %v", l.Contacts)
	}
	// bob has lost the licence.
	wantText(t, c.get("/account"), "No licences are attached to bob@acme.test.", "When a licence moves to another account it leaves this page")
}

func TestAccount_PromoteSelf(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("bob@acme.test", demoPassword)
	p := c.post("/account", url.Values{"action": {"promote"}, "sen": {"SEN-1000001"}, "role": {"billing"}})
	wantStatus(t, p, http.StatusForbidden)
	wantText(t, p, "You are not a billing contact of SEN-1000001")
	// One click asks first, naming who stops being primary; nothing changes yet.
	p = c.post("/account", url.Values{"action": {"promote"}, "sen": {"SEN-1000001"}, "role": {"technical"}})
	wantStatus(t, p, http.StatusOK)
	wantText(t, p, "Become the primary technical contact?", "alice@acme.test", "the primary technical contact now, becomes a secondary contact", "Cancel")
	for _, ct := range s.license("SEN-1000001").Contacts {
		if ct.Email == "bob@acme.test" && ct.Primary {
			t.Fatal("promoted before confirmation")
		}
	}
	p = c.post("/account", url.Values{"action": {"promote"}, "sen": {"SEN-1000001"}, "role": {"technical"}, "confirm": {"yes"}})
	wantStatus(t, p, http.StatusSeeOther)
	p = c.follow(p)
	wantText(t, p, "You are now the primary technical contact of SEN-1000001.", "Primary technical contact")
	noText(t, p, "Make me primary")
	for _, ct := range s.license("SEN-1000001").Contacts {
		if ct.Role == licensing.Technical && ct.Primary != (ct.Email == "bob@acme.test") {
			t.Fatalf("contacts: %v", s.license("SEN-1000001").Contacts)
		}
	}
}

func TestAccount_UpdateCard(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	p := c.post("/account", url.Values{"action": {"card"}, "sen": {"SEN-1000001"}})
	if p.Status != http.StatusSeeOther || p.Location != "/test/card/SEN-1000001" {
		t.Fatalf("card: %d %q", p.Status, p.Location)
	}
	// Another site (the payment provider's page) gets a link to follow.
	s.ops.CardURL = "https://pay.example.com/setup/%s"
	p = c.post("/account", url.Values{"action": {"card"}, "sen": {"SEN-1000001"}})
	wantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.Body, `href="https://pay.example.com/setup/SEN-1000001"`) {
		t.Errorf("no link to the provider: %s", p.Body)
	}
	// An annual licence's technical contact may not.
	e := s.client()
	e.signIn("erin@globex.test", demoPassword)
	p = e.post("/account", url.Values{"action": {"card"}, "sen": {"SEN-1000002"}})
	wantStatus(t, p, http.StatusForbidden)
	wantText(t, p, "annual licences need a site admin to update the card")
}

func TestAccount_BillingAddress(t *testing.T) {
	s := newSite(t, accounts.Options{})
	ctx := context.Background()
	c := s.client()
	c.signIn("carol@acme.test", demoPassword)
	good := url.Values{"action": {"billing_address"}, "sen": {"SEN-1000001"}, "bill_name": {"Acme <b>Ltd</b>"},
		"bill_lines": {"1 Rocket Road\r\nFloor 2"}, "bill_city": {"London"}, "bill_postcode": {"EC1A 1AA"},
		"bill_country": {"gb"}, "bill_tax_id": {"gb 123 4567 89"}}
	p := c.post("/account", good)
	wantStatus(t, p, http.StatusSeeOther)
	p = c.follow(p)
	wantText(t, p, "The billing address of SEN-1000001 is saved")
	if !strings.Contains(p.Body, `value="Acme &lt;b&gt;Ltd&lt;/b&gt;"`) || !strings.Contains(p.Body, "1 Rocket Road\nFloor 2</textarea>") ||
		!strings.Contains(p.Body, `value="GB123456789"`) || !strings.Contains(p.Body, `<option value="GB" selected>United Kingdom</option>`) {
		t.Errorf("billing address not shown back, escaped and normalised:\n%s", p.Body)
	}
	want := licensing.BillingAddress{Name: "Acme <b>Ltd</b>", Lines: []string{"1 Rocket Road", "Floor 2"}, City: "London", Postcode: "EC1A 1AA", Country: "GB", TaxID: "GB123456789"}
	if got, _ := s.db.BillingAddress(ctx, "SEN-1000001"); !reflect.DeepEqual(got, want) {
		t.Fatalf("stored %+v; want %+v", got, want)
	}

	// Bad input: a clear message next to the field at fault (aria-invalid),
	// what was typed kept, nothing stored.
	for _, tc := range []struct {
		name, field, value, message string
	}{
		{"a VAT number of the wrong shape for its country", "bill_tax_id", "DE12345", "is not a valid VAT number for Germany"},
		{"no country", "bill_country", "", "Choose the country of the billing address."},
		{"a country that is not ISO 3166", "bill_country", "UK", "the United Kingdom's is GB"},
		{"an EIN with a prefix never assigned", "bill_tax_id", "00-1234567", "is not a valid EIN for United States"},
		{"no city", "bill_city", "", "Fill in the city"},
		{"no street", "bill_lines", "  ", "Fill in the street address"},
	} {
		f := url.Values{}
		for k, v := range good {
			f[k] = v
		}
		f.Set("bill_country", "DE")
		f.Set("bill_tax_id", "DE123456789")
		f.Set("bill_postcode", "10115")
		f.Set("bill_name", "Changed GmbH")
		if strings.Contains(tc.message, "EIN") {
			f.Set("bill_country", "US")
			f.Set("bill_region", "OR")
		}
		f.Set(tc.field, tc.value)
		p := c.post("/account", f)
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d; want 422", tc.name, p.Status)
			continue
		}
		wantText(t, p, tc.message)
		id := map[string]string{"bill_tax_id": "tax", "bill_country": "country", "bill_city": "city", "bill_lines": "lines"}[tc.field]
		if !regexp.MustCompile(`id="lic-SEN-1000001-bill-` + id + `"[^>]*aria-invalid="true"`).MatchString(p.Body) {
			t.Errorf("%s: the field is not marked aria-invalid", tc.name)
		}
		if !strings.Contains(p.Body, `value="Changed GmbH"`) {
			t.Errorf("%s: what was typed is not kept", tc.name)
		}
		if got, _ := s.db.BillingAddress(ctx, "SEN-1000001"); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: stored %+v", tc.name, got)
		}
	}

	a := s.client()
	a.signIn("alice@acme.test", demoPassword)
	f := url.Values{}
	for k, v := range good {
		f[k] = v
	}
	f.Set("bill_name", "Mallory")
	p = a.post("/account", f)
	wantStatus(t, p, http.StatusForbidden)
	if got, _ := s.db.BillingAddress(ctx, "SEN-1000001"); got.Name != want.Name {
		t.Fatalf("a contact who is not a site admin changed it: %+v", got)
	}
}

// TestAccount_FreeTextAddressIsKeptAsLines: an address from before
// addresses had fields (SEN-1000003's, as migration 009 keeps them) shows
// in the form whole, with a note asking for the country.
func TestAccount_FreeTextAddressIsKeptAsLines(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("gina@initech.test", demoPassword)
	p := c.get("/account")
	wantText(t, p, "This address was saved as free text")
	if !strings.Contains(p.Body, "Initech\n4120 Freidrich Lane\nAustin TX 78744</textarea>") {
		t.Errorf("the old address is not in the form as it was")
	}
}

var alertRE = regexp.MustCompile(`<div class="alert" role="alert">([^<]*)</div>`)

// A signed-in person learns nothing from the account page about licences
// that are not theirs: every action on an unknown SEN, and on licences
// they are neither a contact nor a site admin of (annual, server, past
// due), gets one answer, and nothing changes.
func TestAccount_ActionsOnAnotherLicenceAnswerAsForAnUnknownOne(t *testing.T) {
	s := newSite(t, accounts.Options{})
	ctx := context.Background()
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	strangers := []licensing.SEN{"SEN-1000002", "SEN-2000001", "SEN-1000003"}
	snapshot := func() string {
		var b strings.Builder
		for _, sen := range strangers {
			j, _ := json.Marshal(s.license(sen))
			b.Write(j)
		}
		rows, _ := s.db.Pool().Query(ctx, `SELECT l.sen || ':' || coalesce(b.name, '') FROM licenses l LEFT JOIN billing_addresses b ON b.license_id = l.id ORDER BY l.sen`)
		addrs, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		fmt.Fprintf(&b, "%q", addrs)
		return b.String()
	}
	before := snapshot()
	actions := map[string]url.Values{
		"card":                   {"action": {"card"}},
		"add contact":            {"action": {"add_contact"}, "role": {"billing"}, "email": {"mallory@evil.test"}},
		"remove contact":         {"action": {"remove_contact"}, "role": {"technical"}, "email": {"erin@globex.test"}},
		"remove contact, really": {"action": {"remove_contact"}, "role": {"technical"}, "email": {"erin@globex.test"}, "confirm": {"yes"}},
		"promote":                {"action": {"promote"}, "role": {"billing"}},
		"billing address": {"action": {"billing_address"}, "bill_name": {"Mallory Ltd"}, "bill_lines": {"1 Road"}, "bill_city": {"Leeds"},
			"bill_postcode": {"LS1 1AA"}, "bill_country": {"GB"}},
	}
	type answer struct {
		status int
		notice string
	}
	var first *answer
	for name, form := range actions {
		for _, sen := range append([]licensing.SEN{"SEN-9999999"}, strangers...) {
			f := url.Values{"sen": {string(sen)}}
			for k, v := range form {
				f[k] = v
			}
			p := c.post("/account", f)
			m := alertRE.FindStringSubmatch(p.Body)
			if m == nil {
				t.Fatalf("%s on %s: %d with no message shown:\n%s", name, sen, p.Status, text(p.Body))
			}
			got := answer{p.Status, html.UnescapeString(m[1])}
			if strings.Contains(got.notice, string(sen)) {
				t.Errorf("%s on %s: the answer repeats the SEN: %q", name, sen, got.notice)
			}
			if first == nil {
				first = &got
				continue
			}
			if got != *first {
				t.Errorf("%s on %s: %d %q; want what every other gets: %d %q", name, sen, got.status, got.notice, first.status, first.notice)
			}
		}
	}
	if first.status != http.StatusNotFound {
		t.Errorf("status %d; want 404", first.status)
	}
	if after := snapshot(); after != before {
		t.Errorf("licences changed:\n%s\nwas\n%s", after, before)
	}
	if calls := s.ops.Calls(); len(calls) != 0 {
		t.Errorf("operations started: %v", calls)
	}
	// Her own licence still gets the specific answers.
	p := c.post("/account", url.Values{"action": {"promote"}, "sen": {"SEN-1000001"}, "role": {"billing"}})
	wantText(t, p, "alice@acme.test is already the primary billing contact")
}

func TestAccount_UnknownActionAndPaths(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	wantStatus(t, c.post("/account", url.Values{"action": {"delete_everything"}}), http.StatusBadRequest)
	wantStatus(t, c.post("/account", url.Values{"action": {"add_contact"}, "sen": {"SEN-12"}, "role": {"billing"}, "email": {"x@y.test"}}), http.StatusUnprocessableEntity)
	req, _ := http.NewRequest("DELETE", c.base+"/account", nil)
	wantStatus(t, c.do(req), http.StatusMethodNotAllowed)
}

// Someone who holds many licences sees them a page at a time, moves on
// with "Next licences", and comes back from an action to the page that
// shows the licence it was about.
func TestAccount_ManyLicencesComeInPages(t *testing.T) {
	s := newSite(t, accounts.Options{})
	ctx := context.Background()
	var lines []postgres.ImportLine
	for i := range 45 {
		rec := fmt.Sprintf(`{"sen": "SEN-40000%02d", "product": "Confluence", "deployment": "server",
		 "contacts": [{"email": "alice@acme.test", "role": "billing", "primary": true},
		              {"email": "zed@acme.test", "role": "technical", "primary": true},
		              {"email": "alice@acme.test", "role": "technical"}]}`, i)
		n, sen, err := licensing.DecodeLicense([]byte(rec))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, postgres.ImportLine{Line: i + 1, SEN: sen, License: n})
	}
	next := func() (postgres.ImportLine, error) {
		if len(lines) == 0 {
			return postgres.ImportLine{}, io.EOF
		}
		l := lines[0]
		lines = lines[1:]
		return l, nil
	}
	if sum, err := s.db.Import(ctx, next, licensing.Actor{Kind: "api", ID: "api"}, postgres.ImportOptions{}); err != nil || sum.Created != 45 {
		t.Fatalf("import = %+v, %v", sum, err)
	}
	c := s.client()
	p := c.signIn("alice@acme.test", demoPassword)
	wantText(t, p, "20 of your 46 licences", "SEN-1000001", "SEN-4000018", "Next licences")
	if strings.Contains(p.Body, "SEN-4000019") || strings.Contains(p.Body, "First licences") {
		t.Fatal("the first page shows more than 20, or a link back to itself")
	}
	p = c.get("/account?after=SEN-4000018")
	wantText(t, p, "SEN-4000019", "SEN-4000038", "First licences", "Next licences")
	p = c.get("/account?after=SEN-4000038")
	wantText(t, p, "SEN-4000039", "SEN-4000044", "First licences")
	if strings.Contains(p.Body, "Next licences") {
		t.Error("the last page links to a next one")
	}
	// An action on a licence of the third page comes back to it.
	p = c.post("/account", url.Values{"action": {"promote"}, "sen": {"SEN-4000040"}, "role": {"technical"}})
	wantText(t, p, "Become the primary technical contact?", "zed@acme.test")
	p = c.post("/account", url.Values{"action": {"promote"}, "sen": {"SEN-4000040"}, "role": {"technical"}, "confirm": {"yes"}})
	if p.Status != http.StatusSeeOther || p.Location != "/account?from=SEN-4000040#lic-SEN-4000040" {
		t.Fatalf("promote: %d %q: %s", p.Status, p.Location, text(p.Body))
	}
	p = c.follow(p)
	wantText(t, p, "SEN-4000040", "SEN-4000044")
	if strings.Contains(p.Body, "SEN-4000039") {
		t.Error("the page back from the action does not start with its licence")
	}
	// A page that asks for nonsense is the first page.
	wantText(t, c.get("/account?after=%3Cscript%3E"), "SEN-1000001", "20 of your 46 licences")

	// A past-due licence on the first page has its banner on every page,
	// leading to the page it is on.
	if _, err := s.db.Pool().Exec(ctx, `INSERT INTO license_contacts (license_id, account_id, role, is_primary)
		SELECT l.id, a.id, 'billing', false FROM licenses l, accounts a WHERE l.sen = 'SEN-1000003' AND a.email = 'alice@acme.test'`); err != nil {
		t.Fatal(err)
	}
	p = c.get("/account?after=SEN-4000038")
	wantText(t, p, "SEN-4000039", "Payment failed for SEN-1000003", "Update the card for")
	if !strings.Contains(p.Body, `href="/account?from=SEN-1000003#lic-SEN-1000003"`) {
		t.Errorf("the banner of a licence on another page does not lead there:\n%s", text(p.Body))
	}
	p = c.get("/account")
	if !strings.Contains(p.Body, `href="#lic-SEN-1000003"`) {
		t.Errorf("on its own page, the banner does not lead to the licence's card:\n%s", text(p.Body))
	}
}

// L-3: whom a contact adds is tagged the same whether or not that email
// has an account: the page must not tell a contact which emails have one.
// (Before, only accounts not yet set up were tagged "Invited".)
func TestAccount_AddedPeopleLookAlikeWithOrWithoutAnAccount(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	for _, email := range []string{"carol@acme.test", "nobody.yet@new.test"} { // carol has an active account
		p := c.post("/account", url.Values{"action": {"add_contact"}, "sen": {"SEN-1000001"}, "role": {"billing"}, "email": {email}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("add %s: %d %s", email, p.Status, text(p.Body))
		}
	}
	p := c.get("/account")
	person := func(email string) string {
		i := strings.Index(p.Body, `<span class="person">`+email)
		if i < 0 {
			t.Fatalf("%s is not on the page", email)
		}
		end := strings.Index(p.Body[i:], "</li>")
		block := p.Body[i : i+end]
		return strings.ReplaceAll(block, email, "EMAIL")
	}
	if a, b := person("carol@acme.test"), person("nobody.yet@new.test"); a != b || !strings.Contains(a, "Newly added") {
		t.Errorf("an active account and a new one render differently:\n%s\n---\n%s", a, b)
	}
	if strings.Contains(p.Body, "Invited") {
		t.Error("the page still says Invited")
	}
	if strings.Contains(person("bob@acme.test"), "Newly added") {
		t.Error("a contact of long standing is tagged as newly added")
	}
}
