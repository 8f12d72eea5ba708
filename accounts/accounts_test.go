package accounts_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"licensedesk/accounts"
	"licensedesk/accounts/accountstest"
	"licensedesk/internal/pgtest"
	"licensedesk/licensing"
	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const demoPassword = postgres.DemoPassword

// clock is a settable clock for throttling; Sleep moves it on and
// records how long was slept.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type env struct {
	db    *postgres.DB
	ops   *accountstest.Ops
	svc   *accounts.Service
	clock *clock
}

// newEnv returns the service on a migrated database with the demo data.
func newEnv(t *testing.T, opt accounts.Options) *env {
	t.Helper()
	db, now := postgrestest.NewDemo(t)
	c := &clock{now: now.Now().Truncate(time.Microsecond)} // as PostgreSQL stores it
	db.SetClock(c.Now)                                     // the test's clock rules the store too
	if opt.Now == nil {
		opt.Now = c.Now
	}
	if opt.Sleep == nil {
		opt.Sleep = c.Sleep
	}
	opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ops := accountstest.New(db)
	svc, err := accounts.New(db, ops, opt)
	if err != nil {
		t.Fatal(err)
	}
	ops.Service = svc
	t.Cleanup(ops.Wait)
	return &env{db: db, ops: ops, svc: svc, clock: c}
}

func (e *env) signIn(email, password, addr string) (accounts.SessionCookie, error) {
	return e.svc.SignIn(context.Background(), accounts.SignInRequest{Email: email, Password: password, ClientAddr: addr, UserAgent: "test"})
}

func mustSignIn(t *testing.T, e *env, email, password string) accounts.SessionCookie {
	t.Helper()
	s, err := e.signIn(email, password, "192.0.2.1")
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	return s
}

func code(err error) string {
	var tm *accounts.TooManyAttempts
	if errors.As(err, &tm) {
		return "too_many"
	}
	if err == nil {
		return "ok"
	}
	return string(licensing.ErrorCode(err))
}

func TestSignIn_StartsASessionForTheRightPassword(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	s := mustSignIn(t, e, "  Alice@Acme.test ", demoPassword)
	if len(s.Value) != 43 || s.Expires.Sub(e.clock.Now()) < 7*24*time.Hour-time.Minute {
		t.Fatalf("session %q expires %v; want 43 characters, 7 days", s.Value, s.Expires)
	}
	acc, err := e.svc.Session(context.Background(), s.Value)
	if err != nil || acc.Email != "alice@acme.test" || acc.DisplayName != "Alice Anders" {
		t.Fatalf("Session = %+v, %v", acc, err)
	}
	if err := e.svc.SignOut(context.Background(), s.Value); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Session(context.Background(), s.Value); licensing.ErrorCode(err) != licensing.NotFound {
		t.Fatalf("session after sign-out: %v", err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 43), strings.Repeat("é", 43)} {
		if _, err := e.svc.Session(context.Background(), bad); licensing.ErrorCode(err) != licensing.NotFound {
			t.Errorf("cookie %q: %v; want NotFound", bad, err)
		}
	}
}

func TestSignIn_RotatesTheSessionID(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	ctx := context.Background()
	before := mustSignIn(t, e, "alice@acme.test", demoPassword)
	after, err := e.svc.SignIn(ctx, accounts.SignInRequest{Email: "bob@acme.test", Password: demoPassword, Replaces: before.Value})
	if err != nil {
		t.Fatal(err)
	}
	if after.Value == before.Value {
		t.Fatal("the session id did not change")
	}
	if _, err := e.svc.Session(ctx, before.Value); err == nil {
		t.Fatal("the session the browser had before signing in still works")
	}
	if acc, err := e.svc.Session(ctx, after.Value); err != nil || acc.Email != "bob@acme.test" {
		t.Fatalf("new session: %+v, %v", acc, err)
	}
}

