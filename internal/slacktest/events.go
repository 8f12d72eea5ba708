package slacktest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// What Slack sends an app, beyond slash commands: the Events API (over
// HTTP, signed, with the url_verification handshake and Slack's retries;
// and as Socket Mode events_api envelopes), and the payloads of buttons on
// the App Home and in forms, and of form submissions.

// eventDeadline is how long Slack waits for an app's 2xx before it counts
// the delivery as failed and retries.
const eventDeadline = 3 * time.Second

// Events posts Events API requests to an app's Request URL as Slack does:
// JSON, signed with the app's signing secret (v0=HMAC-SHA256 of
// "v0:<timestamp>:<body>"), answered within 3 seconds or retried up to
// three times with X-Slack-Retry-Num and X-Slack-Retry-Reason.
type Events struct {
	URL    string // the app's events URL, e.g. http://127.0.0.1:8080/slack/events
	Secret string
	TeamID string
	// RetryWaits are the waits before each retry; Slack's are immediately,
	// 1 minute and 5 minutes. Default: 0, 60 ms and 300 ms.
	RetryWaits []time.Duration
	Client     *http.Client
	Now        func() time.Time // signing time; nil: now

	next atomic.Int64
}

// Delivery is what became of one event.
type Delivery struct {
	EventID  string
	Attempts int   // 1 when the first delivery succeeded
	Statuses []int // the status of each attempt (0: no answer within 3 s)
}

// OK reports whether some attempt got a 2xx.
func (d Delivery) OK() bool {
	for _, s := range d.Statuses {
		if s >= 200 && s < 300 {
			return true
		}
	}
	return false
}

