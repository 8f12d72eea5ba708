package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/slack-go/slack"

	"licensedesk/bot"
	"licensedesk/internal/browsertest"
	"licensedesk/internal/slacktest"
)

// Sales' Slack on the real stack (issue 21): a salesperson moves a licence
// from the form, resends its link from a button, cancels it from a button,
// and reads the licence's whole history with Show more. Over HTTP, and over
// Socket Mode, through the same registry. With LICENSEDESK_SCREENSHOTS set,
// the HTTP run photographs the move form, the progress message with its
// buttons and the App Home as /dev/slack renders them.

// slackWire is how Slack reaches the bot: signed HTTP, or the socket.
type slackWire interface {
	// command sends a slash command; nil when its answer was empty (a
	// form opened instead).
	command(t *testing.T, text string) *bot.Reply
	// interact sends an interaction payload and returns the answer's
	// body (HTTP) or payload (Socket Mode acknowledgement).
	interact(t *testing.T, payload map[string]any) []byte
}

const storyUser, storyTeam, storyChannel = "U0STORY", "T0STORY", "C0STORY"

type httpWire struct{ s *stack }

func (w httpWire) command(t *testing.T, text string) *bot.Reply {
	t.Helper()
	body := []byte(url.Values{"command": {"/license"}, "text": {text}, "user_id": {storyUser}, "team_id": {storyTeam},
		"channel_id": {storyChannel}, "trigger_id": {fmt.Sprintf("%d.story.%d", time.Now().Unix(), time.Now().UnixNano())},
		"response_url": {w.s.state.HTTPURL + "/dev/slack/response"}}.Encode())
	req, _ := http.NewRequest(http.MethodPost, w.s.state.HTTPURL+"/slack/commands", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ts, sig := bot.Sign([]byte(w.s.state.SlackSigningSecret), time.Now(), body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	code, b := do(t, req)
	if code != http.StatusOK {
		t.Fatalf("%q: %d %s", text, code, b)
	}
	return decodeReply(t, b)
}

func (w httpWire) interact(t *testing.T, payload map[string]any) []byte {
	t.Helper()
	code, b := do(t, slacktest.SignedForm(t, w.s.state.HTTPURL+"/slack/interactions", w.s.state.SlackSigningSecret, payload))
	if code != http.StatusOK {
		t.Fatalf("interaction: %d %s", code, b)
	}
	return b
}

type socketWire struct{ sock *socketSlack }

func (w socketWire) command(t *testing.T, text string) *bot.Reply {
	t.Helper()
	id := w.sock.envelopeID()
	ack := w.sock.fake.Deliver(t, slacktest.SlashCommandEnvelope(id, slack.SlashCommand{UserID: storyUser, ChannelID: storyChannel,
		TeamID: storyTeam, Text: text, ResponseURL: w.sock.s.state.HTTPURL + "/dev/slack/response", TriggerID: "trigger." + id}), 10*time.Second)
	return decodeReply(t, ack)
}

func (w socketWire) interact(t *testing.T, payload map[string]any) []byte {
	t.Helper()
	return w.sock.fake.Deliver(t, slacktest.InteractiveEnvelope(w.sock.envelopeID(), payload), 10*time.Second)
}

func decodeReply(t *testing.T, b []byte) *bot.Reply {
	t.Helper()
	if s := string(bytes.TrimSpace(b)); s == "" || s == "null" {
		return nil
	}
	var r bot.Reply
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("reply %s: %v", b, err)
	}
	return &r
}

// keptView is one entry of /dev/slack/views.json.
type keptView struct {
	ViewID string          `json:"view_id"`
	Kind   string          `json:"kind"`
	UserID string          `json:"user_id"`
	View   json.RawMessage `json:"view"`
}

func (s *stack) views(t *testing.T) []keptView {
	t.Helper()
	_, body := s.get(t, "/dev/slack/views.json", "")
	var v []keptView
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("views: %v %s", err, body)
	}
	return v
}

// payload is a kept view as Slack sends it back in interactions.
func (v keptView) payload(t *testing.T) map[string]any {
	m := slacktest.ViewMap(t, v.View)
	m["id"] = v.ViewID
	return m
}

// keptMessage is one entry of /dev/slack.json, as a Reply to read its buttons.
func (s *stack) message(t *testing.T, channel, contains string) (bot.Reply, bool) {
	t.Helper()
	_, body := s.get(t, "/dev/slack.json", "")
	var msgs []struct {
		Channel string          `json:"channel"`
		Text    string          `json:"text"`
		Blocks  json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(body, &msgs); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Channel != channel || !strings.Contains(m.Text, contains) {
			continue
		}
		var r bot.Reply
		raw, _ := json.Marshal(map[string]any{"text": m.Text, "blocks": m.Blocks})
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		return r, true
	}
	return bot.Reply{}, false
}

// waitMessage waits for a message in channel whose text has contains and
// whose plain text has want.
func (s *stack) waitMessage(t *testing.T, channel, contains, want string) bot.Reply {
	t.Helper()
	var last bot.Reply
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if r, ok := s.message(t, channel, contains); ok {
			if last = r; strings.Contains(bot.PlainText(r), want) {
				return r
			}
		}
	}
	t.Fatalf("no message %q with %q in %s; last:\n%s", contains, want, channel, bot.PlainText(last))
	return bot.Reply{}
}

