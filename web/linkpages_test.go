package web

import (
	"bytes"
	"context"
	"errors"
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

	"github.com/prometheus/client_golang/prometheus"

	"licensedesk/accounts"
	"licensedesk/licensing"
	"licensedesk/links"
)

// Tokens used by the tests; real ones are 43 characters of base64url.
const (
	tokConfirmRequest = "tokConfirmRequest0123456789abcdefghijklmnopq"
	tokConfirmMove    = "tokConfirmMove0123456789abcdefghijklmnopqrst"
	tokComplete       = "tokCompleteAccount0123456789abcdefghijklmnop"
	tokPromote        = "tokPromote0123456789abcdefghijklmnopqrstuvwx"
	tokPromotePending = "tokPromotePending0123456789abcdefghijklmnopq"
	tokUnknown        = "tokUnknown0123456789abcdefghijklmnopqrstuvwx"
	tokUsed           = "tokUsed0123456789abcdefghijklmnopqrstuvwxyzA"
	tokBroken         = "tokBroken0123456789abcdefghijklmnopqrstuvwxy"
)

var allTestTokens = []string{tokConfirmRequest, tokConfirmMove, tokComplete, tokPromote, tokPromotePending, tokUnknown, tokUsed, tokBroken}

// fakeLinks is a LinkService that records its calls.
type fakeLinks struct {
	mu      sync.Mutex
	views   map[string]links.View
	errs    map[string]error                         // Lookup and Act fail with these
	act     func(links.Action) (links.Result, error) // nil: a fixed result
	results map[string]links.Result                  // per token and decision ("tok" or "tok/decline"), before act
	lookups []string
	acts    []fakeAct
}

type fakeAct struct {
	Token  string
	Action links.Action
}

// newFakeLinks returns a fake that knows a link of each purpose.
func newFakeLinks() *fakeLinks {
	expires := time.Date(2026, 3, 14, 15, 4, 0, 0, time.UTC)
	return &fakeLinks{
		views: map[string]links.View{
			tokConfirmRequest: {Purpose: licensing.PurposeConfirmRequest, Email: "carol@acme.test", SEN: "SEN-1000001", Product: "Jira Software",
				Summary: []string{"Sales asked to add dana@new.test as a billing contact of SEN-1000001."}, ExpiresAt: expires},
			tokConfirmMove: {Purpose: licensing.PurposeConfirmMove, Email: "alice@acme.test", SEN: "SEN-1000001", Product: "Jira Software",
				Summary: []string{"SEN-1000001 will move to zoe@new.test.", "alice@acme.test will be removed."}, ExpiresAt: expires,
				AskedBy: "our sales team", AskedAt: expires.AddDate(0, 0, -14), NewEmail: "zoe@new.test", FromEmail: "alice@acme.test",
				MoveRoles: []string{"billing", "technical"}, Card: "Visa ending 4242"},
			tokComplete: {Purpose: licensing.PurposeCompleteAccount, Email: "dana@new.test", SEN: "SEN-1000001", Product: "Jira Software",
				Summary: []string{"Alice added you as a billing contact of SEN-1000001."}, ExpiresAt: expires, NeedsAccountDetails: true},
			tokPromote: {Purpose: licensing.PurposePromote, Email: "bob@acme.test", SEN: "SEN-1000001", Product: "Jira Software",
				Roles: []string{"billing", "technical"}, ExpiresAt: expires},
			tokPromotePending: {Purpose: licensing.PurposePromote, Email: "zoe@new.test", SEN: "SEN-1000002", Product: "Confluence",
				Roles: []string{"technical"}, ExpiresAt: expires, NeedsAccountDetails: true,
				ForMove: true, AskedBy: "our sales team", AskedAt: expires.AddDate(0, 0, -15), ApprovedBy: "frank@globex.test", ApprovedAt: expires.AddDate(0, 0, -14),
				Demoted: []string{"erin@globex.test"}, NewEmail: "zoe@new.test", FromEmail: "erin@globex.test", MoveRoles: []string{"technical"}},
		},
		errs: map[string]error{
			tokUnknown: licensing.Errorf(licensing.NotFound, "This link isn't valid."),
			tokUsed:    licensing.Errorf(licensing.Gone, "This link has already been used or has expired."),
			tokBroken:  errors.New("pgx: connection refused to db-7.internal:5432 (secret detail)"),
		},
	}
}

