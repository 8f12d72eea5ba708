package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"licensedesk/accounts"
	"licensedesk/licensing"
	"licensedesk/passwords"
	"licensedesk/postgres"
	"licensedesk/web"
)

// requestReset posts the forgot form and returns the page and the newest
// reset link mailed to email ("" when none).
func requestReset(c *client, s *site, email string) (page, string) {
	c.t.Helper()
	c.get("/password/forgot")
	p := c.post("/password/forgot", url.Values{"email": {email}})
	s.ops.Wait()
	e, _ := licensing.ParseEmail(email)
	return p, s.ops.LastResetLink(e)
}

func TestReset_AnswersTheSameForEveryEmail(t *testing.T) {
	s := newSite(t, accounts.Options{})
	c := s.client()
	p := c.get("/password/forgot")
	wantStatus(t, p, http.StatusOK)
	wantText(t, p, "Reset your password", "Email me a link")

	known, link := requestReset(c, s, "alice@acme.test")
	unknown, none := requestReset(c, s, "nobody@acme.test")
	upper, _ := requestReset(c, s, "ALICE@acme.test ")
	for _, p := range []page{known, unknown, upper} {
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, web.ResetSentMessage)
	}
	norm := func(p page, email string) string { return strings.ReplaceAll(p.Body, email, "EMAIL") }
	if norm(known, "alice@acme.test") != norm(unknown, "nobody@acme.test") {
		t.Fatal("the answers for a known and an unknown email differ")
	}
	if link == "" || none != "" {
		t.Fatalf("links: %q for alice, %q for nobody", link, none)
	}
	p = c.post("/password/forgot", url.Values{"email": {"alice at acme"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantText(t, p, "Enter your email address")
	// No CSRF token, nothing sent.
	before := len(s.ops.Mails())
	wantStatus(t, c.post("/password/forgot", url.Values{"csrf": {""}, "email": {"bob@acme.test"}}), http.StatusForbidden)
	if len(s.ops.Mails()) != before {
		t.Fatal("a form without CSRF token sent mail")
	}
}

func TestReset_FullFlow(t *testing.T) {
	s := newSite(t, accounts.Options{})
	signedIn := s.client()
	signedIn.signIn("alice@acme.test", demoPassword)

	c := s.client()
	_, link := requestReset(c, s, "alice@acme.test")
	token := strings.TrimPrefix(link, accounts.ResetPath)

	// GET shows the form and changes nothing, however often.
	for range 2 {
		p := c.get(link)
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "Choose a new password", "alice@acme.test", "Link expires")
		if p.Header.Get("Referrer-Policy") != "no-referrer" || p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("headers: %v", p.Header)
		}
		if strings.Contains(p.Body, token) {
			t.Error("the page repeats the token")
		}
		// A random password is offered, one the rules accept.
		if m := regexp.MustCompile(`<code>([a-z2-9-]{23})</code>`).FindStringSubmatch(p.Body); m == nil {
			t.Error("no password suggestion on the reset form")
		} else if err := passwords.CheckNew(m[1], m[1], "alice@acme.test"); err != nil {
			t.Errorf("suggested %q, which the rules refuse: %v", m[1], err)
		}
	}
	const next = "purple tractor sings at dawn"
	for name, tc := range map[string]struct{ pw, confirm, want string }{
		"short":      {"short words", "short words", "Use at least 15 characters"},
		"common":     {"the quick brown fox jumps over the lazy dog", "the quick brown fox jumps over the lazy dog", "too common"},
		"too long":   {strings.Repeat("long words ", 12), strings.Repeat("long words ", 12), "Use at most 128 characters."},
		"mismatched": {next, next + "!", "The two passwords don't match"},
	} {
		p := c.post(link, url.Values{"password": {tc.pw}, "password_confirm": {tc.confirm}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", name, p.Status)
			continue
		}
		wantText(t, p, tc.want, "alice@acme.test")
	}
	for name, token := range map[string]string{"without": "", "wrong": strings.Repeat("C", 43)} {
		p := c.post(link, url.Values{"csrf": {token}, "password": {next}, "password_confirm": {next}})
		if p.Status != http.StatusForbidden {
			t.Errorf("%s CSRF token: status %d", name, p.Status)
		}
	}
	if _, err := s.svc.ResetInfo(context.Background(), token); err != nil {
		t.Fatalf("refused forms spent the link: %v", err)
	}

	c.get(link)
	p := c.post(link, url.Values{"password": {next}, "password_confirm": {next}})
	wantStatus(t, p, http.StatusOK)
	wantText(t, p, web.ResetDoneMessage)
	for _, k := range p.Header.Values("Set-Cookie") {
		if strings.HasPrefix(k, "session=") && !strings.Contains(k, "Max-Age=0") {
			t.Fatalf("the reset signed the person in: %s", k)
		}
	}
	if p := c.get("/account"); p.Status != http.StatusSeeOther {
		t.Fatal("signed in after a reset")
	}
	// Every session is gone; the old password no longer works, the new one does.
	if p := signedIn.get("/account"); p.Status != http.StatusSeeOther || p.Location != "/signin" {
		t.Fatalf("session after the reset: %d", p.Status)
	}
	c.get("/signin")
	wantText(t, c.post("/signin", url.Values{"email": {"alice@acme.test"}, "password": {demoPassword}}), mismatch)
	c.signIn("alice@acme.test", next)
	var subjects []string
	for _, m := range s.ops.MailsTo("alice@acme.test") {
		subjects = append(subjects, m.Subject)
	}
	if !slices.Equal(subjects, []string{"Reset your password", "Your password was changed"}) {
		t.Fatalf("mails: %v", subjects)
	}

	// Used: 410, for GET and POST.
	used := s.client()
	wantStatus(t, used.get(link), http.StatusGone)
	p = used.post(link, url.Values{"password": {"another fine passphrase"}, "password_confirm": {"another fine passphrase"}})
	wantStatus(t, p, http.StatusGone)
	wantText(t, p, "This link has already been used or has expired", "Ask for a new link")

	if strings.Contains(s.logs.String(), token) {
		t.Fatal("the token is in the logs")
	}
}

func TestReset_BadLinks(t *testing.T) {
	s := newSite(t, accounts.Options{})
	ctx := context.Background()
	c := s.client()

	p := c.get(accounts.ResetPath + strings.Repeat("A", 43))
	wantStatus(t, p, http.StatusNotFound)
	wantText(t, p, "This link isn't valid")
	wantStatus(t, c.get(accounts.ResetPath+"not%20a%20token"), http.StatusNotFound)
	wantStatus(t, c.post(accounts.ResetPath+strings.Repeat("A", 43), url.Values{"password": {"x"}}), http.StatusNotFound)

	// Expired.
	expired, _, err := s.db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposePasswordReset, Email: "bob@acme.test", TTL: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	wantStatus(t, c.get(accounts.ResetPath+expired), http.StatusGone)

	// Another purpose's token is not a reset link.
	promote, _, err := s.db.CreateLink(ctx, postgres.NewLink{Purpose: "promote", Email: "bob@acme.test", SEN: "SEN-1000001", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.get(accounts.ResetPath+promote), http.StatusNotFound)

	// An older link stops working when a newer one is sent.
	_, older := requestReset(c, s, "bob@acme.test")
	_, newer := requestReset(c, s, "bob@acme.test")
	if older == newer {
		t.Fatal("no second link")
	}
	wantStatus(t, c.get(older), http.StatusGone)
	wantStatus(t, c.get(newer), http.StatusOK)
}

// TestTiming_SignInAndReset measures, through HTTP, sign-in and reset
// requests for existing and unknown emails, interleaved, and checks that
// their medians differ by less than 3× (the bound is loose so the test is
// not flaky; the medians are logged, run with -v to see them).
func TestTiming_SignInAndReset(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test skipped in -short mode")
	}
	s := newSite(t, accounts.Options{MaxFailures: 10000, ResetsPerAddr: 10000, ResetsPerHour: 10000, ResetsPerAddrHour: 10000, ResetsPerMinute: 10000})
	c := s.client()
	c.get("/signin")
	timed := func(path string, form url.Values) time.Duration {
		start := time.Now()
		c.post(path, form)
		d := time.Since(start)
		s.ops.Wait() // background reset work must not overlap the next request
		return d
	}
	const rounds = 15
	var signKnown, signUnknown, resetKnown, resetUnknown []time.Duration
	timed("/signin", url.Values{"email": {"alice@acme.test"}, "password": {"warm up"}})
	for i := range rounds {
		unknown := "nobody" + string(rune('a'+i)) + "@acme.test"
		signKnown = append(signKnown, timed("/signin", url.Values{"email": {"alice@acme.test"}, "password": {"wrong password here"}}))
		signUnknown = append(signUnknown, timed("/signin", url.Values{"email": {unknown}, "password": {"wrong password here"}}))
		resetKnown = append(resetKnown, timed("/password/forgot", url.Values{"email": {"bob@acme.test"}}))
		resetUnknown = append(resetUnknown, timed("/password/forgot", url.Values{"email": {unknown}}))
	}
	check := func(what string, known, unknown []time.Duration) {
		mk, mu := median(known), median(unknown)
		t.Logf("%s medians over %d rounds: existing account %v, unknown email %v", what, rounds, mk, mu)
		if ratio := float64(max(mk, mu)) / float64(min(mk, mu)); ratio > 3 {
			t.Errorf("%s: existing %v vs unknown %v differ %.1f×", what, mk, mu, ratio)
		}
	}
	check("POST /signin", signKnown, signUnknown)
	check("POST /password/forgot", resetKnown, resetUnknown)
	if n := len(s.ops.MailsTo("bob@acme.test")); n != rounds {
		t.Errorf("%d reset mails to bob, want %d", n, rounds)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
