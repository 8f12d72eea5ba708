package links_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"licensedesk/internal/pgtest"
	"licensedesk/licensing"
	"licensedesk/links"
	"licensedesk/postgres"
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
	if _, err := db.SeedDemo(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, log: &bytes.Buffer{}}
	f.svc = &links.Service{DB: db, PublicBaseURL: "https://desk.licensedesk.test"}
	f.h = web.Links(f.svc, slog.New(slog.NewTextHandler(f.log, nil)))
	return f
}

// setupLink makes a pending account for email and its account-setup link.
func (f *fixture) setupLink(t *testing.T, email licensing.Email) string {
	t.Helper()
	ctx := context.Background()
	if _, err := f.db.Pool().Exec(ctx, `INSERT INTO accounts (email) VALUES ($1)`, string(email)); err != nil {
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
