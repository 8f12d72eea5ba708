package bot

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
	"licensedesk/operation"
)

func statusListReply(sen licensing.SEN, list []operation.Status, ops Workflows) Reply {
	if len(list) == 0 {
		return ephemeral(fmt.Sprintf("No operations in flight for %s.", sen))
	}
	title := fmt.Sprintf("%d operations in flight for %s", len(list), sen)
	if len(list) == 1 {
		title = fmt.Sprintf("1 operation in flight for %s", sen)
	}
	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, title, false, false))}
	for _, st := range list {
		line := fmt.Sprintf("*%s* — %s", escape(st.Summary), escape(st.Current().Title))
		switch {
		case len(st.WaitingOn) > 0:
			line += fmt.Sprintf(" (waiting on %s until %s)", escape(strings.Join(st.WaitingOn, ", ")), st.Deadline.UTC().Format("2006-01-02"))
		case !st.Deadline.IsZero():
			line += fmt.Sprintf(" (until %s)", st.Deadline.UTC().Format("2006-01-02"))
		}
		if u := ops.URL(st.WorkflowID, st.RunID); u != "" {
			line += fmt.Sprintf("\n<%s|%s>", u, escape(st.WorkflowID))
		} else {
			line += "\n`" + escape(st.WorkflowID) + "`"
		}
		blocks = append(blocks, mrkdwnSection(line))
	}
	return Reply{ResponseType: slack.ResponseTypeEphemeral, Text: title, Blocks: blocks}
}
