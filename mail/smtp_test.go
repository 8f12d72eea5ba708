package mail_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"licensedesk/mail"
)

// smtpServer is an in-process SMTP server that keeps what it receives.
// Recipients starting "nobody@" get 550, "busy@" get 451.
type smtpServer struct {
	addr       string
	user, pass string        // non-empty: AUTH PLAIN is offered and required
	stall      chan struct{} // non-nil: DATA waits until it is closed

	mu   sync.Mutex
	msgs []received

	// throttle answers the next MAIL FROM commands with these codes, one
	// each (paced_test.go).
	throttle []int
}

type received struct {
	from string
	to   []string
	data []byte
	user string // who authenticated, if anyone
	tls  bool
}

type serverOpts struct {
	user, pass string
	stall      bool
	starttls   *tls.Config // offer STARTTLS
	implicit   *tls.Config // TLS from the first byte (smtps)
}

func startSMTP(t *testing.T, o serverOpts) *smtpServer {
	t.Helper()
	s := &smtpServer{user: o.user, pass: o.pass}
	if o.stall {
		s.stall = make(chan struct{})
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // the test talks PLAIN over loopback
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.TLSConfig = o.starttls
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.implicit != nil {
		l = tls.NewListener(l, o.implicit)
	}
	s.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		if s.stall != nil {
			close(s.stall)
		}
		_ = srv.Close()
	})
	return s
}

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

type session struct {
	srv  *smtpServer
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string {
	if s.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.srv.user || password != s.srv.pass {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	if code := s.srv.nextThrottle(); code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Slow down"}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch {
	case strings.HasPrefix(to, "nobody@"):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	case strings.HasPrefix(to, "busy@"):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.stall != nil {
		<-s.srv.stall
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, received{from: s.from, to: s.to, data: b, user: s.user, tls: isTLS})
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func newSender(t *testing.T, url string) *mail.SMTP {
	t.Helper()
	s, err := mail.NewSMTP(url, "Licence Desk <desk@licensedesk.test>")
	if err != nil {
		t.Fatal(err)
	}
	s.Timeout = 5 * time.Second
	return s
}

func testMessage(t *testing.T, key, to string) mail.Message {
	t.Helper()
	subject, text, html, err := mail.Render(mail.KindConfirmMove, mail.ConfirmMove{Name: "Alice Ä", SEN: "SEN-1000001",
		Product: "Jira", NewEmail: "new@x.test", FromEmail: "alice@acme.test", Roles: []string{"billing"},
		URL: "https://desk.example/l/tok", Deadline: deadline})
	if err != nil {
		t.Fatal(err)
	}
	return mail.Message{Key: key, To: to, Subject: subject, Text: text, HTML: html}.WithLinks("https://desk.example/l/tok")
}

// parsed is a received message taken apart.
type parsed struct {
	header     netmail.Header
	text, html string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{header: msg.Header}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(part) // NextPart decodes quoted-printable
		if part.Header.Get("Content-Transfer-Encoding") != "" {
			t.Errorf("part encoded as %q", part.Header.Get("Content-Transfer-Encoding"))
		}
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), "\r\n", "\n")
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			p.text = s
		case "text/html":
			p.html = s
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	return p
}

func TestSMTP_SendsTextAndHTML(t *testing.T) {
	srv := startSMTP(t, serverOpts{})
	s := newSender(t, "smtp://"+srv.addr)
	m := testMessage(t, "move/SEN-1000001/new@x.test/confirm/alice@acme.test", "Alice <alice@acme.test>")
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("server got %d messages", len(got))
	}
	r := got[0]
	if r.from != "desk@licensedesk.test" || len(r.to) != 1 || r.to[0] != "alice@acme.test" || r.user != "" || r.tls {
		t.Errorf("envelope %q → %q, user %q, tls %v", r.from, r.to, r.user, r.tls)
	}
	p := parse(t, r.data)
	dec := new(mime.WordDecoder)
	for h, want := range map[string]string{
		"From":           `"Licence Desk" <desk@licensedesk.test>`,
		"To":             `"Alice" <alice@acme.test>`,
		"Subject":        "Please confirm moving SEN-1000001 to new@x.test",
		"Message-Id":     "<" + mail.MessageID(m.Key, "licensedesk.test") + ">",
		"Auto-Submitted": "auto-generated",
	} {
		v, err := dec.DecodeHeader(p.header.Get(h))
		if err != nil || v != want {
			t.Errorf("%s = %q (%v), want %q", h, v, err, want)
		}
	}
	if p.header.Get("Date") == "" {
		t.Error("no Date")
	}
	if strings.TrimSpace(p.text) != strings.TrimSpace(m.Text) {
		t.Errorf("text part:\n%s\nwant\n%s", p.text, m.Text)
	}
	if strings.TrimSpace(p.html) != strings.TrimSpace(m.HTML) {
		t.Errorf("HTML part differs:\n%s", p.html)
	}
	if !strings.Contains(p.text, "Hi Alice Ä,") || !strings.Contains(p.html, `href="https://desk.example/l/tok"`) {
		t.Error("parts lack the name or the link")
	}
}