// Verify makes the url_verification handshake Slack makes when the Request
// URL is set, and fails the test unless the app echoes the challenge.
func (e *Events) Verify(t testing.TB) {
	t.Helper()
	challenge := fmt.Sprintf("challenge-%d", e.next.Add(1))
	status, body, err := e.post(mustJSON(t, map[string]any{"token": "legacy", "type": "url_verification", "challenge": challenge}), 0, "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("slacktest: url_verification: %d %v %s", status, err, body)
	}
	var answer struct {
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(body, &answer) != nil {
		answer.Challenge = strings.TrimSpace(string(body)) // plain text is accepted too
	}
	if answer.Challenge != challenge {
		t.Fatalf("slacktest: url_verification answered %q, want the challenge %q", body, challenge)
	}
}

// Deliver sends event (an inner event, like AppHomeOpened's) in an
// event_callback, retrying as Slack does until a 2xx.
func (e *Events) Deliver(t testing.TB, event map[string]any) Delivery {
	t.Helper()
	id := fmt.Sprintf("Ev%08d", e.next.Add(1))
	return e.DeliverOuter(t, EventCallback(e.TeamID, id, event))
}

// DeliverOuter sends an outer payload as it is (from another team, say).
func (e *Events) DeliverOuter(t testing.TB, outer map[string]any) Delivery {
	t.Helper()
	body := mustJSON(t, outer)
	d := Delivery{EventID: fmt.Sprint(outer["event_id"])}
	waits := e.RetryWaits
	if waits == nil {
		waits = []time.Duration{0, 60 * time.Millisecond, 300 * time.Millisecond}
	}
	reason := ""
	for attempt := 0; attempt <= len(waits); attempt++ {
		if attempt > 0 {
			time.Sleep(waits[attempt-1])
		}
		status, _, err := e.post(body, attempt, reason)
		d.Attempts++
		d.Statuses = append(d.Statuses, status)
		switch {
		case err != nil:
			reason = "http_timeout"
		case status >= 200 && status < 300:
			return d
		default:
			reason = "http_error"
		}
	}
	return d
}

func (e *Events) post(body []byte, retry int, reason string) (int, []byte, error) {
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	req, err := http.NewRequest(http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	ts, sig := Sign(e.Secret, now, body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	if retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
		req.Header.Set("X-Slack-Retry-Reason", reason)
	}
	c := e.Client
	if c == nil {
		c = http.DefaultClient
	}
	c2 := *c
	c2.Timeout = eventDeadline
	resp, err := c2.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, nil
}

// Sign signs body as Slack does at ts, for the X-Slack-Request-Timestamp
// and X-Slack-Signature headers.
func Sign(secret string, ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:", timestamp)
	m.Write(body)
	return timestamp, "v0=" + hex.EncodeToString(m.Sum(nil))
}

// SignedForm is an interaction payload as Slack posts it to the
// interactivity Request URL: a form with one field, payload.
func SignedForm(t testing.TB, target, secret string, payload map[string]any) *http.Request {
	t.Helper()
	body := []byte(url.Values{"payload": {string(mustJSON(t, payload))}}.Encode())
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ts, sig := Sign(secret, time.Now(), body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	return req
}

// EventCallback wraps an inner event as Slack sends it.
func EventCallback(team, eventID string, event map[string]any) map[string]any {
	return map[string]any{"token": "legacy", "team_id": team, "api_app_id": "A0TEST", "type": "event_callback",
		"event_id": eventID, "event_time": time.Now().Unix(), "event": event,
		"authorizations": []map[string]any{{"team_id": team, "user_id": "U0000BOT", "is_bot": true}}}
}

// AppHomeOpened is the event of user opening the app's Home tab.
func AppHomeOpened(user string) map[string]any {
	return map[string]any{"type": "app_home_opened", "user": user, "channel": "D0" + user, "tab": "home",
		"event_ts": fmt.Sprintf("%d.000100", time.Now().Unix())}
}

// EventsAPIEnvelope wraps an outer Events API payload for Socket Mode.
func EventsAPIEnvelope(envelopeID string, outer map[string]any) Envelope {
	return Envelope{Type: "events_api", EnvelopeID: envelopeID, Payload: outer}
}

// InteractiveEnvelope wraps an interaction payload for Socket Mode; form
// submissions accept a response payload (their response_action).
func InteractiveEnvelope(envelopeID string, payload map[string]any) Envelope {
	return Envelope{Type: "interactive", EnvelopeID: envelopeID, Payload: payload,
		AcceptsResponsePayload: payload["type"] == "view_submission"}
}

// Press is the block_actions payload of pressing a button on a message.
func Press(user, team, channel, responseURL, trigger, actionID, value string) map[string]any {
	return map[string]any{
		"type": "block_actions", "user": map[string]string{"id": user}, "team": map[string]string{"id": team},
		"channel": map[string]string{"id": channel}, "response_url": responseURL, "trigger_id": trigger,
		"container": map[string]any{"type": "message", "channel_id": channel, "is_ephemeral": true},
		"actions": []map[string]string{{"type": "button", "block_id": "b", "action_id": actionID, "value": value,
			"action_ts": fmt.Sprint(time.Now().Unix())}},
	}
}

// PressOnHome is the block_actions payload of pressing a button on the App
// Home, which comes with a trigger_id and no response_url.
func PressOnHome(user, team, viewID, trigger, actionID, value string) map[string]any {
	return map[string]any{
		"type": "block_actions", "user": map[string]string{"id": user}, "team": map[string]string{"id": team},
		"trigger_id": trigger, "container": map[string]any{"type": "view", "view_id": viewID},
		"view":    map[string]any{"id": viewID, "type": "home", "team_id": team},
		"actions": []map[string]string{{"type": "button", "block_id": "b", "action_id": actionID, "value": value}},
	}
}

// FormState is a form's state.values: block_id → action_id → value, as
// Slack reports what was typed, picked or ticked.
type FormState map[string]map[string]any

// Typed is a plain_text_input's value.
func Typed(s string) map[string]any { return map[string]any{"type": "plain_text_input", "value": s} }

// Picked is a static_select's or radio_buttons' choice.
func Picked(kind, value string) map[string]any {
	return map[string]any{"type": kind, "selected_option": map[string]any{"value": value, "text": map[string]string{"type": "plain_text", "text": value}}}
}

// Ticked is a checkboxes' ticked values.
func Ticked(values ...string) map[string]any {
	opts := make([]map[string]any, len(values))
	for i, v := range values {
		opts[i] = map[string]any{"value": v, "text": map[string]string{"type": "plain_text", "text": v}}
	}
	return map[string]any{"type": "checkboxes", "selected_options": opts}
}

// Submission is the view_submission payload of submitting view (as the app
// opened it: its id, hash, callback_id and private_metadata are sent back)
// with state.
func Submission(user, team string, view map[string]any, state FormState) map[string]any {
	v := map[string]any{}
	for k, x := range view {
		v[k] = x
	}
	v["state"] = map[string]any{"values": state}
	v["team_id"] = team
	return map[string]any{"type": "view_submission", "user": map[string]string{"id": user}, "team": map[string]string{"id": team},
		"trigger_id": fmt.Sprintf("%d.submit.%d", time.Now().Unix(), time.Now().UnixNano()%1e6), "view": v}
}

// Dispatched is the block_actions payload of Enter in a form's field that
// dispatches actions (dispatch_action), with the form's state.
func Dispatched(user, team string, view map[string]any, blockID, actionID string, state FormState) map[string]any {
	v := map[string]any{}
	for k, x := range view {
		v[k] = x
	}
	v["state"] = map[string]any{"values": state}
	typed, _ := state[blockID][actionID].(map[string]any)
	return map[string]any{"type": "block_actions", "user": map[string]string{"id": user}, "team": map[string]string{"id": team},
		"trigger_id": fmt.Sprintf("%d.enter.%d", time.Now().Unix(), time.Now().UnixNano()%1e6),
		"container":  map[string]any{"type": "view", "view_id": v["id"]}, "view": v,
		"actions": []map[string]any{{"type": "plain_text_input", "block_id": blockID, "action_id": actionID, "value": typed["value"]}}}
}

// ViewMap decodes a view's JSON for Submission and Dispatched.
func ViewMap(t testing.TB, raw json.RawMessage) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("slacktest: view %s: %v", raw, err)
	}
	return v
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