func (f *fakeLinks) Lookup(_ context.Context, token string) (links.View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups = append(f.lookups, token)
	if err := f.errs[token]; err != nil {
		return links.View{}, err
	}
	v, ok := f.views[token]
	if !ok {
		return links.View{}, licensing.Errorf(licensing.NotFound, "This link isn't valid.")
	}
	return v, nil
}

func (f *fakeLinks) Act(_ context.Context, token string, a links.Action) (links.Result, error) {
	f.mu.Lock()
	f.acts = append(f.acts, fakeAct{token, a})
	act, err := f.act, f.errs[token]
	_, known := f.views[token]
	f.mu.Unlock()
	if err != nil {
		return links.Result{}, err
	}
	if !known {
		return links.Result{}, licensing.Errorf(licensing.NotFound, "This link isn't valid.")
	}
	f.mu.Lock()
	res, ok := f.results[token+"/"+a.Decision]
	if !ok {
		res, ok = f.results[token]
	}
	f.mu.Unlock()
	if ok {
		return res, nil
	}
	if act != nil {
		return act(a)
	}
	return links.Result{Title: "Done", Message: "It is done."}, nil
}

func (f *fakeLinks) CardSaved(_ context.Context, ref string, _ time.Time) (links.Result, error) {
	if ref == "" {
		return links.Result{Title: "Thank you", Message: "If you saved a card, our payment provider passes it on to us in a moment."}, nil
	}
	return links.Result{SEN: "SEN-1000003", Title: "Thank you: your card is saved and the invoice is paid", Message: "ref " + ref}, nil
}

func (f *fakeLinks) calls() (lookups []string, acts []fakeAct) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lookups...), append([]fakeAct(nil), f.acts...)
}

// linkEnv is a Links handler over a fake, with the log captured.
type linkEnv struct {
	t    *testing.T
	fake *fakeLinks
	h    http.Handler
	log  *bytes.Buffer
}

