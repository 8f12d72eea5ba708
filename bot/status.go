package bot

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/slackout"
)

// StatusCommand is /license status <SEN|workflow-id>: the operation's
// progress message, or a licence's operations in flight, each with its
// buttons (Resend link, Cancel…, Show licence).
func StatusCommand(ops Workflows) Command {
	return Command{
		Name: "status", Args: "<SEN|workflow-id>", Class: Read, MinArgs: 1, MaxArgs: 1,
		Summary: "Operations in flight for a licence, or one operation, with their current step.",
		Run: func(ctx context.Context, req Request) (Reply, error) {
			if sen, err := licensing.ParseSEN(req.Args[0]); err == nil {
				list, err := ops.Running(ctx, sen)
				if err != nil {
					return Reply{}, err
				}
				return statusListReply(sen, list, ops), nil
			}
			id, err := workflowID(req.Args[0])
			if err != nil {
				return Reply{}, err
			}
			st, err := ops.Status(ctx, id)
			if err != nil {
				return Reply{}, err
			}
			return Reply{ResponseType: slack.ResponseTypeEphemeral, Text: slackout.ProgressText(st),
				Blocks: slackout.ProgressBlocks(st, ops.URL(st.WorkflowID, st.RunID))}, nil
		},
	}
}

// statusListMax bounds the operations one reply lists (each takes two of
// a message's 50 blocks).
const statusListMax = 20

func statusListReply(sen licensing.SEN, list []operation.Status, ops Workflows) Reply {
	if len(list) == 0 {
		return ephemeral(fmt.Sprintf("No operations in flight for %s.", sen))
	}
	title := fmt.Sprintf("%d operations in flight for %s", len(list), sen)
	if len(list) == 1 {
		title = fmt.Sprintf("1 operation in flight for %s", sen)
	}
	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, title, false, false))}
	for i, st := range list {
		if i == statusListMax {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwnText(fmt.Sprintf("…and %d more; `/license status <workflow-id>` shows one.", len(list)-i))))
			break
		}
		blocks = append(append(blocks, mrkdwnSection(opLine(st, ops.URL(st.WorkflowID, st.RunID)))), nextStepBlock("status_", st)...)
	}
	return Reply{ResponseType: slack.ResponseTypeEphemeral, Text: title, Blocks: blocks}
}
