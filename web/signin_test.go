package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"licensedesk/accounts"
	"licensedesk/passwords"
	"licensedesk/web"
)

const mismatch = "That email and password don't match an account."

func TestSignIn_SetsASessionCookieAndRotatesCSRF(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	p := c.get("/signin")
	wantStatus(t, p, http.StatusOK)
	wantText(t, p, "Sign in", "Forgot your password?")
	if p.Header.Get("Cache-Control") != "no-store" || p.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", p.Header)
	}
	before := c.cookie("csrf")
	req, _ := http.NewRequest("POST", c.base+"/signin", strings.NewReader(url.Values{"csrf": {c.csrf}, "email": {"alice@acme.test"}, "password": {demoPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
		t.Fatalf("sign in: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, k := range res.Cookies() {
		if k.Name == "session" {
			session = k
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || len(session.Value) != 43 {
		t.Fatalf("session cookie: %v", res.Header.Values("Set-Cookie"))
	}
	if !strings.Contains(strings.Join(res.Header.Values("Set-Cookie"), "\n"), "csrf=; Path=/; Max-Age=0") {
		t.Errorf("the CSRF cookie is not renewed at sign-in: %v", res.Header.Values("Set-Cookie"))
	}
	p = c.get("/account")
	wantStatus(t, p, http.StatusOK)
	if c.cookie("csrf") == before {
		t.Error("the CSRF token from before sign-in carried over")
	}
	// Signed in, /signin goes to the account.
	if p := c.get("/signin"); p.Status != http.StatusSeeOther || p.Location != "/account" {
		t.Errorf("signin when signed in: %d %q", p.Status, p.Location)
	}
}

func TestSignIn_SecureCookies(t *testing.T) {
	s := newSite(t, accounts.Options{})
	h := web.Account(s.svc, discard(), true)
	c := s.client()
	c.get("/signin") // for a CSRF token and cookie
	req, _ := http.NewRequest("POST", "https://desk.example/signin", strings.NewReader(url.Values{"csrf": {c.csrf}, "email": {"alice@acme.test"}, "password": {demoPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.AddCookie(&http.Cookie{Name: "__Host-csrf", Value: c.csrf})
	w := newRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	set := strings.Join(w.Header().Values("Set-Cookie"), "\n")
	if !strings.Contains(set, "__Host-session=") || !strings.Contains(set, "; Secure") || !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") {
		t.Fatalf("Set-Cookie: %s", set)
	}
}

func TestSignIn_WrongPasswordAndUnknownEmailGetTheSamePage(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.get("/signin")
	normal := func(p page, email string) string {
		return strings.ReplaceAll(csrfField.ReplaceAllString(p.Body, ""), email, "EMAIL")
	}
	wrong := c.post("/signin", url.Values{"email": {"alice@acme.test"}, "password": {"not the right password"}})
	unknown := c.post("/signin", url.Values{"email": {"nobody@acme.test"}, "password": {"not the right password"}})
	typo := c.post("/signin", url.Values{"email": {"alice@acme.tes"}, "password": {demoPassword}})
	for _, p := range []page{wrong, unknown, typo} {
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantText(t, p, mismatch)
	}
	if normal(wrong, "alice@acme.test") != normal(unknown, "nobody@acme.test") {
		t.Fatal("the pages for a wrong password and an unknown email differ")
	}
	if !strings.Contains(wrong.Body, `value="alice@acme.test"`) || strings.Contains(wrong.Body, "not the right password") {
		t.Error("want the email kept and the password not")
	}
	p := c.post("/signin", url.Values{"email": {"alice"}, "password": {"x"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantText(t, p, "Enter your email address, like name@example.com.")
	if c.cookie("session") != "" {
		t.Fatal("a failed sign-in set a session")
	}
}

func TestSignIn_NeedsTheCSRFToken(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.get("/signin")
	for name, token := range map[string]string{"without": "", "wrong": strings.Repeat("B", 43)} {
		p := c.post("/signin", url.Values{"csrf": {token}, "email": {"alice@acme.test"}, "password": {demoPassword}})
		wantStatus(t, p, http.StatusForbidden)
		wantText(t, p, "This form expired; reload the page and try again.")
		if c.cookie("session") != "" {
			t.Fatalf("%s token: signed in", name)
		}
	}
	// Without any CSRF cookie (a login-CSRF attempt from another site).
	fresh := s.client()
	p := fresh.post("/signin", url.Values{"csrf": {c.csrf}, "email": {"alice@acme.test"}, "password": {demoPassword}})
	wantStatus(t, p, http.StatusForbidden)
	var n int
	_ = s.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM sessions`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d sessions created", n)
	}
}

// sleeps records the throttling delays instead of waiting them.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d > 0 {
		s.d = append(s.d, d)
	}
	return nil
}

func (s *sleeps) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.d
	s.d = nil
	return d
}

func TestSignIn_IsThrottled(t *testing.T) {
	slept := &sleeps{}
	s := newSite(t, accounts.Options{Sleep: slept.Sleep})
	c := s.client()
	c.get("/signin")
	for i := range 5 {
		p := c.post("/signin", url.Values{"email": {"alice@acme.test"}, "password": {"guess number " + string(rune('a'+i))}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
	}
	p := c.post("/signin", url.Values{"email": {"alice@acme.test"}, "password": {demoPassword}})
	wantStatus(t, p, http.StatusTooManyRequests)
	wantText(t, p, "Too many attempts; try again in 1 minute.")
	if ra := p.Header.Get("Retry-After"); ra != "60" && ra != "59" {
		t.Errorf("Retry-After %q", ra)
	}
	// The address is slowed, not locked (others may share it).
	slept.take()
	p = c.post("/signin", url.Values{"email": {"bob@acme.test"}, "password": {demoPassword}})
	wantStatus(t, p, http.StatusSeeOther)
	if got := slept.take(); len(got) != 1 || got[0] != time.Second {
		t.Errorf("bob waited %v; want 1s", got)
	}
}

func TestSignIn_TrustsForwardedForOnlyWhenTold(t *testing.T) {
	fail := func(c *client, from string) page {
		req, _ := http.NewRequest("POST", c.base+"/signin", strings.NewReader(url.Values{"csrf": {c.csrf},
			"email": {"usera@x.test"}, "password": {"wrong password here"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "198.51.100.1, "+from)
		return c.do(req)
	}
	const warning = "X-Forwarded-For"
	nop := accounts.Options{Sleep: (&sleeps{}).Sleep}
	trusted := newSite(t, nop, web.TrustForwardedFor())
	c := trusted.client()
	c.get("/signin")
	for range 5 {
		fail(c, "203.0.113.9")
	}
	// The address the proxy appended failed five times on the email: refused.
	wantStatus(t, fail(c, "203.0.113.9"), http.StatusTooManyRequests)
	// Another address that proxy reports has not: its password is checked.
	wantStatus(t, fail(c, "203.0.113.10"), http.StatusUnprocessableEntity)
	if strings.Contains(trusted.logs.String(), warning) {
		t.Errorf("warned behind a trusted proxy:\n%s", trusted.logs.String())
	}

	plain := newSite(t, nop)
	c = plain.client()
	c.get("/signin")
	for i := range 5 {
		fail(c, "203.0.113."+string(rune('0'+i)))
	}
	// Different claimed addresses, one real one: refused.
	wantStatus(t, fail(c, "203.0.113.99"), http.StatusTooManyRequests)
	// The header arrived without TRUST_PROXY: one warning, however many requests.
	if n := strings.Count(plain.logs.String(), warning); n != 1 {
		t.Errorf("%d warnings about X-Forwarded-For; want 1:\n%s", n, plain.logs.String())
	}
}

func TestSignOut_EndsTheSession(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	cookie := c.cookie("session")
	wantStatus(t, c.post("/signout", url.Values{"csrf": {""}}), http.StatusForbidden)
	p := c.post("/signout", url.Values{})
	if p.Status != http.StatusSeeOther || p.Location != "/signin?done=signout" || c.cookie("session") != "" {
		t.Fatalf("sign out: %d %q, cookie %q", p.Status, p.Location, c.cookie("session"))
	}
	wantText(t, c.follow(p), "You're signed out.")
	// The cookie, replayed, no longer works.
	c.setCookie("session", cookie)
	if p := c.get("/account"); p.Status != http.StatusSeeOther || p.Location != "/signin" {
		t.Fatalf("replayed cookie: %d %q", p.Status, p.Location)
	}
	if _, err := s.svc.Session(context.Background(), cookie); err == nil {
		t.Fatal("the session is still live")
	}
}

func TestSignIn_RevokesTheBrowsersPreviousSession(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	c.signIn("alice@acme.test", demoPassword)
	first := c.cookie("session")
	c.signIn("bob@acme.test", demoPassword)
	if c.cookie("session") == first {
		t.Fatal("same session id after signing in again")
	}
	if _, err := s.svc.Session(context.Background(), first); err == nil {
		t.Fatal("the previous session still works")
	}
}

// M-1: with the password hasher's queue full, sign-in answers 503 with
// Retry-After at once (the server is busy; the client did nothing wrong).
func TestSignIn_BusyHasherAnswers503(t *testing.T) {
	h := passwords.NewHasher(1)
	h.MaxWaiting = 0
	s := newSite(t, accounts.Options{Hasher: h, Sleep: (&sleeps{}).Sleep})
	hold, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	h.OnStart = func(int) {
		if first.CompareAndSwap(false, true) {
			close(hold)
			<-release
		}
	}
	held := s.client()
	held.get("/signin")
	done := make(chan struct{})
	go func() {
		defer close(done)
		held.post("/signin", url.Values{"email": {"bob@acme.test"}, "password": {demoPassword}})
	}()
	<-hold
	c := s.client()
	c.get("/signin")
	p := c.post("/signin", url.Values{"email": {"alice@acme.test"}, "password": {demoPassword}})
	close(release)
	<-done
	wantStatus(t, p, http.StatusServiceUnavailable)
	wantText(t, p, "try again in a few seconds")
	if ra := p.Header.Get("Retry-After"); ra != "5" {
		t.Errorf("Retry-After %q; want 5", ra)
	}
}
