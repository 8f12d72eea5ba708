package temporalclient

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"licensedesk/operation"
	"licensedesk/workflows"
)

// CardRemindersScheduleID names the Temporal Schedule of the daily
// card-expiry run.
const CardRemindersScheduleID = "card-reminders"

// cardRemindersHour is when the daily run starts (UTC): early morning in
// Europe, late evening the day before in the Americas.
const cardRemindersHour = 7

// EnsureCardReminders makes sure the daily card-expiry run is scheduled,
// creating it (and running it at once) the first time. Safe to call at
// every start, from every worker; a run still going when the next is due
// is skipped, not doubled.
func (c *Client) EnsureCardReminders(ctx context.Context) error {
	_, err := c.Temporal.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: CardRemindersScheduleID,
		Spec: client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			Hour: []client.ScheduleRange{{Start: cardRemindersHour}}, Minute: []client.ScheduleRange{{Start: 0}},
		}}},
		Overlap:            enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		TriggerImmediately: true,
		Action: &client.ScheduleWorkflowAction{
			ID: operation.BillingID("card-reminders"), Workflow: workflows.CardReminders, Args: []any{workflows.CardRemindersInput{}},
			TaskQueue: c.TaskQueue, WorkflowExecutionTimeout: 6 * time.Hour,
			TypedSearchAttributes: launch{Kind: operation.KindBilling}.searchAttributes(),
		},
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return nil
	}
	return err
}

// cardExpiryCaptured starts the card update a card-expiry reminder's link
// belongs to, with the captured card as its first signal (or signals the
// one running): reminders start no workflow until someone saves a card.
// The card update checks the person may still update the card, applies
// it, and charges anything past due.
func (c *Client) cardExpiryCaptured(ctx context.Context, wf string, captured workflows.CardCaptured) (bool, error) {
	sen, email, ok := operation.ParseCardExpiryID(wf)
	if !ok {
		return false, nil
	}
	l := launch{ID: wf, Kind: operation.KindCard, SEN: sen, Join: true, Fn: workflows.CardUpdate,
		Arg: workflows.CardUpdateInput{SEN: sen, By: workflows.Requester{Email: string(email)}, For: email}}
	_, err := c.Temporal.SignalWithStartWorkflow(ctx, l.ID, workflows.CardCapturedSignal, captured, l.options(c.TaskQueue), l.Fn, l.Arg)
	return true, err
}
