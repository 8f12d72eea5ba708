package mail

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"licensedesk/licensing"
)

// DefaultTimeout bounds connecting to the SMTP server and each command.
const DefaultTimeout = 30 * time.Second

// SMTP sends mail through an SMTP server (SMTP_URL) from MAIL_FROM. Each
// Send uses its own connection, so an SMTP is safe for concurrent use.
type SMTP struct {
	// Timeout bounds connecting and each SMTP command; a whole Send gets at
	// most four times as long. Zero means DefaultTimeout. The context given
	// to Send can only shorten these.
	Timeout time.Duration
	// TLSConfig, if set, is used for STARTTLS and implicit TLS instead of
	// the system's roots (for a private CA). Its ServerName defaults to the
	// host of SMTP_URL.
	TLSConfig *tls.Config

	host        string
	port        int
	implicitTLS bool
	requireTLS  bool // smtp+starttls: STARTTLS or nothing
	user, pass  string
	auth        bool
	from        *netmail.Address
	fromNamed   bool   // MAIL_FROM had a display name of its own
	idDomain    string // right-hand side of Message-IDs: MAIL_FROM's domain
}

// NewSMTP parses SMTP_URL and MAIL_FROM:
//
//	smtp+starttls://[user:password@]host[:port]  port 587 by default; STARTTLS required
//	smtps://[user:password@]host[:port]          port 465 by default; implicit TLS
//	smtp://[user:password@]host[:port]           port 587 by default; STARTTLS when the server offers it
//
// Only plain smtp:// sends in plaintext to a server that offers no
// STARTTLS (or to anyone in between who strips the offer); the other two
// refuse to. Certificates are checked against the system's roots, which
// SSL_CERT_FILE and SSL_CERT_DIR replace (a private CA), or TLSConfig.
//
// With a user, it authenticates with PLAIN or LOGIN, whichever the server
// offers, and refuses to send the password over an unencrypted connection
// (except to localhost). Without one it sends unauthenticated. Percent-encode
// special characters in the user and password. MAIL_FROM is an address,
// optionally with a name ("Acme Licensing <desk@example.com>"); without one
// the name is the default brand's (SignAs sets another). Errors name the setting at
// fault and never repeat the password.
func NewSMTP(smtpURL, from string) (*SMTP, error) {
	if strings.TrimSpace(smtpURL) == "" {
		return nil, errors.New("SMTP_URL is empty")
	}
	u, err := url.Parse(strings.TrimSpace(smtpURL))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password included
		}
		return nil, fmt.Errorf("SMTP_URL: not a valid URL (%v); want smtp://user:password@host:port or smtps://...", err)
	}
	s := &SMTP{}
	switch u.Scheme {
	case "smtp":
		s.port = gomail.DefaultPortTLS
	case "smtp+starttls":
		s.port, s.requireTLS = gomail.DefaultPortTLS, true
	case "smtps":
		s.port, s.implicitTLS = gomail.DefaultPortSSL, true
	default:
		return nil, fmt.Errorf("SMTP_URL: scheme must be smtp+starttls://, smtps:// or smtp://, not %q", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, errors.New("SMTP_URL: no host; want smtp://user:password@host:port or smtps://...")
	}
	if s.host = u.Hostname(); s.host == "" {
		return nil, errors.New("SMTP_URL: no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("SMTP_URL: bad port %q", p)
		}
		s.port = n
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("SMTP_URL: unexpected path, query or fragment; want smtp://user:password@host:port")
	}
	if u.User != nil && u.User.Username() != "" {
		s.auth = true
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	if strings.TrimSpace(from) == "" {
		return nil, errors.New("MAIL_FROM is required when SMTP_URL is set")
	}
	if s.from, err = netmail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("MAIL_FROM: %q is not an email address: %v", from, err)
	}
	s.fromNamed = s.from.Name != ""
	if !s.fromNamed {
		s.from.Name = licensing.DefaultBrandName
	}
	s.idDomain = s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	return s, nil
}

// SignAs makes name (BRAND_NAME, which the mails sign with) the From
// display name, unless MAIL_FROM named one itself.
func (s *SMTP) SignAs(name string) {
	if name = strings.TrimSpace(name); name != "" && !s.fromNamed {
		s.from.Name = name
	}
}

// From is the sender's address (MAIL_FROM).
func (s *SMTP) From() string { return s.from.String() }

// MessageID is the Message-ID header (without angle brackets) that a
// message with key gets when sent from an address at domain: the same key
// always gives the same ID, so a message sent twice (a retry after a crash)
// is recognisably one message.
func MessageID(key, domain string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + ".licensedesk@" + domain
}