func newLinkEnv(t *testing.T) *linkEnv {
	t.Helper()
	fake := newFakeLinks()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&syncWriter{w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := &linkEnv{t: t, fake: fake, h: LinkPages(fake, logger), log: &buf}
	t.Cleanup(func() {
		for _, tok := range allTestTokens {
			if strings.Contains(buf.String(), tok) {
				t.Errorf("a token appears in the log:\n%s", buf.String())
			}
		}
	})
	return env
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (e *linkEnv) do(r *http.Request) (*http.Response, string) {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func (e *linkEnv) get(path string) (*http.Response, string) {
	return e.do(httptest.NewRequest("GET", path, nil))
}

var csrfFieldRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formFor GETs the link page and returns its CSRF cookie and field.
func (e *linkEnv) formFor(token string) (*http.Cookie, string) {
	e.t.Helper()
	res, body := e.get("/l/" + token)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d", token, res.StatusCode)
	}
	m := csrfFieldRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no csrf field in:\n%s", body)
	}
	for _, c := range res.Cookies() {
		if c.Name == "csrf" {
			return c, m[1]
		}
	}
	e.t.Fatal("no csrf cookie set")
	return nil, ""
}

// post submits form to the link the way the browser would after GET.
func (e *linkEnv) post(token string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	cookie, field := e.formFor(token)
	form.Set("csrf", field)
	r := httptest.NewRequest("POST", "/l/"+token, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "null") // what browsers send from a no-referrer page
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.AddCookie(cookie)
	return e.do(r)
}

func checkLinkHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	want := map[string]string{
		"Referrer-Policy": "no-referrer",
		"Cache-Control":   "no-store",
		"X-Robots-Tag":    "noindex",
		"Content-Type":    "text/html; charset=utf-8",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestLinks_GetRendersEachPurposeAndChangesNothing(t *testing.T) {
	tests := []struct {
		token string
		want  []string
		not   []string
	}{
		{tokConfirmRequest, []string{"Please confirm this request", "Sales asked to add dana@new.test", "carol@acme.test",
			"Link expires", "Saturday 14 March 2026, 15:04 UTC", `value="approve"`, ">Confirm the request<", `value="decline"`, ">Decline<", "SEN-1000001"},
			[]string{`type="password"`}},
		// Defect 7: who asked and when, what happens to whom, and that the card stays and keeps paying; the button says what the mail says.
		{tokConfirmMove, []string{"Please confirm this licence move", "Our sales team asked on 28 Feb 2026 to move SEN-1000001 (Jira Software) to the account <strong>zoe@new.test</strong>",
			"zoe@new.test is added as billing and technical contact and then makes themselves the primary contact, in place of alice@acme.test.",
			"alice@acme.test is then removed from the licence.", "The card on file, Visa ending 4242, stays on the licence and keeps paying for it after the move.",
			">Confirm the move<", ">Decline<"}, []string{"Approve"}},
		{tokComplete, []string{"Set up your account", `name="display_name"`, `name="password"`, `name="password_confirm"`,
			`autocomplete="new-password"`, "At least 15 characters; a passphrase of several words works well.", "Create my account",
			`autocomplete="username"`, "dana@new.test"},
			[]string{`value="approve"`}},
		{tokPromote, []string{`Make me the primary billing and technical contact for <span class="nowrap">SEN-1000001</span> (Jira Software)`,
			"becomes a secondary contact"},
			[]string{`type="password"`, `value="approve"`}},
		// Defect 2: who asked and when, that the confirmer approved, who is demoted, what primary means, and a Decline.
		{tokPromotePending, []string{`Make me the primary technical contact for <span class="nowrap">SEN-1000002</span> (Confluence)`,
			"First, set up your account", `name="password"`, `autocomplete="new-password"`, "Take over SEN-1000002 as its primary contact",
			"Our sales team asked on 27 Feb 2026 to move SEN-1000002 (Confluence) to your address, zoe@new.test, and frank@globex.test approved the move on 28 Feb 2026.",
			"erin@globex.test, the primary contact now, becomes a secondary contact and is then removed from the licence.",
			"The primary technical contact receives the technical and service notices", `value="decline" formnovalidate>Decline<`,
			"Decline ends this offer and calls the move off"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			env := newLinkEnv(t)
			res, body := env.get("/l/" + tt.token)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d:\n%s", res.StatusCode, body)
			}
			checkLinkHeaders(t, res)
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(body, s) {
					t.Errorf("page has %q", s)
				}
			}
			if strings.Contains(body, tt.token) {
				t.Error("page repeats the token")
			}
			if !strings.Contains(body, `<form method="post">`) || !csrfFieldRE.MatchString(body) {
				t.Error("page has no CSRF-protected form")
			}
			lookups, acts := env.fake.calls()
			if len(lookups) != 1 || lookups[0] != tt.token || len(acts) != 0 {
				t.Fatalf("GET called Lookup %v and Act %v; want one Lookup and no Act", lookups, acts)
			}
		})
	}
}

func TestLinks_GetErrors(t *testing.T) {
	tests := []struct {
		name, method, path string
		status             int
		want               string
		lookups            int
	}{
		{"unknown", "GET", "/l/" + tokUnknown, 404, "This link isn&#39;t valid", 1},
		{"used or expired", "GET", "/l/" + tokUsed, 410, "This link has already been used or has expired", 1},
		{"not a token", "GET", "/l/not%20a%20token%3Cb%3E", 404, "This link isn&#39;t valid", 0},
		{"too long", "GET", "/l/" + strings.Repeat("a", 600), 404, "This link isn&#39;t valid", 0},
		{"no token", "GET", "/l/", 404, "This link isn&#39;t valid", 0},
		{"extra segment", "GET", "/l/" + tokPromote + "/more", 404, "This link isn&#39;t valid", 0},
		{"other method", "PUT", "/l/" + tokPromote, 405, "Open the link from your email", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newLinkEnv(t)
			res, body := env.do(httptest.NewRequest(tt.method, tt.path, nil))
			if res.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("status %d, want %d with %q:\n%s", res.StatusCode, tt.status, tt.want, body)
			}
			checkLinkHeaders(t, res)
			if lookups, _ := env.fake.calls(); len(lookups) != tt.lookups {
				t.Fatalf("%d lookups, want %d", len(lookups), tt.lookups)
			}
		})
	}
}