func TestSMTP_MessageIDFollowsKey(t *testing.T) {
	srv := startSMTP(t, serverOpts{})
	s := newSender(t, "smtp://"+srv.addr)
	for _, key := range []string{"k1", "k1", "k2"} {
		if err := s.Send(context.Background(), testMessage(t, key, "alice@acme.test")); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.received()
	ids := make([]string, len(got))
	for i, r := range got {
		ids[i] = parse(t, r.data).header.Get("Message-Id")
	}
	if len(ids) != 3 || ids[0] != ids[1] || ids[0] == ids[2] || !strings.HasSuffix(ids[0], "@licensedesk.test>") {
		t.Errorf("Message-IDs %q: want the first two equal, the third different", ids)
	}
}

func TestSMTP_AuthPlain(t *testing.T) {
	srv := startSMTP(t, serverOpts{user: "desk", pass: "p@ss word"})
	s := newSender(t, "smtp://desk:p%40ss%20word@"+srv.addr)
	if err := s.Send(context.Background(), testMessage(t, "k", "alice@acme.test")); err != nil {
		t.Fatal(err)
	}
	if got := srv.received(); len(got) != 1 || got[0].user != "desk" {
		t.Fatalf("received %+v, want one message from user desk", got)
	}

	bad := newSender(t, "smtp://desk:wrong@"+srv.addr)
	err := bad.Send(context.Background(), testMessage(t, "k", "alice@acme.test"))
	if err == nil {
		t.Fatal("wrong password: no error")
	}
	if mail.IsPermanent(err) {
		t.Errorf("a failed login is a configuration problem, retried once fixed; got permanent %v", err)
	}
	if len(srv.received()) != 1 {
		t.Error("a message got through with a wrong password")
	}

	// No credentials for a server that wants them: the server refuses MAIL
	// FROM with 5xx, which every mail would get until SMTP_URL is fixed.
	anon := newSender(t, "smtp://"+srv.addr)
	err = anon.Send(context.Background(), testMessage(t, "k", "alice@acme.test"))
	if err == nil || mail.IsPermanent(err) || !strings.Contains(err.Error(), "502") {
		t.Errorf("no login: err = %v; want a temporary 502", err)
	}
}

func TestSMTP_5xxIsPermanent(t *testing.T) {
	srv := startSMTP(t, serverOpts{})
	s := newSender(t, "smtp://"+srv.addr)
	err := s.Send(context.Background(), testMessage(t, "k", "nobody@acme.test"))
	if err == nil || !mail.IsPermanent(err) {
		t.Fatalf("550 reply: err = %v, permanent %v; want a permanent error", err, mail.IsPermanent(err))
	}
	if !strings.Contains(err.Error(), "550") {
		t.Errorf("error %q does not show the reply", err)
	}
	err = s.Send(context.Background(), testMessage(t, "k", "busy@acme.test"))
	if err == nil || mail.IsPermanent(err) {
		t.Fatalf("451 reply: err = %v; want a temporary error", err)
	}
	err = s.Send(context.Background(), testMessage(t, "k", "not an address"))
	if err == nil || !mail.IsPermanent(err) {
		t.Fatalf("malformed address: err = %v; want a permanent error", err)
	}
	if len(srv.received()) != 0 {
		t.Error("something was delivered")
	}
}

func TestSMTP_ServerDownIsTemporary(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	s := newSender(t, "smtp://"+addr)
	err = s.Send(context.Background(), testMessage(t, "k", "alice@acme.test"))
	if err == nil || mail.IsPermanent(err) {
		t.Fatalf("server down: err = %v; want a temporary error", err)
	}
	if mail.IsPermanent(nil) || mail.IsPermanent(errors.New("550 looks like a reply but is not one")) {
		t.Error("IsPermanent of nil or a plain error")
	}
}

func TestSMTP_HonoursContext(t *testing.T) {
	srv := startSMTP(t, serverOpts{stall: true})
	s := newSender(t, "smtp://"+srv.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Send(ctx, testMessage(t, "k", "alice@acme.test"))
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Send took %v after its context ended", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || mail.IsPermanent(err) {
		t.Errorf("err = %v; want a temporary context.DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, testMessage(t, "k", "alice@acme.test")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
}

func TestSMTP_TLS(t *testing.T) {
	serverTLS, clientTLS := testCert(t)
	for _, c := range []struct {
		name   string
		scheme string
		opts   serverOpts
	}{
		{"STARTTLS", "smtp", serverOpts{user: "desk", pass: "pw", starttls: serverTLS}},
		{"STARTTLS required", "smtp+starttls", serverOpts{user: "desk", pass: "pw", starttls: serverTLS}},
		{"implicit TLS", "smtps", serverOpts{user: "desk", pass: "pw", implicit: serverTLS}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := startSMTP(t, c.opts)
			s := newSender(t, c.scheme+"://desk:pw@"+srv.addr)
			s.TLSConfig = clientTLS
			if err := s.Send(context.Background(), testMessage(t, "k", "alice@acme.test")); err != nil {
				t.Fatal(err)
			}
			if got := srv.received(); len(got) != 1 || !got[0].tls || got[0].user != "desk" {
				t.Fatalf("received %+v; want one message over TLS from desk", got)
			}

			// Without trusting the certificate, nothing is sent.
			untrusting := newSender(t, c.scheme+"://desk:pw@"+srv.addr)
			err := untrusting.Send(context.Background(), testMessage(t, "k", "alice@acme.test"))
			if err == nil || mail.IsPermanent(err) {
				t.Errorf("untrusted certificate: err = %v; want a temporary error", err)
			}
		})
	}
}

// TestSMTP_STARTTLSRequiredRefusesPlaintext: smtp+starttls:// to a server
// that offers no STARTTLS sends nothing, and says why; plain smtp:// is
// opportunistic and sends in plaintext.
func TestSMTP_STARTTLSRequiredRefusesPlaintext(t *testing.T) {
	srv := startSMTP(t, serverOpts{})
	s := newSender(t, "smtp+starttls://"+srv.addr)
	err := s.Send(context.Background(), testMessage(t, "k", "alice@acme.test"))
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") || !strings.Contains(err.Error(), "smtp+starttls://") {
		t.Fatalf("err = %v; want one that says the server offers no STARTTLS, which smtp+starttls:// requires", err)
	}
	if mail.IsPermanent(err) {
		t.Errorf("a TLS problem is configuration, retried once fixed; got permanent %v", err)
	}
	if n := len(srv.received()); n != 0 {
		t.Fatalf("the server got %d messages in plaintext", n)
	}
	if err := newSender(t, "smtp://"+srv.addr).Send(context.Background(), testMessage(t, "k", "alice@acme.test")); err != nil {
		t.Fatalf("smtp:// without STARTTLS: %v", err)
	}
	if got := srv.received(); len(got) != 1 || got[0].tls {
		t.Fatalf("smtp://: received %+v; want one plaintext message", got)
	}
}

// TestSMTP_TrustsSSLCertFile: a private CA named by SSL_CERT_FILE (which
// Go reads once per process, hence the child process) is trusted for
// STARTTLS without any TLSConfig, as the README says.
func TestSMTP_TrustsSSLCertFile(t *testing.T) {
	if addr := os.Getenv("MAILTEST_SEND_TO"); addr != "" { // the child
		if err := newSender(t, "smtp+starttls://"+addr).Send(context.Background(), testMessage(t, "k", "alice@acme.test")); err != nil {
			t.Fatal(err)
		}
		return
	}
	serverTLS, _ := testCert(t)
	srv := startSMTP(t, serverOpts{starttls: serverTLS})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: serverTLS.Certificates[0].Certificate[0]})
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	child := func(certFile string) error {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSMTP_TrustsSSLCertFile$", "-test.count=1")
		cmd.Env = append(os.Environ(), "MAILTEST_SEND_TO="+srv.addr, "SSL_CERT_FILE="+certFile, "SSL_CERT_DIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := child(filepath.Join(t.TempDir(), "none.pem")); err == nil || len(srv.received()) != 0 {
		t.Fatalf("without the CA: err = %v, %d messages; want a refused certificate", err, len(srv.received()))
	}
	if err := child(caFile); err != nil {
		t.Fatalf("with SSL_CERT_FILE: %v", err)
	}
	if got := srv.received(); len(got) != 1 || !got[0].tls {
		t.Fatalf("received %+v; want one message over TLS", got)
	}
}

