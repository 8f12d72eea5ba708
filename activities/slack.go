package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"

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
	blocks := slackout.ProgressBlocks(in.Status, operation.WorkflowURL(a.TemporalUIURL, a.Namespace, in.Status.WorkflowID, in.Status.RunID))
	msg := slackout.Message{Channel: in.Ref.Channel, Text: slackout.ProgressText(in.Status), Blocks: blocks}
	if in.Ref.TS != "" {
		err := a.Slack.Update(ctx, in.Ref.Channel, in.Ref.TS, msg)
		if err == nil || !slackout.IsPermanent(err) {
			return ReportProgressOutput{Ref: in.Ref}, err
		}
		// The message is gone or can no longer be edited (deleted, too
		// old): post the status as a new message instead.
	}
	ts, err := a.Slack.Post(ctx, msg)
	if err != nil {
		return ReportProgressOutput{}, slackError(err)
	}
	in.Ref.TS = ts
	return ReportProgressOutput{Ref: in.Ref}, nil
}

// slackError makes Slack errors no retry can cure (channel_not_found, a
// 404...) non-retryable, so a report gives up at once instead of holding
// a Temporal retry loop; the next report tries again.
func slackError(err error) error {
	if slackout.IsPermanent(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), "SlackPermanent", err)
	}
	return err
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
	return slackError(err)
}
