package activities

import (
	"context"

	"licensedesk/bot"
	"licensedesk/operation"
	"licensedesk/slackout"
)

// ProgressRef locates an operation's Slack progress message.
type ProgressRef struct {
	Channel string
	TS      string // empty until posted
}

// ReportProgressInput is the status to show.
type ReportProgressInput struct {
	Ref    ProgressRef
	Status operation.Status
}

// ReportProgressOutput locates the message posted or updated.
type ReportProgressOutput struct {
	Ref ProgressRef
}

// ReportProgress posts the progress message the first time and updates it
// afterwards, so each operation has exactly one message that moves along.
func (a *Activities) ReportProgress(ctx context.Context, in ReportProgressInput) (ReportProgressOutput, error) {
	if a.Slack == nil || in.Ref.Channel == "" {
		return ReportProgressOutput{Ref: in.Ref}, nil
	}
	blocks := bot.ProgressBlocks(in.Status, bot.WorkflowURL(a.TemporalUIURL, a.Namespace, in.Status.WorkflowID, in.Status.RunID))
	msg := slackout.Message{Channel: in.Ref.Channel, Text: bot.ProgressText(in.Status), Blocks: blocks}
	if in.Ref.TS == "" {
		ts, err := a.Slack.Post(ctx, msg)
		if err != nil {
			return ReportProgressOutput{}, err
		}
		in.Ref.TS = ts
		return ReportProgressOutput{Ref: in.Ref}, nil
	}
	return ReportProgressOutput{Ref: in.Ref}, a.Slack.Update(ctx, in.Ref.Channel, in.Ref.TS, msg)
}

// PostThreadInput is a detail for the progress message's thread.
type PostThreadInput struct {
	Ref  ProgressRef
	Text string
}

// PostThread posts a detail in the progress message's thread.
func (a *Activities) PostThread(ctx context.Context, in PostThreadInput) error {
	if a.Slack == nil || in.Ref.Channel == "" || in.Ref.TS == "" {
		return nil
	}
	_, err := a.Slack.Post(ctx, slackout.Message{Channel: in.Ref.Channel, ThreadTS: in.Ref.TS, Text: in.Text})
	return err
}
