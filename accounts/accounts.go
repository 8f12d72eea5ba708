// Package accounts is the customer self-service behind the account pages:
// sign-in with server-side sessions and throttling, the profile, password
// changes and resets (issue 5, SPEC §2 Passwords and §3). Everything that is
// database and hashing happens here, on postgres.DB and package passwords;
// what must go through the same workflows as Slack (contact changes, card
// links, emails) is delegated to Operations, which the caller provides.
package accounts

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"licensedesk/internal/clock"
	"licensedesk/licensing"
	"licensedesk/passwords"
	"licensedesk/postgres"
)

// Operations are the actions that run as workflows (the same ones Slack
// uses) or send email. The accounts service has already checked the input
// and the licensing rules for the signed-in actor when it calls them; they
// may check again. Errors should be *licensing.Error with a message for the
// person; messages returned on success are shown as they are.
type Operations interface {
	// AddContact makes email a secondary role contact of the licence, on
	// behalf of actor (an existing contact): a pending account and an
	// invitation when email has no account. offerPrimary also emails them
	// an offer to make themselves primary.
	AddContact(ctx context.Context, actor licensing.Email, sen licensing.SEN, role licensing.Role, email licensing.Email, offerPrimary bool) (string, error)
	// RemoveContact removes a secondary role contact, on behalf of actor.
	RemoveContact(ctx context.Context, actor licensing.Email, sen licensing.SEN, role licensing.Role, email licensing.Email) (string, error)
	// PromoteSelf makes actor the primary role contact; the former primary
	// becomes secondary.
	PromoteSelf(ctx context.Context, actor licensing.Email, sen licensing.SEN, role licensing.Role) (string, error)
	// UpdateCardURL returns where actor enters a new card for the licence
	// (a page of ours, e.g. a /l/ link, or the provider's hosted page).
	UpdateCardURL(ctx context.Context, actor licensing.Email, sen licensing.SEN) (string, error)

	// StartPasswordReset starts the reset operation for email, which may
	// have no account: it must return without finding out (so that the
	// answer takes the same time either way) and do the rest in the
	// background, e.g. a workflow whose activity calls
	// Service.IssueResetLink and, when that returns ok, emails the link.
	// The token then never enters workflow history.
	StartPasswordReset(ctx context.Context, email licensing.Email) error
	// PasswordChanged emails the account that its password was changed
	// (after a change or a reset); event names the security event with
	// the browser that did it (0: none recorded).
	PasswordChanged(ctx context.Context, email licensing.Email, reset bool, event int64) error
	// SignInLocked emails the account that sign-in to it was paused after
	// wrong passwords (event: the security event that says from where).
	// At most one mail an hour per account goes out.
	SignInLocked(ctx context.Context, email licensing.Email, event int64) error
}

