// Package slacktest is a fake Slack Web API for tests: point SLACK_API_URL
// at Server.URL and the bot's outgoing calls land here, where they are
// recorded and checked against Slack's limits.
//
//	srv := slacktest.NewServer(t)
//	poster := slackout.NewWebAPI("xoxb-test", srv.URL(), nil)
//	...
//	srv.WaitFor(t, func(ms []slacktest.Msg) bool { return len(ms) == 1 }, 5*time.Second)
package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Slack's limits for one message.
const (
	maxTextLen = 40000
	maxBlocks  = 50
)

// Msg is a message as the fake Slack holds it.
type Msg struct {
	Channel     string // the channel's ID, as Slack answers it
	ChannelName string // the name it was posted to ("alerts"), when posted by name
	TS          string
	ThreadTS    string
	Text        string
	Blocks      json.RawMessage // "[]" when none
	Updates     int             // how many chat.update calls changed it
	History     []Revision      // its contents before each update, oldest first
}

// Revision is a message's text and blocks at one point.
type Revision struct {
	Text   string
	Blocks json.RawMessage
}

// Response is one post to a response_url.
type Response struct {
	URL             string
	Text            string
	Blocks          json.RawMessage
	ThreadTS        string
	ResponseType    string // "" (ephemeral), "ephemeral" or "in_channel"
	ReplaceOriginal bool
	DeleteOriginal  bool
}

// Server is the fake Slack. Set Token before the first call to check each
// call's bearer or form token; leave it empty to accept any.
type Server struct {
	Token string

	srv *httptest.Server

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every recorded change
	msgs      []Msg
	responses []Response
	calls     map[string]int
	groups    map[string][]string
	channels  map[string]string // name → ID
	nextTS    int
	nextURL   int
	limitNext int
	limitFor  time.Duration
	failNext  int
	failCode  string
	v         viewState // views, triggers and people (views.go)

	limits  Limits // limits.go
	buckets map[string]*bucketState
	limited map[string]int
	down    bool
}

// NewServer starts a fake Slack, stopped when the test ends. It enforces
// Slack's documented rate limits (DocumentedLimits; SetLimits changes them).
func NewServer(t testing.TB) *Server {
	s := &Server{
		changed:  make(chan struct{}),
		calls:    map[string]int{},
		groups:   map[string][]string{},
		channels: map[string]string{},
		limits:   DocumentedLimits,
		buckets:  map[string]*bucketState{},
		limited:  map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPI)
	mux.HandleFunc("POST /response/{id}", s.serveResponse)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the Web API's base URL, ending in "/api/", for SLACK_API_URL.
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// ResponseURL returns a new response_url, as Slack gives each command and
// interaction its own.
func (s *Server) ResponseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextURL++
	return fmt.Sprintf("%s/response/%d", s.srv.URL, s.nextURL)
}

// Client is the server's HTTP client.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Messages returns the messages posted so far, oldest first.
func (s *Server) Messages() []Msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copyMsgs()
}

// Responses returns the posts to response_urls so far, oldest first.
func (s *Server) Responses() []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.responses)
}

// Calls returns how often method ("chat.postMessage", "response_url"...)
// was called, rate-limited and failed calls included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// ChannelID returns the ID the server gives the channel called name
// ("alerts" or "#alerts").
func (s *Server) ChannelID(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _ := s.resolve(name)
	return id
}

// SetGroupMembers sets the members usergroups.users.list returns for groupID.
func (s *Server) SetGroupMembers(groupID string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[groupID] = slices.Clone(users)
}

// RateLimitNext makes the next n calls, response_urls included, answer HTTP
// 429 with Retry-After (whole seconds, rounded up, as Slack sends it).
func (s *Server) RateLimitNext(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitNext, s.limitFor = n, retryAfter
}

// FailNext makes the next n Web API calls answer {"ok":false,"error":code}.
func (s *Server) FailNext(n int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failCode = n, code
}

