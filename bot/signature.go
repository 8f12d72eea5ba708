// Package bot is licensedesk's Slack front end: request verification, the
// /license command registry (parsing, permissions, generated help) and the
// Block Kit rendering of replies.
package bot

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBodyBytes bounds what we read before the signature is checked; Slack's
// payloads are a few KiB.
const maxBodyBytes = 1 << 20

// defaultMaxAge is Slack's recommended replay window.
const defaultMaxAge = 5 * time.Minute

var (
	errNoSecret       = errors.New("slack: no signing secret configured")
	errMissingHeaders = errors.New("slack: missing signature headers")
	errBadTimestamp   = errors.New("slack: malformed request timestamp")
	errStale          = errors.New("slack: request timestamp outside the allowed window")
	errBadSignature   = errors.New("slack: signature mismatch")
)

// Verifier checks Slack's request signatures (HMAC-SHA256 of
// "v0:<timestamp>:<raw body>" with the app's signing secret).
type Verifier struct {
	Secret []byte
	Now    func() time.Time // nil: time.Now
	MaxAge time.Duration    // zero: 5 minutes; applies both ways to tolerate clock skew
	Logger *slog.Logger     // where refusals are logged; nil: slog.Default()
}

// Verify reports whether body, with headers h, was signed by Slack recently.
func (v Verifier) Verify(h http.Header, body []byte) error {
	if len(v.Secret) == 0 {
		return errNoSecret
	}
	tsHeader := h.Get("X-Slack-Request-Timestamp")
	sigHeader := h.Get("X-Slack-Signature")
	if tsHeader == "" || sigHeader == "" {
		return errMissingHeaders
	}
	secs, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return errBadTimestamp
	}
	now := time.Now //clock:wall Slack's timestamps are real time
	if v.Now != nil {
		now = v.Now
	}
	maxAge := v.MaxAge
	if maxAge <= 0 {
		maxAge = defaultMaxAge
	}
	if age := now().Sub(time.Unix(secs, 0)); age > maxAge || age < -maxAge {
		return errStale
	}
	hexSig, ok := strings.CutPrefix(sigHeader, "v0=")
	if !ok {
		return errBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return errBadSignature
	}
	if !hmac.Equal(got, mac(v.Secret, tsHeader, body)) {
		return errBadSignature
	}
	return nil
}

// Sign produces the headers Slack would send for body at ts, for the CLI and
// tests.
func Sign(secret []byte, ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	return timestamp, "v0=" + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "v0:%s:", timestamp)
	m.Write(body)
	return m.Sum(nil)
}

// Middleware verifies each request over its raw body before next sees it;
// unsigned requests get 401 and nothing else runs.
func (v Verifier) Middleware(next http.Handler) http.Handler {
	logger := v.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "could not read request body", http.StatusBadRequest)
			return
		}
		if err := v.Verify(r.Header, body); err != nil {
			logger.Warn("slack request refused", "path", r.URL.Path, "reason", err.Error())
			http.Error(w, "invalid Slack signature", http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}