// A link service that hands back a purpose /l/ has no page for (a reset
// token) gets the 404 page, not a 500.
func TestLinks_PurposeWithoutAPageIsUnknown(t *testing.T) {
	env := newLinkEnv(t)
	const tokReset = "tokReset0123456789abcdefghijklmnopqrstuvwxyz"
	env.fake.views[tokReset] = links.View{Purpose: "password_reset", Email: "alice@acme.test"}
	res, body := env.get("/l/" + tokReset)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "This link isn&#39;t valid") {
		t.Fatalf("status %d, want 404:\n%s", res.StatusCode, body)
	}
	checkLinkHeaders(t, res)
	if strings.Contains(env.log.String(), tokReset) {
		t.Errorf("the token appears in the log:\n%s", env.log.String())
	}
}

func TestLinks_OtherDomainErrorsShowTheirMessage(t *testing.T) {
	env := newLinkEnv(t)
	env.fake.errs[tokPromote] = licensing.Errorf(licensing.Forbidden, "Only contacts of SEN-1000001 can use this link.")
	res, body := env.get("/l/" + tokPromote)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Only contacts of SEN-1000001 can use this link.") {
		t.Fatalf("status %d:\n%s", res.StatusCode, body)
	}
	env.fake.errs[tokPromote] = licensing.Errorf(licensing.Gone, "This account is already set up; sign in instead.")
	res, body = env.get("/l/" + tokPromote)
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "sign in instead") {
		t.Fatalf("status %d:\n%s", res.StatusCode, body)
	}
}

func TestLinks_InternalErrorShowsNoDetail(t *testing.T) {
	env := newLinkEnv(t)
	for _, req := range []func() (*http.Response, string){
		func() (*http.Response, string) { return env.get("/l/" + tokBroken) },
		func() (*http.Response, string) {
			env.fake.act = func(links.Action) (links.Result, error) {
				return links.Result{}, errors.New("pgx: connection refused to db-7.internal:5432 (secret detail)")
			}
			return env.post(tokPromote, url.Values{})
		},
	} {
		res, body := req()
		if res.StatusCode != http.StatusInternalServerError {
			t.Fatalf("status %d, want 500", res.StatusCode)
		}
		for _, leak := range []string{"pgx", "db-7", "secret", "goroutine", ".go:"} {
			if strings.Contains(body, leak) {
				t.Fatalf("500 page shows %q:\n%s", leak, body)
			}
		}
		if !strings.Contains(body, "Something went wrong on our side") {
			t.Fatalf("500 page lacks the generic message:\n%s", body)
		}
	}
	if !strings.Contains(env.log.String(), "secret detail") || !strings.Contains(env.log.String(), "link="+tokenRef(tokBroken)) {
		t.Fatalf("internal error not logged with the link reference:\n%s", env.log.String())
	}
}

