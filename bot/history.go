package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/history"
	"licensedesk/licensing"
	"licensedesk/slackout"
)

// HistoryReader reads a licence's history a page at a time (postgres.DB).
type HistoryReader interface {
	History(ctx context.Context, sen licensing.SEN, cursor string, limit int) (history.Page, error)
}

// historyShown is how many events /license history reads at a time.
const historyShown = 10

// HistoryCommand is /license history <SEN> [--before <n>]: a licence's
// events from every channel (Slack, links, the account page, the API,
// billing), ten at a time, newest first, one line per step, with a Show
// more button for the ten before. workflowURL links an operation to the
// Temporal UI ("" when there is none; nil for none at all).
func HistoryCommand(licenses LicenseReader, h HistoryReader, workflowURL func(workflowID string) string) Command {
	return Command{
		Name: "history", Args: "<SEN> [--before <n>]", Class: Read, MinArgs: 1, MaxArgs: 3,
		Summary: "Who did what to a licence, newest first, 10 events at a time: from Slack, emailed links, the account page, the API and billing.",
		Run: func(ctx context.Context, req Request) (Reply, error) {
			l, err := licenceArg(ctx, licenses, req.Args[0])
			if err != nil {
				return Reply{}, err
			}
			cursor := ""
			switch rest := req.Args[1:]; {
			case len(rest) == 0:
			case len(rest) == 2 && rest[0] == "--before" && isCursor(rest[1]):
				cursor = rest[1]
			default:
				return Reply{}, licensing.Errorf(licensing.Invalid, "after the SEN, only --before <n> (from a Show more button)")
			}
			page, err := h.History(ctx, l.SEN, cursor, historyShown)
			if err != nil {
				return Reply{}, err
			}
			return historyReply(l.SEN, page, cursor, workflowURL), nil
		},
	}
}

func isCursor(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

// historyReply renders a page of history: one line per step, dates in
// each reader's own zone, operations linked to the Temporal UI. escape
// keeps customer data from becoming links or mentions; the Slack IDs of
// the people in sales stay mentions.
func historyReply(sen licensing.SEN, page history.Page, cursor string, workflowURL func(string) string) Reply {
	title := "History of " + string(sen)
	if cursor != "" {
		title += ", earlier"
	}
	if len(page.Events) == 0 {
		if cursor != "" {
			return ephemeral(title + ": nothing before that.")
		}
		return ephemeral(title + ": nothing recorded yet.")
	}
	blocks := []slack.Block{slack.NewHeaderBlock(plainText(title))}
	var chunk strings.Builder
	for _, e := range history.Entries(page.Events) {
		line := "• " + historyLine(e, workflowURL) + "\n"
		if chunk.Len()+len(line) > maxSectionText {
			blocks = append(blocks, mrkdwnSection(strings.TrimRight(chunk.String(), "\n")))
			chunk.Reset()
		}
		chunk.WriteString(line)
	}
	blocks = append(blocks, mrkdwnSection(strings.TrimRight(chunk.String(), "\n")))
	if page.NextCursor != "" {
		blocks = append(blocks,
			slack.NewContextBlock("", mrkdwnText(fmt.Sprintf("%d events, newest first. Typed: `%s history %s --before %s`", len(page.Events), slashCommand, sen, page.NextCursor))),
			slackout.Actions("history_more", slackout.Run(fmt.Sprintf("Show %d more", historyShown), "history", string(sen), "--before", page.NextCursor)))
	} else {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwnText("That is everything recorded.")))
	}
	return Reply{ResponseType: slack.ResponseTypeEphemeral, Text: title, Blocks: blocks}
}

// maxSectionText stays under Slack's 3,000 characters of a section's text.
const maxSectionText = 2900

// historyLine is one entry in mrkdwn.
func historyLine(e history.Entry, workflowURL func(string) string) string {
	s := slackout.Date(e.At) + " — " + slackSafe(e.Who) + " " + escape(e.What)
	if e.How != "" {
		s += " (" + e.How + ")"
	}
	if e.WorkflowID != "" {
		url := ""
		if workflowURL != nil {
			url = workflowURL(e.WorkflowID)
		}
		s += " · " + slackout.WorkflowLink(e.WorkflowID, url)
	}
	return s
}
