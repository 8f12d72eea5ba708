package bot

import (
	"fmt"
	"net/url"
	"strings"
)

// The Slack app manifest (https://api.slack.com/reference/manifests),
// made from the registry and from what the bot uses, so creating the app
// from it gives exactly the command, forms, App Home, events and scopes
// the bot serves.

// Manifest is a Slack app manifest.
type Manifest struct {
	Metadata    ManifestMetadata `yaml:"_metadata" json:"_metadata"`
	Display     ManifestDisplay  `yaml:"display_information" json:"display_information"`
	Features    ManifestFeatures `yaml:"features" json:"features"`
	OAuthConfig ManifestOAuth    `yaml:"oauth_config" json:"oauth_config"`
	Settings    ManifestSettings `yaml:"settings" json:"settings"`
}

type ManifestMetadata struct {
	MajorVersion int `yaml:"major_version" json:"major_version"`
	MinorVersion int `yaml:"minor_version" json:"minor_version"`
}

type ManifestDisplay struct {
	Name            string `yaml:"name" json:"name"`
	Description     string `yaml:"description" json:"description"`
	BackgroundColor string `yaml:"background_color" json:"background_color"`
}

type ManifestFeatures struct {
	AppHome       ManifestAppHome        `yaml:"app_home" json:"app_home"`
	BotUser       ManifestBotUser        `yaml:"bot_user" json:"bot_user"`
	SlashCommands []ManifestSlashCommand `yaml:"slash_commands" json:"slash_commands"`
}

type ManifestAppHome struct {
	HomeTabEnabled             bool `yaml:"home_tab_enabled" json:"home_tab_enabled"`
	MessagesTabEnabled         bool `yaml:"messages_tab_enabled" json:"messages_tab_enabled"`
	MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled" json:"messages_tab_read_only_enabled"`
}

type ManifestBotUser struct {
	DisplayName  string `yaml:"display_name" json:"display_name"`
	AlwaysOnline bool   `yaml:"always_online" json:"always_online"`
}

type ManifestSlashCommand struct {
	Command      string `yaml:"command" json:"command"`
	URL          string `yaml:"url,omitempty" json:"url,omitempty"`
	Description  string `yaml:"description" json:"description"`
	UsageHint    string `yaml:"usage_hint" json:"usage_hint"`
	ShouldEscape bool   `yaml:"should_escape" json:"should_escape"`
}

type ManifestOAuth struct {
	Scopes ManifestScopes `yaml:"scopes" json:"scopes"`
}

type ManifestScopes struct {
	Bot []string `yaml:"bot" json:"bot"`
}

type ManifestSettings struct {
	EventSubscriptions   ManifestEvents        `yaml:"event_subscriptions" json:"event_subscriptions"`
	Interactivity        ManifestInteractivity `yaml:"interactivity" json:"interactivity"`
	OrgDeployEnabled     bool                  `yaml:"org_deploy_enabled" json:"org_deploy_enabled"`
	SocketModeEnabled    bool                  `yaml:"socket_mode_enabled" json:"socket_mode_enabled"`
	TokenRotationEnabled bool                  `yaml:"token_rotation_enabled" json:"token_rotation_enabled"`
}

type ManifestEvents struct {
	RequestURL string   `yaml:"request_url,omitempty" json:"request_url,omitempty"`
	BotEvents  []string `yaml:"bot_events" json:"bot_events"`
}

type ManifestInteractivity struct {
	IsEnabled  bool   `yaml:"is_enabled" json:"is_enabled"`
	RequestURL string `yaml:"request_url,omitempty" json:"request_url,omitempty"`
}

// ManifestOptions are what the manifest takes beyond the registry.
type ManifestOptions struct {
	// PublicBaseURL is where Slack reaches the server (PUBLIC_BASE_URL):
	// https, as Slack requires of request URLs. Not needed with SocketMode.
	PublicBaseURL string
	// SocketMode: Slack reaches the bot over the socket the bot opens, so
	// the manifest names no request URLs.
	SocketMode bool
	Name       string // the app's name in Slack (BRAND_NAME)
}

// BotScopes are the bot token scopes the bot uses, each for one reason.
var BotScopes = []string{
	"chat:write",        // progress messages and billing alerts
	"chat:write.public", // progress messages in the public channel a command was typed in, without inviting the bot
	"commands",          // /license
	"usergroups:read",   // allow-lists that name user groups (S…)
	"users:read",        // users.info: the display name of who asked, and guests, who are refused
}

// BotEvents are the events the bot subscribes to.
var BotEvents = []string{"app_home_opened"}

// Manifest is the app manifest for this registry.
func (r *Registry) Manifest(o ManifestOptions) (Manifest, error) {
	base, err := manifestBase(o)
	if err != nil {
		return Manifest{}, err
	}
	name := strings.TrimSpace(o.Name)
	if name == "" {
		name = "licensedesk"
	}
	var names []string
	for _, c := range r.cmds {
		names = append(names, c.Name)
	}
	m := Manifest{
		Metadata: ManifestMetadata{MajorVersion: 1, MinorVersion: 1},
		Display: ManifestDisplay{Name: truncate(name, 35), BackgroundColor: "#1f3a5f",
			Description: "Licences and their contacts, moves, card links and billing, as durable operations."},
		Features: ManifestFeatures{
			AppHome: ManifestAppHome{HomeTabEnabled: true},
			BotUser: ManifestBotUser{DisplayName: truncate(name, 80), AlwaysOnline: true},
			SlashCommands: []ManifestSlashCommand{{
				Command: slashCommand, URL: join(base, "/slack/commands"),
				Description: "Look up and act on licences (help lists every subcommand)",
				UsageHint:   truncate(strings.Join(names, " | "), 1000),
			}},
		},
		OAuthConfig: ManifestOAuth{Scopes: ManifestScopes{Bot: BotScopes}},
		Settings: ManifestSettings{
			EventSubscriptions: ManifestEvents{RequestURL: join(base, "/slack/events"), BotEvents: BotEvents},
			Interactivity:      ManifestInteractivity{IsEnabled: true, RequestURL: join(base, "/slack/interactions")},
			SocketModeEnabled:  o.SocketMode,
		},
	}
	return m, nil
}

// manifestBase is the base of the request URLs, "" in Socket Mode.
func manifestBase(o ManifestOptions) (string, error) {
	if o.SocketMode && o.PublicBaseURL == "" {
		return "", nil
	}
	u, err := url.Parse(o.PublicBaseURL)
	switch {
	case o.PublicBaseURL == "":
		return "", fmt.Errorf("PUBLIC_BASE_URL is not set: Slack's request URLs are built from it (or use --socket-mode)")
	case err != nil || u.Host == "" || u.ForceQuery || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "", fmt.Errorf("PUBLIC_BASE_URL %q is not a URL like https://licensedesk.example.com", o.PublicBaseURL)
	case u.Scheme != "https":
		return "", fmt.Errorf("PUBLIC_BASE_URL %q is not https: Slack sends requests to https URLs only", o.PublicBaseURL)
	}
	if o.SocketMode {
		return "", nil
	}
	return strings.TrimRight(o.PublicBaseURL, "/"), nil
}

func join(base, path string) string {
	if base == "" {
		return ""
	}
	return base + path
}