func TestLinks_PostWithoutValidCSRFIsRefused(t *testing.T) {
	env := newLinkEnv(t)
	cookie, field := env.formFor(tokConfirmRequest)
	_, otherField := newLinkEnv(t).formFor(tokConfirmRequest)

	tests := []struct {
		name    string
		cookie  *http.Cookie
		field   string
		headers map[string]string
	}{
		{name: "no cookie, no field"},
		{name: "no cookie", field: field},
		{name: "no field", cookie: cookie},
		{name: "wrong field", cookie: cookie, field: otherField},
		{name: "cross-site", cookie: cookie, field: field, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{name: "foreign origin", cookie: cookie, field: field, headers: map[string]string{"Origin": "https://evil.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"decision": {"approve"}}
			if tt.field != "" {
				form.Set("csrf", tt.field)
			}
			r := httptest.NewRequest("POST", "/l/"+tokConfirmRequest, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.cookie != nil {
				r.AddCookie(tt.cookie)
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			res, body := env.do(r)
			if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "This form expired; reload the page and try again.") {
				t.Fatalf("status %d:\n%s", res.StatusCode, body)
			}
			checkLinkHeaders(t, res)
			if _, acts := env.fake.calls(); len(acts) != 0 {
				t.Fatalf("Act was called: %v", acts)
			}
		})
	}
}

func TestLinks_PostActs(t *testing.T) {
	tests := []struct {
		name  string
		token string
		form  url.Values
		want  links.Action
	}{
		{"approve", tokConfirmRequest, url.Values{"decision": {"approve"}}, links.Action{Decision: "approve"}},
		{"decline", tokConfirmMove, url.Values{"decision": {"decline"}}, links.Action{Decision: "decline"}},
		{"complete account", tokComplete,
			url.Values{"display_name": {"  Dana Scully "}, "password": {" purple tractor sings "}, "password_confirm": {" purple tractor sings "}, "username": {"x"}},
			links.Action{DisplayName: "Dana Scully", Password: " purple tractor sings ", PasswordConfirm: " purple tractor sings "}},
		{"promote", tokPromote, url.Values{}, links.Action{}},
		{"promote pending", tokPromotePending,
			url.Values{"display_name": {"Zoe"}, "password": {"mauve lantern okay"}, "password_confirm": {"mauve lantern okay"}},
			links.Action{DisplayName: "Zoe", Password: "mauve lantern okay", PasswordConfirm: "mauve lantern okay"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newLinkEnv(t)
			env.fake.act = func(a links.Action) (links.Result, error) {
				return links.Result{Title: "All set", Message: "You did " + tt.name + "."}, nil
			}
			res, body := env.post(tt.token, tt.form)
			if res.StatusCode != http.StatusOK || !strings.Contains(body, "All set") || !strings.Contains(body, "You did "+tt.name+".") {
				t.Fatalf("status %d:\n%s", res.StatusCode, body)
			}
			checkLinkHeaders(t, res)
			_, acts := env.fake.calls()
			if len(acts) != 1 || acts[0].Token != tt.token || acts[0].Action != tt.want {
				t.Fatalf("Act calls %+v, want one with %+v", acts, tt.want)
			}
			if strings.Contains(env.log.String(), "purple") || strings.Contains(env.log.String(), "mauve") {
				t.Fatalf("a password reached the log:\n%s", env.log.String())
			}
		})
	}
}

func TestLinks_InvalidRendersTheFormAgain(t *testing.T) {
	env := newLinkEnv(t)
	env.fake.act = func(a links.Action) (links.Result, error) {
		return links.Result{}, licensing.Errorf(licensing.Invalid, "The two passwords don't match; type the same password in both fields.")
	}
	const secret = "hunter2-hunter2-hunter2"
	res, body := env.post(tokComplete, url.Values{
		"display_name": {`Dana "D" <Scully>`}, "password": {secret}, "password_confirm": {secret + "x"},
	})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422:\n%s", res.StatusCode, body)
	}
	for _, s := range []string{
		"The two passwords don&#39;t match; type the same password in both fields.",
		`role="alert"`,
		`value="Dana &#34;D&#34; &lt;Scully&gt;"`,
		"Create my account",
		`name="csrf"`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q:\n%s", s, body)
		}
	}
	if strings.Contains(body, "hunter2") {
		t.Fatal("page echoes the password")
	}
	// The form shown again still posts.
	env.fake.act = nil
	if res, _ := env.post(tokComplete, url.Values{"display_name": {"Dana"}, "password": {secret}, "password_confirm": {secret}}); res.StatusCode != 200 {
		t.Fatalf("second try: %d", res.StatusCode)
	}
}