// waitResponse waits for the n-th reply kept from a response_url.
func (s *stack) waitResponse(t *testing.T, n int) string {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got := s.responses(t); len(got) >= n {
			return got[n-1]
		}
	}
	t.Fatalf("no response_url reply %d: %q", n, s.responses(t))
	return ""
}

func findButton(t *testing.T, r bot.Reply, label string) *slack.ButtonBlockElement {
	t.Helper()
	for _, b := range bot.Buttons(r) {
		if b.Text.Text == label {
			return b
		}
	}
	t.Fatalf("no [%s] in\n%s", label, bot.PlainText(r))
	return nil
}

// pressOn presses b on a message, answered at the dev response_url.
func pressOn(t *testing.T, s *stack, w slackWire, b *slack.ButtonBlockElement) {
	t.Helper()
	w.interact(t, slacktest.Press(storyUser, storyTeam, storyChannel, s.state.HTTPURL+"/dev/slack/response",
		fmt.Sprintf("%d.press.%d", time.Now().Unix(), time.Now().UnixNano()), b.ActionID, b.Value))
}

// salesStory walks the story over w; shoot takes screenshots (HTTP only).
func salesStory(t *testing.T, s *stack, w slackWire, shoot func(name, path, selector string)) {
	const sen, newEmail, moveID = "SEN-1000002", "yan@globex2.test", "move/SEN-1000002/yan@globex2.test"

	// /license move opens the form; Enter in the SEN field offers the
	// licence's people to confirm.
	if r := w.command(t, "move"); r != nil {
		t.Fatalf("/license move answered %q instead of opening the form", bot.PlainText(*r))
	}
	form := s.views(t)[0]
	if form.Kind != "modal" || !strings.Contains(string(form.View), `"callback_id":"move"`) {
		t.Fatalf("the newest view is not the move form: %+v", form)
	}
	state := slacktest.FormState{"sen": {"sen": slacktest.Typed(sen)}, "new_email": {"new_email": slacktest.Typed("")}}
	w.interact(t, slacktest.Dispatched(storyUser, storyTeam, form.payload(t), "sen", "sen", state))
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(string(form.View), "dave@globex.test (primary billing"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the form never offered the licence's people:\n%s", form.View)
		}
		form = s.views(t)[0]
	}
	shoot("slack-move-form", "/dev/slack/views/"+form.ViewID, ".sl-modal")

	// A bad email is answered next to its field; nothing starts.
	state["new_email"] = map[string]any{"new_email": slacktest.Typed("yan@")}
	if a := w.interact(t, slacktest.Submission(storyUser, storyTeam, form.payload(t), state)); !strings.Contains(string(a), `"response_action":"errors"`) || !strings.Contains(string(a), `"new_email"`) {
		t.Fatalf("bad email: %s", a)
	}
	state["new_email"] = map[string]any{"new_email": slacktest.Typed(newEmail)}
	if a := w.interact(t, slacktest.Submission(storyUser, storyTeam, form.payload(t), state)); !strings.Contains(string(a), "Move of "+sen+" to "+newEmail+" started") {
		t.Fatalf("submission: %s", a)
	}

	// The progress message carries the next steps.
	progress := s.waitMessage(t, storyChannel, "Move "+sen+" to "+newEmail, "[Resend link] [Cancel…] [Show licence]")
	shoot("slack-progress-buttons", "/dev/slack", "article.sl-message")
	before := len(s.mails(t, "dave@globex.test", "Please confirm moving "+sen))

	// Resend link from its button: a fresh mail; pressed again, it says when.
	responses := len(s.responses(t))
	pressOn(t, s, w, findButton(t, progress, "Resend link"))
	if got := s.waitResponse(t, responses+1); !strings.Contains(got, "A fresh link went to dave@globex.test") {
		t.Fatalf("Resend link: %q", got)
	}
	s.waitMails(t, "dave@globex.test", "Please confirm moving "+sen, before+1)
	pressOn(t, s, w, findButton(t, progress, "Resend link"))
	if got := s.waitResponse(t, responses+2); !strings.Contains(got, "another can be sent from") {
		t.Errorf("Resend link again: %q", got)
	}

	// Cancel from its button (Slack asked with its confirm dialog first).
	cancel := findButton(t, progress, "Cancel…")
	if cancel.Confirm == nil || cancel.Confirm.Confirm.Text != "Cancel the move" {
		t.Errorf("Cancel… does not ask first: %+v", cancel.Confirm)
	}
	pressOn(t, s, w, cancel)
	if got := s.waitResponse(t, responses+3); !strings.Contains(got, "Cancelling “Move "+sen+" to "+newEmail+"”") {
		t.Fatalf("Cancel: %q", got)
	}
	ended := s.waitMessage(t, storyChannel, "Move "+sen+" to "+newEmail, "— cancelled")
	if text := bot.PlainText(ended); !strings.Contains(text, "■ A contact confirms by email (stopped here: cancelled)") || strings.Contains(text, "Resend link") {
		t.Errorf("the cancelled progress message:\n%s", text)
	}
	if raw, _ := json.Marshal(ended.Blocks); !strings.Contains(strings.ReplaceAll(string(raw), `\u003c`, "<"), "<@"+storyUser) {
		t.Errorf("the canceller is not a mention: %s", raw)
	}
	pressOn(t, s, w, cancel)
	if got := s.waitResponse(t, responses+4); !strings.Contains(got, "has already ended: cancelled") {
		t.Errorf("Cancel after the end: %q", got)
	}

	// More history: five contacts added by typing.
	for i := 1; i <= 5; i++ {
		if r := w.command(t, fmt.Sprintf("contact add %s technical p%d@globex.test", sen, i)); r == nil || !strings.Contains(r.Text, "started") {
			t.Fatalf("contact add %d: %+v", i, r)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, body := s.get(t, "/api/v1/licenses/"+sen+"/history", s.state.AdminAPIToken)
		var h struct{ Events []json.RawMessage }
		_ = json.Unmarshal(body, &h)
		if len(h.Events) >= 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("history has %d events", len(h.Events))
		}
	}

	// The whole history, ten events at a time.
	first := w.command(t, "history "+sen)
	if first == nil {
		t.Fatal("history answered nothing")
	}
	all := bot.PlainText(*first)
	more := findButton(t, *first, "Show 10 more")
	pressOn(t, s, w, more)
	all += bot.PlainText(s.waitMessage(t, "response_url", "History of "+sen+", earlier", "History"))
	for _, want := range []string{"asked to move " + sen + " to " + newEmail, "had a fresh link mailed to dave@globex.test",
		"p1@globex.test", "p5@globex.test", "That is everything recorded.", "History of " + sen + ", earlier"} {
		if !strings.Contains(all, want) {
			t.Errorf("the history read with Show more lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "asked to add p1@globex.test") && strings.Contains(all, "added p1@globex.test") {
		t.Errorf("asking and doing are two lines:\n%s", all)
	}
	t.Logf("the history, read with Show more:\n%s", all)
}

func TestDev_SalesStoryInSlackOverHTTP(t *testing.T) {
	s := startDev(t)
	w := httpWire{s}
	var shots []string
	var browser *browsertest.Page
	shoot := func(name, path, selector string) {
		if os.Getenv("LICENSEDESK_SCREENSHOTS") == "" {
			return
		}
		if browser == nil {
			browser = browsertest.NewPage(t, s.state.HTTPURL, 720, "")
		}
		browser.Open(path, http.StatusOK)
		png := browsertest.Value(t, browser.Ctx, "screenshot "+name, chromedp.ScreenshotScale(chromedp.CSS(selector), 0.5))
		file := filepath.Join(os.Getenv("LICENSEDESK_SCREENSHOTS"), name+".png")
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		shots = append(shots, file)
	}
	salesStory(t, s, w, shoot)

	// The App Home: an operation of the salesperson's in flight, and
	// today's billing, published on app_home_opened (after the handshake).
	if r := w.command(t, "move SEN-1000001 zed@newco.test"); r == nil {
		t.Fatal("move answered nothing")
	} else {
		pressOn(t, s, w, findButton(t, *r, "Start the move"))
	}
	events := &slacktest.Events{URL: s.state.HTTPURL + "/slack/events", Secret: s.state.SlackSigningSecret, TeamID: storyTeam}
	events.Verify(t)
	var home keptView
	for deadline := time.Now().Add(15 * time.Second); home.ViewID == ""; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no App Home published")
		}
		events.Deliver(t, slacktest.AppHomeOpened(storyUser))
		time.Sleep(300 * time.Millisecond)
		for _, v := range s.views(t) {
			if v.Kind == "home" && v.UserID == storyUser && strings.Contains(string(v.View), "Move SEN-1000001 to zed@newco.test") {
				home = v
			}
		}
	}
	for _, want := range []string{"*Yours*", "Waiting on a customer for more than 3 days", "Billing today", "SEN-1000003"} {
		if !strings.Contains(string(home.View), want) {
			t.Errorf("the App Home lacks %q:\n%s", want, home.View)
		}
	}
	shoot("slack-app-home", "/dev/slack/views/"+home.ViewID, ".sl-view")
	for _, f := range shots {
		t.Logf("screenshot: %s", f)
	}
}

func TestDev_SalesStoryInSlackOverSocketMode(t *testing.T) {
	defer func(d time.Duration) { socketIdleTimeout = d }(socketIdleTimeout)
	socketIdleTimeout = 5 * time.Second
	fake := slacktest.NewSocketMode(t, devAppToken)
	s := startDevWith(t, map[string]string{"SLACK_APP_TOKEN": devAppToken, "SLACK_API_URL": fake.URL()})
	fake.WaitConnections(t, 1, 10*time.Second)
	salesStory(t, s, socketWire{&socketSlack{fake: fake, s: s}}, func(string, string, string) {})
}
