package slacktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/internal/slacktest"
)

func client(s *slacktest.Server, token string) *slack.Client {
	return slack.New(token, slack.OptionAPIURL(s.URL()))
}

func slackCode(err error) string {
	var e slack.SlackErrorResponse
	if errors.As(err, &e) {
		return e.Err
	}
	if err != nil {
		return "unexpected: " + err.Error()
	}
	return ""
}

func TestServer_EnforcesTextLimit(t *testing.T) {
	ctx := context.Background()
	s := slacktest.NewServer(t)
	s.SetLimits(slacktest.Limits{}) // about content, not pace
	c := client(s, "xoxb-any")
	for _, tt := range []struct {
		name, text, code string
	}{
		{"exactly 40,000 characters", strings.Repeat("é", 40000), ""},
		{"one more", strings.Repeat("é", 40001), "msg_too_long"},
		{"nothing at all", "", "no_text"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.PostMessageContext(ctx, "C0ALERTS", slack.MsgOptionText(tt.text, false))
			if got := slackCode(err); got != tt.code {
				t.Fatalf("error = %q; want %q", got, tt.code)
			}
		})
	}
	if n := len(s.Messages()); n != 1 {
		t.Fatalf("recorded %d messages; want 1", n)
	}
}

func TestServer_ChecksTokenWhenSet(t *testing.T) {
	ctx := context.Background()
	s := slacktest.NewServer(t)
	s.Token = "xoxb-right"
	for token, code := range map[string]string{"xoxb-right": "", "xoxb-wrong": "invalid_auth", "": "not_authed"} {
		_, err := client(s, token).AuthTestContext(ctx)
		if got := slackCode(err); got != code {
			t.Errorf("token %q: error = %q; want %q", token, got, code)
		}
	}
}

