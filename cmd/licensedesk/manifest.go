package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"strings"

	"go.yaml.in/yaml/v3"

	"licensedesk/bot"
	"licensedesk/config"
	"licensedesk/licensing"
)

type manifestOptions struct {
	socketMode bool
}

func manifestFlagSet(o *manifestOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("slack-manifest", flag.ContinueOnError)
	fs.BoolVar(&o.socketMode, "socket-mode", false, "Slack reaches the bot over Socket Mode (SLACK_APP_TOKEN): no request URLs")
	return fs
}

// runManifest prints the Slack app manifest for PUBLIC_BASE_URL: create
// the app from it ("From an app manifest") and it has the command, forms,
// App Home, events and scopes the bot serves.
func runManifest(_ context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var o manifestOptions
	fs := manifestFlagSet(&o)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("slack-manifest takes no arguments, only flags (see licensedesk slack-manifest -h)")
	}
	cfg := config.Load(getenv)
	out, err := slackManifest(cfg, o.socketMode)
	if err != nil {
		return usageError{err.Error()}
	}
	_, err = stdout.Write(out)
	return err
}

// slackManifest is the manifest as YAML, made from the registry the
// servers run (its commands need no database to be described).
func slackManifest(cfg config.Config, socketMode bool) ([]byte, error) {
	reg := bot.NewRegistry(bot.Allow{}, nil, slog.New(slog.DiscardHandler),
		append([]bot.Command{bot.ShowCommand(nil, nil, 0), bot.FindCommand(nil), bot.HistoryCommand(nil, nil, nil)}, bot.OperationCommands(nil, nil)...)...)
	name := cfg.BrandName
	if name == "" {
		name = licensing.DefaultBrandName
	}
	m, err := reg.Manifest(bot.ManifestOptions{PublicBaseURL: cfg.PublicBaseURL, SocketMode: socketMode, Name: name})
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("# The Slack app, made by `licensedesk slack-manifest` from the commands the bot serves.\n")
	b.WriteString("# Create the app from it at https://api.slack.com/apps (Create New App, From an app manifest).\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return []byte(b.String()), enc.Close()
}
