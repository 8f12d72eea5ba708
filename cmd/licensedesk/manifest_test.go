package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"licensedesk/bot"
	"licensedesk/config"
)

var updateManifest = flag.Bool("update-manifest", false, "rewrite deploy/slack/manifest.yaml from the registry")

// deploy/slack/manifest.yaml is what `licensedesk slack-manifest` prints
// for the example URL: a new command, scope or event changes both, or
// this fails (go test ./cmd/licensedesk -run Manifest -update-manifest
// rewrites the file).
func TestSlackManifest_DeployCopyIsCurrent(t *testing.T) {
	got, err := slackManifest(config.Config{PublicBaseURL: "https://licensedesk.example.com"}, false)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "deploy", "slack", "manifest.yaml")
	if *updateManifest {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what slack-manifest prints; run go test ./cmd/licensedesk -run Manifest -update-manifest\n%s", path, got)
	}
}

// The manifest declares every subcommand, the three request URLs, the App
// Home and its event, and the scopes the bot uses; in Socket Mode, no URL.
func TestSlackManifest_MadeFromTheRegistry(t *testing.T) {
	out, err := slackManifest(config.Config{PublicBaseURL: "https://ld.example.com/", BrandName: "Acme Licences"}, false)
	if err != nil {
		t.Fatal(err)
	}
	var m bot.Manifest
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	sc := m.Features.SlashCommands
	if len(sc) != 1 || sc[0].Command != "/license" || sc[0].URL != "https://ld.example.com/slack/commands" {
		t.Fatalf("slash commands: %+v", sc)
	}
	for _, sub := range []string{"help", "show", "find", "history", "move", "contact add", "contact remove", "card", "charge", "status", "cancel", "resend", "verify"} {
		if !strings.Contains(sc[0].UsageHint, sub) {
			t.Errorf("usage hint lacks %q: %s", sub, sc[0].UsageHint)
		}
	}
	s := m.Settings
	if s.Interactivity.RequestURL != "https://ld.example.com/slack/interactions" || !s.Interactivity.IsEnabled ||
		s.EventSubscriptions.RequestURL != "https://ld.example.com/slack/events" || strings.Join(s.EventSubscriptions.BotEvents, ",") != "app_home_opened" ||
		!m.Features.AppHome.HomeTabEnabled || s.SocketModeEnabled || m.Display.Name != "Acme Licences" {
		t.Errorf("manifest: %+v", m)
	}
	if got := strings.Join(m.OAuthConfig.Scopes.Bot, ","); got != "chat:write,chat:write.public,commands,usergroups:read,users:read" {
		t.Errorf("scopes: %s", got)
	}
	socket, err := slackManifest(config.Config{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(socket), "url:") || !strings.Contains(string(socket), "socket_mode_enabled: true") {
		t.Errorf("socket mode manifest names URLs:\n%s", socket)
	}
}

// Bad input: a PUBLIC_BASE_URL Slack cannot send to is refused with one
// line (exit 2) and nothing printed.
func TestSlackManifest_RefusesAURLThatIsNotHTTPS(t *testing.T) {
	for url, want := range map[string]string{
		"http://ld.example.com":   "is not https",
		"":                        "PUBLIC_BASE_URL is not set",
		"ld.example.com":          "is not a URL like https://",
		"https://ld.example.com?": "is not a URL like https://",
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"slack-manifest"}, func(k string) string {
			if k == "PUBLIC_BASE_URL" {
				return url
			}
			return ""
		}, &out, &errOut)
		if code != 2 || out.Len() != 0 || !strings.Contains(errOut.String(), want) || strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("PUBLIC_BASE_URL=%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", url, code, out.String(), errOut.String(), want)
		}
	}
}
