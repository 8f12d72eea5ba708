package web

import (
	"net/http"
	"strings"

	"licensedesk/accounts"
	"licensedesk/licensing"
)

// Password reset (SPEC §2, §3): /password/forgot asks for an email and
// always gives the same answer; the emailed link /password/reset/{token}
// shows a form on GET (changing nothing: mail scanners prefetch links) and
// sets the new password on a POST with a CSRF token. It never signs anyone
// in. The token is never logged (only tokenRef) and the pages send no
// referrer.

// ResetSentMessage is the one answer to every well-formed reset request.
const ResetSentMessage = "If an account exists for that email, we've sent a link. It works once, for one hour."

// ResetDoneMessage ends a successful reset.
const ResetDoneMessage = "Your password has been changed. Sign in with your new password."

func (h *accountPages) forgotForm(w http.ResponseWriter, r *http.Request) {
	h.showForgot(w, r, http.StatusOK, acctPage{})
}

func (h *accountPages) showForgot(w http.ResponseWriter, r *http.Request, status int, p acctPage) {
	p.Title = "Reset your password"
	p.CSRF = csrfToken(w, r)
	h.render(w, r, status, "reset_forgot.html", p)
}

func (h *accountPages) forgot(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	err := h.svc.RequestReset(r.Context(), email, h.clientAddr(r))
	if err != nil {
		h.formFailed(w, r, err, acctPage{Email: email, ErrorField: formField(licensing.ErrorField(err), forgotFields...)}, h.showForgot, func() { h.failPage(w, r, err) })
		return
	}
	h.render(w, r, http.StatusOK, "reset_sent.html", acctPage{Title: "Check your email", Message: ResetSentMessage, Email: email})
}

// resetForm shows the form of a reset link. It calls nothing but accounts.ResetInfo.
func (h *accountPages) resetForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if !plausibleToken(token) {
		h.resetFailed(w, r, token, errLinkUnknown)
		return
	}
	info, err := h.svc.ResetInfo(r.Context(), token)
	if err != nil {
		h.resetFailed(w, r, token, err)
		return
	}
	h.showResetForm(w, r, http.StatusOK, info, "", "")
}

func (h *accountPages) showResetForm(w http.ResponseWriter, r *http.Request, status int, info accounts.ResetInfo, errMsg, field string) {
	p := acctPage{Title: "Choose a new password", Reset: info, Error: errMsg, ErrorField: formField(field, resetFields...), MinLength: minPasswordLength}
	p.CSRF = csrfToken(w, r)
	h.render(w, r, status, "reset_form.html", p)
}

// reset sets the new password and spends the link.
func (h *accountPages) reset(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if !plausibleToken(token) {
		h.resetFailed(w, r, token, errLinkUnknown)
		return
	}
	// An unusable link says so, even to a stale form.
	if _, err := h.svc.ResetInfo(r.Context(), token); err != nil {
		h.resetFailed(w, r, token, err)
		return
	}
	if !h.readForm(w, r) {
		return
	}
	err := h.svc.CompleteResetFrom(r.Context(), token, r.PostForm.Get("password"), r.PostForm.Get("password_confirm"),
		accounts.Client{UserAgent: r.UserAgent(), Addr: h.clientAddr(r)})
	if err != nil {
		if licensing.ErrorCode(err) != licensing.Invalid {
			h.resetFailed(w, r, token, err)
			return
		}
		info, lerr := h.svc.ResetInfo(r.Context(), token)
		if lerr != nil {
			h.resetFailed(w, r, token, lerr)
			return
		}
		h.showResetForm(w, r, http.StatusUnprocessableEntity, info, licensing.ErrorMessage(err), licensing.ErrorField(err))
		return
	}
	h.logger.InfoContext(r.Context(), "password reset", "link", tokenRef(token))
	// A session this browser may still hold was revoked with the others.
	h.clearSession(w)
	h.render(w, r, http.StatusOK, "reset_done.html", acctPage{Title: "Password changed", Message: ResetDoneMessage})
}

// resetFailed answers for an unusable link: 404 unknown, 410 used or
// expired, and the other codes as they say.
func (h *accountPages) resetFailed(w http.ResponseWriter, r *http.Request, token string, err error) {
	switch licensing.ErrorCode(err) {
	case licensing.NotFound:
		h.errorPage(w, r, http.StatusNotFound, "This link isn't valid",
			"Check that you opened the whole address from the email (some mail programs split long links), or ask for a new link.", "", "/password/forgot")
	case licensing.Gone:
		// Review #13: someone who has just reset signs in from here.
		h.render(w, r, http.StatusGone, "account_error.html", acctPage{Title: "This link has already been used or has expired",
			Message: "A reset link works once, for one hour, and only the newest one you asked for works.",
			Detail:  "If you have just chosen a new password with it, sign in with that password. If you still need to reset your password, ask for a new link.",
			Back:    "/signin", BackText: "Sign in", Back2: "/password/forgot", Back2Text: "Ask for a new link"})
	case licensing.Internal:
		h.logger.ErrorContext(r.Context(), "reset page failed", "method", r.Method, "link", tokenRef(token), "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong",
			"Something went wrong on our side; it has been logged. Please try again in a few minutes.", "", "")
	default:
		h.failPage(w, r, err)
	}
}