// WaitFor waits until cond holds for the messages, then returns them; the
// test fails if that takes longer than timeout.
func (s *Server) WaitFor(t testing.TB, cond func([]Msg) bool, timeout time.Duration) []Msg {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		msgs, changed := s.copyMsgs(), s.changed
		s.mu.Unlock()
		if cond(msgs) {
			return msgs
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("slacktest: condition not met within %s; messages: %s", timeout, describe(msgs))
			return nil
		}
	}
}

func describe(msgs []Msg) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "\n  %s %s (thread %q, %d updates): %q", m.Channel, m.TS, m.ThreadTS, m.Updates, m.Text)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// copyMsgs deep-copies the messages; s.mu is held.
func (s *Server) copyMsgs() []Msg {
	out := slices.Clone(s.msgs)
	for i := range out {
		out[i].History = slices.Clone(out[i].History)
	}
	return out
}

// notify wakes WaitFor; s.mu is held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// channelIDPattern matches conversation IDs: public, private and DM.
var channelIDPattern = regexp.MustCompile(`^[CDG][A-Z0-9]{2,}$`)

// resolve returns the ID for a channel given by ID or name, and the name;
// s.mu is held.
func (s *Server) resolve(channel string) (id, name string) {
	if channelIDPattern.MatchString(channel) {
		return channel, ""
	}
	name = strings.TrimPrefix(channel, "#")
	id, ok := s.channels[name]
	if !ok {
		id = fmt.Sprintf("C%08d", len(s.channels)+1)
		s.channels[name] = id
	}
	return id, name
}

// throttle answers 429 if a rate limit is pending; s.mu is held.
func (s *Server) throttle(w http.ResponseWriter) bool {
	if s.limitNext == 0 {
		return false
	}
	s.limitNext--
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(s.limitFor.Seconds()))))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
	return true
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	p, err := readParams(r)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	if s.unavailable(w) || s.throttle(w) || (err == nil && s.overLimit(w, method, p)) {
		return
	}
	if err != nil {
		reply(w, fail("invalid_form_data"))
		return
	}
	if s.Token != "" {
		token := p.str("token")
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			token = bearer
		}
		switch token {
		case s.Token:
		case "":
			reply(w, fail("not_authed"))
			return
		default:
			reply(w, fail("invalid_auth"))
			return
		}
	}
	if s.failNext > 0 {
		s.failNext--
		reply(w, fail(s.failCode))
		return
	}
	switch method {
	case "auth.test":
		reply(w, map[string]any{"ok": true, "url": "https://fake.slack.test/", "team": "Test",
			"user": "licensedesk", "team_id": "T0000TEST", "user_id": "U0000BOT", "bot_id": "B0000BOT"})
	case "chat.postMessage":
		reply(w, s.post(p))
	case "chat.update":
		reply(w, s.update(p))
	case "usergroups.users.list":
		users, ok := s.groups[p.str("usergroup")]
		if !ok {
			reply(w, fail("no_such_subteam"))
			return
		}
		reply(w, map[string]any{"ok": true, "users": users})
	default:
		if answer, ok := s.serveViews(method, p); ok {
			reply(w, answer)
			return
		}
		reply(w, fail("unknown_method"))
	}
}

// post records a chat.postMessage; s.mu is held.
func (s *Server) post(p params) map[string]any {
	if p.str("channel") == "" {
		return fail("channel_not_found")
	}
	text := p.str("text")
	blocks, code := checkContent(text, p.raw("blocks"))
	if code != "" {
		return fail(code)
	}
	id, name := s.resolve(p.str("channel"))
	threadTS := p.str("thread_ts")
	if threadTS != "" && s.find(id, threadTS) < 0 {
		return fail("thread_not_found")
	}
	s.nextTS++
	m := Msg{Channel: id, ChannelName: name, TS: fmt.Sprintf("1700000000.%06d", s.nextTS),
		ThreadTS: threadTS, Text: text, Blocks: blocks}
	s.msgs = append(s.msgs, m)
	s.notify()
	return map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS,
		"message": map[string]any{"type": "message", "text": m.Text, "ts": m.TS, "thread_ts": m.ThreadTS, "blocks": m.Blocks}}
}

