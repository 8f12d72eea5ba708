package bot

import (
	"regexp"
	"strings"
)

// Slack encodes links, mentions and auto-linked emails in message and command
// text as <target> or <target|visible text>, and escapes &, < and >.
var slackRef = regexp.MustCompile(`<([^<>|]*)(?:\|([^<>]*))?>`)

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// tokenize splits slash-command text into arguments as the person typed them:
// Slack's link wrapping is replaced by the visible text first.
func tokenize(text string) []string {
	text = slackRef.ReplaceAllStringFunc(text, func(ref string) string {
		m := slackRef.FindStringSubmatch(ref)
		if m[2] != "" {
			return m[2]
		}
		return strings.TrimPrefix(m[1], "mailto:")
	})
	return strings.Fields(unescaper.Replace(text))
}

var (
	bold = regexp.MustCompile(`\*([^*\n]+)\*`)
	code = regexp.MustCompile("`([^`\n]+)`")
)

// plainMrkdwn turns mrkdwn into text for a terminal: *bold* loses its stars
// and <url|text> becomes "text (url)".
func plainMrkdwn(s string) string {
	s = bold.ReplaceAllString(s, "$1")
	s = code.ReplaceAllString(s, "$1")
	var b strings.Builder
	last := 0
	for _, m := range slackRef.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(unescaper.Replace(s[last:m[0]]))
		last = m[1]
		target := unescaper.Replace(s[m[2]:m[3]])
		label := ""
		if m[4] >= 0 {
			label = unescaper.Replace(s[m[4]:m[5]])
		}
		visible := strings.TrimPrefix(target, "mailto:")
		if strings.HasPrefix(target, "!date^") && label != "" {
			b.WriteString(label) // a date, in the fallback's UTC
			continue
		}
		if label == "" || label == target || label == visible {
			b.WriteString(visible)
		} else {
			b.WriteString(label + " (" + target + ")")
		}
	}
	b.WriteString(unescaper.Replace(s[last:]))
	return b.String()
}
