package slackout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// rateLimitRetries is how many times a call answered with HTTP 429 is tried
// again, each after the Retry-After Slack asked for.
const rateLimitRetries = 5

// defaultRetryAfter is the wait after a 429 that names no Retry-After.
const defaultRetryAfter = time.Second

// WebAPI posts through Slack's Web API.
type WebAPI struct {
	client *slack.Client
	http   *http.Client

	// Slack answers a post to "#name" with the channel's ID, and chat.update
	// accepts only the ID; remembered here so Update can take what Post took.
	mu         sync.Mutex
	channelIDs map[string]string

	// OnError, if set, is told the method of every call that failed (after
	// the rate-limit retries), for the licensedesk_slack_api_errors metric.
	OnError func(method string)
	// OnRateLimited, if set, is told of every 429 Slack answered, with the
	// method, the channel (chat.postMessage) and the Retry-After, so that
	// pacing can hold every worker back (PacedPoster.Hold).
	OnRateLimited func(method, channel string, retryAfter time.Duration)
}

var _ Poster = (*WebAPI)(nil)

func (w *WebAPI) failed(method string) {
	if w.OnError != nil {
		w.OnError(method)
	}
}

// NewWebAPI returns a WebAPI using the bot token. apiURL is SLACK_API_URL,
// or "" for Slack's own; hc is the HTTP client for every call (nil for one
// with a 30-second timeout).
func NewWebAPI(token, apiURL string, hc *http.Client) *WebAPI {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	opts := []slack.Option{slack.OptionHTTPClient(hc)}
	if apiURL != "" {
		// slack-go appends the method name to the URL as it is.
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return &WebAPI{client: slack.New(token, opts...), http: hc, channelIDs: map[string]string{}}
}

// Post implements Poster with chat.postMessage.
func (w *WebAPI) Post(ctx context.Context, m Message) (string, error) {
	m = fit(m)
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	if m.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(m.ThreadTS))
	}
	var channel, ts string
	err := retryRateLimited(ctx, w.limited("chat.postMessage", m.Channel), func() (err error) {
		channel, ts, err = w.client.PostMessageContext(ctx, m.Channel, opts...)
		return err
	})
	if err != nil {
		w.failed("chat.postMessage")
		return "", fmt.Errorf("slack chat.postMessage to %s: %w", m.Channel, err)
	}
	if channel != "" && channel != m.Channel {
		w.mu.Lock()
		w.channelIDs[m.Channel] = channel
		w.mu.Unlock()
	}
	return ts, nil
}

// Update implements Poster with chat.update. The message's blocks are
// replaced by m.Blocks, so an update without blocks clears them.
func (w *WebAPI) Update(ctx context.Context, channel, ts string, m Message) error {
	m = fit(m)
	w.mu.Lock()
	id, ok := w.channelIDs[channel]
	w.mu.Unlock()
	if !ok {
		id = channel
	}
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
	err := retryRateLimited(ctx, w.limited("chat.update", channel), func() error {
		_, _, _, err := w.client.UpdateMessageContext(ctx, id, ts, opts...)
		return err
	})
	if err != nil {
		w.failed("chat.update")
		return fmt.Errorf("slack chat.update of %s in %s: %w", ts, channel, err)
	}
	return nil
}

// responseBody is what a response_url accepts. Without a response_type
// Slack shows the reply to the command's user only.
type responseBody struct {
	Text            string        `json:"text"`
	Blocks          []slack.Block `json:"blocks,omitempty"`
	ThreadTS        string        `json:"thread_ts,omitempty"`
	ReplaceOriginal bool          `json:"replace_original,omitempty"`
}

