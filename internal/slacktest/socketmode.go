package slacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	slackgotest "github.com/slack-go/slack/slacktest"
)

// SocketMode is a fake of Slack's Socket Mode: apps.connections.open, which
// checks the app-level token and hands out a one-time WebSocket URL, and the
// WebSocket behind it, which says hello, pings, delivers the envelopes a
// test sends and records their acknowledgements. It runs on slack-go's own
// slacktest server, whose apps.connections.open answers any token with an
// RTM-style socket; both are replaced here. A test can make the server send
// disconnect, go silent (a dead socket that still looks open) or drop the
// connection. Envelopes sent while no connection is usable wait for the
// next one, as Slack keeps them for a reconnecting app.
//
//	fake := slacktest.NewSocketMode(t, "xapp-1-test")
//	// SLACK_APP_TOKEN=xapp-1-test SLACK_API_URL=fake.URL()
//	fake.WaitConnections(t, 1, 5*time.Second)
//	ack := fake.Deliver(t, slacktest.SlashCommandEnvelope("e1", slack.SlashCommand{Text: "help"}), 3*time.Second)
type SocketMode struct {
	// PingInterval is how often each connection is pinged (100 ms unless
	// set before the first connection).
	PingInterval time.Duration

	appToken string
	srv      *slackgotest.Server

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	tickets map[string]bool
	opens   int
	conns   []*socketConn
	down    bool // apps.connections.open answers 503
	queue   [][]byte
	acks    map[string][]json.RawMessage
	closed  bool
}

type socketConn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex // one writer at a time, as gorilla/websocket requires
	live   bool       // hello sent, not retired: envelopes go here
	silent bool       // sends nothing, ignores what it reads
	done   chan struct{}
}

// Envelope is one Socket Mode message from Slack to the app.
type Envelope struct {
	Type                   string `json:"type"`
	EnvelopeID             string `json:"envelope_id,omitempty"`
	Payload                any    `json:"payload,omitempty"`
	AcceptsResponsePayload bool   `json:"accepts_response_payload"`
	RetryAttempt           int    `json:"retry_attempt"`
	RetryReason            string `json:"retry_reason,omitempty"`
}

// SlashCommandEnvelope wraps a slash command as Slack sends it over Socket
// Mode, every field a string ("is_enterprise_install": "false" too); the
// command is /license unless cmd names one.
func SlashCommandEnvelope(envelopeID string, cmd slack.SlashCommand) Envelope {
	if cmd.Command == "" {
		cmd.Command = "/license"
	}
	b, _ := json.Marshal(cmd)
	var payload map[string]any
	_ = json.Unmarshal(b, &payload)
	payload["is_enterprise_install"] = fmt.Sprint(cmd.IsEnterpriseInstall)
	return Envelope{Type: "slash_commands", EnvelopeID: envelopeID, Payload: payload, AcceptsResponsePayload: true}
}

// ButtonEnvelope wraps the press of a button (block_actions) by user.
func ButtonEnvelope(envelopeID, user, channel, responseURL, actionID, value string) Envelope {
	return Envelope{Type: "interactive", EnvelopeID: envelopeID, Payload: map[string]any{
		"type": "block_actions", "user": map[string]string{"id": user}, "channel": map[string]string{"id": channel},
		"team": map[string]string{"id": "T0TEST"}, "response_url": responseURL, "trigger_id": "trigger." + envelopeID,
		"actions": []map[string]string{{"type": "button", "block_id": "confirm", "action_id": actionID, "value": value,
			"action_ts": fmt.Sprint(time.Now().UnixNano())}},
	}}
}

// NewSocketMode starts a fake Socket Mode that accepts appToken, stopped
// when the test ends.
func NewSocketMode(t testing.TB, appToken string) *SocketMode {
	s := &SocketMode{appToken: appToken, PingInterval: 100 * time.Millisecond,
		changed: make(chan struct{}), tickets: map[string]bool{}, acks: map[string][]json.RawMessage{}}
	// slacktest registers a pattern once and keeps the first handler, so
	// these replace its own.
	s.srv = slackgotest.NewTestServer(func(c slackgotest.Customize) {
		c.Handle("/apps.connections.open", s.open)
		c.Handle("/ws", s.upgrade)
	})
	s.srv.Start()
	t.Cleanup(s.Close)
	return s
}

// URL is the Web API base URL, for SLACK_API_URL.
func (s *SocketMode) URL() string { return s.srv.GetAPIURL() }

// Opens is how many times apps.connections.open was called, refused calls
// included.
func (s *SocketMode) Opens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens
}

// Connections is how many WebSocket connections have been greeted so far.
func (s *SocketMode) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// WaitConnections waits until n connections have been made and the newest
// is usable.
func (s *SocketMode) WaitConnections(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	s.wait(t, timeout, fmt.Sprintf("%d connections", n), func() bool {
		return len(s.conns) >= n && s.conns[len(s.conns)-1].live
	})
}

// Send delivers e on the newest usable connection, or keeps it for the next
// one.
func (s *SocketMode) Send(t testing.TB, e Envelope) {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	s.SendRaw(b)
}

// SendRaw delivers a frame as it is, malformed or not.
func (s *SocketMode) SendRaw(frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.current(); c != nil {
		c.write(frame)
		return
	}
	s.queue = append(s.queue, frame)
}

// Deliver sends e and returns the payload of the acknowledgement it gets
// ("null" when it had none), failing the test if none comes within timeout.
// A retried envelope's earlier acknowledgements do not count.
func (s *SocketMode) Deliver(t testing.TB, e Envelope, timeout time.Duration) json.RawMessage {
	t.Helper()
	before := len(s.Acks(e.EnvelopeID))
	s.Send(t, e)
	return s.WaitAcks(t, e.EnvelopeID, before+1, timeout)[before]
}

