package web

import (
	"html/template"
	"net"
	"net/http"
	"strings"

	"licensedesk/accounts"
	"licensedesk/licensing"
	"licensedesk/passwords"
)

// Session cookies. The value is 32 random bytes (base64url) that the server
// looks up by hash; it carries no data of its own. HttpOnly keeps it from
// scripts, SameSite=Lax from other sites' forms and subresources (a link
// from an email still arrives signed in), Secure and the __Host- prefix
// (which browsers only accept from this host, with Path=/ and Secure) keep
// it to HTTPS and to this host alone.
const (
	sessionCookie       = "session"
	sessionCookieSecure = "__Host-session"
)

func (h *accountPages) cookieName() string { return sessionCookieName(h.secure) }

func sessionCookieName(secure bool) string {
	if secure {
		return sessionCookieSecure
	}
	return sessionCookie
}

// sessionValue returns the request's session cookie, or "".
func (h *accountPages) sessionValue(r *http.Request) string {
	c, err := r.Cookie(h.cookieName())
	if err != nil {
		return ""
	}
	return c.Value
}

func (h *accountPages) setSession(w http.ResponseWriter, s accounts.SessionCookie) {
	maxAge := int(h.clock.Until(s.Expires).Seconds())
	if maxAge <= 0 {
		maxAge = -1
	}
	http.SetCookie(w, &http.Cookie{
		Name:     h.cookieName(),
		Value:    s.Value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func (h *accountPages) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     h.cookieName(),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   h.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// clearCSRF drops the CSRF cookie so the next page issues a new token: the
// token a visitor had before signing in does not carry over into the
// session.
func clearCSRF(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     csrfCookieName(r),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   isHTTPS(r),
		SameSite: http.SameSiteStrictMode,
	})
}

// signedIn returns the signed-in account and its session cookie. A cookie
// that no longer names a live session (signed out, expired, password
// changed elsewhere) is deleted from the browser.
func (h *accountPages) signedIn(w http.ResponseWriter, r *http.Request) (accounts.AccountDetails, string, bool) {
	cookie := h.sessionValue(r)
	if cookie == "" {
		return accounts.AccountDetails{}, "", false
	}
	acc, err := h.svc.Session(r.Context(), cookie)
	if err != nil {
		if licensing.ErrorCode(err) != licensing.NotFound {
			h.logger.ErrorContext(r.Context(), "session lookup failed", "err", err)
		}
		h.clearSession(w)
		return accounts.AccountDetails{}, "", false
	}
	return acc, cookie, true
}

// clientAddr is the address throttling keys on: the connection's peer, or,
// when the proxy in front is trusted, the last address in X-Forwarded-For
// (the one that proxy appended; earlier ones are the client's own claims).
//
// A header that arrives untrusted most likely means a proxy in front that
// nobody told us about: every client then shares its address, and is
// slowed down with the others. That is said once, in the log.
func (h *accountPages) clientAddr(r *http.Request) string {
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		if h.trustForwarded {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		} else if h.warnedForwarded.CompareAndSwap(false, true) {
			h.logger.WarnContext(r.Context(), "requests carry X-Forwarded-For but TRUST_PROXY is not set: throttling keys on the connection's address, "+
				"which behind a reverse proxy every client shares; set TRUST_PROXY=true if a proxy you run sets the header")
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.String()
	}
	return host
}

var minPasswordLength = passwords.MinLength

// suggestPassword is a random password to offer on password forms (pages
// that are never cached); empty if none could be made.
func suggestPassword() string {
	s, err := passwords.Suggest()
	if err != nil {
		return ""
	}
	return s
}

type limits struct {
	DisplayName, Phone, Company, Address, BillingAddress int
}

var profileLimits = limits{MaxDisplayName, MaxPhone, MaxCompany, MaxAddress, MaxBillingAddress}

// acctPage is what every self-service template receives.
type acctPage struct {
	Title   string
	Brand   licensing.Brand
	CSRF    string
	Account *accounts.AccountDetails // signed in: the header shows who, and a sign-out button
	Wide    bool                     // the account page uses the full width

	// Forms.
	Error      string // why the form came back
	ErrorField string // the field it is about, shown beside it ("" : at the top)
	Email      string // sign-in, forgot: what was typed
	MinLength  int
	Limits     limits

	// Account page.
	Notice   accounts.Notice
	Profile  accounts.Profile
	Licences []licenceView
	Unpaid   []licenceView // past due or suspended, on this page or another: a banner each
	Expiring []licenceView // a card that expires within 30 days or has expired: a banner each
	Pager    pager
	Confirm  *confirmation

	// Result pages.
	Message   string
	Detail    string
	Back      string // a link back (error pages)
	BackText  string
	Back2     string // a second way on (error pages)
	Back2Text string
	SEN       string
	CardURL   string

	// Reset link form.
	Reset accounts.ResetInfo

	// Invoices.
	Invoice     *invoiceView
	InvoiceList *invoiceList
	Vendor      licensing.Vendor
	Next        string // sign-in: where to go after
	Locked      bool   // sign-in: too many wrong passwords (the message points to a new password)
	// Profile advice: whether the person is a contact, or a site admin
	// only, of the licences on the page.
	ContactOfAny, AdminOnly bool
	Countries               []licensing.CountryOption
}

var accountTemplates = template.Must(template.New("account").Funcs(pageFuncs).Funcs(template.FuncMap{
	"deadline":        formatDeadline,
	"suggestPassword": suggestPassword,
	"roleName":        func(r licensing.Role) string { return string(r) },
	"title":           titleWord,
	"cardExp":         func(m, y int) string { return twoDigits(m) + "/" + twoDigits(y%100) },
	"money":           money,
	"shortDate":       licensing.ShortDate,
	"taxIDName":       licensing.TaxIDName,
	"countryName":     func(c licensing.Country) string { return c.Name() },
	"join":            strings.Join,
	"emails": func(list []licensing.Email) []string {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = string(e)
		}
		return out
	},
	"licenceArgs": func(page acctPage, l licenceView) licenceArgs {
		return licenceArgs{Page: page, L: l}
	},
}).ParseFS(templateFiles, "templates/layout.html", "templates/account_*.html", "templates/signin.html", "templates/home.html", "templates/reset_*.html"))

// licenceArgs hands one licence and the page it is on to a template.
type licenceArgs struct {
	Page acctPage
	L    licenceView
}

func titleWord(s string) string {
	if s == "" {
		return s
	}
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + string(rune('0'+n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}

func (h *accountPages) render(w http.ResponseWriter, r *http.Request, status int, name string, p acctPage) {
	p.Brand = h.brand
	renderPage(w, r, h.logger, accountTemplates, status, name, p)
}

// errorPage answers with a page that says what went wrong and, when back is
// set, links to where to go next.
func (h *accountPages) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg, detail, back string) {
	p := acctPage{Title: title, Message: msg, Detail: detail, Back: back}
	switch back {
	case "/signin":
		p.BackText = "Go to sign in"
	case "/account":
		p.BackText = "Back to your account"
	case "/password/forgot":
		p.BackText = "Ask for a new link"
	case "":
	default:
		p.BackText = "Reload the page"
	}
	h.render(w, r, status, "account_error.html", p)
}
