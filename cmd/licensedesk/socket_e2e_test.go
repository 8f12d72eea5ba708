package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/api/workflowservice/v1"

	"licensedesk/bot"
	"licensedesk/devstack"
	"licensedesk/internal/slacktest"
)

const devAppToken = "xapp-1-A0TEST-1-dev"

// socketSlack is Slack reaching a dev stack over Socket Mode: the fake
// server delivers envelopes to the bot's connection.
type socketSlack struct {
	fake *slacktest.SocketMode
	s    *stack
	n    int
}

func (c *socketSlack) envelopeID() string {
	c.n++
	return "env-" + strconv.Itoa(c.n)
}

// command sends a slash command envelope and returns the reply its
// acknowledgement carried, and how long that took.
func (c *socketSlack) command(t *testing.T, text string) (bot.Reply, time.Duration) {
	t.Helper()
	id := c.envelopeID()
	start := time.Now()
	payload := c.fake.Deliver(t, slacktest.SlashCommandEnvelope(id, slack.SlashCommand{UserID: "U0SOCKET", ChannelID: "C0TEST",
		TeamID: "T0TEST", Text: text, ResponseURL: c.s.state.HTTPURL + "/dev/slack/response", TriggerID: "trigger." + id}), 40*time.Second)
	took := time.Since(start)
	var r bot.Reply
	if err := json.Unmarshal(payload, &r); err != nil {
		t.Fatalf("%q: ack %s: %v", text, payload, err)
	}
	return r, took
}

// press presses prompt's Confirm button and returns the envelope.
func (c *socketSlack) press(t *testing.T, prompt bot.Reply) slacktest.Envelope {
	t.Helper()
	value, ok := bot.ConfirmValue(prompt)
	if !ok {
		t.Fatalf("no Confirm button in %s", bot.PlainText(prompt))
	}
	e := slacktest.ButtonEnvelope(c.envelopeID(), "U0SOCKET", "C0TEST", c.s.state.HTTPURL+"/dev/slack/response", "confirm", value)
	c.fake.Deliver(t, e, 3*time.Second)
	return e
}

// responses are the replies dev kept from response_url posts, oldest first.
func (s *stack) responses(t *testing.T) []string {
	t.Helper()
	_, body := s.get(t, "/dev/slack.json", "")
	var msgs []struct {
		Channel string `json:"channel"`
		Text    string `json:"text"`
	}
	if err := json.Unmarshal(body, &msgs); err != nil {
		t.Fatalf("dev slack: %v: %s", err, body)
	}
	var out []string
	for i := len(msgs) - 1; i >= 0; i-- { // the page lists newest first
		if msgs[i].Channel == "response_url" {
			out = append(out, msgs[i].Text)
		}
	}
	return out
}

