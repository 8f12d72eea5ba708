package slackout

import (
	"regexp"
	"strings"

	"github.com/slack-go/slack"
)

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes s safe to embed in mrkdwn: user data must not turn into
// links or mentions.
func Escape(s string) string { return escaper.Replace(s) }

// Truncate shortens s to n runes, ending in "…" when it cut.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// MrkdwnText is a mrkdwn text object; s must already be mrkdwn-safe.
func MrkdwnText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// MrkdwnSection is a section block of mrkdwn text.
func MrkdwnSection(s string) *slack.SectionBlock {
	return slack.NewSectionBlock(MrkdwnText(s), nil, nil)
}

// EscapeKeepMentions escapes s like Escape but keeps Slack user mentions
// (<@U…>), which operations use to name the people in sales: escaped, they
// would show as the text "<@U…>".
func EscapeKeepMentions(s string) string {
	return escapedMention.ReplaceAllString(Escape(s), "<@$1>")
}

var escapedMention = regexp.MustCompile(`&lt;@([UW][A-Z0-9]{1,20})&gt;`)