// update records a chat.update; s.mu is held. Like Slack it takes only a
// channel ID, and an absent blocks argument keeps the old blocks.
func (s *Server) update(p params) map[string]any {
	channel := p.str("channel")
	if !channelIDPattern.MatchString(channel) {
		return fail("channel_not_found")
	}
	i := s.find(channel, p.str("ts"))
	if i < 0 {
		return fail("message_not_found")
	}
	text := p.str("text")
	raw := p.raw("blocks")
	blocks, code := checkContent(text, raw)
	if code != "" {
		return fail(code)
	}
	m := &s.msgs[i]
	m.History = append(m.History, Revision{Text: m.Text, Blocks: m.Blocks})
	m.Updates++
	m.Text = text
	if raw != nil {
		m.Blocks = blocks
	}
	s.notify()
	return map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text}
}

// find returns the index of the message channel/ts, or -1; s.mu is held.
func (s *Server) find(channel, ts string) int {
	return slices.IndexFunc(s.msgs, func(m Msg) bool { return m.Channel == channel && m.TS == ts })
}

// checkContent applies Slack's limits to a message's text and blocks and
// returns the blocks as a JSON array, or an error code.
func checkContent(text string, raw json.RawMessage) (json.RawMessage, string) {
	if utf8.RuneCountInString(text) > maxTextLen {
		return nil, "msg_too_long"
	}
	if raw == nil {
		if text == "" {
			return nil, "no_text"
		}
		return json.RawMessage("[]"), ""
	}
	var blocks []json.RawMessage
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, "invalid_blocks_format"
	}
	if len(blocks) > maxBlocks || checkBlocks(raw, surfaceMessage, "/blocks") != "" {
		return nil, "invalid_blocks"
	}
	if text == "" && len(blocks) == 0 {
		return nil, "no_text"
	}
	return raw, ""
}

func (s *Server) serveResponse(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ThreadTS        string          `json:"thread_ts"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
	}
	err := json.NewDecoder(r.Body).Decode(&body)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["response_url"]++
	if s.throttle(w) {
		return
	}
	if err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	if len(body.Blocks) == 0 || string(body.Blocks) == "null" {
		body.Blocks = nil
	}
	blocks, code := checkContent(body.Text, body.Blocks)
	if code != "" && !body.DeleteOriginal {
		http.Error(w, code, http.StatusBadRequest)
		return
	}
	s.responses = append(s.responses, Response{URL: s.srv.URL + r.URL.Path, Text: body.Text, Blocks: blocks,
		ThreadTS: body.ThreadTS, ResponseType: body.ResponseType,
		ReplaceOriginal: body.ReplaceOriginal, DeleteOriginal: body.DeleteOriginal})
	s.notify()
	reply(w, map[string]any{"ok": true})
}

func fail(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

// Slack answers HTTP 200 with "ok": false for refused calls.
func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// params are a call's arguments, from a form, a query string or JSON, the
// ways slack-go sends them.
type params struct {
	form url.Values
	json map[string]json.RawMessage
}

func readParams(r *http.Request) (params, error) {
	p := params{form: r.URL.Query()}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return p, err
	}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ctype == "application/json" {
		return p, json.Unmarshal(body, &p.json)
	}
	form, err := url.ParseQuery(string(body))
	for k, v := range form {
		p.form[k] = append(p.form[k], v...)
	}
	return p, err
}

// str returns argument k as a string.
func (p params) str(k string) string {
	if v, ok := p.json[k]; ok {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return string(v)
	}
	return p.form.Get(k)
}

// raw returns argument k as JSON, whether it came as a JSON value or, as
// forms carry blocks, as a string holding JSON; nil when absent.
func (p params) raw(k string) json.RawMessage {
	if v, ok := p.json[k]; ok {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return json.RawMessage(s)
		}
		return v
	}
	if p.form.Has(k) {
		return json.RawMessage(p.form.Get(k))
	}
	return nil
}