// testCert makes a self-signed certificate for 127.0.0.1.
func testCert(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return server, &tls.Config{RootCAs: pool}
}

func TestNewSMTP(t *testing.T) {
	const from = "desk@licensedesk.test"
	for _, ok := range []string{"smtp://mail.example.com", "smtp://u:p@mail.example.com:25", "smtps://u@mail.example.com:2465/",
		" smtp://[::1]:2525 ", "smtp+starttls://u:p@mail.example.com"} {
		if _, err := mail.NewSMTP(ok, from); err != nil {
			t.Errorf("NewSMTP(%q): %v", ok, err)
		}
	}
	s, err := mail.NewSMTP("smtp://mail.example.com", "Licence Desk <desk@licensedesk.test>")
	if err != nil || s.From() != `"Licence Desk" <desk@licensedesk.test>` {
		t.Errorf("From = %v, %v", s, err)
	}
	for _, c := range []struct{ url, from, want string }{
		{"", from, "SMTP_URL"},
		{"http://mail.example.com", from, "SMTP_URL: scheme"},
		{"mail.example.com:25", from, "SMTP_URL"},
		{"smtp://", from, "SMTP_URL: no host"},
		{"smtp:mail.example.com", from, "SMTP_URL: no host"},
		{"smtp://mail.example.com:99999", from, "SMTP_URL: bad port"},
		{"smtp://mail.example.com/x?y=1", from, "SMTP_URL: unexpected path"},
		{"smtp://u:hunter2@mail.example.com:2x", from, "SMTP_URL"},
		{"smtp://u:hunter2@mail.example.com", "", "MAIL_FROM is required"},
		{"smtp://u:hunter2@mail.example.com", "desk", "MAIL_FROM"},
	} {
		_, err := mail.NewSMTP(c.url, c.from)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("NewSMTP(%q, %q) = %v; want an error starting %q", c.url, c.from, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("NewSMTP(%q): the error shows the password: %v", c.url, err)
		}
	}
}

func ExampleNewSMTP() {
	_, err := mail.NewSMTP("smtp//mail.example.com", "desk@example.com")
	fmt.Println(err)
	// Output: SMTP_URL: scheme must be smtp+starttls://, smtps:// or smtp://, not ""
}

// L-4: plain smtp:// to another host can be downgraded by anyone on the
// path; the process is told so at start.
func TestSMTP_StrippableOnlyForOpportunisticRemote(t *testing.T) {
	for url, want := range map[string]bool{
		"smtp://user:pw@smtp.example.com:587":          true,
		"smtp://10.0.0.5:25":                           true,
		"smtp+starttls://user:pw@smtp.example.com:587": false,
		"smtps://user:pw@smtp.example.com":             false,
		"smtp://localhost:1025":                        false,
		"smtp://127.0.0.1:1025":                        false,
		"smtp://[::1]:1025":                            false,
	} {
		s, err := mail.NewSMTP(url, "desk@example.com")
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if got := s.Strippable(); got != want {
			t.Errorf("%s: Strippable() = %v, want %v", url, got, want)
		}
	}
}
