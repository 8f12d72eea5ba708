package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Socket Mode (SPEC §11): the bot opens a WebSocket to Slack
// (apps.connections.open) and Slack sends slash commands and button presses
// over it, so a server without a public URL can serve /license. Each
// envelope takes the same path as an HTTP request (answer.go) and is
// acknowledged with the same reply (envelopes.go).
//
// slack-go's socketmode client reconnects when Slack sends disconnect and
// when the socket closes. Its own dead-man timer counts only WebSocket
// pings and checks once an interval, so it fires one to two intervals
// after the last ping, and a socket can die without closing
// (slack-go/slack#1093); so every connection here is watched for bytes
// read, and closed when none arrive for IdleTimeout, which makes the
// client reconnect.

// DefaultIdleTimeout is how long a connection may stay silent (not even a
// ping) before it is taken for dead.
const DefaultIdleTimeout = 30 * time.Second

// maxFrameBytes bounds one WebSocket message, so a runaway frame cannot
// exhaust memory: slack-go closes the connection (and reconnects) instead.
// Envelopes up to maxEnvelopeBytes get an answer (envelopes.go).
const maxFrameBytes = 4 * maxBodyBytes

// SocketModeOptions configure a Socket Mode connection.
type SocketModeOptions struct {
	AppToken string // SLACK_APP_TOKEN, an app-level token (xapp-…) with connections:write
	APIURL   string // SLACK_API_URL, or "" for Slack's own
	// Respond posts replies to response_urls: a button's reply, as over
	// HTTP, and a command's reply too large for an acknowledgement.
	Respond     Responder
	Logger      *slog.Logger
	IdleTimeout time.Duration // zero: DefaultIdleTimeout
	HTTPClient  *http.Client  // for apps.connections.open; nil: one with a 30-second timeout
}

// SocketMode serves a Registry over Slack's Socket Mode.
type SocketMode struct {
	reg     *Registry
	respond Responder
	logger  *slog.Logger
	idle    time.Duration
	client  *socketmode.Client
	seen    *envelopeLog

	connected  atomic.Bool
	reconnects atomic.Int64

	mu        sync.Mutex
	everUp    bool
	downSince time.Time
	started   bool          // Start has had its outcome
	outcome   chan error    // Start's outcome: nil (serving, or retrying) or the token's refusal
	cancel    func()        // stops the connection
	done      chan struct{} // closed when the connection has stopped
}

// NewSocketMode prepares a Socket Mode connection serving reg; Start opens
// it. A token that is not an app-level token is refused here.
func NewSocketMode(reg *Registry, o SocketModeOptions) (*SocketMode, error) {
	if !strings.HasPrefix(o.AppToken, "xapp-") {
		return nil, errors.New("SLACK_APP_TOKEN is not an app-level token (xapp-…): create one under Basic Information → App-Level Tokens with the connections:write scope")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	s := &SocketMode{reg: reg, respond: o.Respond, logger: o.Logger, idle: o.IdleTimeout,
		seen: newEnvelopeLog(seenFor), outcome: make(chan error, 1), done: make(chan struct{})}
	apiOpts := []slack.Option{slack.OptionAppLevelToken(o.AppToken), slack.OptionHTTPClient(o.HTTPClient)}
	if o.APIURL != "" {
		// slack-go appends the method name to the URL as it is.
		apiOpts = append(apiOpts, slack.OptionAPIURL(strings.TrimSuffix(o.APIURL, "/")+"/"))
	}
	s.client = socketmode.New(slack.New("", apiOpts...),
		socketmode.OptionDialer(s.dialer()),
		// A backstop only: the watch on every connection fires first.
		socketmode.OptionPingInterval(2*o.IdleTimeout),
		socketmode.OptionReadLimit(maxFrameBytes),
		socketmode.OptionLog(slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug)),
	)
	return s, nil
}

// startWait bounds how long Start waits for Slack's first answer.
var startWait = 15 * time.Second // a var so tests need not wait for it

