package slacktest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/internal/slacktest"
)

func rateLimited(err error) (time.Duration, bool) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return rl.RetryAfter, true
	}
	return 0, false
}

// Slack's documented limits: about one post a second per channel (a short
// burst passes), Tier 3 for chat.update; past them HTTP 429 with
// Retry-After, as Slack answers.
func TestServer_EnforcesSlacksRateLimits(t *testing.T) {
	ctx := context.Background()
	s := slacktest.NewServer(t)
	c := client(s, "xoxb-any")
	post := func(channel string) error {
		_, _, err := c.PostMessageContext(ctx, channel, slack.MsgOptionText("hi", false))
		return err
	}
	for i := range 2 {
		if err := post("C0BILLING"); err != nil {
			t.Fatalf("post %d of a burst of two: %v", i+1, err)
		}
	}
	err := post("C0BILLING")
	if wait, ok := rateLimited(err); !ok || wait != time.Second {
		t.Fatalf("third post at once: %v; want 429 with Retry-After 1", err)
	}
	if err := post("C0OTHER"); err != nil {
		t.Errorf("another channel has its own limit: %v", err)
	}
	time.Sleep(1100 * time.Millisecond)
	if err := post("C0BILLING"); err != nil {
		t.Errorf("a second later: %v", err)
	}
	_, ts, _ := c.PostMessageContext(ctx, "C0THIRD", slack.MsgOptionText("to update", false))
	var updateErr error
	for i := range 6 {
		if _, _, _, updateErr = c.UpdateMessageContext(ctx, "C0THIRD", ts, slack.MsgOptionText("v"+string(rune('0'+i)), false)); updateErr != nil {
			break
		}
	}
	if _, ok := rateLimited(updateErr); !ok {
		t.Errorf("six updates at once: %v; want the sixth answered 429 (Tier 3)", updateErr)
	}
	if s.RateLimited("chat.postMessage") != 1 || s.RateLimited("chat.update") != 1 {
		t.Errorf("RateLimited: posts %d, updates %d", s.RateLimited("chat.postMessage"), s.RateLimited("chat.update"))
	}
	s.SetLimits(slacktest.Limits{})
	for range 5 {
		if err := post("C0BILLING"); err != nil {
			t.Fatalf("without limits: %v", err)
		}
	}
}
