package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"licensedesk/bot"
)

type slackOptions struct {
	serverURL, user, dataDir string
	yes                      bool
}

func slackFlagSet(o *slackOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("slack", flag.ContinueOnError)
	fs.StringVar(&o.serverURL, "url", "", "server base `URL` (default: the dev server of --data-dir, else http://HTTP_ADDR)")
	fs.StringVar(&o.user, "user", "U0LOCALDEV", "Slack user `ID` to send as")
	fs.StringVar(&o.dataDir, "data-dir", defaultDataDir, "dev data `DIR` to read the signing secret and URL from; SLACK_SIGNING_SECRET wins")
	fs.BoolVar(&o.yes, "yes", false, "press the yes button (Start the move, Remove …) when the reply asks for confirmation")
	return fs
}

// runSlack signs a slash command like Slack would, posts it to a running
// server and prints the reply as plain text.
func runSlack(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var o slackOptions
	fs := slackFlagSet(&o)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	text := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if text == "" {
		return usageErrorf(`give the command text, e.g. licensedesk slack "/license show SEN-1000001"`)
	}
	command, rest, _ := strings.Cut(text, " ")
	if !strings.HasPrefix(command, "/") {
		command, rest = "/license", text
	}

	var state devState
	if b, err := os.ReadFile(filepath.Join(o.dataDir, devStateFile)); err == nil {
		_ = json.Unmarshal(b, &state)
	}
	secret := getenv("SLACK_SIGNING_SECRET")
	if secret == "" {
		secret = state.SlackSigningSecret
	}
	if secret == "" {
		return usageErrorf("SLACK_SIGNING_SECRET is not set and no dev data dir at %s holds one", o.dataDir)
	}
	base := serverBase(o.serverURL, state, getenv)

	form := url.Values{
		"command":      {command},
		"text":         {strings.TrimSpace(rest)},
		"user_id":      {o.user},
		"user_name":    {"local"},
		"team_id":      {"T0LOCALDEV"},
		"channel_id":   {"C0LOCALDEV"},
		"channel_name": {"licensedesk-dev"},
		"trigger_id":   {fmt.Sprintf("local.%d", time.Now().UnixNano())}, //clock:wall a unique trigger id
		"response_url": {strings.TrimRight(base, "/") + "/dev/slack/response"},
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	reply, err := post(ctx, secret, strings.TrimRight(base, "/")+"/slack/commands", form)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("no licensedesk server answers at %s (start one with `go run ./cmd/licensedesk dev`): %v", base, ue.Err)
		}
		return err
	}
	if reply.Silent {
		_, err := io.WriteString(stdout, "A form opened instead of a reply: see it at "+strings.TrimRight(base, "/")+"/dev/slack (in dev), or type the command with its arguments.\n")
		return err
	}
	if _, err := io.WriteString(stdout, bot.PlainText(reply)); err != nil {
		return err
	}
	value, asks := bot.ConfirmValue(reply)
	label := yesLabel(reply)
	switch {
	case !asks:
		return nil
	case !o.yes:
		_, err := io.WriteString(stdout, "\n(Run it again with --yes to press ["+label+"].)\n")
		return err
	}
	// Press the yes button, as Slack posts a button's interaction.
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]string{"id": o.user}, "channel": map[string]string{"id": "C0LOCALDEV"},
		"team": map[string]string{"id": "T0LOCALDEV"}, "trigger_id": fmt.Sprintf("local.%d", time.Now().UnixNano()), //clock:wall a unique trigger id
		"response_url": strings.TrimRight(base, "/") + "/dev/slack/response",
		"actions":      []map[string]string{{"type": "button", "block_id": "confirm", "action_id": "confirm", "value": value}},
	})
	reply, err = post(ctx, secret, strings.TrimRight(base, "/")+"/slack/interactions", url.Values{"payload": {string(payload)}})
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, "\n["+label+" pressed]\n"+bot.PlainText(reply))
	return err
}

// yesLabel is what a prompt's yes button says.
func yesLabel(r bot.Reply) string {
	for _, b := range bot.Buttons(r) {
		if b.ActionID == "confirm" && b.Text != nil {
			return b.Text.Text
		}
	}
	return "Confirm"
}

// post signs a form and posts it like Slack does, and decodes the reply.
func post(ctx context.Context, secret, target string, form url.Values) (bot.Reply, error) {
	body := []byte(form.Encode())
	ts, sig := bot.Sign([]byte(secret), time.Now(), body) //clock:wall a signature is checked against real time
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return bot.Reply{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return bot.Reply{}, err
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return bot.Reply{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return bot.Reply{}, fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(respBody)))
	}
	var reply bot.Reply
	if len(bytes.TrimSpace(respBody)) == 0 {
		return bot.Reply{Silent: true}, nil // a form opened
	}
	if err := json.Unmarshal(respBody, &reply); err != nil {
		return bot.Reply{}, fmt.Errorf("unreadable reply: %w", err)
	}
	return reply, nil
}
