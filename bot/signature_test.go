package bot

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Slack's published example from "Verifying requests from Slack".
const (
	vectorSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	vectorTimestamp = 1531420618
	vectorBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	vectorSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func vectorVerifier(now time.Time) Verifier {
	return Verifier{Secret: []byte(vectorSecret), Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
}

func signedHeaders(ts, sig string) http.Header {
	h := http.Header{}
	if ts != "" {
		h.Set("X-Slack-Request-Timestamp", ts)
	}
	if sig != "" {
		h.Set("X-Slack-Signature", sig)
	}
	return h
}

func TestVerify_SlackPublishedVector(t *testing.T) {
	v := vectorVerifier(time.Unix(vectorTimestamp, 0).Add(30 * time.Second))
	if err := v.Verify(signedHeaders("1531420618", vectorSignature), []byte(vectorBody)); err != nil {
		t.Fatalf("Slack's own example does not verify: %v", err)
	}
}

func TestSign_ReproducesSlackPublishedVector(t *testing.T) {
	ts, sig := Sign([]byte(vectorSecret), time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	if ts != "1531420618" || sig != vectorSignature {
		t.Fatalf("Sign = %q, %q; want 1531420618, %s", ts, sig, vectorSignature)
	}
}

func TestVerify_Refuses(t *testing.T) {
	signedAt := time.Unix(vectorTimestamp, 0)
	tests := []struct {
		name    string
		now     time.Time
		secret  string
		headers http.Header
		body    string
		want    error
	}{
		{"missing signature", signedAt, vectorSecret, signedHeaders("1531420618", ""), vectorBody, errMissingHeaders},
		{"missing timestamp", signedAt, vectorSecret, signedHeaders("", vectorSignature), vectorBody, errMissingHeaders},
		{"malformed timestamp", signedAt, vectorSecret, signedHeaders("yesterday", vectorSignature), vectorBody, errBadTimestamp},
		{"body changed by one byte", signedAt, vectorSecret, signedHeaders("1531420618", vectorSignature), vectorBody + "x", errBadSignature},
		{"timestamp changed", signedAt, vectorSecret, signedHeaders("1531420619", vectorSignature), vectorBody, errBadSignature},
		{"other secret", signedAt, "not-the-secret", signedHeaders("1531420618", vectorSignature), vectorBody, errBadSignature},
		{"no v0 prefix", signedAt, vectorSecret, signedHeaders("1531420618", strings.TrimPrefix(vectorSignature, "v0=")), vectorBody, errBadSignature},
		{"not hex", signedAt, vectorSecret, signedHeaders("1531420618", "v0=zz"), vectorBody, errBadSignature},
		{"older than five minutes", signedAt.Add(5*time.Minute + time.Second), vectorSecret, signedHeaders("1531420618", vectorSignature), vectorBody, errStale},
		{"more than five minutes ahead", signedAt.Add(-5*time.Minute - time.Second), vectorSecret, signedHeaders("1531420618", vectorSignature), vectorBody, errStale},
		{"no secret configured", signedAt, "", signedHeaders("1531420618", vectorSignature), vectorBody, errNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Verifier{Secret: []byte(tt.secret), Now: func() time.Time { return tt.now }}
			if err := v.Verify(tt.headers, []byte(tt.body)); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerify_MaxAgeIsConfigurable(t *testing.T) {
	v := vectorVerifier(time.Unix(vectorTimestamp, 0).Add(2 * time.Minute))
	v.MaxAge = time.Minute
	if err := v.Verify(signedHeaders("1531420618", vectorSignature), []byte(vectorBody)); !errors.Is(err, errStale) {
		t.Fatalf("Verify = %v, want stale", err)
	}
}

func TestMiddleware_UnsignedRequestNeverReachesHandler(t *testing.T) {
	v := vectorVerifier(time.Unix(vectorTimestamp, 0))
	reached := false
	h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))

	for name, headers := range map[string]http.Header{
		"missing": {},
		"bad":     signedHeaders("1531420618", "v0=00"),
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(vectorBody))
			req.Header = headers
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", rec.Code)
			}
			if reached {
				t.Error("the wrapped handler ran for an unsigned request")
			}
		})
	}
}

func TestMiddleware_SignedRequestSeesTheRawBody(t *testing.T) {
	v := vectorVerifier(time.Unix(vectorTimestamp, 0))
	var got string
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
	}))
	req := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(vectorBody))
	req.Header = signedHeaders("1531420618", vectorSignature)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || got != vectorBody {
		t.Fatalf("status %d, body seen by handler %q", rec.Code, got)
	}
}

func TestMiddleware_RefusesOversizedBody(t *testing.T) {
	v := vectorVerifier(time.Unix(vectorTimestamp, 0))
	body := strings.Repeat("a", maxBodyBytes+1)
	ts, sig := Sign([]byte(vectorSecret), time.Unix(vectorTimestamp, 0), []byte(body))
	h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler ran") }))
	req := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
	req.Header = signedHeaders(ts, sig)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", rec.Code)
	}
}
