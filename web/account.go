package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"licensedesk/accounts"
	"licensedesk/licensing"
	"licensedesk/links"
)

// Self-service for customers (issue 5): sign-in and sign-out, the account
// page (profile, change password, my licences and their contacts, card
// update) and password reset. Account serves them; AccountService does the
// work.

// Profile field limits, in characters, for the forms' maxlength: the
// domain's (licensing.CheckText enforces them).
const (
	MaxDisplayName    = licensing.MaxDisplayName
	MaxPhone          = licensing.MaxPhone
	MaxCompany        = licensing.MaxCompany
	MaxAddress        = licensing.MaxAddress
	MaxBillingAddress = licensing.MaxAddress
)

// AccountService does the work behind the account pages. Errors are
// *licensing.Error (its message is shown: Invalid and other codes say what
// to fix), *accounts.TooManyAttempts, or anything else (logged, and a generic page).
type AccountService interface {
	// SignIn checks an email and password and starts a session. Every
	// mismatch (unknown email, wrong password, account not active) is the
	// same Invalid error.
	SignIn(ctx context.Context, req accounts.SignInRequest) (accounts.SessionCookie, error)
	// Session returns the account a session cookie belongs to, or NotFound.
	Session(ctx context.Context, cookie string) (accounts.AccountDetails, error)
	SignOut(ctx context.Context, cookie string) error
	// SetNotice keeps a message for the session's next page; TakeNotice
	// returns it (zero when none) and forgets it.
	SetNotice(ctx context.Context, cookie string, n accounts.Notice) error
	TakeNotice(ctx context.Context, cookie string) (accounts.Notice, error)

	UpdateProfile(ctx context.Context, accountID int64, p accounts.Profile) error
	// ChangePassword checks the current password, sets the new one,
	// revokes every session of the account and returns a new one for this
	// browser; it sends a confirmation email.
	ChangePassword(ctx context.Context, accountID int64, c accounts.PasswordChange) (accounts.SessionCookie, error)

	// RequestReset starts a password reset for email. It answers the same,
	// and takes the same time, whether or not an account has that email;
	// only a malformed email (Invalid) or throttling is reported.
	RequestReset(ctx context.Context, email, clientAddr string) error
	// ResetInfo describes a reset link without spending it: NotFound for
	// unknown tokens, Gone for used, revoked or expired ones.
	ResetInfo(ctx context.Context, token string) (accounts.ResetInfo, error)
	// CompleteReset spends the link and sets the new password; it does not
	// sign anyone in.
	// CompleteResetFrom is CompleteReset from a browser, which the
	// confirmation mail names.
	CompleteResetFrom(ctx context.Context, token, password, confirm string, from accounts.Client) error

	// MyLicenses returns a page of the account's licences; MyLicence one
	// of them (licensing.ErrNotYourLicence for any other SEN).
	MyLicenses(ctx context.Context, accountID int64, page accounts.LicencePage) (accounts.MyLicences, error)
	MyLicence(ctx context.Context, actor licensing.Email, sen string) (accounts.MyLicense, error)
	// Actions on a licence, on behalf of the signed-in person (actor). They
	// return a sentence saying what happened.
	AddContact(ctx context.Context, actor licensing.Email, sen, role, email string, offerPrimary bool) (string, error)
	RemoveContact(ctx context.Context, actor licensing.Email, sen, role, email string) (string, error)
	PromoteSelf(ctx context.Context, actor licensing.Email, sen, role string) (string, error)
	// UpdateCardURL returns where to send the person to enter a card.
	UpdateCardURL(ctx context.Context, actor licensing.Email, sen string) (string, error)
	UpdateBillingAddress(ctx context.Context, actor licensing.Email, sen string, addr licensing.BillingAddressInput) (string, error)

	// LicenceInvoices returns a page of one of actor's licences' invoices;
	// Invoice one invoice of theirs (licensing.ErrNoSuchInvoice for any
	// other number, existing or not).
	LicenceInvoices(ctx context.Context, actor licensing.Email, sen, cursor string) (accounts.LicenceInvoices, error)
	Invoice(ctx context.Context, actor licensing.Email, number string) (licensing.Invoice, error)
	// ConfirmPaymentURL returns where to send the person to confirm, with
	// their bank, a payment the bank asked to confirm (bank authentication).
	ConfirmPaymentURL(ctx context.Context, actor licensing.Email, sen string) (string, error)
}

