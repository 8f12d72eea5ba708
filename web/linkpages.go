package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"licensedesk/accounts"
	"licensedesk/licensing"
	"licensedesk/links"
	"licensedesk/passwords"
)

// maxLinkForm bounds the body of a link form; the real forms are a few
// hundred bytes.
const maxLinkForm = 64 << 10

var linkTemplates = template.Must(template.New("links").Funcs(pageFuncs).Funcs(template.FuncMap{
	"deadline":        formatDeadline,
	"suggestPassword": suggestPassword,
	"shortDate":       licensing.ShortDate,
	"join":            joinWords,
	"title":           titleWord,
	"has":             func(list []string, s string) bool { return slices.Contains(list, s) },
}).ParseFS(templateFiles, "templates/layout.html", "templates/link_*.html"))

// LinkService looks links up and acts on them. Errors are *licensing.Error:
// NotFound (unknown token → 404), Gone (used, expired or revoked → 410),
// Invalid (bad form input → the form again with the message, 422), others
// as their codes say.
type LinkService interface {
	Lookup(ctx context.Context, token string) (links.View, error)
	Act(ctx context.Context, token string, action links.Action) (links.Result, error)
	// CardSaved is the outcome of a card saved through the link that ref
	// (Result.ReturnRef) names, as far as it is known now; a ref it does
	// not know gets a general answer.
	CardSaved(ctx context.Context, ref string, now time.Time) (links.Result, error)
}

// LinkPages serves every emailed link (SPEC §3): GET /l/{token} shows what the
// link will do and changes nothing (mail scanners prefetch links); POST
// /l/{token}, sent by a person pressing the button with a valid CSRF token,
// does it. Mount it at "/l/".
//
// The token is a secret until it is spent: it is never logged (only a short
// prefix of its SHA-256), pages never repeat it (forms post to their own
// address), and every response asks browsers not to cache it, send it as a
// referrer, or index it.
func LinkPages(svc LinkService, logger *slog.Logger, opts ...Option) http.Handler {
	return newLinkPages(svc, logger, opts).handler()
}

func newLinkPages(svc LinkService, logger *slog.Logger, opts []Option) *linkPages {
	return &linkPages{svc: svc, logger: logger, pageSettings: newPageSettings(opts)}
}

func (h *linkPages) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /l/{token}", h.show)
	mux.HandleFunc("POST /l/{token}", h.act)
	mux.HandleFunc("/l/", h.other)
	return private(mux)
}

// private marks a response as not to be cached, indexed or sent on as a
// referrer: link pages, and the card pages a link leads back to.
func private(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Robots-Tag", "noindex")
		next.ServeHTTP(w, r)
	})
}

type linkPages struct {
	pageSettings
	svc    LinkService
	logger *slog.Logger
}

// CountRedemptions tells count the outcome of every link pressed (ok,
// gone, unknown, forbidden, invalid, failed), for the
// licensedesk_link_redemptions metric.
func CountRedemptions(count func(outcome string)) Option {
	return func(p *pageSettings) { p.countRedemptions = count }
}

func (h *linkPages) counted(err error) {
	if h.countRedemptions == nil {
		return
	}
	outcome := "ok"
	switch licensing.ErrorCode(err) {
	case licensing.Internal:
		if err != nil {
			outcome = "failed"
		}
	case licensing.NotFound:
		outcome = "unknown"
	case licensing.Gone:
		outcome = "gone"
	case licensing.Forbidden:
		outcome = "forbidden"
	case licensing.Invalid:
		outcome = "invalid"
	default:
		outcome = "refused"
	}
	h.countRedemptions(outcome)
}

// linkPage is what every link template receives.
type linkPage struct {
	Title   string
	Brand   licensing.Brand
	Account *accounts.AccountDetails // signed in: the header says who, with a sign-out button

	// Form pages.
	View        links.View
	CSRF        string
	Error       string // why the form came back (Invalid)
	ErrorField  string // the field it is about, shown beside it ("": at the top)
	DisplayName string // what they typed, shown again; passwords never are
	MinLength   int    // passwords.MinLength, for the browser's own check
	RolesText   string // "billing and technical"

	// Card pages: a past-due licence's banner.
	OverdueTitle, OverdueText string

	// Result and error pages.
	Result  links.Result // after acting: the licence, what happens next, ways on
	Message string
	Detail  string // an extra sentence from the service, when it adds something
	Reload  bool   // offer to load the link again (expired form)
	// AskForLink: say whom to ask for a new link (unknown or ended links).
	AskForLink bool
	Ended      *links.Ended
	// RetrySignIn: Try another card for someone not signed in signs in
	// first, then shows the licence (whose Update card goes straight to
	// the provider).
	RetrySignIn string
}

