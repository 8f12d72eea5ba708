// Package sender posts signed events to receivers, safely: only to the
// destinations webhooks.Policy allows, checked on the address actually
// dialled after DNS (so a name that resolves to a public address at
// creation and to 127.0.0.1 later is refused then), following no
// redirect, reading little of any answer and giving up after a timeout.
package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"licensedesk/licensing"
	"licensedesk/webhooks"
)

// Defaults: Standard Webhooks recommends 15 to 30 s for a receiver to
// answer; we allow 15 s in all, and read at most 4 KiB of an answer.
const (
	DefaultTimeout = 15 * time.Second
	maxAnswer      = 4 << 10
)

// Sender posts deliveries. Safe for concurrent use.
type Sender struct {
	policy webhooks.Policy
	client *http.Client
}

// New returns a sender enforcing p with timeout (0: DefaultTimeout) for
// each delivery, keeping up to conns connections per receiver.
func New(p webhooks.Policy, timeout time.Duration, conns int) *Sender {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		// Control runs for every address dialled, after DNS: the last word
		// on where a delivery goes.
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("refused: %s is not an address", address)
			}
			if err := p.CheckAddr(ap.Addr()); err != nil {
				return fmt.Errorf("refused: %w", err)
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the check above
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(conns, 16) * 4,
		MaxIdleConnsPerHost:   max(conns, 16),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &Sender{policy: p, client: &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx is a failure: the endpoint's URL should change
		},
	}}
}

// Result is how one post went.
type Result struct {
	StatusCode int // 0: no answer
	Latency    time.Duration
	Err        string // why it failed, for the delivery log; "" when delivered
}

// Delivered reports whether the receiver took it (any 2xx).
func (r Result) Delivered() bool { return r.Err == "" }

// Post sends body with headers to rawURL.
func (s *Sender) Post(ctx context.Context, rawURL string, headers map[string]string, body []byte) Result {
	start := time.Now() //clock:wall measures latency
	if err := s.policy.CheckURL(rawURL); err != nil {
		return Result{Err: "refused: " + licensing.ErrorMessage(err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "licensedesk-webhooks/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return Result{Latency: time.Since(start), Err: describe(err)} //clock:wall measures latency
	}
	// Read a little (a receiver may answer with anything, of any size),
	// then hang up.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	r := Result{StatusCode: resp.StatusCode, Latency: time.Since(start)} //clock:wall measures latency
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
	case code >= 300 && code < 400:
		r.Err = fmt.Sprintf("HTTP %d: redirects are not followed; point the endpoint at the final URL", code)
	default:
		r.Err = fmt.Sprintf("HTTP %d", code)
	}
	return r
}

// describe says why a post got no answer, without the noise of url.Error.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "no answer in time (timed out)"
	case strings.Contains(err.Error(), "refused: "):
		return err.Error()[strings.Index(err.Error(), "refused: "):]
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	}
	return err.Error()
}

// CheckHost resolves rawURL's host and refuses it when any of its
// addresses is not allowed (at creation; every delivery checks again).
func (s *Sender) CheckHost(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return licensing.FieldErrorf(licensing.Invalid, "url", "%q is not a URL", rawURL)
	}
	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err == nil {
		return nil // an address: CheckURL has checked it
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return licensing.FieldErrorf(licensing.Invalid, "url", "%s does not resolve to an address", host)
	}
	for _, a := range addrs {
		if err := s.policy.CheckAddr(a); err != nil {
			return licensing.FieldErrorf(licensing.Invalid, "url", "%s resolves to %s, which webhooks may not reach: %s", host, a, err)
		}
	}
	return nil
}
