package slacktest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/internal/slacktest"
)

func modal(title string, blocks ...slack.Block) slack.ModalViewRequest {
	return slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
		Blocks: slack.Blocks{BlockSet: blocks}}
}

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

// A trigger_id opens one view, within 3 seconds of the click.
func TestViewsOpen_TriggerIsValidThreeSecondsAndOnce(t *testing.T) {
	ctx := context.Background()
	s := slacktest.NewServer(t)
	c := client(s, "xoxb-any")
	fresh := s.Trigger()
	if _, err := c.OpenViewContext(ctx, fresh, modal("Move a licence", section("x"))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OpenViewContext(ctx, fresh, modal("Again", section("x"))); slackCode(err) != "exchanged_trigger_id" {
		t.Errorf("reused trigger: %v", err)
	}
	if _, err := c.OpenViewContext(ctx, s.TriggerIssuedAt(time.Now().Add(-3100*time.Millisecond)), modal("Late", section("x"))); slackCode(err) != "expired_trigger_id" {
		t.Errorf("stale trigger: %v", err)
	}
	if _, err := c.OpenViewContext(ctx, "12345.made.up", modal("Made up", section("x"))); slackCode(err) != "invalid_trigger_id" {
		t.Errorf("unknown trigger: %v", err)
	}
	if n := len(s.Views()); n != 1 {
		t.Errorf("%d views", n)
	}
}

// Slack's view limits: title 24, 100 blocks, 3,000 of private_metadata, a
// submit button for any input, Block Kit's element limits.
func TestViews_EnforceSlacksLimits(t *testing.T) {
	ctx := context.Background()
	s := slacktest.NewServer(t)
	c := client(s, "xoxb-any")
	many := make([]slack.Block, 101)
	for i := range many {
		many[i] = slack.NewDividerBlock()
	}
	long := modal("Fine", section("x"))
	long.PrivateMetadata = strings.Repeat("m", 3001)
	input := modal("Form", slack.NewInputBlock("b", slack.NewTextBlockObject(slack.PlainTextType, "Label", false, false), nil,
		slack.NewPlainTextInputBlockElement(nil, "a")))
	button := slack.NewButtonBlockElement("a", "v", slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("b", 76), false, false))
	for _, tt := range []struct {
		name string
		view slack.ModalViewRequest
		want string
	}{
		{"title of 25", modal(strings.Repeat("t", 25), section("x")), "/view/title"},
		{"101 blocks", modal("Many", many...), "at most 100"},
		{"metadata of 3001", long, "/view/private_metadata"},
		{"input without submit", input, "submit is required"},
		{"button text of 76", modal("Button", slack.NewActionBlock("b", button)), "/view/blocks/0/elements/0/text"},
		{"section of 3001", modal("Long", section(strings.Repeat("s", 3001))), "/view/blocks/0/text"},
	} {
		_, err := c.OpenViewContext(ctx, s.Trigger(), tt.view)
		if slackCode(err) != "invalid_arguments" || !strings.Contains(err.Error(), "invalid_arguments") {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if n := len(s.Views()); n != 0 {
		t.Errorf("%d views kept", n)
	}
	// The same limits hold for messages: a button text of 76 is refused.
	if _, _, err := c.PostMessageContext(ctx, "C0ALERTS", slack.MsgOptionBlocks(slack.NewActionBlock("b", button))); slackCode(err) != "invalid_blocks" {
		t.Errorf("message with a long button: %v", err)
	}
}

// views.update honours its hash; views.publish keeps one Home per person.
func TestViews_UpdateAndPublish(t *testing.T) {
	ctx := context.Background()
	s := slacktest.NewServer(t)
	c := client(s, "xoxb-any")
	v, err := c.OpenViewContext(ctx, s.Trigger(), modal("One", section("1")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateViewContext(ctx, modal("Two", section("2")), "", "stale.hash", v.ID); slackCode(err) != "hash_conflict" {
		t.Errorf("stale hash: %v", err)
	}
	if _, err := c.UpdateViewContext(ctx, modal("Two", section("2")), "", v.Hash, v.ID); err != nil {
		t.Errorf("update: %v", err)
	}
	if _, err := c.UpdateViewContext(ctx, modal("Three", section("3")), "", "", "V404"); slackCode(err) != "not_found" {
		t.Errorf("unknown view: %v", err)
	}
	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{section("home")}}}
	for i := 0; i < 2; i++ {
		if _, err := c.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: home}); err != nil {
			t.Fatal(err)
		}
	}
	if h, ok := s.Home("U1"); !ok || len(s.Views()) != 2 || !strings.Contains(string(h.JSON), "home") {
		t.Errorf("homes: %+v", s.Views())
	}
	s.DisableHome()
	if _, err := c.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U2", View: home}); slackCode(err) != "not_enabled" {
		t.Errorf("Home tab off: %v", err)
	}
}

func TestUsersInfo(t *testing.T) {
	s := slacktest.NewServer(t)
	s.SetUser(slacktest.User{ID: "U1", Name: "sam", DisplayName: "Sam Sales", Restricted: true})
	c := client(s, "xoxb-any")
	u, err := c.GetUserInfoContext(context.Background(), "U1")
	if err != nil || u.Profile.DisplayName != "Sam Sales" || !u.IsRestricted {
		t.Errorf("U1: %+v %v", u, err)
	}
	if _, err := c.GetUserInfoContext(context.Background(), "U404"); slackCode(err) != "user_not_found" {
		t.Errorf("unknown user: %v", err)
	}
}

// The Events API as Slack delivers it: signed, the url_verification
// handshake, and retries (with their headers) until a 2xx within 3 s.
func TestEvents_SignsVerifiesAndRetries(t *testing.T) {
	var attempts []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, sig := slacktest.Sign("secret", time.Now(), body)
		if r.Header.Get("X-Slack-Signature") != sig || r.Header.Get("X-Slack-Request-Timestamp") != ts {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if strings.Contains(string(body), "url_verification") {
			w.Write([]byte(`{"challenge":"` + strings.Split(strings.Split(string(body), `"challenge":"`)[1], `"`)[0] + `"}`))
			return
		}
		attempts = append(attempts, r.Header.Get("X-Slack-Retry-Num")+"/"+r.Header.Get("X-Slack-Retry-Reason"))
		if len(attempts) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(app.Close)
	e := &slacktest.Events{URL: app.URL, Secret: "secret", TeamID: "T1"}
	e.Verify(t)
	d := e.Deliver(t, slacktest.AppHomeOpened("U1"))
	if !d.OK() || d.Attempts != 3 || strings.Join(attempts, ",") != "/,1/http_error,2/http_error" {
		t.Errorf("delivery %+v, attempts %v", d, attempts)
	}
}
