package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/operation"
)

// CardRemindersInput tunes one daily run.
type CardRemindersInput struct {
	PageSize int // reminders mailed per activity [50]
}

// CardRemindersResult says what one run did.
type CardRemindersResult struct {
	Queued, Mailed, Skipped int
}

const (
	stepRemindersQueue = "queue"
	stepRemindersMail  = "mail"
)

// CardReminders is the daily card-expiry run: a Temporal Schedule starts
// it (temporalclient.Client.EnsureCardReminders). It queues, in one
// set-based statement through an index on the cards' expiry, the
// reminders that came due today (30 and 7 days before a card expires, a
// week before a charge due after it expired), then mails them a page at a
// time, each person allowed to update the card their own link. Its cost
// grows with the cards expiring, not with the book. Every step is
// idempotent: a run repeated, or one that dies half-way, sends each
// reminder once (one row per card and stage, one mail key per person).
func CardReminders(ctx workflow.Context, in CardRemindersInput) (CardRemindersResult, error) {
	if in.PageSize <= 0 {
		in.PageSize = 50
	}
	t, err := newTracker(ctx, operation.KindBilling, "", "Card-expiry reminders", Requester{},
		operation.Step{Key: stepRemindersQueue, Title: "Queue the reminders due today"},
		operation.Step{Key: stepRemindersMail, Title: "Mail those allowed to update each card"},
	)
	if err != nil {
		return CardRemindersResult{}, err
	}
	// A page mails a few people per card; give it more than a database call.
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute, ScheduleToCloseTimeout: 2 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	var res CardRemindersResult
	t.begin(ctx, stepRemindersQueue)
	var q activities.QueueCardRemindersOutput
	if err := workflow.ExecuteActivity(actx, a.QueueCardReminders, activities.QueueCardRemindersInput{Today: workflow.Now(ctx)}).Get(ctx, &q); err != nil {
		return res, err
	}
	res.Queued = q.Queued
	t.done(stepRemindersQueue)
	t.begin(ctx, stepRemindersMail)
	for {
		var page activities.SendCardRemindersOutput
		if err := workflow.ExecuteActivity(actx, a.SendCardReminders, activities.SendCardRemindersInput{Limit: in.PageSize, Now: workflow.Now(ctx)}).Get(ctx, &page); err != nil {
			return res, err
		}
		res.Mailed += page.Mailed
		res.Skipped += page.Skipped
		if page.Done < in.PageSize {
			break
		}
	}
	_, err = t.finish(ctx, operation.Completed, fmt.Sprintf("%d reminders came due; %d mails sent, %d reminders dropped (card replaced or licence cancelled).",
		res.Queued, res.Mailed, res.Skipped))
	return res, err
}