// Start connects and serves envelopes until ctx ends. It returns once the
// first connection is up, or once the first attempt has failed for a
// reason that may pass (Slack unreachable, say), or after startWait: it
// then keeps trying in the background, and Ready says it is not connected.
// When Slack refuses the token it stops and returns why: nothing would
// ever reach the bot.
func (s *SocketMode) Start(ctx context.Context) error {
	ctx, s.cancel = context.WithCancel(ctx)
	go s.consume(ctx)
	go s.run(ctx)
	t := time.NewTimer(startWait)
	defer t.Stop()
	var err error
	select {
	case err = <-s.outcome:
	case <-t.C:
		s.mu.Lock()
		pending := s.started // the outcome came just now
		s.started = true     // later ones are logged, not reported
		s.mu.Unlock()
		if !pending {
			s.logger.Warn("slack socket mode: no answer from Slack yet; still trying", "waited", startWait)
			return nil
		}
		err = <-s.outcome
	case <-ctx.Done():
		return nil
	}
	if err != nil {
		s.cancel()
		<-s.done
	}
	return err
}

// Wait blocks until the connection has stopped, once Start's context has
// ended.
func (s *SocketMode) Wait() { <-s.done }

// Connected reports whether the Socket Mode connection is up.
func (s *SocketMode) Connected() bool { return s.connected.Load() }

// Reconnects counts the connections made after the first.
func (s *SocketMode) Reconnects() int64 { return s.reconnects.Load() }

// Ready is the readiness check: nil while connected.
func (s *SocketMode) Ready(context.Context) error {
	if s.connected.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.everUp {
		return errors.New("slack socket mode has not connected yet")
	}
	return fmt.Errorf("slack socket mode disconnected %s ago", time.Since(s.downSince).Round(time.Millisecond)) //clock:wall connection liveness
}

// run keeps slack-go's client running: it returns only on a refused token
// (or a 404 from apps.connections.open), which ends Start with that error
// or, later on, is retried every minute while HTTP goes on serving.
func (s *SocketMode) run(ctx context.Context) {
	defer close(s.done)
	for {
		err := s.client.RunContext(ctx)
		if ctx.Err() != nil {
			return
		}
		s.down()
		wait := 5 * time.Second
		if refused := refusal(err); refused != nil {
			wait = time.Minute
			if s.report(refused) {
				return
			}
			s.logger.Error("slack socket mode: "+refused.Error(), "retry_in", wait)
		} else {
			s.report(nil)
			s.logger.Warn("slack socket mode stopped", "err", err, "retry_in", wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// report gives Start its outcome, once; it says whether this was it.
func (s *SocketMode) report(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return false
	}
	s.started = true
	s.outcome <- err
	return true
}

// consume reads the client's events and never blocks on an envelope:
// slack-go stops reading the socket (pings included) while its events wait.
func (s *SocketMode) consume(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-s.client.Events:
			s.event(ctx, evt)
		}
	}
}

func (s *SocketMode) event(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		s.up()
	case socketmode.EventTypeConnecting:
		s.down()
	case socketmode.EventTypeConnectionError:
		s.down()
		ce, _ := evt.Data.(*slack.ConnectionErrorEvent)
		if ce == nil {
			return
		}
		if refused := refusal(ce.ErrorObj); refused != nil {
			if !s.report(refused) {
				s.logger.Error("slack socket mode: "+refused.Error(), "attempt", ce.Attempt, "retry_in", ce.Backoff)
			}
			return
		}
		s.logger.Warn("slack socket mode cannot connect", "err", ce.ErrorObj, "attempt", ce.Attempt, "retry_in", ce.Backoff)
		s.report(nil)
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		go s.envelope(ctx, evt)
	case socketmode.EventTypeEventsAPI:
		// Acknowledged at once, then handled on the one path HTTP takes.
		if req := evt.Request; req != nil {
			go func() {
				s.ack(ctx, s.logger, req, nil, "")
				var e eventEnvelope
				if err := json.Unmarshal(req.Payload, &e); err != nil {
					s.logger.Warn("slack socket mode: unreadable event ignored", "err", err)
					return
				}
				s.reg.answerEvent(ctx, e, strconv.Itoa(req.RetryAttempt))
			}()
		}
	case socketmode.EventTypeErrorBadMessage:
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			go s.badEnvelope(ctx, bad)
		}
	case socketmode.EventTypeIncomingError:
		ie, _ := evt.Data.(*slack.IncomingEventError)
		if ie == nil {
			return
		}
		var syntax *json.SyntaxError
		var wrongType *json.UnmarshalTypeError
		if errors.As(ie.ErrorObj, &syntax) || errors.As(ie.ErrorObj, &wrongType) {
			s.logger.Warn("slack socket mode: unreadable frame ignored", "err", ie.ErrorObj)
			return
		}
		s.logger.Info("slack socket mode: connection lost", "err", ie.ErrorObj)
	case socketmode.EventTypeErrorWriteFailed:
		if wf, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok {
			s.logger.Warn("slack socket mode: acknowledgement not sent", "err", wf.Cause, "envelope", wf.Response.EnvelopeID)
		}
	}
}