// show renders the page for a link. It calls nothing but Lookup.
func (h *linkPages) show(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if !plausibleToken(token) {
		h.fail(w, r, token, errLinkUnknown)
		return
	}
	view, err := h.svc.Lookup(r.Context(), token)
	if err != nil {
		h.fail(w, r, token, err)
		return
	}
	h.form(w, r, token, http.StatusOK, view, "", "", "")
}

// act performs what the link is for, after the CSRF check.
func (h *linkPages) act(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if !plausibleToken(token) {
		h.fail(w, r, token, errLinkUnknown)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLinkForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.errorPage(w, r, http.StatusRequestEntityTooLarge, "That form was too large",
				"Reload the page and try again.", "", true)
			return
		}
		h.errorPage(w, r, http.StatusBadRequest, "That form could not be read",
			"Reload the page and try again.", "", true)
		return
	}
	if !checkCSRF(r) {
		h.errorPage(w, r, http.StatusForbidden, "This form expired",
			"This form expired; reload the page and try again.",
			"If it keeps happening, allow cookies for this site: the form needs one to prove it came from this page.", true)
		return
	}
	action := links.Action{
		Decision:        r.PostForm.Get("decision"),
		DisplayName:     strings.TrimSpace(r.PostForm.Get("display_name")),
		Password:        r.PostForm.Get("password"),
		PasswordConfirm: r.PostForm.Get("password_confirm"),
	}
	res, err := h.svc.Act(r.Context(), token, action)
	h.counted(err)
	if err != nil {
		if licensing.ErrorCode(err) != licensing.Invalid {
			h.fail(w, r, token, err)
			return
		}
		// Show the same form again with what to fix.
		view, lerr := h.svc.Lookup(r.Context(), token)
		if lerr != nil {
			h.fail(w, r, token, lerr)
			return
		}
		h.form(w, r, token, http.StatusUnprocessableEntity, view, licensing.ErrorMessage(err), action.DisplayName, licensing.ErrorField(err))
		return
	}
	h.logger.InfoContext(r.Context(), "link used", "link", tokenRef(token), "decision", action.Decision)
	if res.RedirectURL != "" {
		setCardReturn(w, r, res.ReturnRef, res.ReturnPath)
		http.Redirect(w, r, res.RedirectURL, http.StatusSeeOther)
		return
	}
	h.result(w, r, res)
}

// result renders a result page: what was done, what happens next, and the
// ways on (for someone signed in, their account rather than sign-in).
func (h *linkPages) result(w http.ResponseWriter, r *http.Request, res links.Result) {
	if len(res.Actions) == 0 {
		res.Actions = []links.Step{links.ToHome}
	}
	acc := h.signedInAccount(r)
	if acc != nil {
		for i, a := range res.Actions {
			if a == links.ToSignIn || a == links.ToHome {
				res.Actions[i] = links.ToAccount
			}
		}
	}
	p := linkPage{Title: res.Title, Message: res.Message, Result: res, Account: acc}
	if res.RetryCard {
		p.CSRF = csrfToken(w, r)
		p.RetrySignIn = "/signin?next=" + url.QueryEscape("/account?from="+res.SEN)
	}
	h.render(w, r, http.StatusOK, "link_result.html", p)
}

// other answers paths and methods that are not a link.
func (h *linkPages) other(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/l/")
	if rest != "" && !strings.Contains(rest, "/") {
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.errorPage(w, r, http.StatusMethodNotAllowed, "That doesn't work here",
			"Open the link from your email in a web browser.", "", false)
		return
	}
	h.fail(w, r, "", errLinkUnknown)
}

// form renders the page for the link's purpose.
func (h *linkPages) form(w http.ResponseWriter, r *http.Request, token string, status int, view links.View, errMsg, name, field string) {
	p := linkPage{View: view, Error: errMsg, DisplayName: name, MinLength: passwords.MinLength, ErrorField: formField(field, accountSetupFields...)}
	var tmpl string
	switch view.Purpose {
	case licensing.PurposeConfirmRequest:
		tmpl, p.Title = "link_confirm.html", "Please confirm this request"
	case licensing.PurposeConfirmMove:
		tmpl, p.Title = "link_confirm.html", "Please confirm this licence move"
	case licensing.PurposeCompleteAccount:
		tmpl, p.Title = "link_account.html", "Set up your account"
	case licensing.PurposePromote:
		tmpl, p.Title = "link_promote.html", "Become the primary contact"
		if view.ForMove {
			p.Title = "Take over " + view.SEN + " as its primary contact"
		}
		p.RolesText = joinWords(view.Roles)
	case licensing.PurposeCardUpdate:
		tmpl, p.Title = "link_card.html", "Update the card"
		p.OverdueTitle, p.OverdueText = overdueBanner(view.Overdue, h.now())
	case licensing.PurposeConfirmPayment:
		tmpl, p.Title = "link_payment.html", "Confirm your payment with your bank"
	default:
		// A token of another purpose (SPEC §3: a clear page, 404).
		h.logger.WarnContext(r.Context(), "link of a purpose /l/ does not serve", "link", tokenRef(token), "purpose", view.Purpose)
		h.fail(w, r, token, errLinkUnknown)
		return
	}
	p.CSRF = csrfToken(w, r)
	h.render(w, r, status, tmpl, p)
}

