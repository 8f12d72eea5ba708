package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"licensedesk/accounts"
)

// SecurityHeaders lets the external tests (package web_test, which use the
// real accounts service) serve pages with the headers every response gets.
var SecurityHeaders = securityHeaders

func TestSessionCookie_Attributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		h := &accountPages{pageSettings: pageSettings{secure: secure}}
		w := httptest.NewRecorder()
		h.setSession(w, accounts.SessionCookie{Value: "v", Expires: time.Now().Add(7 * 24 * time.Hour)})
		cs := w.Result().Cookies()
		if len(cs) != 1 {
			t.Fatalf("%d cookies", len(cs))
		}
		c := cs[0]
		wantName := "session"
		if secure {
			wantName = "__Host-session"
		}
		if c.Name != wantName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != secure || c.Path != "/" || c.Domain != "" {
			t.Errorf("secure=%v: cookie %s", secure, w.Header().Get("Set-Cookie"))
		}
		if c.MaxAge < 7*24*3600-60 || c.MaxAge > 7*24*3600 {
			t.Errorf("secure=%v: Max-Age %d; want 7 days", secure, c.MaxAge)
		}
		w = httptest.NewRecorder()
		h.clearSession(w)
		if c := w.Result().Cookies()[0]; c.Name != wantName || c.MaxAge != -1 || c.Value != "" {
			t.Errorf("secure=%v: clearing sends %s", secure, w.Header().Get("Set-Cookie"))
		}
	}
}

func TestClientAddr(t *testing.T) {
	tests := []struct {
		name    string
		trust   bool
		remote  string
		forward []string
		want    string
	}{
		{"peer", false, "192.0.2.1:5555", nil, "192.0.2.1"},
		{"peer v6", false, "[2001:db8::1]:5555", nil, "2001:db8::1"},
		{"forwarded ignored by default", false, "192.0.2.1:5555", []string{"203.0.113.9"}, "192.0.2.1"},
		{"forwarded trusted: the proxy's entry (last)", true, "10.0.0.2:5555", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9"},
		{"forwarded in two headers", true, "10.0.0.2:5555", []string{"198.51.100.1", "203.0.113.9"}, "203.0.113.9"},
		{"forwarded garbage", true, "10.0.0.2:5555", []string{"not an ip"}, "10.0.0.2"},
	}
	for _, tt := range tests {
		h := &accountPages{pageSettings: pageSettings{trustForwarded: tt.trust}, logger: slog.New(slog.DiscardHandler)}
		r := httptest.NewRequest("GET", "/signin", nil)
		r.RemoteAddr = tt.remote
		for _, f := range tt.forward {
			r.Header.Add("X-Forwarded-For", f)
		}
		if got := h.clientAddr(r); got != tt.want {
			t.Errorf("%s: %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestTooManyAttempts_Message(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second:                      "Too many attempts; try again in 1 minute.",
		time.Minute:                      "Too many attempts; try again in 1 minute.",
		time.Minute + time.Second:        "Too many attempts; try again in 2 minutes.",
		15 * time.Minute:                 "Too many attempts; try again in 15 minutes.",
		14*time.Minute + time.Nanosecond: "Too many attempts; try again in 15 minutes.",
	} {
		if got := (&accounts.TooManyAttempts{RetryAfter: d}).Error(); got != want {
			t.Errorf("%v: %q; want %q", d, got, want)
		}
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"bob@acme.test is already a technical contact of SEN-1000001": "bob@acme.test is already a technical contact of SEN-1000001.",
		"that licence is cancelled":                                   "That licence is cancelled.",
		"Saved.":                                                      "Saved.",
		`"x@" is not an email address`:                                `"x@" is not an email address.`,
		"":                                                            "",
	} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q; want %q", in, got, want)
		}
	}
}

// SetMaxImportBytes bounds import bodies to n until the returned function
// puts the limit back.
func SetMaxImportBytes(n int64) func() {
	old := maxImportBytes
	maxImportBytes = n
	return func() { maxImportBytes = old }
}
