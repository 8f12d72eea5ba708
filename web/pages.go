package web

import (
	"context"
	"net/http"
	"time"

	"licensedesk/accounts"
	"licensedesk/internal/clock"
	"licensedesk/licensing"
	"licensedesk/links"
)

// What every customer page shares: the brand in its header and footer, and
// who is signed in (so an account's own flows keep its header and sign-out
// button, on link pages too).

// SessionReader says whose session a cookie is (AccountService has it).
// Errors: NotFound for a cookie that names no live session.
type SessionReader interface {
	Session(ctx context.Context, cookie string) (accounts.AccountDetails, error)
}

// Option adjusts the customer pages: Account and LinkPages.
type Option func(*pageSettings)

// AccountOption is the Option of Account.
type AccountOption = Option

// WithBrand sets the product name and the support contact the pages show
// (BRAND_NAME, SUPPORT_EMAIL, SUPPORT_URL); without it, the default brand.
func WithBrand(b licensing.Brand) Option {
	return func(p *pageSettings) { p.brand = b.OrDefault() }
}

// WithSessions lets link pages know who is signed in, with the session
// cookie Account sets (secureCookies as given to Account).
func WithSessions(s SessionReader, secureCookies bool) Option {
	return func(p *pageSettings) { p.sessions, p.secure = s, secureCookies }
}

// WithClock makes the pages render and decide by c (what is overdue, how
// long a cookie lives) instead of the wall clock.
func WithClock(c clock.Clock) Option {
	return func(p *pageSettings) { p.clock = c }
}

// now is the pages' clock.
func (p *pageSettings) now() time.Time { return p.clock.Now() }

// TrustForwardedFor makes throttling key on the client address a reverse
// proxy puts last in X-Forwarded-For instead of the connection's peer. Only
// use it behind a proxy that sets that header: otherwise clients choose
// their own address.
func TrustForwardedFor() Option {
	return func(p *pageSettings) { p.trustForwarded = true }
}

type pageSettings struct {
	clock          clock.Clock // what today is for banners, deadlines and cookies; nil: the wall clock
	brand          licensing.Brand
	sessions       SessionReader // nil: nobody is ever signed in
	secure         bool
	trustForwarded bool
	// countRedemptions, if set, is told the outcome of every link pressed.
	countRedemptions func(outcome string)
	vendor           licensing.Vendor // who issues the invoices
	// cards starts the provider's card page for a card link the account
	// page made (links.Service.Act); nil: the link's own page is shown.
	cards CardSessions
}

// CardSessions starts the payment provider's card page for a card link
// (LinkService has it: Act on a card_update link).
type CardSessions interface {
	Act(ctx context.Context, token string, action links.Action) (links.Result, error)
}

// WithCardSessions lets the account page's Update card (and the failure
// page's Try another card) go straight to the provider's card page, with
// no page of ours in between (review #9).
func WithCardSessions(c CardSessions) Option {
	return func(p *pageSettings) { p.cards = c }
}

func newPageSettings(opts []Option) pageSettings {
	p := pageSettings{brand: licensing.Brand{}.OrDefault()}
	for _, o := range opts {
		o(&p)
	}
	if p.vendor.LegalName == "" {
		p.vendor.LegalName = p.brand.Name
	}
	return p
}

// signedInAccount is who is signed in, or nil; it never changes cookies
// (a stale one is cleared by the account pages themselves).
func (p *pageSettings) signedInAccount(r *http.Request) *accounts.AccountDetails {
	if p.sessions == nil {
		return nil
	}
	c, err := r.Cookie(sessionCookieName(p.secure))
	if err != nil || c.Value == "" {
		return nil
	}
	acc, err := p.sessions.Session(r.Context(), c.Value)
	if err != nil {
		return nil
	}
	return &acc
}