// overdueBanner is the title and sentence of a past-due licence's banner
// (empty for none).
func overdueBanner(o *licensing.Overdue, now time.Time) (title, text string) {
	if o == nil {
		return "", ""
	}
	title = "Payment failed for " + string(o.SEN)
	if o.NeedsAuthentication() {
		title = "Confirm your payment for " + string(o.SEN)
	}
	if o.Status == licensing.Suspended {
		title = string(o.SEN) + " is suspended"
	}
	return title, o.Sentence(now)
}

var errLinkUnknown = licensing.Errorf(licensing.NotFound, "This link isn't valid.")

// fail renders the page for an error from the service (or the handler).
func (h *linkPages) fail(w http.ResponseWriter, r *http.Request, token string, err error) {
	code := licensing.ErrorCode(err)
	msg := licensing.ErrorMessage(err)
	switch code {
	case licensing.NotFound:
		h.render(w, r, http.StatusNotFound, "link_error.html", linkPage{Title: "This link isn't valid", AskForLink: true,
			Message: "Check that you opened the whole address from the email: some mail programs split long links."})
	case licensing.Gone:
		var ended *links.Ended
		if errors.As(err, &ended) {
			h.endedPage(w, r, ended)
			return
		}
		h.render(w, r, http.StatusGone, "link_error.html", linkPage{Title: "This link has already been used or has expired", AskForLink: true,
			Message: "Each link works once, for a limited time.", Detail: extraDetail(msg)})
	case licensing.Internal:
		if errors.Is(err, passwords.ErrBusy) {
			w.Header().Set("Retry-After", "5")
			h.errorPage(w, r, http.StatusServiceUnavailable, "Busy for a moment",
				"We're checking a lot of passwords right now. Go back and press the button again in a few seconds.", "", false)
			return
		}
		h.logger.ErrorContext(r.Context(), "link page failed", "method", r.Method, "link", tokenRef(token), "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong",
			"Something went wrong on our side; it has been logged. Please try again in a few minutes.", "", false)
	default:
		h.errorPage(w, r, statusOf(code), errorTitle(code), msg, "", false)
	}
}

// endedPage answers a link that no longer works (410): how it ended and
// when, what to do now and whom to ask, and, to its recipient signed in,
// what they did with it.
//
// It says what the link was for and what happened (review #13): used,
// expired, or withdrawn and why (done, declined, ran out of time,
// cancelled by sales, its recipient left the licence, a newer link
// replaced it). Anyone holding the link sees the SEN and what it was for,
// which its mail said; the other people it names, the product and what
// the recipient did, only the recipient, signed in.
func (h *linkPages) endedPage(w http.ResponseWriter, r *http.Request, e *links.Ended) {
	p := linkPage{Ended: e, View: links.View{SEN: e.SEN}}
	what := e.For
	if p.Account = h.signedInAccount(r); p.Account != nil && p.Account.Email == e.Email {
		p.Detail = e.Done
		p.View.Product = e.Product
		what = e.ForYou
	}
	if what != "" {
		what = "This link was " + what + ". "
	}
	on := formatDeadline(e.At)
	switch e.How {
	case "used":
		p.Title, p.Message = "You have already used this link", what+"It was used on "+on+"; each link works once."
	case "withdrawn":
		p.Title, p.Message = "This link no longer works", what+"It was withdrawn on "+on+": "+withdrawnWhy(e)
	default:
		p.Title, p.Message = "This link has expired", what+"It expired on "+on+", before it was used."
	}
	if e.Purpose == licensing.PurposeConfirmPayment {
		p.Message += " A payment link ends when the invoice is paid (through the bank's check or with another card) or when it runs out; if the payment is still due, the newest email about it has a link that works, and the account page has a button."
	}
	h.render(w, r, http.StatusGone, "link_ended.html", p)
}

// withdrawnWhy says why a link was withdrawn, as a sentence's end.
func withdrawnWhy(e *links.Ended) string {
	switch e.Reason {
	case "done":
		return "what it was for is done (someone else it was sent to may have answered first)."
	case "declined":
		return "the request was declined, so nothing changed."
	case "expired":
		return "the request ran out of time before it was done, so nothing changed."
	case "cancelled":
		return "our sales team cancelled the request, so nothing changed."
	case "left":
		if e.SEN != "" {
			return "the person it was sent to is no longer a contact or site admin of " + e.SEN + "."
		}
		return "the person it was sent to no longer belongs to the licence."
	case "replaced":
		return "a newer link replaced it. Use the link in the most recent email."
	}
	return "what it was for has ended."
}