// maxAccountForm bounds every self-service form body.
const maxAccountForm = 64 << 10

// Account serves the self-service pages. Mount it at "/signin", "/signout",
// "/account", "/password/forgot" and "/password/reset/":
//
//	GET/POST /signin, POST /signout
//	GET/POST /account                (every account form posts here, with an "action" field)
//	GET/POST /password/forgot
//	GET/POST /password/reset/{token} (the emailed link)
//
// secureCookies marks the session cookie Secure and names it
// "__Host-session" (set it whenever the site is served over HTTPS).
func Account(svc AccountService, logger *slog.Logger, secureCookies bool, opts ...AccountOption) http.Handler {
	h := &accountPages{svc: svc, logger: logger, pageSettings: newPageSettings(opts)}
	h.sessions, h.secure = svc, secureCookies
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.home)
	mux.HandleFunc("GET /signin", h.signinForm)
	mux.HandleFunc("POST /signin", h.signin)
	mux.HandleFunc("POST /signout", h.signout)
	mux.HandleFunc("GET /account", h.accountPage)
	mux.HandleFunc("POST /account", h.accountAction)
	mux.HandleFunc("GET /account/invoices/{number}", h.invoicePage)
	mux.HandleFunc("GET /account/invoices/{number}/pdf", h.invoicePDF)
	mux.HandleFunc("GET /account/licences/{sen}/invoices", h.licenceInvoices)
	mux.HandleFunc("GET /password/forgot", h.forgotForm)
	mux.HandleFunc("POST /password/forgot", h.forgot)
	mux.HandleFunc("GET /password/reset/{token}", h.resetForm)
	mux.HandleFunc("POST /password/reset/{token}", h.reset)
	// Other methods on these paths: 405 with Allow, not the 404 below.
	for path, allow := range map[string]string{
		"/signin": "GET, HEAD, POST", "/signout": "POST", "/account": "GET, HEAD, POST",
		"/password/forgot": "GET, HEAD, POST", "/password/reset/{token}": "GET, HEAD, POST",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			h.errorPage(w, r, http.StatusMethodNotAllowed, "That doesn't work here",
				"This page can't be used that way. Open it in a web browser.", "", "/account")
		})
	}
	mux.HandleFunc("/", h.notFound)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		// Pages with personal data, forms with secrets: never cached.
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Robots-Tag", "noindex")
		if strings.HasPrefix(r.URL.Path, "/password/reset/") {
			hd.Set("Referrer-Policy", "no-referrer")
		}
		mux.ServeHTTP(w, r)
	})
}

type accountPages struct {
	pageSettings
	svc             AccountService
	logger          *slog.Logger
	warnedForwarded atomic.Bool // X-Forwarded-For arrived untrusted; said once
}