func TestLinks_PostErrors(t *testing.T) {
	env := newLinkEnv(t)
	env.fake.act = func(links.Action) (links.Result, error) {
		return links.Result{}, licensing.Errorf(licensing.Gone, "This link has already been used or has expired.")
	}
	res, body := env.post(tokPromote, url.Values{})
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "This link has already been used or has expired") {
		t.Fatalf("status %d:\n%s", res.StatusCode, body)
	}
	env.fake.act = func(links.Action) (links.Result, error) {
		return links.Result{}, licensing.Errorf(licensing.FailedPrecondition, "SEN-1000001 is cancelled, so its contacts can't change.")
	}
	res, body = env.post(tokPromote, url.Values{})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "is cancelled, so its contacts can&#39;t change.") || strings.Contains(body, "<form") {
		t.Fatalf("status %d:\n%s", res.StatusCode, body)
	}
}

func TestLinks_PostBodyIsLimited(t *testing.T) {
	env := newLinkEnv(t)
	cookie, field := env.formFor(tokPromote)
	form := url.Values{"csrf": {field}, "display_name": {strings.Repeat("x", 70<<10)}}
	r := httptest.NewRequest("POST", "/l/"+tokPromote, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(cookie)
	res, body := env.do(r)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d:\n%s", res.StatusCode, body)
	}
	if _, acts := env.fake.calls(); len(acts) != 0 {
		t.Fatal("Act was called")
	}
}

func TestLinks_EscapesEverythingFromTheService(t *testing.T) {
	env := newLinkEnv(t)
	const evil = `<script>alert(1)</script>`
	v := env.fake.views[tokPromotePending]
	v.Product = evil
	v.SEN = `SEN-1"><img src=x onerror=alert(2)>`
	v.Email = `x@y.test"><script>alert(3)</script>`
	v.Summary = []string{evil}
	v.Roles = []string{evil}
	env.fake.views[tokPromotePending] = v
	for _, tok := range []string{tokPromotePending} {
		_, body := env.get("/l/" + tok)
		if strings.Contains(body, "<script>") || strings.Contains(body, "<img") {
			t.Fatalf("markup from the service reached the page:\n%s", body)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Fatalf("escaped text missing:\n%s", body)
		}
	}
	env.fake.act = func(links.Action) (links.Result, error) {
		return links.Result{Title: evil, Message: evil}, nil
	}
	_, body := env.post(tokPromotePending, url.Values{"display_name": {evil}})
	if strings.Contains(body, "<script>") {
		t.Fatalf("markup from the result reached the page:\n%s", body)
	}
}

func TestLinks_LogsOnlyATokenReference(t *testing.T) {
	env := newLinkEnv(t)
	env.post(tokConfirmRequest, url.Values{"decision": {"approve"}})
	env.get("/l/" + tokBroken)
	log := env.log.String()
	if !strings.Contains(log, "link="+tokenRef(tokConfirmRequest)) {
		t.Fatalf("log lacks the token reference:\n%s", log)
	}
	if len(tokenRef(tokConfirmRequest)) != 12 {
		t.Fatalf("reference %q is not 12 hex digits", tokenRef(tokConfirmRequest))
	}
	// newLinkEnv's cleanup checks that no token appears.
}

func TestJoinWords(t *testing.T) {
	for words, want := range map[string]string{"": "", "billing": "billing", "billing technical": "billing and technical", "a b c": "a, b and c"} {
		if got := joinWords(strings.Fields(words)); got != want {
			t.Errorf("joinWords(%q) = %q, want %q", words, got, want)
		}
	}
}

func TestSecurityHeaders_CSPAllowsInlineStyleOnly(t *testing.T) {
	w := httptest.NewRecorder()
	securityHeaders(http.NotFoundHandler(), false).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'unsafe-inline'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows scripts", csp)
	}
}

// With Stripe, the update-card form redirects to Checkout: form-action
// must allow that origin (browsers apply it to a form's redirects) and no
// other.
func TestSecurityHeaders_FormTargets(t *testing.T) {
	w := httptest.NewRecorder()
	securityHeaders(http.NotFoundHandler(), false, "https://checkout.stripe.com").ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://checkout.stripe.com;") {
		t.Errorf("CSP %q does not allow the provider's page as a form target", csp)
	}
}