// Options tune the service. Zero fields take the defaults in brackets.
type Options struct {
	IdleTimeout     time.Duration // a session unused this long ends [12 h]
	AbsoluteTimeout time.Duration // a session ends this long after sign-in [7 days]

	// Throttling: MaxFailures failed attempts for one key (an email, a
	// client address, an email from one address), each less than
	// FailureWindow after the previous failure or lock, lock the key for
	// LockBase, doubling with each further failure up to LockCap. A key
	// left alone for FailureWindow after its lock ends starts again from
	// zero; a successful sign-in clears its email's count. A locked
	// address is slowed instead of refused, by SlowBase per LockBase of
	// lock, at most SlowCap; a locked email refuses only the addresses
	// that failed on it (see throttle.go).
	MaxFailures   int           // [5]
	FailureWindow time.Duration // [15 min]
	LockBase      time.Duration // [1 min]
	LockCap       time.Duration // [15 min]
	SlowBase      time.Duration // [1 s]
	SlowCap       time.Duration // [10 s]; keep it well below the HTTP server's write timeout
	// NewAddressesPerHour bounds the wrong passwords a locked email
	// checks from addresses that have not failed on it [20].
	NewAddressesPerHour int

	ResetTTL      time.Duration // reset links live this long [1 h]
	ResetsPerHour int           // reset requests per account and hour that get a link, however often each is retried [3]
	ResetsPerAddr int           // reset requests one client address makes before it is slowed [5]
	// ResetsPerAddrHour refuses one client address's reset requests above
	// this rate [20 an hour]; ResetsPerMinute everyone's together [60 a
	// minute]: each request starts a workflow.
	ResetsPerAddrHour int
	ResetsPerMinute   int
	HashConcurrent    int // argon2id computations at once (19 MiB each) [2 × GOMAXPROCS]
	InvitesPerDay     int // contacts one account may add from its page per day [20]
	// Hasher bounds argon2id work; share it with everything else in the
	// process that hashes passwords (Service.Hasher) [one for HashConcurrent].
	Hasher *passwords.Hasher
	// SuspendAfter is BILLING_SUSPEND_DAYS: a past-due licence's banner says
	// it is suspended this long after the due date [15 days].
	SuspendAfter time.Duration
	// Taxes are INVOICE_TAXES: a licence's next bill includes them [none].
	Taxes licensing.TaxRules

	Now    func() time.Time                                 // clock for throttling [time.Now]
	Sleep  func(ctx context.Context, d time.Duration) error // waits d or until ctx ends [a timer]
	Logger *slog.Logger                                     // [slog.Default()]
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.IdleTimeout, 12*time.Hour)
	def(&o.AbsoluteTimeout, 7*24*time.Hour)
	def(&o.FailureWindow, 15*time.Minute)
	def(&o.LockBase, time.Minute)
	def(&o.LockCap, 15*time.Minute)
	def(&o.SlowBase, time.Second)
	def(&o.SlowCap, 10*time.Second)
	def(&o.ResetTTL, time.Hour)
	def(&o.SuspendAfter, 15*24*time.Hour)
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.NewAddressesPerHour <= 0 {
		o.NewAddressesPerHour = 20
	}
	if o.ResetsPerAddrHour <= 0 {
		o.ResetsPerAddrHour = 20
	}
	if o.ResetsPerMinute <= 0 {
		o.ResetsPerMinute = 60
	}
	if o.ResetsPerHour <= 0 {
		o.ResetsPerHour = 3
	}
	if o.ResetsPerAddr <= 0 {
		o.ResetsPerAddr = 5
	}
	if o.InvitesPerDay <= 0 {
		o.InvitesPerDay = 20
	}
	if o.Hasher == nil {
		o.Hasher = passwords.NewHasher(o.HashConcurrent)
	}
	if o.Now == nil {
		o.Now = clock.Real
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Service is the account pages' service (web.AccountService).
type Service struct {
	db    *postgres.DB
	ops   Operations
	opt   Options
	dummy string // argon2id hash of a random password, checked for unknown emails
}

// New returns the service. It computes one argon2id hash to have a dummy to
// check unknown emails against, so that they take as long as known ones.
func New(db *postgres.DB, ops Operations, opt Options) (*Service, error) {
	opt = opt.withDefaults()
	dummy, err := passwords.Hash(newSecret())
	if err != nil {
		return nil, err
	}
	return &Service{db: db, ops: ops, opt: opt, dummy: dummy}, nil
}

// Hasher is the argon2id limiter the service hashes and checks passwords
// with; whatever else hashes passwords in the process (account setup
// through a link) must use it too, so the bound holds for the process.
func (s *Service) Hasher() *passwords.Hasher { return s.opt.Hasher }

// newSecret returns 32 random bytes, base64url: session ids and the dummy
// password. (Reset links come from postgres.IssueResetLink, made the same way.)
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b)
}

// plausibleSecret reports whether s can be a value newSecret made, so
// garbage never reaches the database.
func plausibleSecret(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

// checkPassword runs passwords.Check within the concurrency bound.
func (s *Service) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	ok, err := s.opt.Hasher.Check(ctx, hash, password)
	return ok, busy(err)
}