func TestDev_SocketModeServesShowAndAConfirmedMoveEndToEnd(t *testing.T) {
	defer func(d time.Duration) { socketIdleTimeout = d }(socketIdleTimeout)
	socketIdleTimeout = 2 * time.Second
	fake := slacktest.NewSocketMode(t, devAppToken)
	s := startDevWith(t, map[string]string{"SLACK_APP_TOKEN": devAppToken, "SLACK_API_URL": fake.URL(), "LOG_LEVEL": "info"})
	sock := &socketSlack{fake: fake, s: s}
	fake.WaitConnections(t, 1, 10*time.Second)
	if log := s.stderr.String(); !strings.Contains(log, `msg="slack transport" transport="socket mode + http" connected=true`) {
		t.Errorf("the transport is not logged at start:\n%s", log)
	}
	if out := s.stdout.String(); !strings.Contains(out, "Socket Mode") {
		t.Errorf("the banner does not mention Socket Mode:\n%s", out)
	}
	if code, body := s.get(t, "/readyz", ""); code != 200 || !strings.Contains(string(body), `"slack_socket":"ok"`) {
		t.Errorf("readyz: %d %s", code, body)
	}

	show, took := sock.command(t, "show SEN-1000001")
	if text := bot.PlainText(show); !strings.Contains(text, "SEN-1000001 · Jira Software") || !strings.Contains(text, "bob@acme.test (secondary)") || show.ResponseType != "ephemeral" {
		t.Fatalf("show over Socket Mode:\n%s", text)
	}
	t.Logf("/license show over Socket Mode: answered in %s", took.Round(time.Microsecond))
	if overHTTP := s.slack(t, "show SEN-1000001"); bot.PlainText(overHTTP) != bot.PlainText(show) {
		t.Errorf("HTTP beside Socket Mode answers differently:\n%s", bot.PlainText(overHTTP))
	}

	// The move, confirmed by button over the socket.
	const newEmail = "zed@newco.test"
	prompt, _ := sock.command(t, "move SEN-1000001 "+newEmail)
	if !strings.Contains(bot.PlainText(prompt), "[Start the move]") {
		t.Fatalf("no confirmation prompt: %s", bot.PlainText(prompt))
	}
	press := sock.press(t, prompt)
	var replies []string
	for deadline := time.Now().Add(10 * time.Second); len(replies) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		replies = s.responses(t)
	}
	if len(replies) != 1 || !strings.Contains(replies[0], "started") || !strings.Contains(replies[0], "move/SEN-1000001/"+newEmail) {
		t.Fatalf("after Confirm, response_url got %q", replies)
	}
	// Slack retries the press: acknowledged, nothing new started or said.
	retry := press
	retry.RetryAttempt, retry.RetryReason = 1, "timeout"
	fake.Deliver(t, retry, 3*time.Second)
	time.Sleep(200 * time.Millisecond)
	if got := s.responses(t); len(got) != 1 {
		t.Errorf("after a retried press, response_url got %q", got)
	}

	confirm := s.waitMail(t, "alice@acme.test", "Please confirm moving SEN-1000001")
	if code, page := follow(t, confirm.Links[0], url.Values{"decision": {"approve"}}); code != 200 || !strings.Contains(page, "You confirmed moving SEN-1000001 to "+newEmail) {
		t.Fatalf("approve: %d\n%s", code, page)
	}
	promote := s.waitMail(t, newEmail, "Set up your account and take over SEN-1000001")
	if code, page := follow(t, promote.Links[0], url.Values{"display_name": {"Zed"},
		"password": {"a long enough passphrase here"}, "password_confirm": {"a long enough passphrase here"}}); code != 200 || !strings.Contains(page, "primary") {
		t.Fatalf("promote: %d\n%s", code, page)
	}
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = contactsOf(s.license(t, "SEN-1000001")); strings.Contains(got, newEmail+"/billing*") && strings.Contains(got, newEmail+"/technical*") && !strings.Contains(got, "alice") {
			break
		}
	}
	if !strings.Contains(got, newEmail+"/billing*") || !strings.Contains(got, newEmail+"/technical*") || strings.Contains(got, "alice") {
		t.Fatalf("contacts after the move: %s", got)
	}
	tc := s.temporalClient(t)
	runs, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: `WorkflowId = "move/SEN-1000001/` + newEmail + `"`})
	if err != nil || len(runs.Executions) != 1 {
		t.Errorf("runs of the move: %v, %v; want exactly one", runs, err)
	}

	// Dropped sockets: the next command is answered on a new connection.
	for i, drop := range []struct {
		name string
		do   func(*slacktest.SocketMode, testing.TB)
	}{
		{"disconnect envelope", (*slacktest.SocketMode).Disconnect},
		{"socket silent", (*slacktest.SocketMode).GoSilent},
	} {
		start := time.Now()
		drop.do(fake, t)
		r, _ := sock.command(t, "show SEN-2000001")
		took := time.Since(start)
		if !strings.Contains(bot.PlainText(r), "Bitbucket Data Center") || fake.Connections() != i+2 {
			t.Fatalf("after %s (%d connections): %s", drop.name, fake.Connections(), bot.PlainText(r))
		}
		t.Logf("%s: drop → next command answered in %s (idle timeout %s)", drop.name, took.Round(10*time.Microsecond), socketIdleTimeout)
	}
	_, metrics := s.get(t, "/metrics", "")
	for _, want := range []string{"licensedesk_slack_socket_reconnects_total 2", "licensedesk_slack_socket_connected 1"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code, body := s.get(t, "/readyz", ""); code != 200 || !strings.Contains(string(body), `"slack_socket":"ok"`) {
		t.Errorf("readyz after reconnecting: %d %s", code, body)
	}
}

// A token Slack refuses stops dev at start with one line (exit 2), and
// nothing is left running.
func TestDev_SocketModeRefusedTokenStopsWithOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and a Temporal dev server")
	}
	fake := slacktest.NewSocketMode(t, devAppToken)
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tport, _ := devstack.FreePort()
	uiport, _ := devstack.FreePort()
	env := map[string]string{"SLACK_APP_TOKEN": "xapp-1-A0TEST-1-revoked", "SLACK_API_URL": fake.URL()}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"dev", "--data-dir", dir, "--http", "127.0.0.1:0",
		"--temporal-port", strconv.Itoa(tport), "--ui-port", strconv.Itoa(uiport)}, func(k string) string { return env[k] }, &out, &errOut)
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], "Slack refused SLACK_APP_TOKEN (invalid_auth)") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and one line saying Slack refused the token", code, errOut.String())
	}
	t.Logf("stderr: %s", errOut.String())
	if strings.Contains(out.String(), "is ready") || fake.Connections() != 0 {
		t.Errorf("dev went on: %d connections\n%s", fake.Connections(), out.String())
	}
	assertNoProcessUses(t, dir)
}