func TestServer_AcceptsJSONBodies(t *testing.T) {
	s := slacktest.NewServer(t)
	s.Token = "xoxb-right"
	body := `{"channel":"C0ALERTS","text":"fallback","blocks":[{"type":"divider"}]}`
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"chat.postMessage", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer xoxb-right")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		OK      bool   `json:"ok"`
		TS      string `json:"ts"`
		Channel string `json:"channel"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || !answer.OK || answer.Channel != "C0ALERTS" {
		t.Fatalf("answer = %+v, %v", answer, err)
	}
	got := s.Messages()
	if len(got) != 1 || got[0].TS != answer.TS || got[0].Text != "fallback" || string(got[0].Blocks) != `[{"type":"divider"}]` {
		t.Fatalf("messages = %+v", got)
	}
}

// Slack answers a post to a channel name with the channel's ID, and
// chat.update takes only the ID: the fake must not be kinder.
func TestServer_UpdateTakesOnlyChannelIDs(t *testing.T) {
	ctx := context.Background()
	s := slacktest.NewServer(t)
	c := client(s, "xoxb-any")
	channel, ts, err := c.PostMessageContext(ctx, "#alerts", slack.MsgOptionText("v1", false),
		slack.MsgOptionBlocks(slack.NewDividerBlock()))
	if err != nil || channel != s.ChannelID("alerts") || !strings.HasPrefix(channel, "C") {
		t.Fatalf("post = %q, %v; want channel %q", channel, err, s.ChannelID("alerts"))
	}
	if _, _, _, err := c.UpdateMessageContext(ctx, "#alerts", ts, slack.MsgOptionText("v2", false)); slackCode(err) != "channel_not_found" {
		t.Fatalf("update by name: %v; want channel_not_found", err)
	}
	if _, _, _, err := c.UpdateMessageContext(ctx, channel, "1.000000", slack.MsgOptionText("v2", false)); slackCode(err) != "message_not_found" {
		t.Fatalf("update of unknown ts: %v; want message_not_found", err)
	}
	if _, _, _, err := c.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText("v2", false)); err != nil {
		t.Fatal(err)
	}
	got := s.Messages()[0]
	if got.Text != "v2" || got.Updates != 1 || got.ChannelName != "alerts" ||
		len(got.History) != 1 || got.History[0].Text != "v1" || string(got.Blocks) != `[{"type":"divider"}]` {
		t.Fatalf("message = %+v", got)
	}
}

func TestServer_RateLimitNextAnswers429WithRetryAfter(t *testing.T) {
	ctx := context.Background()
	s := slacktest.NewServer(t)
	s.RateLimitNext(2, 1500*time.Millisecond)
	c := client(s, "xoxb-any")
	for range 2 {
		_, _, err := c.PostMessageContext(ctx, "C0ALERTS", slack.MsgOptionText("hi", false))
		var limited *slack.RateLimitedError
		if !errors.As(err, &limited) || limited.RetryAfter != 2*time.Second {
			t.Fatalf("err = %v; want a 2s rate limit", err)
		}
	}
	if _, _, err := c.PostMessageContext(ctx, "C0ALERTS", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatal(err)
	}
	if n := s.Calls("chat.postMessage"); n != 3 {
		t.Fatalf("calls = %d; want 3", n)
	}
}

func TestServer_FailNext(t *testing.T) {
	s := slacktest.NewServer(t)
	s.FailNext(1, "not_in_channel")
	c := client(s, "xoxb-any")
	_, _, err := c.PostMessage("C0ALERTS", slack.MsgOptionText("hi", false))
	if slackCode(err) != "not_in_channel" {
		t.Fatalf("err = %v", err)
	}
	if _, _, err := c.PostMessage("C0ALERTS", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatal(err)
	}
}

func TestServer_ThreadRepliesNeedTheirParent(t *testing.T) {
	s := slacktest.NewServer(t)
	s.SetLimits(slacktest.Limits{}) // about threads, not pace
	c := client(s, "xoxb-any")
	_, parent, _ := c.PostMessage("C0ALERTS", slack.MsgOptionText("parent", false))
	if _, _, err := c.PostMessage("C0ALERTS", slack.MsgOptionText("reply", false), slack.MsgOptionTS(parent)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.PostMessage("C0ALERTS", slack.MsgOptionText("orphan", false), slack.MsgOptionTS("1.000001")); slackCode(err) != "thread_not_found" {
		t.Fatalf("orphan reply: %v", err)
	}
	if got := s.Messages(); len(got) != 2 || got[1].ThreadTS != parent {
		t.Fatalf("messages = %+v", got)
	}
}

func TestServer_GroupMembers(t *testing.T) {
	s := slacktest.NewServer(t)
	s.SetGroupMembers("S0ADMINS", "U1", "U2")
	c := client(s, "xoxb-any")
	users, err := c.GetUserGroupMembers("S0ADMINS")
	if err != nil || strings.Join(users, ",") != "U1,U2" {
		t.Fatalf("members = %v, %v", users, err)
	}
	if _, err := c.GetUserGroupMembers("S0NOBODY"); slackCode(err) != "no_such_subteam" {
		t.Fatalf("unknown group: %v", err)
	}
}

func TestServer_ResponseURLRecordsPosts(t *testing.T) {
	s := slacktest.NewServer(t)
	first, second := s.ResponseURL(), s.ResponseURL()
	if first == second {
		t.Fatal("response URLs repeat")
	}
	c := client(s, "xoxb-any")
	_, _, err := c.PostMessage("", slack.MsgOptionText("done", false), slack.MsgOptionReplaceOriginal(second))
	if err != nil {
		t.Fatal(err)
	}
	got := s.Responses()
	if len(got) != 1 || got[0].URL != second || got[0].Text != "done" || !got[0].ReplaceOriginal {
		t.Fatalf("responses = %+v", got)
	}
}

func TestServer_WaitForSeesLaterPosts(t *testing.T) {
	s := slacktest.NewServer(t)
	c := client(s, "xoxb-any")
	go func() {
		time.Sleep(50 * time.Millisecond)
		c.PostMessage("C0ALERTS", slack.MsgOptionText("later", false))
	}()
	got := s.WaitFor(t, func(ms []slacktest.Msg) bool { return len(ms) == 1 }, 5*time.Second)
	if got[0].Text != "later" {
		t.Fatalf("messages = %+v", got)
	}
}
