package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
)

// a lets workflows name activities type-safely; it is never dereferenced.
var a *activities.Activities

// Requester is who started an operation and where to report on it.
type Requester struct {
	SlackUser string // Slack user id, empty when not from Slack
	// Name is SlackUser's display name in Slack (users.info), when known:
	// mails name the salesperson who asked. Empty for older runs and when
	// Slack did not say.
	Name    string `json:",omitempty"`
	Email   string // the customer, when started from the account page
	Channel string // Slack channel for the progress message; empty = none
}

// Asker is who asked, as a customer's mail says it: "Dana Smith, of our
// sales team" when the salesperson's name is known, the customer's email
// from the account page, else the Slack mention, which mails read as
// "our sales team" (licensing.ActorName).
func (r Requester) Asker() string {
	if r.SlackUser != "" && r.Name != "" {
		return r.Name + ", of our sales team"
	}
	return r.String()
}

// DisplayName is who asked as a customer may read it: the salesperson's
// name, else the customer's email, else "".
func (r Requester) DisplayName() string {
	if r.SlackUser != "" {
		return r.Name
	}
	return r.Email
}

func (r Requester) String() string {
	if r.SlackUser != "" {
		return "<@" + r.SlackUser + ">"
	}
	return r.Email
}

// Timing is how long operations wait for people (SPEC §3: remind after 3
// days, give up after 14).
type Timing struct {
	Reminder time.Duration
	Expiry   time.Duration
}

func (t Timing) orDefault() Timing {
	if t.Reminder <= 0 {
		t.Reminder = 3 * 24 * time.Hour
	}
	if t.Expiry <= 0 {
		t.Expiry = 14 * 24 * time.Hour
	}
	return t
}

// withActivities applies the options every activity call uses: database and
// mail work is retried with backoff for up to an hour; domain errors are
// non-retryable and come back at once.
func withActivities(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

// withReporting is for Slack reports: a few tries with backoff. Slack's
// permanent errors (channel_not_found, 404...) are not retried at all
// (activities.ReportProgress makes them non-retryable).
func withReporting(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 20 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
	})
}

// reportFlushWait bounds how long a finished operation waits for its last
// Slack report before the workflow returns.
const reportFlushWait = 2 * time.Minute