// accountPage shows /account, or sends a visitor without a session to sign in.
func (h *accountPages) accountPage(w http.ResponseWriter, r *http.Request) {
	acc, cookie, ok := h.signedIn(w, r)
	if !ok {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	notice, err := h.svc.TakeNotice(r.Context(), cookie)
	if err != nil {
		h.logger.WarnContext(r.Context(), "reading the session notice failed", "err", err)
	}
	h.showAccount(w, r, http.StatusOK, acc, accountForms{Notice: notice, Profile: profileOf(acc)})
}

// accountForms is what the account page shows besides stored data: a
// message and, after an error, what the person had typed.
type accountForms struct {
	Notice  accounts.Notice
	Profile accounts.Profile
	// For the licence the notice is about, after an error.
	AddRole, AddEmail string
	BillingAddress    *licensing.BillingAddressInput
	ErrorField        string // the field at fault, marked aria-invalid
}

func profileOf(a accounts.AccountDetails) accounts.Profile {
	return accounts.Profile{DisplayName: a.DisplayName, Phone: a.Phone, Company: a.Company, Address: a.Address}
}

func (h *accountPages) showAccount(w http.ResponseWriter, r *http.Request, status int, acc accounts.AccountDetails, f accountForms) {
	page := licencePageOf(r)
	if sen, err := licensing.ParseSEN(f.Notice.Section); err == nil && page == (accounts.LicencePage{}) {
		page.From = sen // an action's answer: the page shows its licence
	}
	mine, err := h.svc.MyLicenses(r.Context(), acc.ID, page)
	if err != nil {
		h.failPage(w, r, err)
		return
	}
	p := acctPage{
		Title:     "Your account",
		Account:   &acc,
		Wide:      true,
		Notice:    f.Notice,
		Profile:   f.Profile,
		MinLength: minPasswordLength,
		Limits:    profileLimits,
		Countries: licensing.Countries(),
	}
	shown := f.Notice.Section == "profile" || f.Notice.Section == "password"
	if f.Notice.Kind == accounts.NoticeError {
		switch f.Notice.Section {
		case "profile":
			p.ErrorField = formField(f.ErrorField, profileFields...)
		case "password":
			p.ErrorField = formField(f.ErrorField, passwordChangeFields...)
		}
	}
	p.Pager = pagerOf(mine, page)
	now := h.now()
	for _, m := range mine.Licences {
		v := licenceViewOf(m, acc.Email, now)
		v.Invoices = invoiceViews(m.Invoices, h.clock)
		if f.Notice.Section == string(m.License.SEN) {
			shown = true
			v.Notice = f.Notice
			if f.Notice.Kind == accounts.NoticeError {
				v.AddRole, v.AddEmail = f.AddRole, f.AddEmail
				if f.BillingAddress != nil {
					v.AddressForm, v.AddressError = *f.BillingAddress, f.ErrorField
				} else {
					v.AddError = formField(f.ErrorField, addContactFields...)
				}
			}
		}
		p.ContactOfAny = p.ContactOfAny || m.Me.IsContact()
		p.Licences = append(p.Licences, v)
	}
	p.AdminOnly = !p.ContactOfAny && len(p.Licences) > 0
	for _, m := range mine.Unpaid {
		v := licenceViewOf(m, acc.Email, now)
		v.SeeLink = "#" + v.Anchor
		if !slices.ContainsFunc(mine.Licences, func(l accounts.MyLicense) bool { return l.License.SEN == m.License.SEN }) {
			v.SeeLink = "/account?from=" + url.QueryEscape(string(m.License.SEN)) + "#" + v.Anchor
		}
		p.Unpaid = append(p.Unpaid, v)
	}
	for _, m := range mine.Expiring {
		v := licenceViewOf(m, acc.Email, now)
		v.SeeLink = "#" + v.Anchor
		if !slices.ContainsFunc(mine.Licences, func(l accounts.MyLicense) bool { return l.License.SEN == m.License.SEN }) {
			v.SeeLink = "/account?from=" + url.QueryEscape(string(m.License.SEN)) + "#" + v.Anchor
		}
		p.Expiring = append(p.Expiring, v)
	}
	if !shown {
		// About a licence that is not on the page (not theirs, or no
		// longer): shown above the list.
		p.Notice.Section = "licences"
	}
	p.CSRF = csrfToken(w, r)
	h.render(w, r, status, "account_page.html", p)
}

// licenceView is one licence card of the account page.
type licenceView struct {
	accounts.MyLicense
	Anchor       string
	MyRoles      string       // "primary billing contact, site admin"
	People       []personView // what the person may see: each contact once, with their roles
	BillingOnly  bool         // a site admin who is not a contact sees the billing contacts only
	CanAdd       bool         // contacts may add contacts
	PromoteRoles []licensing.Role
	Notice       accounts.Notice
	// The billing address form: what it shows (the stored address, or
	// what was typed when it came back with an error) and the field at
	// fault.
	AddressForm  licensing.BillingAddressInput
	AddressError string
	Invoices     []invoiceView
	InvoicesPath string
	// CardNote says who saved the card, and, when that person is no
	// longer on the licence, that it should be replaced.
	CardAddedBy  string
	CardOrphaned bool
	AddRole      string
	AddEmail     string
	AddError     string // the add-contact field at fault, marked aria-invalid
	// A past-due or suspended licence's banner: its title and sentence.
	OverdueTitle, OverdueText string
	// ConfirmPayment: the payment waits for the cardholder to confirm it
	// with their bank, and the viewer may: the banner's main button.
	ConfirmPayment bool
	SeeLink        string // the banner's "See the licence": its card on this page, or the page it is on
}

// personView is one contact of a licence, with every role they hold.
type personView struct {
	Email     licensing.Email
	Me        bool
	Added     bool // added lately, account or not (never whether it is set up: L-3)
	Roles     []roleView
	Removable int // how many of the roles the viewer may remove
}

type roleView struct {
	Role      licensing.Role
	Primary   bool
	CanRemove bool
}

func licenceViewOf(m accounts.MyLicense, me licensing.Email, now time.Time) licenceView {
	l := m.License
	v := licenceView{MyLicense: m, Anchor: licenceAnchor(l.SEN), AddressForm: addressInputOf(m.BillingAddress), InvoicesPath: LicenceInvoicesPath(l.SEN)}
	if pm := l.PaymentMethod; pm != nil && pm.AddedBy != "" {
		v.CardAddedBy = string(pm.AddedBy)
		if pm.AddedBy == me {
			v.CardAddedBy = "you"
		}
		v.CardOrphaned = !licensing.RelationOf(l, pm.AddedBy).IsContact() && !slices.Contains(l.SiteAdmins, pm.AddedBy)
	}
	v.CanAdd = m.Me.IsContact() && l.Status != licensing.Cancelled
	v.BillingOnly = !m.Me.IsContact()
	for _, c := range l.Contacts {
		if v.BillingOnly && c.Role != licensing.Billing {
			continue
		}
		i := slices.IndexFunc(v.People, func(p personView) bool { return p.Email == c.Email })
		if i < 0 {
			v.People = append(v.People, personView{Email: c.Email, Me: c.Email == me, Added: m.RecentlyAdded[c.Email] && c.Email != me})
			i = len(v.People) - 1
		}
		r := roleView{Role: c.Role, Primary: c.Primary}
		r.CanRemove = m.Me.IsContact() && licensing.CanRemoveContact(l, me, c.Role, c.Email) == nil
		if r.CanRemove {
			v.People[i].Removable++
		}
		v.People[i].Roles = append(v.People[i].Roles, r)
		if c.Email == me && !c.Primary {
			v.PromoteRoles = append(v.PromoteRoles, c.Role)
		}
	}
	var roles []string
	for _, c := range l.Contacts {
		if c.Email == me {
			kind := "secondary"
			if c.Primary {
				kind = "primary"
			}
			roles = append(roles, kind+" "+string(c.Role)+" contact")
		}
	}
	if m.Me.SiteAdmin {
		roles = append(roles, "site admin")
	}
	v.MyRoles = titleWord(joinWords(roles))
	v.OverdueTitle, v.OverdueText = overdueBanner(m.Overdue, now)
	v.ConfirmPayment = m.Overdue != nil && m.Overdue.NeedsAuthentication() && m.CanUpdateCard
	return v
}

func licenceAnchor(sen licensing.SEN) string { return "lic-" + string(sen) }

// accountAction handles every form of the account page.
func (h *accountPages) accountAction(w http.ResponseWriter, r *http.Request) {
	acc, cookie, ok := h.signedIn(w, r)
	if !ok {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	if !h.readForm(w, r) {
		return
	}
	f := r.PostForm
	ctx := r.Context()
	switch f.Get("action") {
	case "profile":
		p := accounts.Profile{
			DisplayName: strings.TrimSpace(f.Get("display_name")),
			Phone:       strings.TrimSpace(f.Get("phone")),
			Company:     strings.TrimSpace(f.Get("company")),
			Address:     strings.TrimSpace(f.Get("address")),
		}
		if err := h.svc.UpdateProfile(ctx, acc.ID, p); err != nil {
			h.actionFailed(w, r, acc, "profile", err, accountForms{Profile: p, ErrorField: licensing.ErrorField(err)})
			return
		}
		h.done(w, r, cookie, "profile", "Your changes are saved.")

	case "password":
		c := accounts.PasswordChange{
			Current: f.Get("current_password"), New: f.Get("new_password"), Confirm: f.Get("new_password_confirm"),
			Replaces: cookie, UserAgent: r.UserAgent(), ClientAddr: h.clientAddr(r),
		}
		next, err := h.svc.ChangePassword(ctx, acc.ID, c)
		if err != nil {
			if licensing.ErrorCode(err) == licensing.Conflict {
				// Changed elsewhere: every session, this one too, has ended.
				h.clearSession(w)
			}
			h.actionFailed(w, r, acc, "password", err, accountForms{Profile: profileOf(acc), ErrorField: licensing.ErrorField(err)})
			return
		}
		h.setSession(w, next)
		h.done(w, r, next.Value, "password",
			"Your password has been changed. We've emailed you a confirmation, and signed you out everywhere else.")

	case "add_contact":
		sen, role, email := f.Get("sen"), f.Get("role"), strings.TrimSpace(f.Get("email"))
		msg, err := h.svc.AddContact(ctx, acc.Email, sen, role, email, f.Get("offer_primary") == "yes")
		if err != nil {
			h.actionFailed(w, r, acc, sen, err, accountForms{Profile: profileOf(acc), AddRole: role, AddEmail: email, ErrorField: licensing.ErrorField(err)})
			return
		}
		h.done(w, r, cookie, sen, msg)

	case "remove_contact":
		h.removeContact(w, r, acc, cookie)

	case "promote":
		h.promoteSelf(w, r, acc, cookie)

	case "card":
		sen := f.Get("sen")
		target, err := h.svc.UpdateCardURL(ctx, acc.Email, sen)
		direct := false
		if err == nil {
			target, direct, err = h.straightToProvider(w, r, target)
		}
		if err != nil {
			h.actionFailed(w, r, acc, sen, err, accountForms{Profile: profileOf(acc)})
			return
		}
		if direct {
			// The provider's origin is among the CSP's form-action
			// targets (Deps.FormTargets), so the browser follows.
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		h.goToCardPage(w, r, acc, sen, target)

	case "confirm_payment":
		sen := f.Get("sen")
		target, err := h.svc.ConfirmPaymentURL(ctx, acc.Email, sen)
		if err != nil {
			h.actionFailed(w, r, acc, sen, err, accountForms{Profile: profileOf(acc)})
			return
		}
		h.goToCardPage(w, r, acc, sen, target)

	case "billing_address":
		sen := f.Get("sen")
		addr := licensing.BillingAddressInput{Name: f.Get("bill_name"), Lines: f.Get("bill_lines"), City: f.Get("bill_city"),
			Postcode: f.Get("bill_postcode"), Region: f.Get("bill_region"), Country: f.Get("bill_country"), TaxID: f.Get("bill_tax_id")}
		msg, err := h.svc.UpdateBillingAddress(ctx, acc.Email, sen, addr)
		if err != nil {
			h.actionFailed(w, r, acc, sen, err, accountForms{Profile: profileOf(acc), BillingAddress: &addr, ErrorField: licensing.ErrorField(err)})
			return
		}
		h.done(w, r, cookie, sen, msg)

	default:
		h.errorPage(w, r, http.StatusBadRequest, "That form could not be read",
			"Reload the page and try again.", "", "/account")
	}
}

// removeContact asks for confirmation first (the removed person loses the
// licence), then removes. Rules that forbid it are reported at once.
func (h *accountPages) removeContact(w http.ResponseWriter, r *http.Request, acc accounts.AccountDetails, cookie string) {
	f := r.PostForm
	sen, role, email := f.Get("sen"), f.Get("role"), f.Get("email")
	if f.Get("confirm") == "yes" {
		h.act(w, r, acc, cookie, sen, func() (string, error) { return h.svc.RemoveContact(r.Context(), acc.Email, sen, role, email) })
		return
	}
	l, ok := h.myLicence(w, r, acc, sen)
	if !ok {
		return
	}
	target, _ := licensing.ParseEmail(email)
	rl, _ := licensing.ParseRole(role)
	if err := licensing.CanRemoveContact(l, acc.Email, rl, target); err != nil {
		h.actionFailed(w, r, acc, sen, err, accountForms{Profile: profileOf(acc)})
		return
	}
	c := confirmation{Action: "remove_contact", SEN: l.SEN, Product: l.Product, Role: rl, Email: target, Self: target == acc.Email}
	var primaries []string
	for _, ct := range l.Contacts {
		if ct.Email == target && ct.Role != rl {
			c.OtherRoles = append(c.OtherRoles, ct.Role)
		}
		if ct.Primary && ct.Email != acc.Email && ct.Email != target && !slices.Contains(primaries, string(ct.Email)) {
			primaries = append(primaries, string(ct.Email))
		}
	}
	c.Primaries = joinWords(primaries)
	title := "Remove this contact?"
	if c.Self {
		title = "Leave " + string(l.SEN) + " as " + string(rl) + " contact?"
	}
	h.confirm(w, r, acc, title, c)
}

// promoteSelf asks for confirmation first, naming who stops being primary
// (they are told, but not asked), then promotes.
func (h *accountPages) promoteSelf(w http.ResponseWriter, r *http.Request, acc accounts.AccountDetails, cookie string) {
	f := r.PostForm
	sen, role := f.Get("sen"), f.Get("role")
	if f.Get("confirm") == "yes" {
		h.act(w, r, acc, cookie, sen, func() (string, error) { return h.svc.PromoteSelf(r.Context(), acc.Email, sen, role) })
		return
	}
	l, ok := h.myLicence(w, r, acc, sen)
	if !ok {
		return
	}
	rl, err := licensing.ParseRole(role)
	var former licensing.Email
	if err == nil {
		former, err = licensing.CanPromoteSelf(l, acc.Email, rl)
	}
	if err != nil {
		h.actionFailed(w, r, acc, sen, err, accountForms{Profile: profileOf(acc)})
		return
	}
	c := confirmation{Action: "promote", SEN: l.SEN, Product: l.Product, Role: rl, Email: former, Self: true}
	h.confirm(w, r, acc, "Become the primary "+string(rl)+" contact?", c)
}

// act does a confirmed licence action and goes back to the account page,
// which says what happened, or why it could not be done.
func (h *accountPages) act(w http.ResponseWriter, r *http.Request, acc accounts.AccountDetails, cookie, sen string, do func() (string, error)) {
	msg, err := do()
	if err != nil {
		h.actionFailed(w, r, acc, sen, err, accountForms{Profile: profileOf(acc)})
		return
	}
	h.done(w, r, cookie, sen, msg)
}

// myLicence finds one of the signed-in person's licences for a
// confirmation page; any other SEN gets the same answer.
func (h *accountPages) myLicence(w http.ResponseWriter, r *http.Request, acc accounts.AccountDetails, sen string) (licensing.License, bool) {
	m, err := h.svc.MyLicence(r.Context(), acc.Email, sen)
	if err != nil {
		h.actionFailed(w, r, acc, sen, err, accountForms{Profile: profileOf(acc)})
		return licensing.License{}, false
	}
	return m.License, true
}

func (h *accountPages) confirm(w http.ResponseWriter, r *http.Request, acc accounts.AccountDetails, title string, c confirmation) {
	c.Anchor = licenceAnchor(c.SEN)
	p := acctPage{Title: title, Account: &acc, Confirm: &c}
	p.CSRF = csrfToken(w, r)
	h.render(w, r, http.StatusOK, "account_confirm.html", p)
}

// confirmation is what a confirmation page asks: removing a contact, or
// promoting oneself (Email is then the primary who becomes secondary).
type confirmation struct {
	Action  string // the form's action: remove_contact or promote
	SEN     licensing.SEN
	Product string
	Role    licensing.Role
	Email   licensing.Email
	Self    bool
	Anchor  string
	// Removal: the roles the person keeps, and the primary contacts
	// (but the viewer and them) who are told.
	OtherRoles []licensing.Role
	Primaries  string
}

// straightToProvider turns the card link the account page made for the
// person signed in into the provider's card page, as pressing the link's
// button would (the same checks, the same return page), so Update card
// leads straight there (review #9). Without CardSessions, or for a target
// that is not one of our links, the target is kept.
func (h *accountPages) straightToProvider(w http.ResponseWriter, r *http.Request, target string) (string, bool, error) {
	token, ok := strings.CutPrefix(target, "/l/")
	if h.cards == nil || !ok || !plausibleToken(token) {
		return target, false, nil
	}
	res, err := h.cards.Act(r.Context(), token, links.Action{})
	if err != nil || res.RedirectURL == "" {
		return target, false, err
	}
	setCardReturn(w, r, res.ReturnRef, res.ReturnPath)
	return res.RedirectURL, true, nil
}

// goToCardPage sends the person on to the card page. A page of our own is a
// redirect; another site (the payment provider) gets a page with a link,
// because our Content-Security-Policy (form-action 'self') stops browsers
// from following a form's redirect to another origin.
func (h *accountPages) goToCardPage(w http.ResponseWriter, r *http.Request, acc accounts.AccountDetails, sen, target string) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "" && u.Scheme != "https" && u.Scheme != "http") || target == "" {
		h.failPage(w, r, fmt.Errorf("update-card URL %q is not usable", target))
		return
	}
	if u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(target, "//") {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	p := acctPage{Title: "Update the card", Account: &acc, CardURL: target, SEN: sen}
	p.CSRF = csrfToken(w, r)
	h.render(w, r, http.StatusOK, "account_card.html", p)
}

// done records a success message for the next page and goes back to the
// account page, at the section concerned (post/redirect/get).
func (h *accountPages) done(w http.ResponseWriter, r *http.Request, cookie, section, msg string) {
	if err := h.svc.SetNotice(r.Context(), cookie, accounts.Notice{Kind: accounts.NoticeOK, Message: sentence(msg), Section: section}); err != nil {
		h.logger.WarnContext(r.Context(), "saving the session notice failed", "err", err)
	}
	target := "/account#" + sectionAnchor(section)
	if sen, err := licensing.ParseSEN(section); err == nil {
		// The page of the account's licences that starts with this one.
		target = "/account?from=" + url.QueryEscape(string(sen)) + "#" + licenceAnchor(sen)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// licencePageOf reads which page of licences a request asks for:
// ?after=SEN (the "next" link) or ?from=SEN (back from an action). A value
// that is not a SEN gives the first page.
func licencePageOf(r *http.Request) accounts.LicencePage {
	var p accounts.LicencePage
	if sen, err := licensing.ParseSEN(r.URL.Query().Get("after")); err == nil {
		p.After = sen
	} else if sen, err := licensing.ParseSEN(r.URL.Query().Get("from")); err == nil {
		p.From = sen
	}
	return p
}

// pager is the account page's navigation through a person's licences.
type pager struct {
	Total, Shown int
	Next         string // ?after= of the next page; "" on the last
	First        bool   // this is the first page
}

func pagerOf(m accounts.MyLicences, page accounts.LicencePage) pager {
	return pager{Total: m.Total, Shown: len(m.Licences), Next: string(m.Next), First: page == (accounts.LicencePage{})}
}

func sectionAnchor(section string) string {
	switch section {
	case "profile", "password":
		return section
	}
	if sen, err := licensing.ParseSEN(section); err == nil {
		return licenceAnchor(sen)
	}
	return "licences"
}

// actionFailed shows the account page again with what went wrong next to
// the form concerned.
func (h *accountPages) actionFailed(w http.ResponseWriter, r *http.Request, acc accounts.AccountDetails, section string, err error, f accountForms) {
	status, msg := h.errorStatus(r, err)
	if sen, perr := licensing.ParseSEN(section); perr == nil {
		section = string(sen)
	}
	f.Notice = accounts.Notice{Kind: accounts.NoticeError, Message: msg, Section: section}
	var tm *accounts.TooManyAttempts
	if errors.As(err, &tm) {
		w.Header().Set("Retry-After", fmt.Sprint(int(tm.RetryAfter.Seconds()+0.999)))
	}
	if section == "password" && licensing.ErrorCode(err) == licensing.Conflict {
		// The session is gone; the page would only redirect.
		h.errorPage(w, r, status, "Sign in again", msg, "", "/signin")
		return
	}
	h.showAccount(w, r, status, acc, f)
}

// errorStatus maps an error to an HTTP status and the sentence to show,
// logging what the person must not see.
func (h *accountPages) errorStatus(r *http.Request, err error) (int, string) {
	var tm *accounts.TooManyAttempts
	if errors.As(err, &tm) {
		return tooManyStatus(tm), tm.Error()
	}
	code := licensing.ErrorCode(err)
	switch code {
	case licensing.Internal:
		h.logger.ErrorContext(r.Context(), "account page action failed", "path", r.URL.Path, "err", err)
		return http.StatusInternalServerError, "Something went wrong on our side; it has been logged. Please try again in a few minutes."
	case licensing.Invalid, licensing.FailedPrecondition:
		return http.StatusUnprocessableEntity, sentence(licensing.ErrorMessage(err))
	}
	return statusOf(code), sentence(licensing.ErrorMessage(err))
}

// sentence capitalises a message and ends it with a full stop, so messages
// from the domain rules ("bob@x.test is already a billing contact of
// SEN-1") read as sentences on a page.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if c := s[0]; 'a' <= c && c <= 'z' && !strings.Contains(strings.SplitN(s, " ", 2)[0], "@") {
		s = string(c-'a'+'A') + s[1:]
	}
	switch s[len(s)-1] {
	case '.', '!', '?':
		return s
	}
	return s + "."
}

// readForm limits and parses a form body and checks its CSRF token,
// answering the request itself when that fails.
func (h *accountPages) readForm(w http.ResponseWriter, r *http.Request) bool {
	back := r.URL.Path
	if back == "/signout" {
		back = "/account"
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAccountForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.errorPage(w, r, http.StatusRequestEntityTooLarge, "That form was too large",
				"Reload the page and try again with less text.", "", back)
			return false
		}
		h.errorPage(w, r, http.StatusBadRequest, "That form could not be read", "Reload the page and try again.", "", back)
		return false
	}
	if !checkCSRF(r) {
		h.errorPage(w, r, http.StatusForbidden, "This form expired",
			"This form expired; reload the page and try again.",
			"If it keeps happening, allow cookies for this site: the form needs one to prove it came from this page.", back)
		return false
	}
	return true
}

// failPage answers with a whole-page error for err.
func (h *accountPages) failPage(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := h.errorStatus(r, err)
	title := "Something went wrong"
	if status != http.StatusInternalServerError {
		title = errorTitle(licensing.ErrorCode(err))
	}
	h.errorPage(w, r, status, title, msg, "", "")
}

func (h *accountPages) notFound(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.", "", "/account")
}

// addressInputOf is a stored billing address as the form shows it.
func addressInputOf(a licensing.BillingAddress) licensing.BillingAddressInput {
	return licensing.BillingAddressInput{Name: a.Name, Lines: strings.Join(a.Lines, "\n"), City: a.City, Postcode: a.Postcode,
		Region: a.Region, Country: string(a.Country), TaxID: a.TaxID}
}