func TestDevTemplatesStillRender(t *testing.T) {
	var buf bytes.Buffer
	if err := devTemplates.ExecuteTemplate(&buf, "dev_mail.html", page{Title: "Dev mail"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "No mail yet.") || !strings.Contains(buf.String(), "<h1>Dev mail</h1>") {
		t.Fatalf("dev page:\n%s", buf.String())
	}
}

func TestLinks_MountedByNew(t *testing.T) {
	fake := newFakeLinks()
	h := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(), Links: fake})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/l/"+tokPromote, nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Become the primary contact") {
		t.Fatalf("status %d:\n%s", w.Code, w.Body.String())
	}
	for k, v := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Robots-Tag": "noindex", "X-Frame-Options": "DENY"} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "style-src 'unsafe-inline'") {
		t.Errorf("CSP %q", w.Header().Get("Content-Security-Policy"))
	}
}

func TestCardReturnPages_MountedByNewWithoutAToken(t *testing.T) {
	h := New(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(), Links: newFakeLinks()})
	for path, want := range map[string]string{
		links.CardSavedPath:     "If you saved a card",
		links.CardCancelledPath: "No card was saved",
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET %s: %d\n%s", path, w.Code, w.Body.String())
		}
	}
}

// fakeSessions signs in whoever the cookie "session" names.
type fakeSessions struct{}

func (fakeSessions) Session(_ context.Context, cookie string) (accounts.AccountDetails, error) {
	return accounts.AccountDetails{Email: licensing.Email(cookie)}, nil
}

// TestLinks_CardPageFromTheAccountStaysInTheAccount (defect 6): the card
// page the account page's Update card leads to keeps the signed-in header,
// leads back to the account, and does not claim it was emailed.
func TestLinks_CardPageFromTheAccountStaysInTheAccount(t *testing.T) {
	fake := newFakeLinks()
	const tokCard = "tokCardFromAccount0123456789abcdefghijklmnop"
	fake.views[tokCard] = links.View{Purpose: licensing.PurposeCardUpdate, Email: "alice@acme.test", SEN: "SEN-1000001", Product: "Jira Software",
		ExpiresAt: time.Now().Add(24 * time.Hour), Origin: "account"}
	h := LinkPages(fake, slog.New(slog.DiscardHandler), WithSessions(fakeSessions{}, false))
	r := httptest.NewRequest("GET", "/l/"+tokCard, nil)
	r.AddCookie(&http.Cookie{Name: "session", Value: "alice@acme.test"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	body := w.Body.String()
	for _, want := range []string{`<span class="who">alice@acme.test</span>`, `action="/signout"`, `href="/account">Back to your account</a>`, "made for you from your account page"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "This link was emailed") || strings.Contains(body, "Don't forward it") {
		t.Error("the page claims it was emailed")
	}
	// The same kind of link from a mail, opened by someone not signed in.
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/l/"+tokPromote, nil))
	if !strings.Contains(w.Body.String(), "This link was emailed to bob@acme.test") || strings.Contains(w.Body.String(), `class="who"`) {
		t.Errorf("emailed link page:\n%s", w.Body.String())
	}
}

// TestCardSaved_SaysTheOutcomeOfThisCardOnly (defect 4): /card/saved asks
// the service about the link the browser left with (its cookie), and with
// none, says the result comes by mail instead of claiming a charge.
func TestCardSaved_SaysTheOutcomeOfThisCardOnly(t *testing.T) {
	fake := newFakeLinks()
	h := New(Deps{Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Links: fake})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", links.CardSavedPath, nil))
	if body := w.Body.String(); !strings.Contains(body, "If you saved a card") || strings.Contains(body, "is charged now") {
		t.Errorf("opened directly:\n%s", body)
	}
	r := httptest.NewRequest("GET", links.CardSavedPath, nil)
	r.AddCookie(&http.Cookie{Name: cardReturnCookie, Value: "abc"})
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if body := w.Body.String(); !strings.Contains(body, "the invoice is paid") || !strings.Contains(body, "ref abc") || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("after a card:\n%s", body)
	}
}
