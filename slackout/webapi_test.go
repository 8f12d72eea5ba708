package slackout_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"licensedesk/bot"
	"licensedesk/internal/slacktest"
	"licensedesk/slackout"
)

var _ bot.GroupMembers = slackout.UserGroups{}

func newWebAPI(t *testing.T) (*slackout.WebAPI, *slacktest.Server) {
	s := slacktest.NewServer(t)
	s.Token = "xoxb-test"
	return slackout.NewWebAPI("xoxb-test", s.URL(), nil), s
}

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

func TestWebAPI_PostsUpdatesAndRepliesInThread(t *testing.T) {
	ctx := context.Background()
	api, s := newWebAPI(t)
	ts, err := api.Post(ctx, slackout.Message{Channel: "C0ALERTS", Text: "Moving SEN-1000001…", Blocks: []slack.Block{section("*Moving*")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Update(ctx, "C0ALERTS", ts, slackout.Message{Text: "Moved SEN-1000001"}); err != nil {
		t.Fatal(err)
	}
	reply, err := api.Post(ctx, slackout.Message{Channel: "C0ALERTS", ThreadTS: ts, Text: "details"})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Messages()
	if len(got) != 2 {
		t.Fatalf("messages = %+v", got)
	}
	if m := got[0]; m.TS != ts || m.Text != "Moved SEN-1000001" || string(m.Blocks) != "[]" || m.Updates != 1 ||
		m.History[0].Text != "Moving SEN-1000001…" || !strings.Contains(string(m.History[0].Blocks), "*Moving*") {
		t.Errorf("progress message = %+v", m)
	}
	if m := got[1]; m.TS != reply || m.ThreadTS != ts || m.Text != "details" {
		t.Errorf("reply = %+v", m)
	}
}

// chat.update takes only a channel ID, so a message posted to "#name" is
// updated through the ID Slack answered the post with.
func TestWebAPI_UpdatesMessagePostedByChannelName(t *testing.T) {
	ctx := context.Background()
	api, s := newWebAPI(t)
	ts, err := api.Post(ctx, slackout.Message{Channel: "#licensing", Text: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Update(ctx, "#licensing", ts, slackout.Message{Text: "v2"}); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages()[0]; m.Channel != s.ChannelID("licensing") || m.Text != "v2" {
		t.Fatalf("message = %+v", m)
	}
}

func TestWebAPI_WaitsOutRateLimitThenSucceeds(t *testing.T) {
	api, s := newWebAPI(t)
	s.RateLimitNext(2, time.Second)
	start := time.Now()
	_, err := api.Post(context.Background(), slackout.Message{Channel: "C0ALERTS", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("waited %s; want at least the two Retry-After seconds", waited)
	}
	if n, calls := len(s.Messages()), s.Calls("chat.postMessage"); n != 1 || calls != 3 {
		t.Fatalf("%d messages after %d calls; want 1 after 3", n, calls)
	}
}

func TestWebAPI_GivesUpAfterFiveRateLimitRetries(t *testing.T) {
	api, s := newWebAPI(t)
	s.RateLimitNext(100, 0)
	_, err := api.Post(context.Background(), slackout.Message{Channel: "C0ALERTS", Text: "hi"})
	var limited *slack.RateLimitedError
	if !errors.As(err, &limited) || slackout.IsPermanent(err) {
		t.Fatalf("err = %v; want a retryable rate limit", err)
	}
	if calls := s.Calls("chat.postMessage"); calls != 6 {
		t.Fatalf("calls = %d; want 6 (one and five retries)", calls)
	}
}

func TestWebAPI_StopsWaitingWhenContextEnds(t *testing.T) {
	api, s := newWebAPI(t)
	s.RateLimitNext(1, 30*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := api.Post(ctx, slackout.Message{Channel: "C0ALERTS", Text: "hi"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want the context's deadline", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("returned after %s", waited)
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("%d messages posted", n)
	}
}

func TestWebAPI_ClassifiesErrors(t *testing.T) {
	for _, tt := range []struct {
		code      string
		permanent bool
	}{
		{"msg_too_long", true},
		{"channel_not_found", true},
		{"not_in_channel", true},
		{"invalid_auth", true},
		{"internal_error", false},
		{"fatal_error", false},
	} {
		t.Run(tt.code, func(t *testing.T) {
			api, s := newWebAPI(t)
			s.FailNext(1, tt.code)
			_, err := api.Post(context.Background(), slackout.Message{Channel: "C0ALERTS", Text: "hi"})
			if err == nil || !strings.Contains(err.Error(), tt.code) {
				t.Fatalf("err = %v; want %s", err, tt.code)
			}
			if got := slackout.IsPermanent(err); got != tt.permanent {
				t.Fatalf("IsPermanent = %v; want %v", got, tt.permanent)
			}
		})
	}
}

func TestWebAPI_WrongTokenIsPermanent(t *testing.T) {
	s := slacktest.NewServer(t)
	s.Token = "xoxb-right"
	api := slackout.NewWebAPI("xoxb-wrong", strings.TrimSuffix(s.URL(), "/"), nil)
	_, err := api.Post(context.Background(), slackout.Message{Channel: "C0ALERTS", Text: "hi"})
	if !slackout.IsPermanent(err) || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("err = %v; want permanent invalid_auth", err)
	}
}

func TestWebAPI_CutsMessagesToSlackLimits(t *testing.T) {
	api, s := newWebAPI(t)
	var blocks []slack.Block
	for i := range 60 {
		blocks = append(blocks, section(fmt.Sprint("line ", i)))
	}
	_, err := api.Post(context.Background(), slackout.Message{Channel: "C0ALERTS", Text: strings.Repeat("ß", 50000), Blocks: blocks})
	if err != nil {
		t.Fatal(err)
	}
	m := s.Messages()[0]
	if n := utf8.RuneCountInString(m.Text); n != slackout.MaxTextLen || !strings.HasSuffix(m.Text, "…") {
		t.Errorf("text has %d characters; want %d ending in …", n, slackout.MaxTextLen)
	}
	if n := strings.Count(string(m.Blocks), `"type":"section"`); n != slackout.MaxBlocks-1 ||
		!strings.Contains(string(m.Blocks), "11 more not shown") {
		t.Errorf("blocks = %s", m.Blocks)
	}
}

func TestWebAPI_RespondPostsToResponseURL(t *testing.T) {
	api, s := newWebAPI(t)
	url := s.ResponseURL()
	s.RateLimitNext(1, 0)
	err := api.Respond(context.Background(), url, slackout.Message{Text: "Cancelled.", Blocks: []slack.Block{section("Cancelled.")}, ReplaceOriginal: true})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Responses()
	if len(got) != 1 || got[0].URL != url || got[0].Text != "Cancelled." || !got[0].ReplaceOriginal ||
		!strings.Contains(string(got[0].Blocks), "Cancelled.") || got[0].ResponseType != "" {
		t.Fatalf("responses = %+v", got)
	}
}

func TestWebAPI_RespondErrors(t *testing.T) {
	for _, tt := range []struct {
		name      string
		status    int
		body      string
		permanent bool
	}{
		{"expired url", http.StatusNotFound, "expired_url", true},
		{"used up", http.StatusOK, `{"ok":false,"error":"used_url"}`, true},
		{"bad request without a code", http.StatusBadRequest, "<html>nope</html>", true},
		{"server error", http.StatusBadGateway, "<html>oops</html>", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "" {
					t.Error("the bot token was sent to a response_url")
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer hook.Close()
			api := slackout.NewWebAPI("xoxb-test", "", nil)
			err := api.Respond(context.Background(), hook.URL, slackout.Message{Text: "hi"})
			if err == nil {
				t.Fatal("no error")
			}
			if got := slackout.IsPermanent(err); got != tt.permanent {
				t.Fatalf("IsPermanent(%v) = %v; want %v", err, got, tt.permanent)
			}
		})
	}
}

func TestUserGroups_Members(t *testing.T) {
	api, s := newWebAPI(t)
	s.SetGroupMembers("S0ADMINS", "U0ALICE", "U0BOB")
	s.RateLimitNext(1, 0)
	groups := bot.NewGroupCache(api.UserGroups(), time.Minute)
	users, err := groups.Members(context.Background(), "S0ADMINS")
	if err != nil || strings.Join(users, ",") != "U0ALICE,U0BOB" {
		t.Fatalf("members = %v, %v", users, err)
	}
	_, err = groups.Members(context.Background(), "S0UNKNOWN")
	if !slackout.IsPermanent(err) || !strings.Contains(err.Error(), "no_such_subteam") {
		t.Fatalf("unknown group: %v", err)
	}
}

func TestIsPermanent_TransientFailuresAreNot(t *testing.T) {
	for _, err := range []error{
		nil,
		context.DeadlineExceeded,
		errors.New("dial tcp: connection refused"),
		&slack.RateLimitedError{RetryAfter: time.Second},
		slack.StatusCodeError{Code: http.StatusServiceUnavailable, Status: "503 Service Unavailable"},
	} {
		if slackout.IsPermanent(err) {
			t.Errorf("IsPermanent(%v) = true", err)
		}
	}
	if !slackout.IsPermanent(fmt.Errorf("wrapped: %w", slack.StatusCodeError{Code: http.StatusForbidden, Status: "403 Forbidden"})) {
		t.Error("a 403 is not permanent")
	}
}