// Ack waits for the first acknowledgement of envelopeID and returns its
// payload ("null" when it had none).
func (s *SocketMode) Ack(t testing.TB, envelopeID string, timeout time.Duration) json.RawMessage {
	t.Helper()
	return s.WaitAcks(t, envelopeID, 1, timeout)[0]
}

// WaitAcks waits for n acknowledgements of envelopeID and returns their
// payloads.
func (s *SocketMode) WaitAcks(t testing.TB, envelopeID string, n int, timeout time.Duration) []json.RawMessage {
	t.Helper()
	s.wait(t, timeout, fmt.Sprintf("%d acknowledgements of %s", n, envelopeID), func() bool { return len(s.acks[envelopeID]) >= n })
	return s.Acks(envelopeID)
}

// Acks returns the payloads of every acknowledgement of envelopeID so far.
func (s *SocketMode) Acks(envelopeID string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]json.RawMessage(nil), s.acks[envelopeID]...)
}

// Disconnect sends disconnect (reason refresh_requested) on the newest
// connection, which gets no more envelopes.
func (s *SocketMode) Disconnect(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.current()
	if c == nil {
		t.Fatal("slacktest: no connection to disconnect")
	}
	c.write([]byte(`{"type":"disconnect","reason":"refresh_requested","debug_info":{"host":"slacktest"}}`))
	c.live = false
	s.notify()
}

// GoSilent turns the newest connection into a dead socket that still looks
// open: no more pings, envelopes or answers, and what the app sends is
// dropped.
func (s *SocketMode) GoSilent(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.current()
	if c == nil {
		t.Fatal("slacktest: no connection to silence")
	}
	c.live, c.silent = false, true
	s.notify()
}

// Drop closes the newest connection's TCP connection without a close frame.
func (s *SocketMode) Drop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	c := s.current()
	if c == nil {
		s.mu.Unlock()
		t.Fatal("slacktest: no connection to drop")
	}
	c.live = false
	s.notify()
	s.mu.Unlock()
	c.ws.NetConn().Close()
}

// SetUnavailable makes apps.connections.open answer HTTP 503 (while down)
// or work again, as during an outage at Slack.
func (s *SocketMode) SetUnavailable(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Close ends every connection and stops the server.
func (s *SocketMode) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := s.conns
	s.mu.Unlock()
	for _, c := range conns {
		c.ws.NetConn().Close()
	}
	s.srv.Stop()
}

// open is apps.connections.open: the app-level token as a bearer token,
// answered with a one-time WebSocket URL.
func (s *SocketMode) open(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opens++
	if s.down {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case token == "":
		w.Write([]byte(`{"ok":false,"error":"not_authed"}`))
		return
	case token != s.appToken:
		w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
		return
	}
	ticket := fmt.Sprintf("t%d", s.opens)
	s.tickets[ticket] = true
	fmt.Fprintf(w, `{"ok":true,"url":%q}`, s.srv.GetWSURL()+"?ticket="+ticket)
}

// upgrade accepts a WebSocket whose ticket was handed out and not used yet.
func (s *SocketMode) upgrade(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	valid := s.tickets[ticket]
	delete(s.tickets, ticket)
	s.mu.Unlock()
	if !valid {
		http.Error(w, "unknown or used ticket", http.StatusUnauthorized)
		return
	}
	slackgotest.Websocket(s.serve)(w, r)
}

// serve runs one WebSocket connection.
func (s *SocketMode) serve(ws *websocket.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	c := &socketConn{ws: ws, done: make(chan struct{})}
	interval := s.PingInterval
	s.mu.Unlock()
	defer close(c.done)

	c.write([]byte(`{"type":"hello","num_connections":1,"connection_info":{"app_id":"A0TEST"},"debug_info":{"host":"slacktest","approximate_connection_time":18060}}`))
	s.mu.Lock()
	c.live = true
	s.conns = append(s.conns, c)
	for _, frame := range s.queue {
		c.write(frame)
	}
	s.queue = nil
	s.notify()
	s.mu.Unlock()

	go s.ping(c, interval)
	for {
		_, frame, err := ws.ReadMessage()
		if err != nil {
			s.mu.Lock()
			c.live = false
			s.notify()
			s.mu.Unlock()
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		s.mu.Lock()
		if !c.silent && json.Unmarshal(frame, &ack) == nil && ack.EnvelopeID != "" {
			if len(ack.Payload) == 0 {
				ack.Payload = json.RawMessage("null")
			}
			s.acks[ack.EnvelopeID] = append(s.acks[ack.EnvelopeID], ack.Payload)
			s.notify()
		}
		s.mu.Unlock()
	}
}

func (s *SocketMode) ping(c *socketConn, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		s.mu.Lock()
		silent := c.silent
		s.mu.Unlock()
		if !silent {
			_ = c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
		}
	}
}

// current is the newest usable connection, or nil; s.mu is held.
func (s *SocketMode) current() *socketConn {
	if len(s.conns) == 0 {
		return nil
	}
	if c := s.conns[len(s.conns)-1]; c.live {
		return c
	}
	return nil
}

func (c *socketConn) write(frame []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = c.ws.WriteMessage(websocket.TextMessage, frame)
}

func (s *SocketMode) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *SocketMode) wait(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, changed := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("slacktest: no %s within %s (%d connections, %d opens)", what, timeout, s.Connections(), s.Opens())
		}
	}
}