func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	h, err := s.opt.Hasher.Hash(ctx, password)
	return h, busy(err)
}

// busyRetry is the Retry-After of a refusal by a full hasher queue: a
// queue empties in well under a second.
const busyRetry = 5 * time.Second

// busy turns the hasher's refusal into the one the edges show (503 with
// Retry-After); other errors pass unchanged.
func busy(err error) error {
	if errors.Is(err, passwords.ErrBusy) {
		return &TooManyAttempts{RetryAfter: busyRetry, Busy: true}
	}
	return err
}

// Messages.
var (
	// ErrMismatch answers every failed sign-in: unknown email, wrong
	// password, pending or disabled account.
	ErrMismatch = licensing.Errorf(licensing.Invalid, "That email and password don't match an account.")

	errEmailFormat  = licensing.FieldErrorf(licensing.Invalid, "email", "Enter your email address, like name@example.com.")
	errNoPassword   = licensing.FieldErrorf(licensing.Invalid, "password", "Enter your password.")
	errWrongCurrent = licensing.FieldErrorf(licensing.Invalid, "current_password",
		"That isn't your current password. Type it again; if you've forgotten it, sign out and choose “Forgot your password?”.")
	errNoCurrent  = licensing.FieldErrorf(licensing.Invalid, "current_password", "Enter your current password.")
	errSameAsOld  = licensing.FieldErrorf(licensing.Invalid, "password", "That's your current password; choose a new one.")
	errNotResetLk = licensing.Errorf(licensing.NotFound, "This link isn't valid.")
)

// SignIn checks an email and password and starts a session.
//
// Every mismatch gets ErrMismatch, after the same work: an unknown email
// (or an account without a password) is checked against a dummy argon2id
// hash, so the answer takes as long as for a real account. Failures count
// against the email (whether or not it has an account: throttling must not
// tell them apart either), the client address, and the two together; they
// are counted before any password is checked, in the same atomic step that
// refuses a throttled attempt with *TooManyAttempts or delays it
// (signInAttempt), and a right password gives them back.
func (s *Service) SignIn(ctx context.Context, req SignInRequest) (SessionCookie, error) {
	email, err := licensing.ParseEmail(req.Email)
	if err != nil {
		return SessionCookie{}, errEmailFormat
	}
	if req.Password == "" {
		return SessionCookie{}, errNoPassword
	}
	counted, err := s.signInAttempt(ctx, email, req.ClientAddr)
	if err != nil {
		return SessionCookie{}, err
	}
	acc, err := s.db.AccountByEmail(ctx, email)
	known := err == nil && acc.PasswordHash != ""
	if err != nil && licensing.ErrorCode(err) != licensing.NotFound {
		return SessionCookie{}, err
	}
	hash := s.dummy
	if known {
		hash = acc.PasswordHash
	}
	ok, err := s.checkPassword(ctx, hash, req.Password)
	if err != nil {
		// No password was checked: the attempt is not a failure.
		_ = s.giveBack(context.WithoutCancel(ctx), counted, emailKey(email), addrKey("signin", req.ClientAddr), pairKey(email, req.ClientAddr))
		return SessionCookie{}, fmt.Errorf("check password of account %d: %w", acc.ID, err)
	}
	if !ok || !known || acc.Status != licensing.AccountActive {
		// Counted already, before the check; these are the keys' states after this attempt.
		emailState, pairState := counted[emailKey(email)][1], counted[pairKey(email, req.ClientAddr)][1]
		s.opt.Logger.InfoContext(ctx, "sign-in refused", "addr", req.ClientAddr)
		if known && acc.Status == licensing.AccountActive {
			s.tellOwnerOfLock(ctx, email, emailState, req)
		}
		return SessionCookie{}, s.mismatch(pairState)
	}
	if err := s.signedIn(ctx, counted, email, req.ClientAddr); err != nil {
		return SessionCookie{}, err
	}
	cookie := newSecret()
	var replaces []byte
	if plausibleSecret(req.Replaces) {
		replaces = postgres.TokenHash(req.Replaces)
	}
	expires, err := s.db.CreateSession(ctx, s.newSession(cookie, acc.ID, req.UserAgent), replaces)
	if err != nil {
		return SessionCookie{}, err
	}
	s.opt.Logger.InfoContext(ctx, "signed in", "account", acc.ID)
	return SessionCookie{Value: cookie, Expires: expires}, nil
}

