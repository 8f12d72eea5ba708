package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// CSRF protection for pages without a session (emailed links, sign-in,
// password reset): a double-submit cookie. The page puts the cookie's value
// in a hidden form field; a POST is accepted only when field and cookie are
// both present and equal. Another site can make a browser send our cookie,
// but cannot read it to fill in the field. Over HTTPS the cookie is named
// with the __Host- prefix, which browsers only accept from the host itself
// with Secure and Path=/, so a sibling subdomain cannot plant one.
//
// On top of that, a POST that the browser says comes from another site
// (Sec-Fetch-Site) or from another origin (Origin) is refused outright.

const (
	csrfField       = "csrf" // the hidden form field
	csrfCookie      = "csrf"
	csrfCookieHTTPS = "__Host-csrf"
	csrfTokenBytes  = 32
)

// isHTTPS reports whether the client reached us over HTTPS: directly, or
// through a proxy that terminated TLS and said so in X-Forwarded-Proto. A
// client that lies in that header over plain HTTP only gets a Secure cookie
// its browser will not keep, so trusting it cannot weaken anything.
func isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

func csrfCookieName(r *http.Request) string {
	if isHTTPS(r) {
		return csrfCookieHTTPS
	}
	return csrfCookie
}

// csrfToken returns the token to put in a form's csrf field. It reuses the
// request's cookie when that holds a well-formed token (so several tabs, and
// a form shown again after an error, keep working), or sets a new one.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	name := csrfCookieName(r)
	if c, err := r.Cookie(name); err == nil && validCSRFToken(c.Value) {
		return c.Value
	}
	b := make([]byte, csrfTokenBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	token := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    token,
		Path:     "/",
		HttpOnly: true,
		Secure:   isHTTPS(r),
		SameSite: http.SameSiteStrictMode,
	})
	return token
}

func validCSRFToken(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == csrfTokenBytes
}

// checkCSRF reports whether a state-changing request may go ahead: it does
// not come from another site or origin, and its csrf form field equals its
// CSRF cookie (compared in constant time; both must be non-empty). It parses
// the form, so limit the body before calling it.
func checkCSRF(r *http.Request) bool {
	if !sameOrigin(r) {
		return false
	}
	c, err := r.Cookie(csrfCookieName(r))
	if err != nil || c.Value == "" {
		return false
	}
	if err := r.ParseForm(); err != nil {
		return false
	}
	field := r.PostForm.Get(csrfField)
	if field == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(field), []byte(c.Value)) == 1
}

// sameOrigin refuses requests that the browser marks as coming from another
// site (Sec-Fetch-Site: cross-site or same-site; our forms only ever post to
// themselves), and requests whose Origin header names another origin. An
// absent header is not evidence either way (older browsers, privacy
// settings); the token check still applies.
//
// "Origin: null" needs care: browsers send it for every form POST from a
// page served with Referrer-Policy: no-referrer, as link pages are. It is
// accepted only when Sec-Fetch-Site (which pages cannot forge) says the
// request came from this origin.
func sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	switch site {
	case "cross-site", "same-site":
		return false
	}
	origin := r.Header.Get("Origin")
	switch origin {
	case "":
		return true
	case "null":
		return site == "same-origin"
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !ownHost(r, u.Host) {
		return false
	}
	// An https page of this host may post here even when a TLS-terminating
	// proxy hid the scheme from us; an http page may not post to https.
	switch u.Scheme {
	case "https":
		return true
	case "http":
		return !isHTTPS(r)
	}
	return false
}

// ownHost reports whether host is the host this request was addressed to:
// its Host header, or the X-Forwarded-Host a proxy in front of us set. A
// page on another site cannot make a browser send that header with a form,
// so honouring it lets nothing cross-site through.
func ownHost(r *http.Request, host string) bool {
	if strings.EqualFold(host, r.Host) {
		return true
	}
	fwd, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ",")
	fwd = strings.TrimSpace(fwd)
	return fwd != "" && strings.EqualFold(host, fwd)
}
