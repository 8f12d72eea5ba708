package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/licensing"
)

// Who else hears about what an operation does (issue 20 §4): the
// licence's primary contacts about every change of its contacts made by a
// person (review #7), and the people a step waited on when sales cancel it
// (review #14). Each caller guards its call with workflow.GetVersion.

// viaOf says through what a requester acts: Slack (sales) or the account
// page (a customer signed in).
func viaOf(by Requester) string {
	if by.SlackUser != "" {
		return "slack"
	}
	return "account"
}

// actorEmails is the customer who acted, if one did (they know already).
func actorEmails(by Requester) []licensing.Email {
	if by.SlackUser == "" && by.Email != "" {
		return []licensing.Email{licensing.Email(by.Email)}
	}
	return nil
}

// tellPrimaries mails the licence's primary contacts about a change of its
// contacts, best effort: a mail that cannot go out is logged, and the
// operation goes on. Only operations people start call it (Slack, the
// account page, links); the provisioning API and its bulk import do not,
// so an import of 100,000 licences mails nobody.
func tellPrimaries(ctx workflow.Context, t *tracker, in activities.NotifyPrimariesInput) {
	in.Key = t.mailKey("primaries", in.Change)
	if err := workflow.ExecuteActivity(withActivities(ctx), a.NotifyPrimaries, in).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("the primary contacts were not told of a contact change", "err", err)
	}
}

// tellCancelled mails each person the current step waits on that sales
// cancelled the operation (op names it for the mail: "move", "verify",
// "promote", "card"), so nobody finds out from a link that stopped
// working. Nothing when it was not sales who cancelled (a removal ends a
// promotion offer by cancelling it; the person removed is told that),
// or for people in skip (told otherwise).
func (t *tracker) tellCancelled(ctx workflow.Context, base activities.NotifyInput, skip ...licensing.Email) {
	if t.cancelBy == "" {
		return
	}
	for _, e := range t.st.WaitingOn {
		to := licensing.Email(e)
		if slices.Contains(skip, to) || slices.Contains(t.left, to) {
			continue
		}
		n := base
		n.Kind, n.To, n.At = activities.NotifyRequestCancelled, to, workflow.Now(ctx)
		n.Key = t.mailKey("cancelled", e)
		if err := workflow.ExecuteActivity(withActivities(ctx), a.Notify, n).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("a person waited on was not told of the cancellation", "err", err)
		}
	}
}