func (s *Service) newSession(cookie string, accountID int64, userAgent string) postgres.NewSession {
	return postgres.NewSession{IDHash: postgres.TokenHash(cookie), AccountID: accountID, UserAgent: userAgent, TTL: s.opt.AbsoluteTimeout}
}

// Session returns the account of a live session, or NotFound.
func (s *Service) Session(ctx context.Context, cookie string) (AccountDetails, error) {
	if !plausibleSecret(cookie) {
		return AccountDetails{}, postgres.ErrNoSession
	}
	a, err := s.db.SessionAccount(ctx, postgres.TokenHash(cookie), s.opt.IdleTimeout)
	if err != nil {
		return AccountDetails{}, err
	}
	return details(a), nil
}

func details(a postgres.Account) AccountDetails {
	return AccountDetails{ID: a.ID, Email: a.Email, DisplayName: a.DisplayName, Phone: a.Phone, Company: a.Company, Address: a.Address}
}

// SignOut revokes the session.
func (s *Service) SignOut(ctx context.Context, cookie string) error {
	if !plausibleSecret(cookie) {
		return nil
	}
	return s.db.RevokeSession(ctx, postgres.TokenHash(cookie))
}

// SetNotice keeps a message for the session's next page.
func (s *Service) SetNotice(ctx context.Context, cookie string, n Notice) error {
	if !plausibleSecret(cookie) {
		return nil
	}
	return s.db.SetSessionNotice(ctx, postgres.TokenHash(cookie), map[string]string{"kind": n.Kind, "message": n.Message, "section": n.Section})
}

// TakeNotice returns the session's pending message and forgets it.
func (s *Service) TakeNotice(ctx context.Context, cookie string) (Notice, error) {
	if !plausibleSecret(cookie) {
		return Notice{}, nil
	}
	m, err := s.db.TakeSessionNotice(ctx, postgres.TokenHash(cookie))
	if err != nil || m == nil {
		return Notice{}, err
	}
	return Notice{Kind: m["kind"], Message: m["message"], Section: m["section"]}, nil
}

// UpdateProfile checks and stores the profile.
func (s *Service) UpdateProfile(ctx context.Context, accountID int64, p Profile) error {
	clean, err := CheckProfile(p)
	if err != nil {
		return err
	}
	return s.db.UpdateProfile(ctx, accountID, postgres.Profile(clean))
}