func errorTitle(code licensing.Code) string {
	switch code {
	case licensing.Forbidden:
		return "You can't do this"
	case licensing.Conflict:
		return "This has already been done"
	case licensing.Invalid:
		return "Something in this request isn't right"
	}
	return "This can't be done right now"
}

// extraDetail keeps a service message only when it says more than the page
// title already does.
func extraDetail(msg string) string {
	m := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(msg), "."))
	if m == "" || m == "this link has already been used or has expired" {
		return ""
	}
	return msg
}

func (h *linkPages) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg, detail string, reload bool) {
	h.render(w, r, status, "link_error.html", linkPage{Title: title, Message: msg, Detail: detail, Reload: reload})
}

func (h *linkPages) render(w http.ResponseWriter, r *http.Request, status int, name string, p linkPage) {
	p.Brand = h.brand
	if p.Account == nil {
		p.Account = h.signedInAccount(r)
	}
	if p.Account != nil && p.CSRF == "" {
		p.CSRF = csrfToken(w, r) // for the header's sign-out button
	}
	renderPage(w, r, h.logger, linkTemplates, status, name, p)
}

// renderPage executes the template into a buffer first, so a template
// failure becomes a clean 500 instead of half a page.
func renderPage(w http.ResponseWriter, r *http.Request, logger *slog.Logger, t *template.Template, status int, name string, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		logger.ErrorContext(r.Context(), "page render failed", "page", name, "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("Something went wrong on our side; it has been logged.\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// plausibleToken rejects what cannot be a token (base64url, with or without
// padding) before it reaches the database.
func plausibleToken(t string) bool {
	if t == "" || len(t) > 512 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '=') {
			return false
		}
	}
	return true
}

// tokenRef names a token in logs without revealing it: the first 12 hex
// digits of its SHA-256.
func tokenRef(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}

// joinWords writes "a", "a and b", "a, b and c".
var joinWords = licensing.JoinWords

// formatDeadline shows an expiry unambiguously; we do not know the reader's
// time zone, so it says UTC.
func formatDeadline(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("Monday 2 January 2006, 15:04 UTC")
}

// cardCancelled is where the payment provider sends people back when they
// leave its card page without saving a card.
func (h *linkPages) cardCancelled(w http.ResponseWriter, r *http.Request) {
	h.result(w, r, links.Result{Title: "No card was saved",
		Message: "Nothing has changed. To try again, open the link in your email once more (it works until it expires), or sign in and use your account page.",
		Actions: []links.Step{links.ToAccount}})
}

// cardReturnCookie names the card link a person left for the provider's
// page with (its token's hash), for the page they come back to.
const cardReturnCookie = "card_return"

// setCardReturn keeps ref (links.Result.ReturnRef) for the page the
// provider sends the person back to, which the provider reaches without
// the token.
func setCardReturn(w http.ResponseWriter, r *http.Request, ref, path string) {
	if ref == "" {
		return
	}
	if path == "" {
		path = "/card/"
	}
	http.SetCookie(w, &http.Cookie{Name: cardReturnCookie, Value: ref, Path: path, MaxAge: 3600,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
}

// cardSaved is where the payment provider sends people back after they saved
// a card. The card arrives by webhook, and the charge it triggers a moment
// later: the page says how far that got (reload to see more), and when it
// does not know which link it was, that the result comes by mail.
func (h *linkPages) cardSaved(w http.ResponseWriter, r *http.Request) {
	var ref string
	if c, err := r.Cookie(cardReturnCookie); err == nil {
		ref = c.Value
	}
	res, err := h.svc.CardSaved(r.Context(), ref, h.now())
	if err != nil {
		h.fail(w, r, "", err)
		return
	}
	h.result(w, r, res)
}

// PaymentReturns is the page the bank's check of a payment sends people
// back to (links.Service); a LinkService without it serves no such page.
type PaymentReturns interface {
	PaymentConfirmed(ctx context.Context, ref string) (links.Result, error)
}

// paymentConfirmed is where the bank's check sends people back: the
// outcome as far as it is known (reload to see more). GET: it changes
// nothing.
func (h *linkPages) paymentConfirmed(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.svc.(PaymentReturns)
	if !ok {
		h.fail(w, r, "", errLinkUnknown)
		return
	}
	var ref string
	if c, err := r.Cookie(cardReturnCookie); err == nil {
		ref = c.Value
	}
	res, err := pr.PaymentConfirmed(r.Context(), ref)
	if err != nil {
		h.fail(w, r, "", err)
		return
	}
	h.result(w, r, res)
}
