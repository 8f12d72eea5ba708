package slacktest

import (
	"io"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Limits are the rate limits the fake enforces, as Slack documents them
// (https://docs.slack.dev/apis/web-api/rate-limits): chat.postMessage
// "generally allows posting one message per second per channel" with short
// bursts, and chat.update is a Tier 3 method, "50+ per minute" per
// workspace. Past a limit the fake answers as Slack does: HTTP 429 with
// Retry-After (whole seconds) and {"ok":false,"error":"ratelimited"}.
type Limits struct {
	PostPerChannel Bucket // chat.postMessage, per channel
	Update         Bucket // chat.update, for the whole workspace
}

// Bucket is a token bucket: Rate calls a second, Burst at once.
type Bucket struct {
	Rate  float64
	Burst float64
}

// DocumentedLimits is what NewServer enforces: one post a second per
// channel (a burst of two absorbs a client's timer jitter, no more), and
// 50 updates a minute with a burst of five.
var DocumentedLimits = Limits{
	PostPerChannel: Bucket{Rate: 1, Burst: 2},
	Update:         Bucket{Rate: 50.0 / 60, Burst: 5},
}

// SetLimits replaces the rate limits enforced; the zero Limits enforces
// none (tests about something else that post in a hurry).
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
	s.buckets = map[string]*bucketState{}
}

// RateLimited returns how many calls to method the limits answered 429.
func (s *Server) RateLimited(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited[method]
}

type bucketState struct {
	tokens float64
	at     time.Time
}

// overLimit answers 429 when method's limit is spent; s.mu is held.
func (s *Server) overLimit(w http.ResponseWriter, method string, p params) bool {
	var b Bucket
	key := method
	switch method {
	case "chat.postMessage":
		b = s.limits.PostPerChannel
		id, _ := s.resolve(p.str("channel"))
		key += "/" + id
	case "chat.update":
		b = s.limits.Update
	}
	if b.Rate <= 0 {
		return false
	}
	now := time.Now() // the fake measures; it decides nothing of the app's
	st := s.buckets[key]
	if st == nil {
		st = &bucketState{tokens: b.Burst, at: now}
		s.buckets[key] = st
	}
	st.tokens = math.Min(b.Burst, st.tokens+now.Sub(st.at).Seconds()*b.Rate)
	st.at = now
	if st.tokens >= 1 {
		st.tokens--
		return false
	}
	s.limited[method]++
	wait := (1 - st.tokens) / b.Rate
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait))))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
	return true
}

// SetDown makes every Web API call answer HTTP 503 while down is true:
// Slack unreachable for a while.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// unavailable answers 503 while the server is down; s.mu is held.
func (s *Server) unavailable(w http.ResponseWriter) bool {
	if !s.down {
		return false
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, "Service Unavailable")
	return true
}
