package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/history"
	"licensedesk/licensing"
)

// HistoryReader reads a licence's history a page at a time (postgres.DB).
type HistoryReader interface {
	History(ctx context.Context, sen licensing.SEN, cursor string, limit int) (history.Page, error)
}

// historyShown is how many events /license history shows.
const historyShown = 10

// HistoryCommand is /license history <SEN>: the 10 newest events of a
// licence in plain words, from every channel (Slack, links, the account
// page, the API, billing), and where the rest is.
func HistoryCommand(licenses LicenseReader, h HistoryReader) Command {
	return Command{
		Name: "history", Args: "<SEN>", Class: Read, MinArgs: 1, MaxArgs: 1,
		Summary: "Who did what to a licence, newest first: from Slack, emailed links, the account page, the API and billing.",
		Run: func(ctx context.Context, req Request) (Reply, error) {
			l, err := licenceArg(ctx, licenses, req.Args[0])
			if err != nil {
				return Reply{}, err
			}
			page, err := h.History(ctx, l.SEN, "", historyShown)
			if err != nil {
				return Reply{}, err
			}
			return historyReply(l.SEN, page), nil
		},
	}
}

// historyReply renders a page of history; escape keeps customer data from
// becoming links or mentions, but Slack user IDs stay mentions.
func historyReply(sen licensing.SEN, page history.Page) Reply {
	title := "History of " + string(sen)
	if len(page.Events) == 0 {
		return ephemeral(title + ": nothing recorded yet.")
	}
	lines := make([]string, len(page.Events))
	for i, e := range page.Events {
		lines[i] = "• " + mentionSafe(history.Sentence(e))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, title, false, false)),
		mrkdwnSection(strings.Join(lines, "\n")),
	}
	if page.NextCursor != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwnText(fmt.Sprintf(
			"The %d newest. More: `GET /api/v1/licenses/%s/history?cursor=%s`", len(page.Events), sen, page.NextCursor))))
	}
	return Reply{ResponseType: slack.ResponseTypeEphemeral, Text: title, Blocks: blocks}
}

// mentionSafe escapes s for mrkdwn but keeps Slack user mentions
// (<@U…>), which history sentences use for the people in sales.
func mentionSafe(s string) string {
	return escapedMention.ReplaceAllString(escape(s), "<@$1>")
}

var escapedMention = regexp.MustCompile(`&lt;@([A-Z0-9]{2,20})&gt;`)