// Respond implements Poster by posting JSON to responseURL. The bot token is
// not sent: the URL itself is the credential.
func (w *WebAPI) Respond(ctx context.Context, responseURL string, m Message) error {
	m = fit(m)
	body, err := json.Marshal(responseBody{Text: m.Text, Blocks: m.Blocks, ThreadTS: m.ThreadTS, ReplaceOriginal: m.ReplaceOriginal})
	if err != nil {
		return err
	}
	err = retryRateLimited(ctx, nil, func() error { return w.respondOnce(ctx, responseURL, body) })
	if err != nil {
		w.failed("response_url")
		return fmt.Errorf("slack response_url: %w", err)
	}
	return nil
}

func (w *WebAPI) respondOnce(ctx context.Context, responseURL string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := w.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return &slack.RateLimitedError{RetryAfter: retryAfter(resp.Header)}
	}
	// Slack answers "ok", {"ok":true}, or an error code as text or JSON.
	code := strings.TrimSpace(string(answer))
	var parsed struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	isJSON := json.Unmarshal(answer, &parsed) == nil
	if isJSON {
		code = parsed.Error
	}
	if resp.StatusCode == http.StatusOK && (!isJSON || parsed.OK) {
		return nil
	}
	if !isJSON && !isErrorCode(code) {
		code = "" // an HTML error page, say
	}
	return &responseURLError{status: resp.StatusCode, code: code}
}

// responseURLError is a response_url's refusal.
type responseURLError struct {
	status int
	code   string // expired_url, used_url... or "" when the answer named none
}

func (e *responseURLError) Error() string {
	if e.code == "" {
		return fmt.Sprintf("answered HTTP %d", e.status)
	}
	return fmt.Sprintf("answered HTTP %d: %s", e.status, e.code)
}

// isErrorCode reports whether s looks like one of Slack's error codes.
func isErrorCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}

func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return defaultRetryAfter
}

// limited returns the hook that tells OnRateLimited of a 429 to method.
func (w *WebAPI) limited(method, channel string) func(time.Duration) {
	return func(d time.Duration) {
		if w.OnRateLimited != nil {
			w.OnRateLimited(method, channel, d)
		}
	}
}

// retryRateLimited runs call, and again after each rate-limit answer, waiting
// as long as Slack asked, up to rateLimitRetries more times; onLimited, if
// set, hears of each. Other errors are returned at once: the workflow's
// retry policy deals with them.
func retryRateLimited(ctx context.Context, onLimited func(time.Duration), call func() error) error {
	for attempt := 0; ; attempt++ {
		err := call()
		wait, limited := rateLimitWait(err)
		if limited && onLimited != nil {
			onLimited(wait)
		}
		if !limited || attempt == rateLimitRetries {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("gave up waiting %s for Slack's rate limit: %w", wait, context.Cause(ctx))
		case <-t.C:
		}
	}
}

func rateLimitWait(err error) (time.Duration, bool) {
	var limited *slack.RateLimitedError
	if errors.As(err, &limited) {
		return limited.RetryAfter, true
	}
	// slack-go reports a 429 without a usable Retry-After as a status error.
	var status slack.StatusCodeError
	if errors.As(err, &status) && status.Code == http.StatusTooManyRequests {
		return defaultRetryAfter, true
	}
	return 0, false
}

// UserGroups resolves Slack user groups with usergroups.users.list; it
// implements bot.GroupMembers (wrap it in a bot.GroupCache).
type UserGroups struct{ api *WebAPI }

// UserGroups returns the group resolver that uses w's token and URL.
func (w *WebAPI) UserGroups() UserGroups { return UserGroups{api: w} }

// Members returns the user IDs of the group's enabled members.
func (g UserGroups) Members(ctx context.Context, groupID string) ([]string, error) {
	var users []string
	err := retryRateLimited(ctx, g.api.limited("usergroups.users.list", ""), func() (err error) {
		users, err = g.api.client.GetUserGroupMembersContext(ctx, groupID)
		return err
	})
	if err != nil {
		g.api.failed("usergroups.users.list")
		return nil, fmt.Errorf("slack usergroups.users.list %s: %w", groupID, err)
	}
	return users, nil
}
