package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"licensedesk/accounts"
	"licensedesk/licensing"
)

// home is GET /: someone signed in goes to their account; anyone else
// learns what the site is for and where to sign in.
func (h *accountPages) home(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := h.signedIn(w, r); ok {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "home.html", acctPage{Title: "Manage your licences"})
}

// signinForm shows the sign-in form; someone already signed in goes
// straight to their account.
func (h *accountPages) signinForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, _, ok := h.signedIn(w, r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p := acctPage{Title: "Sign in"}
	if next != "/account" {
		p.Next = next // an invoice from a mail, say: back there after signing in
	}
	if r.URL.Query().Get("done") == "signout" {
		p.Message = "You're signed out."
	}
	h.showSignin(w, r, http.StatusOK, p)
}

func (h *accountPages) showSignin(w http.ResponseWriter, r *http.Request, status int, p acctPage) {
	p.Title = "Sign in"
	p.CSRF = csrfToken(w, r)
	h.render(w, r, status, "signin.html", p)
}

// signin checks the email and password and starts a new session. Any
// session the browser had is revoked (the id rotates), and so is the
// CSRF cookie, which the next page issues afresh.
func (h *accountPages) signin(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	req := accounts.SignInRequest{
		Email:      email,
		Password:   r.PostForm.Get("password"),
		ClientAddr: h.clientAddr(r),
		UserAgent:  r.UserAgent(),
		Replaces:   h.sessionValue(r),
	}
	s, err := h.svc.SignIn(r.Context(), req)
	next := safeNext(r.PostForm.Get("next"))
	if next == "/account" {
		next = ""
	}
	if err != nil {
		h.formFailed(w, r, err, acctPage{Email: email, Next: next, ErrorField: formField(licensing.ErrorField(err), signinFields...)}, h.showSignin, func() {
			h.logger.ErrorContext(r.Context(), "sign-in failed", "err", err)
			h.showSignin(w, r, http.StatusInternalServerError, acctPage{Email: email, Next: next,
				Error: "Something went wrong on our side; it has been logged. Please try again in a few minutes."})
		})
		return
	}
	h.setSession(w, s)
	clearCSRF(w, r)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// signout ends the session (server side, so a copied cookie stops working
// too) and deletes the cookie.
func (h *accountPages) signout(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r) {
		return
	}
	if cookie := h.sessionValue(r); cookie != "" {
		if err := h.svc.SignOut(r.Context(), cookie); err != nil {
			h.failPage(w, r, err)
			return
		}
	}
	h.clearSession(w)
	clearCSRF(w, r)
	http.Redirect(w, r, "/signin?done=signout", http.StatusSeeOther)
}

// tooManyStatus is 429 for a throttled attempt, 503 when the password
// hasher's queue is full (the server is busy, not the client at fault).
func tooManyStatus(tm *accounts.TooManyAttempts) int {
	if tm.Busy {
		return http.StatusServiceUnavailable
	}
	return http.StatusTooManyRequests
}

// formFailed answers a sign-in or reset-request form that failed: too many
// attempts (429 with Retry-After) or input to correct (422) show the form
// again with the message; anything else goes to otherwise.
func (h *accountPages) formFailed(w http.ResponseWriter, r *http.Request, err error, p acctPage,
	show func(http.ResponseWriter, *http.Request, int, acctPage), otherwise func()) {
	var tm *accounts.TooManyAttempts
	switch {
	case errors.As(err, &tm):
		w.Header().Set("Retry-After", fmt.Sprint(int(tm.RetryAfter.Seconds()+0.999)))
		// A busy password hasher is no lock: no pointer to a new password.
		p.Error, p.Locked, p.ErrorField = tm.Error(), !tm.Busy, ""
		show(w, r, tooManyStatus(tm), p)
	case licensing.ErrorCode(err) == licensing.Invalid:
		p.Error = licensing.ErrorMessage(err)
		show(w, r, http.StatusUnprocessableEntity, p)
	default:
		otherwise()
	}
}
