package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// The peers the cluster's processes talk to that the chaos harness plays
// and breaks: an SMTP server (down for a while), and Slack's Web API (429
// and 5xx for a while). Both are real servers on loopback, speaking the
// real protocols.

type bufferedResponse struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(s int)   { b.status = s }
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// smtpSink is an SMTP server that keeps every message it accepts, and can
// go down (its port closed) and come back on the same port.
type smtpSink struct {
	addr string

	mu   sync.Mutex
	srv  *smtp.Server
	msgs []sinkMail
	wait chan struct{} // closed when a mail arrives
}

// sinkMail is one message as received.
type sinkMail struct {
	MessageID string
	To        string
	Subject   string
	Body      string
}

func startSMTPSink() (*smtpSink, error) {
	s := &smtpSink{wait: make(chan struct{})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.addr = l.Addr().String()
	s.serve(l)
	return s, nil
}

func (s *smtpSink) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }))
	srv.Domain = "sink.chaos.test"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// down closes the port: connections are refused until up.
func (s *smtpSink) down() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

func (s *smtpSink) up() error {
	var l net.Listener
	var err error
	for range 50 { // the port may linger a moment after the close
		if l, err = net.Listen("tcp", s.addr); err == nil {
			s.serve(l)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

func (s *smtpSink) close() { s.down() }

func (s *smtpSink) received() []sinkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkMail(nil), s.msgs...)
}

// changed is closed when the next mail arrives.
func (s *smtpSink) changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wait
}

type sinkSession struct {
	sink *smtpSink
	to   []string
}

func (x *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}
func (x *sinkSession) Reset()        { x.to = nil }
func (x *sinkSession) Logout() error { return nil }

func (x *sinkSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(m.Body)
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(m.Header.Get("Subject"))
	s := x.sink
	s.mu.Lock()
	for _, to := range x.to {
		s.msgs = append(s.msgs, sinkMail{MessageID: strings.Trim(m.Header.Get("Message-Id"), "<>"), To: to, Subject: subject, Body: string(body)})
	}
	close(s.wait)
	s.wait = make(chan struct{})
	s.mu.Unlock()
	return nil
}

// linkPattern finds emailed links in a received body (quoted-printable
// soft breaks removed first).
var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+/l/[A-Za-z0-9_=-]+`)

func linksIn(body string) []string {
	body = strings.ReplaceAll(body, "=\r\n", "")
	body = strings.ReplaceAll(body, "=\n", "")
	body = strings.ReplaceAll(body, "=3D", "=")
	return linkPattern.FindAllString(body, -1)
}

// fakeSlack is enough of Slack's Web API for the bot's posts and updates,
// which answers 429 and 5xx during its bad minute.
type fakeSlack struct {
	srv      *http.Server
	url      string
	failing  atomic.Bool
	calls    atomic.Int64
	refused  atomic.Int64
	nextTS   atomic.Int64
	failTurn atomic.Int64
}

func startFakeSlack() (*fakeSlack, error) {
	f := &fakeSlack{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.url = "http://" + l.Addr().String() + "/api/"
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = f.srv.Serve(l) }()
	return f, nil
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	_, _ = io.Copy(io.Discard, r.Body)
	if f.failing.Load() {
		f.refused.Add(1)
		if f.failTurn.Add(1)%2 == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	ts := fmt.Sprintf("1700000000.%06d", f.nextTS.Add(1))
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "C0CHAOS", "ts": ts, "users": []string{}})
}

func (f *fakeSlack) close() { _ = f.srv.Close() }
