package web

import (
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCSRFToken_SetsCookie(t *testing.T) {
	tests := []struct {
		name       string
		tls        bool
		forwarded  string
		wantName   string
		wantSecure bool
	}{
		{name: "http", wantName: "csrf"},
		{name: "https", tls: true, wantName: "__Host-csrf", wantSecure: true},
		{name: "https behind a proxy", forwarded: "https", wantName: "__Host-csrf", wantSecure: true},
		{name: "http behind a proxy", forwarded: "http", wantName: "csrf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/l/x", nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.forwarded != "" {
				r.Header.Set("X-Forwarded-Proto", tt.forwarded)
			}
			w := httptest.NewRecorder()
			token := csrfToken(w, r)

			cookies := w.Result().Cookies()
			if len(cookies) != 1 {
				t.Fatalf("got %d cookies, want 1", len(cookies))
			}
			c := cookies[0]
			if c.Name != tt.wantName || c.Value != token {
				t.Fatalf("cookie %s=%s, want %s=%s", c.Name, c.Value, tt.wantName, token)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure != tt.wantSecure || c.Domain != "" {
				t.Fatalf("cookie attributes wrong: %s", w.Header().Get("Set-Cookie"))
			}
			raw, err := base64.RawURLEncoding.DecodeString(token)
			if err != nil || len(raw) != 32 {
				t.Fatalf("token %q is not 32 bytes of base64url", token)
			}
		})
	}
}

func TestCSRFToken_ReusesAValidCookieAndReplacesABadOne(t *testing.T) {
	first := csrfToken(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	second := csrfToken(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if first == second {
		t.Fatal("two fresh tokens are equal")
	}

	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "csrf", Value: first})
	w := httptest.NewRecorder()
	if got := csrfToken(w, r); got != first {
		t.Fatalf("got %q, want the cookie's token %q", got, first)
	}
	if len(w.Result().Cookies()) != 0 {
		t.Fatal("set a cookie although the request had a valid one")
	}

	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "csrf", Value: "attacker-chosen"})
	w = httptest.NewRecorder()
	if got := csrfToken(w, r); got == "attacker-chosen" || len(w.Result().Cookies()) != 1 {
		t.Fatalf("kept a malformed cookie value (%q)", got)
	}
}

func TestCheckCSRF(t *testing.T) {
	good := csrfToken(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	other := csrfToken(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	tests := []struct {
		name    string
		cookie  *http.Cookie // nil: none
		field   *string      // nil: none
		tls     bool
		headers map[string]string
		want    bool
	}{
		{name: "matching", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good, want: true},
		{name: "no cookie", field: &good},
		{name: "no field", cookie: &http.Cookie{Name: "csrf", Value: good}},
		{name: "both empty", cookie: &http.Cookie{Name: "csrf", Value: ""}, field: strp("")},
		{name: "different", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &other},
		{name: "prefix of the cookie", cookie: &http.Cookie{Name: "csrf", Value: good}, field: strp(good[:10])},
		{name: "https wants __Host- cookie", tls: true, cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good},
		{name: "https with __Host- cookie", tls: true, cookie: &http.Cookie{Name: "__Host-csrf", Value: good}, field: &good, want: true},

		{name: "same origin", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Origin": "http://example.test", "Sec-Fetch-Site": "same-origin"}, want: true},
		{name: "typed address", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Sec-Fetch-Site": "none"}, want: true},
		{name: "other origin", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Origin": "http://evil.test"}},
		{name: "other port", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Origin": "http://example.test:8080"}},
		{name: "null origin", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Origin": "null"}},
		{name: "null origin from a no-referrer page", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"}, want: true},
		{name: "null origin cross-site", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Origin": "null", "Sec-Fetch-Site": "cross-site"}},
		{name: "other origin claiming same-origin", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Origin": "http://evil.test", "Sec-Fetch-Site": "same-origin"}},
		{name: "cross-site", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{name: "same-site sibling", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Sec-Fetch-Site": "same-site"}},
		{name: "http page posting to https", tls: true, cookie: &http.Cookie{Name: "__Host-csrf", Value: good}, field: &good,
			headers: map[string]string{"Origin": "http://example.test"}},
		{name: "https page through a TLS proxy", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Origin": "https://example.test"}, want: true},
		{name: "proxy forwarding the public host", cookie: &http.Cookie{Name: "csrf", Value: good}, field: &good,
			headers: map[string]string{"Origin": "https://desk.example.com", "X-Forwarded-Host": "desk.example.com"}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{}
			if tt.field != nil {
				form.Set("csrf", *tt.field)
			}
			r := httptest.NewRequest("POST", "http://example.test/l/x", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.cookie != nil {
				r.AddCookie(tt.cookie)
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if got := checkCSRF(r); got != tt.want {
				t.Fatalf("checkCSRF = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckCSRF_TokenInQueryDoesNotCount(t *testing.T) {
	tok := csrfToken(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	r := httptest.NewRequest("POST", "/l/x?csrf="+tok, strings.NewReader(""))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: "csrf", Value: tok})
	if checkCSRF(r) {
		t.Fatal("accepted the token from the query string")
	}
}

func strp(s string) *string { return &s }
