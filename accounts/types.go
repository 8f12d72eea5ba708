package accounts

import (
	"fmt"
	"time"

	"licensedesk/licensing"
)

// What the account pages and this service exchange: the signed-in person,
// the forms, one-time notices, the licences on the page and the throttling
// refusal.

// AccountDetails is the signed-in person.
type AccountDetails struct {
	ID          int64
	Email       licensing.Email // the login; it never changes
	DisplayName string
	Phone       string
	Company     string
	Address     string
}

// Profile is what the profile form edits.
type Profile struct {
	DisplayName string
	Phone       string
	Company     string
	Address     string
}

// SessionCookie is a new session for the browser.
type SessionCookie struct {
	Value   string    // the cookie's value: a secret, never logged
	Expires time.Time // absolute expiry
}

// SignInRequest is a sign-in attempt.
type SignInRequest struct {
	Email      string
	Password   string
	ClientAddr string // the client's IP address, for throttling
	UserAgent  string
	Replaces   string // the browser's session cookie before signing in, if any: it is revoked
}

// PasswordChange is the change-password form.
type PasswordChange struct {
	Current    string
	New        string
	Confirm    string
	Replaces   string // the session cookie in use; every session is revoked and a new one issued
	UserAgent  string
	ClientAddr string // the client's address, for the confirmation mail
}

// Client is the browser a request came from, as security mails name it
// (review #18): its User-Agent and its address as the server determines
// it (the connection's peer, or the trusted proxy's X-Forwarded-For).
type Client struct {
	UserAgent string
	Addr      string
}

// Notice is a one-time message for the next page a session shows.
type Notice struct {
	Kind    string // NoticeOK or NoticeError
	Message string
	Section string // where it belongs: "profile", "password" or a SEN
}

// Notice kinds.
const (
	NoticeOK    = "ok"
	NoticeError = "error"
)

// ResetInfo is what a password-reset link's form shows.
type ResetInfo struct {
	Email     licensing.Email
	ExpiresAt time.Time
}

// MyLicense is a licence on its account page, with the signed-in person's
// relation to it.
type MyLicense struct {
	License        licensing.License
	Me             licensing.Relation
	BillingAddress licensing.BillingAddress // filled in for site admins only
	CanUpdateCard  bool                     // licensing.CanUpdateCard allows it now
	// NextBill is what the licence is charged next, and when (nil: a
	// server, cancelled or free licence).
	NextBill *licensing.NextBill
	// Invoices are its newest invoices (RecentInvoices of them);
	// MoreInvoices says there are older ones, on the licence's invoices page.
	Invoices     []licensing.Invoice
	MoreInvoices bool
	// Overdue is the unpaid invoice and its failed charge of a past-due or
	// suspended licence (with its suspension date); nil when nothing is.
	Overdue *licensing.Overdue
	// RecentlyAdded are the contacts added in the last RecentlyAddedFor,
	// whatever their account's state.
	RecentlyAdded map[licensing.Email]bool
	// CardExpiry is the licence's card when it expires within 30 days or
	// has expired (licensing.CardExpiry); nil otherwise.
	CardExpiry *licensing.ExpiringCard
}

// TooManyAttempts refuses an attempt while its key is throttled, or (Busy)
// while too many passwords wait to be checked (M-1: 503, not 429).
type TooManyAttempts struct {
	RetryAfter time.Duration
	Busy       bool
}

func (e *TooManyAttempts) Error() string {
	if e.Busy {
		return "We're checking a lot of passwords right now; try again in a few seconds."
	}
	n := e.minutes()
	if n == 1 {
		return "Too many attempts; try again in 1 minute."
	}
	return fmt.Sprintf("Too many attempts; try again in %d minutes.", n)
}

// duration says how long: "1 minute", "15 minutes".
func (e *TooManyAttempts) duration() string {
	if n := e.minutes(); n != 1 {
		return fmt.Sprintf("%d minutes", n)
	}
	return "1 minute"
}

func (e *TooManyAttempts) minutes() int {
	n := int((e.RetryAfter + time.Minute - 1) / time.Minute)
	return max(n, 1)
}

// RecentInvoices is how many of a licence's invoices the account page
// shows; the rest are on the licence's invoices page.
const RecentInvoices = 3

// InvoicesPerPage is a page of a licence's invoices page.
const InvoicesPerPage = 20

// LicenceInvoices is a page of one licence's invoices, newest first.
type LicenceInvoices struct {
	License    licensing.License
	Invoices   []licensing.Invoice
	NextCursor string // "" on the last page
}