func TestSignIn_EveryMismatchGetsTheSameAnswer(t *testing.T) {
	e := newEnv(t, accounts.Options{MaxFailures: 100})
	ctx := context.Background()
	// A pending account (invited, never set up) and a disabled one.
	if _, err := e.db.EnsureContact(ctx, "SEN-1000001", licensing.Billing, "pending@acme.test", licensing.Actor{Kind: "system", ID: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool().Exec(ctx, `UPDATE accounts SET status = 'disabled' WHERE email = 'dave@globex.test'`); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ email, password string }{
		"wrong password":                   {"alice@acme.test", "not the password at all"},
		"unknown email":                    {"nobody@acme.test", demoPassword},
		"pending account":                  {"pending@acme.test", demoPassword},
		"disabled account, right password": {"dave@globex.test", demoPassword},
		"password of another account":      {"alice@acme.test", "correct horse battery stapler"},
	} {
		_, err := e.signIn(tc.email, tc.password, "192.0.2.1")
		if err == nil || licensing.ErrorMessage(err) != "That email and password don't match an account." || licensing.ErrorCode(err) != licensing.Invalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := e.signIn("not an email", "x", "192.0.2.1"); licensing.ErrorCode(err) != licensing.Invalid || !strings.Contains(err.Error(), "email address") {
		t.Errorf("malformed email: %v", err)
	}
	if _, err := e.signIn("alice@acme.test", "", "192.0.2.1"); licensing.ErrorCode(err) != licensing.Invalid {
		t.Errorf("empty password: %v", err)
	}
}

// TestSignIn_ThrottlesPerEmailWithAGrowingCappedLock follows one email
// through the rule: 5 failures lock it for 1 minute, each further failure
// doubles the lock up to 15 minutes, a lock refuses even the right
// password from an address that failed on it, and it always ends.
func TestSignIn_ThrottlesPerEmailWithAGrowingCappedLock(t *testing.T) {
	for _, email := range []string{"alice@acme.test", "nobody@acme.test"} { // known or not: the same
		t.Run(email, func(t *testing.T) {
			e := newEnv(t, accounts.Options{})
			addr := func(i int) string { return "192.0.2." + string(rune('0'+i%10)) } // spread over addresses
			for i := range 4 {
				if _, err := e.signIn(email, "wrong password here", addr(i)); code(err) != "invalid" {
					t.Fatalf("failure %d: %v", i+1, err)
				}
			}
			if _, err := e.signIn(email, "wrong password here", addr(4)); code(err) != "invalid" {
				t.Fatalf("5th failure: %v", err)
			}
			_, err := e.signIn(email, demoPassword, addr(3))
			var tm *accounts.TooManyAttempts
			if !errors.As(err, &tm) || tm.RetryAfter != time.Minute || tm.Error() != "Too many attempts; try again in 1 minute." {
				t.Fatalf("locked: %v", err)
			}
			for i, want := range []time.Duration{2, 4, 8, 15, 15, 15} {
				e.clock.Add(tm.RetryAfter)
				if _, err := e.signIn(email, "still wrong password", addr(i)); code(err) != "invalid" {
					t.Fatalf("after the lock: %v", err)
				}
				_, err := e.signIn(email, "still wrong password", addr(i))
				if !errors.As(err, &tm) || tm.RetryAfter != want*time.Minute {
					t.Fatalf("lock %d: %v; want %v", i+2, err, want*time.Minute)
				}
			}
			if !strings.Contains(tm.Error(), "try again in 15 minutes.") {
				t.Errorf("message %q", tm.Error())
			}
			// The right password after the lock ends works, and clears the count.
			e.clock.Add(15 * time.Minute)
			_, err = e.signIn(email, demoPassword, addr(0))
			if email == "nobody@acme.test" {
				if code(err) != "invalid" {
					t.Fatalf("unknown email after the lock: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("right password after the lock: %v", err)
			}
			for range 4 {
				if _, err := e.signIn(email, "wrong password here", addr(1)); code(err) != "invalid" {
					t.Fatalf("count not cleared by a success: %v", err)
				}
			}
		})
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	ctx := context.Background()
	laptop := mustSignIn(t, e, "alice@acme.test", demoPassword)
	phone := mustSignIn(t, e, "alice@acme.test", demoPassword)
	acc, _ := e.svc.Session(ctx, laptop.Value)
	const next = "purple tractor sings at dawn"

	for name, tc := range map[string]struct {
		c    accounts.PasswordChange
		want string
	}{
		"no current":          {accounts.PasswordChange{New: next, Confirm: next}, "Enter your current password."},
		"wrong current":       {accounts.PasswordChange{Current: "wrong", New: next, Confirm: next}, "That isn't your current password."},
		"short":               {accounts.PasswordChange{Current: demoPassword, New: "short one", Confirm: "short one"}, "at least 15 characters"},
		"common":              {accounts.PasswordChange{Current: demoPassword, New: "iloveyouforever!", Confirm: "iloveyouforever!"}, "too common"},
		"too long":            {accounts.PasswordChange{Current: demoPassword, New: strings.Repeat("abc def ", 20), Confirm: strings.Repeat("abc def ", 20)}, "at most 128"},
		"mismatch":            {accounts.PasswordChange{Current: demoPassword, New: next, Confirm: next + "!"}, "don't match"},
		"same as the old one": {accounts.PasswordChange{Current: demoPassword, New: demoPassword, Confirm: demoPassword}, ""},
	} {
		_, err := e.svc.ChangePassword(ctx, acc.ID, tc.c)
		if licensing.ErrorCode(err) != licensing.Invalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want Invalid containing %q", name, err, tc.want)
		}
	}
	if _, err := e.svc.Session(ctx, phone.Value); err != nil {
		t.Fatal("a refused change ended a session")
	}

	s, err := e.svc.ChangePassword(ctx, acc.ID, accounts.PasswordChange{Current: demoPassword, New: next, Confirm: next, Replaces: laptop.Value})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]string{"laptop": laptop.Value, "phone": phone.Value} {
		if _, err := e.svc.Session(ctx, c); err == nil {
			t.Errorf("the %s session survived the change", name)
		}
	}
	if got, err := e.svc.Session(ctx, s.Value); err != nil || got.ID != acc.ID {
		t.Fatalf("new session: %+v, %v", got, err)
	}
	if _, err := e.signIn("alice@acme.test", demoPassword, "192.0.2.9"); code(err) != "invalid" {
		t.Fatalf("old password still works: %v", err)
	}
	mustSignIn(t, e, "alice@acme.test", next)
	if m := e.ops.MailsTo("alice@acme.test"); len(m) != 1 || m[0].Subject != "Your password was changed" {
		t.Fatalf("mails = %+v", m)
	}
}

func TestChangePassword_ThrottlesWrongCurrentPasswords(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	ctx := context.Background()
	s := mustSignIn(t, e, "bob@acme.test", demoPassword)
	acc, _ := e.svc.Session(ctx, s.Value)
	for range 5 {
		if _, err := e.svc.ChangePassword(ctx, acc.ID, accounts.PasswordChange{Current: "guess", New: "x", Confirm: "x"}); code(err) != "invalid" {
			t.Fatal(err)
		}
	}
	const next = "purple tractor sings at dawn"
	if _, err := e.svc.ChangePassword(ctx, acc.ID, accounts.PasswordChange{Current: demoPassword, New: next, Confirm: next}); code(err) != "too_many" {
		t.Fatalf("6th attempt: %v; want too many", err)
	}
	e.clock.Add(time.Minute)
	if _, err := e.svc.ChangePassword(ctx, acc.ID, accounts.PasswordChange{Current: demoPassword, New: next, Confirm: next}); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

func TestReset_FullFlow(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	ctx := context.Background()
	session := mustSignIn(t, e, "alice@acme.test", demoPassword)

	for _, email := range []string{"alice@acme.test", "nobody@acme.test"} {
		if err := e.svc.RequestReset(ctx, email, "192.0.2.1"); err != nil {
			t.Fatalf("%s: %v", email, err)
		}
	}
	if err := e.svc.RequestReset(ctx, "not an email", "192.0.2.1"); licensing.ErrorCode(err) != licensing.Invalid {
		t.Fatalf("malformed email: %v", err)
	}
	if m := e.ops.Mails(); len(m) != 1 || m[0].To != "alice@acme.test" || !strings.HasPrefix(m[0].Link, "/password/reset/") {
		t.Fatalf("mails = %+v; want one reset link to alice", m)
	}
	first := strings.TrimPrefix(e.ops.LastResetLink("alice@acme.test"), accounts.ResetPath)

	// A newer link revokes the older one.
	if err := e.svc.RequestReset(ctx, "alice@acme.test", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimPrefix(e.ops.LastResetLink("alice@acme.test"), accounts.ResetPath)
	if token == first {
		t.Fatal("no new link")
	}
	if _, err := e.svc.ResetInfo(ctx, first); licensing.ErrorCode(err) != licensing.Gone {
		t.Fatalf("older link: %v; want Gone", err)
	}
	info, err := e.svc.ResetInfo(ctx, token)
	if left := info.ExpiresAt.Sub(e.clock.Now()); err != nil || info.Email != "alice@acme.test" || left > time.Hour || left < 59*time.Minute {
		t.Fatalf("ResetInfo = %+v, %v", info, err)
	}

	const next = "purple tractor sings at dawn"
	for name, pw := range map[string][2]string{
		"short":    {"too short", "too short"},
		"common":   {"qwertyuiopasdfgh", "qwertyuiopasdfgh"},
		"mismatch": {next, next + "."},
		"email":    {"alice plus some words", "alice plus some words"},
	} {
		if err := e.svc.CompleteReset(ctx, token, pw[0], pw[1]); licensing.ErrorCode(err) != licensing.Invalid {
			t.Errorf("%s: %v; want Invalid", name, err)
		}
	}
	if _, err := e.svc.ResetInfo(ctx, token); err != nil {
		t.Fatalf("a refused password spent the link: %v", err)
	}
	if err := e.svc.CompleteReset(ctx, token, next, next); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CompleteReset(ctx, token, next, next); licensing.ErrorCode(err) != licensing.Gone {
		t.Fatalf("second use: %v; want Gone", err)
	}
	if _, err := e.svc.Session(ctx, session.Value); err == nil {
		t.Fatal("a session survived the reset")
	}
	mustSignIn(t, e, "alice@acme.test", next)
	subjects := []string{}
	for _, m := range e.ops.MailsTo("alice@acme.test") {
		subjects = append(subjects, m.Subject)
	}
	if !slices.Contains(subjects, "Your password was changed") {
		t.Fatalf("no confirmation mail: %v", subjects)
	}
	if _, err := e.svc.ResetInfo(ctx, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); licensing.ErrorCode(err) != licensing.NotFound {
		t.Fatalf("unknown token: %v", err)
	}
}

func resetRequest(email licensing.Email, key string) accounts.ResetRequest {
	return accounts.ResetRequest{Email: email, Key: "password-reset/" + string(email) + "/" + key}
}

func TestReset_ExpiredLinkAndLimits(t *testing.T) {
	e := newEnv(t, accounts.Options{ResetTTL: 50 * time.Millisecond})
	ctx := context.Background()
	link, ok, err := e.svc.IssueResetLink(ctx, resetRequest("bob@acme.test", "run-1"))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	e.clock.Add(100 * time.Millisecond)
	if _, err := e.svc.ResetInfo(ctx, link.Token); licensing.ErrorCode(err) != licensing.Gone {
		t.Fatalf("expired: %v; want Gone", err)
	}
	if err := e.svc.CompleteReset(ctx, link.Token, "purple tractor sings at dawn", "purple tractor sings at dawn"); licensing.ErrorCode(err) != licensing.Gone {
		t.Fatalf("expired: %v; want Gone", err)
	}
	// A retry of a request whose link has expired gets nothing.
	if _, ok, err := e.svc.IssueResetLink(ctx, resetRequest("bob@acme.test", "run-1")); ok || err != nil {
		t.Fatalf("retry after expiry: %v, %v; want nothing to send", ok, err)
	}
	// At most 3 requests an hour per account; unknown and pending accounts get none.
	for _, run := range []string{"run-2", "run-3"} {
		if _, ok, err := e.svc.IssueResetLink(ctx, resetRequest("bob@acme.test", run)); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if _, ok, err := e.svc.IssueResetLink(ctx, resetRequest("bob@acme.test", "run-4")); ok || err != nil {
		t.Fatalf("4th request in an hour: %v, %v", ok, err)
	}
	if _, ok, err := e.svc.IssueResetLink(ctx, resetRequest("nobody@acme.test", "run-1")); ok || err != nil {
		t.Fatalf("unknown email: %v, %v", ok, err)
	}
	if _, ok, err := e.svc.IssueResetLink(ctx, accounts.ResetRequest{Email: "alice@acme.test"}); ok || err == nil {
		t.Fatalf("a request without a key: %v, %v; want an error", ok, err)
	}
	// Requests per address are throttled (the answer gives nothing away):
	// slowed, not refused, since many people may share the address.
	for range 5 {
		if err := e.svc.RequestReset(ctx, "nobody@acme.test", "198.51.100.7"); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.takeSlept()
	if err := e.svc.RequestReset(ctx, "alice@acme.test", "198.51.100.7"); err != nil {
		t.Fatalf("6th request: %v; want it slowed, not refused", err)
	}
	if got := e.clock.takeSlept(); len(got) != 1 || got[0] != time.Second {
		t.Fatalf("6th request slept %v; want 1s", got)
	}
}

// Retries of one request (its activity, after a mail failure) reuse its
// link: however many, they count once, keep its expiry, and revoke no
// other link; each gets a new token, and only the newest works.
func TestReset_RetriesOfARequestShareItsLink(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	ctx := context.Background()
	first, ok, err := e.svc.IssueResetLink(ctx, resetRequest("alice@acme.test", "run-1"))
	if err != nil || !ok || first.Issue != 1 {
		t.Fatalf("first = %+v, %v, %v", first, ok, err)
	}
	tokens := []string{first.Token}
	for i := 2; i <= 6; i++ {
		again, ok, err := e.svc.IssueResetLink(ctx, resetRequest("alice@acme.test", "run-1"))
		if err != nil || !ok {
			t.Fatalf("retry %d: %v, %v", i, ok, err)
		}
		if again.Issue != i || !again.ExpiresAt.Equal(first.ExpiresAt) || slices.Contains(tokens, again.Token) {
			t.Fatalf("retry %d = issue %d, expires %v; want issue %d, the first expiry %v, a new token", i, again.Issue, again.ExpiresAt, i, first.ExpiresAt)
		}
		tokens = append(tokens, again.Token)
	}
	for _, old := range tokens[:len(tokens)-1] {
		if _, err := e.svc.ResetInfo(ctx, old); licensing.ErrorCode(err) != licensing.Gone {
			t.Fatalf("a replaced token: %v; want Gone", err)
		}
	}
	newest := tokens[len(tokens)-1]
	if _, err := e.svc.ResetInfo(ctx, newest); err != nil {
		t.Fatalf("the newest token: %v", err)
	}
	// Six attempts were one request: two more requests still get links.
	second, ok, err := e.svc.IssueResetLink(ctx, resetRequest("alice@acme.test", "run-2"))
	if err != nil || !ok || second.Issue != 1 {
		t.Fatalf("second request: %+v, %v, %v", second, ok, err)
	}
	// ... and the newer request revokes the older one, whose retries then send nothing.
	if _, err := e.svc.ResetInfo(ctx, newest); licensing.ErrorCode(err) != licensing.Gone {
		t.Fatalf("the older request's link after a newer request: %v; want Gone", err)
	}
	if _, ok, err := e.svc.IssueResetLink(ctx, resetRequest("alice@acme.test", "run-1")); ok || err != nil {
		t.Fatalf("retry of a superseded request: %v, %v; want nothing to send", ok, err)
	}
	if _, ok, err := e.svc.IssueResetLink(ctx, resetRequest("alice@acme.test", "run-3")); !ok || err != nil {
		t.Fatalf("third request: %v, %v", ok, err)
	}
	if _, ok, err := e.svc.IssueResetLink(ctx, resetRequest("alice@acme.test", "run-4")); ok || err != nil {
		t.Fatalf("fourth request: %v, %v; want the cap", ok, err)
	}
}

func TestProfile(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	ctx := context.Background()
	s := mustSignIn(t, e, "alice@acme.test", demoPassword)
	acc, _ := e.svc.Session(ctx, s.Value)
	for name, p := range map[string]accounts.Profile{
		"no name":          {DisplayName: "  "},
		"long name":        {DisplayName: strings.Repeat("é", 201)},
		"long phone":       {DisplayName: "A", Phone: strings.Repeat("1", 51)},
		"letters in phone": {DisplayName: "A", Phone: "call me maybe"},
		"control char":     {DisplayName: "A\x00B"},
		"long address":     {DisplayName: "A", Address: strings.Repeat("x", 1001)},
	} {
		if err := e.svc.UpdateProfile(ctx, acc.ID, p); licensing.ErrorCode(err) != licensing.Invalid {
			t.Errorf("%s: %v; want Invalid", name, err)
		}
	}
	p := accounts.Profile{DisplayName: " <b>Alice</b> ", Phone: "+1 (555) 0100 ext 12", Company: "Acme & Sons", Address: "1 Road\r\nTown"}
	if err := e.svc.UpdateProfile(ctx, acc.ID, p); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.Session(ctx, s.Value)
	if got.DisplayName != "<b>Alice</b>" || got.Address != "1 Road\nTown" || got.Phone != "+1 (555) 0100 ext 12" {
		t.Fatalf("stored %+v", got)
	}
}

func TestLicences_ActionsFollowTheRules(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	ctx := context.Background()
	mine := func(email licensing.Email) []accounts.MyLicense {
		a, _ := e.db.AccountByEmail(ctx, email)
		l, err := e.svc.MyLicenses(ctx, a.ID, accounts.LicencePage{})
		if err != nil {
			t.Fatal(err)
		}
		return l.Licences
	}
	alice := mine("alice@acme.test")
	if len(alice) != 1 || !alice[0].Me.Billing || !alice[0].Me.Technical || alice[0].Me.SiteAdmin || !alice[0].CanUpdateCard || !alice[0].BillingAddress.IsZero() {
		t.Fatalf("alice: %+v", alice)
	}
	if err := e.db.UpdateBillingAddress(ctx, "SEN-1000001", licensing.BillingAddress{Name: "Acme HQ", Lines: []string{"1 Road"}, City: "Leeds", Country: "GB"}, "carol@acme.test"); err != nil {
		t.Fatal(err)
	}
	carol := mine("carol@acme.test")
	if len(carol) != 1 || !carol[0].Me.SiteAdmin || carol[0].Me.IsContact() || carol[0].BillingAddress.Name != "Acme HQ" {
		t.Fatalf("carol: %+v", carol)
	}
	if erin := mine("erin@globex.test"); erin[0].CanUpdateCard {
		t.Fatal("a technical contact may update an annual licence's card")
	}

	tests := []struct {
		name string
		do   func() (string, error)
		want licensing.Code
	}{
		{"add an existing contact", func() (string, error) {
			return e.svc.AddContact(ctx, "alice@acme.test", "SEN-1000001", "technical", "bob@acme.test", false)
		}, licensing.Conflict},
		{"add as a site admin only", func() (string, error) {
			return e.svc.AddContact(ctx, "carol@acme.test", "SEN-1000001", "billing", "x@acme.test", false)
		}, licensing.Forbidden},
		{"add a bad email", func() (string, error) {
			return e.svc.AddContact(ctx, "alice@acme.test", "SEN-1000001", "billing", "x@", false)
		}, licensing.Invalid},
		{"add with a bad role", func() (string, error) {
			return e.svc.AddContact(ctx, "alice@acme.test", "SEN-1000001", "owner", "x@acme.test", false)
		}, licensing.Invalid},
		{"remove a primary", func() (string, error) {
			return e.svc.RemoveContact(ctx, "bob@acme.test", "SEN-1000001", "billing", "alice@acme.test")
		}, licensing.FailedPrecondition},
		{"remove from someone else's licence", func() (string, error) { // as for an unknown one
			return e.svc.RemoveContact(ctx, "dave@globex.test", "SEN-1000001", "technical", "bob@acme.test")
		}, licensing.NotFound},
		{"promote when already primary", func() (string, error) {
			return e.svc.PromoteSelf(ctx, "alice@acme.test", "SEN-1000001", "billing")
		}, licensing.Conflict},
		{"promote without being a contact", func() (string, error) {
			return e.svc.PromoteSelf(ctx, "bob@acme.test", "SEN-1000001", "billing")
		}, licensing.Forbidden},
		{"card of an annual licence as a contact", func() (string, error) {
			return e.svc.UpdateCardURL(ctx, "erin@globex.test", "SEN-1000002")
		}, licensing.Forbidden},
		{"card of a server licence", func() (string, error) {
			return e.svc.UpdateCardURL(ctx, "hank@umbrella.test", "SEN-2000001")
		}, licensing.FailedPrecondition},
		{"billing address as a contact", func() (string, error) {
			return e.svc.UpdateBillingAddress(ctx, "alice@acme.test", "SEN-1000001", licensing.BillingAddressInput{Name: "x", Lines: "1 Road", City: "Leeds", Country: "GB"})
		}, licensing.Forbidden},
		{"unknown licence", func() (string, error) {
			return e.svc.AddContact(ctx, "alice@acme.test", "SEN-9999999", "billing", "x@acme.test", false)
		}, licensing.NotFound},
	}
	before, _ := e.db.License(ctx, "SEN-1000001")
	for _, tt := range tests {
		if _, err := tt.do(); licensing.ErrorCode(err) != tt.want {
			t.Errorf("%s: %v; want %s", tt.name, err, tt.want)
		}
	}
	after, _ := e.db.License(ctx, "SEN-1000001")
	if len(e.ops.Calls()) != 0 || len(before.Contacts) != len(after.Contacts) {
		t.Fatalf("refused actions reached the operations: %v", e.ops.Calls())
	}

	// Allowed: add, promote, remove, card.
	if msg, err := e.svc.AddContact(ctx, "bob@acme.test", "SEN-1000001", "billing", "new@acme.test", false); err != nil || !strings.Contains(msg, "new@acme.test") {
		t.Fatalf("add: %q, %v", msg, err)
	}
	if _, err := e.svc.PromoteSelf(ctx, "bob@acme.test", "SEN-1000001", "technical"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RemoveContact(ctx, "bob@acme.test", "SEN-1000001", "technical", "alice@acme.test"); err != nil {
		t.Fatal(err)
	}
	if u, err := e.svc.UpdateCardURL(ctx, "carol@acme.test", "SEN-1000001"); err != nil || u != "/test/card/SEN-1000001" {
		t.Fatalf("card: %q, %v", u, err)
	}
	l, _ := e.db.License(ctx, "SEN-1000001")
	if err := licensing.CheckContacts(l.Contacts); err != nil {
		t.Fatal(err)
	}
	if got := fmtContacts(l.Contacts); got != "alice@acme.test billing primary; bob@acme.test technical primary; new@acme.test billing secondary" {
		t.Fatalf("contacts = %s", got)
	}
}

func fmtContacts(cs []licensing.Contact) string {
	var out []string
	for _, c := range cs {
		kind := "secondary"
		if c.Primary {
			kind = "primary"
		}
		out = append(out, string(c.Email)+" "+string(c.Role)+" "+kind)
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// TestSignIn_TimingDoesNotRevealAccounts compares how long a failed
// sign-in takes for an existing account and for an unknown email: the
// unknown one is checked against a dummy argon2id hash, so they should be
// alike. The bound (3× either way) is loose so the test is not flaky; the
// medians are logged.
func TestSignIn_TimingDoesNotRevealAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test skipped in -short mode")
	}
	e := newEnv(t, accounts.Options{MaxFailures: 1000})
	const rounds = 15
	var known, unknown, success []time.Duration
	measure := func(email, password string) time.Duration {
		start := time.Now()
		_, _ = e.signIn(email, password, "192.0.2.1")
		return time.Since(start)
	}
	measure("alice@acme.test", "warm up the pool please") // warm-up
	for i := range rounds {
		// Interleaved, so drift affects both alike.
		known = append(known, measure("alice@acme.test", "wrong password number one"))
		unknown = append(unknown, measure("nobody"+string(rune('a'+i))+"@acme.test", "wrong password number one"))
		success = append(success, measure("bob@acme.test", demoPassword))
	}
	mk, mu, ms := median(known), median(unknown), median(success)
	t.Logf("sign-in medians over %d rounds: existing email, wrong password %v; unknown email %v; right password %v", rounds, mk, mu, ms)
	if ratio := float64(max(mk, mu)) / float64(min(mk, mu)); ratio > 3 {
		t.Fatalf("existing %v vs unknown %v: ratio %.2f > 3", mk, mu, ratio)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