// Send delivers m as multipart/alternative (text and HTML; text only when
// m.HTML is empty) with a Message-ID derived from m.Key. The context
// bounds the whole exchange: cancelling it aborts a send in progress.
// Errors are classified by IsPermanent.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return permanent(fmt.Errorf("mail: bad recipient %q: %w", m.To, err))
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.Key != "" {
		msg.SetMessageIDWithValue(MessageID(m.Key, s.idDomain))
	}
	msg.SetUserAgent("licensedesk")
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated") // RFC 3834: no auto-replies
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, 4*timeout)
	defer cancel()

	var conns []net.Conn
	defer func() {
		for _, c := range conns { // go-mail leaves a connection open when the greeting or TLS fails
			_ = c.Close()
		}
	}()
	policy := gomail.TLSOpportunistic
	if s.requireTLS {
		policy = gomail.TLSMandatory
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSPolicy(policy),
		gomail.WithTLSConfig(s.tlsConfig()),
		gomail.WithDialContextFunc(func(dialCtx context.Context, network, addr string) (net.Conn, error) {
			c, err := s.dial(ctx, dialCtx, network, addr)
			if err == nil {
				conns = append(conns, c)
			}
			return c, err
		}),
	}
	if s.auth {
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.user), gomail.WithPassword(s.pass))
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("mail: SMTP client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		if s.requireTLS && strings.Contains(err.Error(), "does not support STARTTLS") {
			err = fmt.Errorf("the server does not offer STARTTLS, and SMTP_URL smtp+starttls:// sends nothing without it (%w)", err)
		}
		return fmt.Errorf("mail: send %q to %s via %s:%d: %w", m.Subject, to.Address, s.host, s.port, err)
	}
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.host
	}
	return cfg
}

// dial connects for one Send. The connection heeds sendCtx (not only
// dialCtx, which go-mail ends once connected): when sendCtx ends, pending
// and later reads and writes fail at once, whatever deadline go-mail sets.
func (s *SMTP) dial(sendCtx, dialCtx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(dialCtx, network, addr)
	if err != nil {
		return nil, err
	}
	c := &ctxConn{Conn: raw}
	c.stop = context.AfterFunc(sendCtx, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.ended = true
		_ = raw.SetDeadline(past)
	})
	if !s.implicitTLS {
		return c, nil
	}
	tc := tls.Client(c, s.tlsConfig())
	if err := tc.HandshakeContext(dialCtx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

var past = time.Unix(1, 0)

type ctxConn struct {
	net.Conn
	stop func() bool

	mu    sync.Mutex
	ended bool // the context ended: every deadline is in the past
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// setDeadline sets a deadline unless the context ended, which no deadline
// may undo. (t is not capped at the context's deadline: the AfterFunc acts
// once the context reports its error, so callers then see ctx.Err().)
func (c *ctxConn) setDeadline(set func(time.Time) error, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		t = past
	}
	return set(t)
}

func (c *ctxConn) SetDeadline(t time.Time) error { return c.setDeadline(c.Conn.SetDeadline, t) }
func (c *ctxConn) SetReadDeadline(t time.Time) error {
	return c.setDeadline(c.Conn.SetReadDeadline, t)
}
func (c *ctxConn) SetWriteDeadline(t time.Time) error {
	return c.setDeadline(c.Conn.SetWriteDeadline, t)
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err says this message can never be
// delivered as it is, so retrying is pointless: the SMTP server answered
// 5xx to its recipient or its content (unknown user, bad address, message
// refused), or the message itself is malformed (no Key, a recipient that
// is not an address). Anything else is temporary: a server that cannot be
// reached, a 4xx reply, a timeout, and also failures that would hit every
// message alike because of our configuration (TLS, a refused login, a 5xx
// reply to MAIL FROM), so that mail goes out once SMTP_URL or MAIL_FROM is
// fixed rather than being dropped.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.As(err, new(permanentError)) {
		return true
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		switch se.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
			code := se.ErrorCode()
			return code >= 500 && code < 600
		}
	}
	return false
}

// Strippable says SMTP_URL is plain smtp:// to a host other than this
// machine: STARTTLS is only used when offered, so anyone on the path who
// strips the offer reads the mail (links included). Processes warn at
// start; smtp+starttls:// or smtps:// close it.
func (s *SMTP) Strippable() bool {
	if s.implicitTLS || s.requireTLS {
		return false
	}
	if s.host == "localhost" {
		return false
	}
	ip := net.ParseIP(s.host)
	return ip == nil || !ip.IsLoopback()
}