// ChangePassword checks the current password, then the new one against the
// policy, sets it, revokes every session of the account and returns a new
// one for this browser. Wrong current passwords are throttled per account,
// so a borrowed session cannot be used to guess it. The confirmation email
// follows; failing to send it is logged, since the change has happened.
func (s *Service) ChangePassword(ctx context.Context, accountID int64, c PasswordChange) (SessionCookie, error) {
	acc, err := s.db.AccountByID(ctx, accountID)
	if err != nil {
		return SessionCookie{}, err
	}
	if acc.Status != licensing.AccountActive || acc.PasswordHash == "" {
		return SessionCookie{}, postgres.ErrNoSession
	}
	if c.Current == "" {
		return SessionCookie{}, errNoCurrent
	}
	key := fmt.Sprintf("password-change:%d", acc.ID)
	counted, err := s.attempt(ctx, s.failureRule(key))
	if err != nil {
		return SessionCookie{}, err
	}
	ok, err := s.checkPassword(ctx, acc.PasswordHash, c.Current)
	if err != nil {
		_ = s.giveBack(context.WithoutCancel(ctx), counted, key)
		return SessionCookie{}, fmt.Errorf("check password of account %d: %w", acc.ID, err)
	}
	if !ok {
		return SessionCookie{}, errWrongCurrent // counted already
	}
	if err := s.db.ClearThrottle(ctx, key); err != nil {
		return SessionCookie{}, err
	}
	if err := passwords.CheckNew(c.New, c.Confirm, string(acc.Email)); err != nil {
		return SessionCookie{}, err
	}
	if c.New == c.Current {
		return SessionCookie{}, errSameAsOld
	}
	hash, err := s.hashPassword(ctx, c.New)
	if err != nil {
		return SessionCookie{}, err
	}
	cookie := newSecret()
	expires, err := s.db.ChangePassword(ctx, acc.ID, acc.PasswordHash, hash, s.newSession(cookie, acc.ID, c.UserAgent))
	if err != nil {
		return SessionCookie{}, err
	}
	s.opt.Logger.InfoContext(ctx, "password changed", "account", acc.ID)
	s.passwordChanged(ctx, acc.Email, false, Client{UserAgent: c.UserAgent, Addr: c.ClientAddr})
	return SessionCookie{Value: cookie, Expires: expires}, nil
}

// passwordChanged records the browser behind a password change or reset
// and starts its confirmation mail, which names that browser (review
// #18). Failing is logged: the change has happened.
func (s *Service) passwordChanged(ctx context.Context, email licensing.Email, reset bool, from Client) {
	kind := postgres.EventPasswordChanged
	if reset {
		kind = postgres.EventPasswordReset
	}
	id, err := s.db.RecordSecurityEvent(ctx, postgres.SecurityEvent{Email: email, Kind: kind, UserAgent: from.UserAgent, ClientIP: from.Addr})
	if err != nil {
		s.opt.Logger.ErrorContext(ctx, "security event not recorded", "err", err)
	}
	if err := s.ops.PasswordChanged(ctx, email, reset, id); err != nil {
		s.opt.Logger.ErrorContext(ctx, "password-changed email not sent", "err", err)
	}
}

// mismatch is the answer to a wrong password, the same whether or not the
// account exists (review #17): it names both fields and, when one more
// wrong password from this address would pause sign-in (pair, this
// address's failures on this email), says so and for how long, and
// points to choosing a new password instead.
func (s *Service) mismatch(pair postgres.Throttle) error {
	e := *ErrMismatch
	e.Field = "credentials"
	if left := s.opt.MaxFailures - pair.Failures; left == 1 {
		e.Message += fmt.Sprintf(" One more wrong password pauses sign-in from here for %s; if you've forgotten it, choose a new one with “Forgot your password?”.",
			(&TooManyAttempts{RetryAfter: s.opt.LockBase}).duration())
	}
	return &e
}

// tellOwnerOfLock mails the owner of an active account when a wrong
// password has just locked its email key (review #17): the browser and
// address come from the request and are kept in the database; the mail
// workflow gets the event's id. A failure to record or start it is
// logged: the sign-in answer must not depend on it.
func (s *Service) tellOwnerOfLock(ctx context.Context, email licensing.Email, st postgres.Throttle, req SignInRequest) {
	now := s.opt.Now()
	if lockedFor(st, now) == 0 || st.Failures != s.opt.MaxFailures {
		return // not locked, or locked before this attempt (mailed then)
	}
	id, err := s.db.RecordSecurityEvent(ctx, postgres.SecurityEvent{Email: email, Kind: postgres.EventSignInLocked,
		UserAgent: req.UserAgent, ClientIP: req.ClientAddr, Attempts: st.Failures})
	if err == nil && id != 0 {
		err = s.ops.SignInLocked(ctx, email, id)
	}
	if err != nil {
		s.opt.Logger.ErrorContext(ctx, "sign-in lock mail not started", "err", err)
	}
}