func (s *SocketMode) up() {
	s.mu.Lock()
	again, down := s.everUp, time.Since(s.downSince) //clock:wall connection liveness
	s.everUp = true
	s.mu.Unlock()
	s.connected.Store(true)
	if again {
		s.reconnects.Add(1)
		s.logger.Info("slack socket mode reconnected", "down_for", down.Round(time.Millisecond))
	} else {
		s.logger.Info("slack socket mode connected")
	}
	s.report(nil)
}

func (s *SocketMode) down() {
	if s.connected.Swap(false) {
		s.mu.Lock()
		s.downSince = time.Now() //clock:wall connection liveness
		s.mu.Unlock()
	}
}

// refusal says why Slack will never accept this token or URL, or nil when
// err may pass.
func refusal(err error) error {
	if err == nil {
		return nil
	}
	var status slack.StatusCodeError
	if errors.As(err, &status) && status.Code == http.StatusNotFound {
		return fmt.Errorf("apps.connections.open answered 404 Not Found: is SLACK_API_URL right? (%w)", err)
	}
	code := err.Error()
	var slackErr slack.SlackErrorResponse
	if errors.As(err, &slackErr) {
		code = slackErr.Err
	}
	switch code {
	case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type", "missing_scope":
		return fmt.Errorf("Slack refused SLACK_APP_TOKEN (%s): it must be this app's app-level token (xapp-…) with the connections:write scope, and Socket Mode must be on in the app's settings", code)
	}
	return nil
}

// dialer dials every connection through watch.
func (s *SocketMode) dialer() *websocket.Dialer {
	nd := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 45 * time.Second,
		// Above Slack's 20 KiB limit on what it accepts, so an
		// acknowledgement always leaves as one frame.
		WriteBufferSize: 32 << 10,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return s.watch(c), nil
		},
	}
}

// watchedConn notes when it last read anything: a frame, a ping, a byte of
// the handshake.
type watchedConn struct {
	net.Conn
	lastRead atomic.Int64 // UnixNano
	closed   chan struct{}
	once     sync.Once
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.lastRead.Store(time.Now().UnixNano()) //clock:wall connection liveness
	}
	return n, err
}

func (c *watchedConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// watch closes c when nothing arrives on it for the idle timeout; slack-go
// then fails its read and reconnects.
func (s *SocketMode) watch(conn net.Conn) net.Conn {
	c := &watchedConn{Conn: conn, closed: make(chan struct{})}
	c.lastRead.Store(time.Now().UnixNano()) //clock:wall connection liveness
	go func() {
		// The timer is re-armed for what is left of the idle timeout
		// since the last read, so silence is noticed when it reaches it.
		t := time.NewTimer(s.idle)
		defer t.Stop()
		for {
			select {
			case <-c.closed:
				return
			case now := <-t.C:
				silent := now.Sub(time.Unix(0, c.lastRead.Load()))
				if silent < s.idle {
					t.Reset(s.idle - silent)
					continue
				}
				s.logger.Warn("slack socket mode: nothing received, reconnecting", "silent_for", silent.Round(time.Millisecond))
				s.down()
				c.Close()
				return
			}
		}
	}()
	return c
}
