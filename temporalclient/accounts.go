package temporalclient

import (
	"context"
	"errors"
	"time"

	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/postgres"
	"licensedesk/workflows"
)

// Accounts implements accounts.Operations, the account page's actions, on
// the workflows Slack uses (contact add and remove, card update) and on
// the account ones (PromoteSelf, PasswordReset, PasswordChanged).
type Accounts struct {
	Client *Client
	DB     *postgres.DB
	// Wait bounds how long the account page waits for an operation's
	// outcome before saying it is under way [10 s].
	Wait time.Duration
}

// Card updates from the account page: the link the page makes, and the
// workflow waiting for the card, live a day (a later click starts it again).
const accountCardExpiry = 24 * time.Hour

// AddContact runs ContactAdd for the signed-in actor.
func (o *Accounts) AddContact(ctx context.Context, actor licensing.Email, sen licensing.SEN, role licensing.Role, email licensing.Email, offerPrimary bool) (string, error) {
	return o.runContact(ctx, operation.StartRequest{Kind: operation.KindContactAdd, SEN: sen, Role: role, Email: email, ByEmail: string(actor), OfferPrimary: offerPrimary},
		"Adding "+string(email)+" is already under way.")
}

// RemoveContact runs ContactRemove for the signed-in actor.
func (o *Accounts) RemoveContact(ctx context.Context, actor licensing.Email, sen licensing.SEN, role licensing.Role, email licensing.Email) (string, error) {
	return o.runContact(ctx, operation.StartRequest{Kind: operation.KindContactRemove, SEN: sen, Role: role, Email: email, ByEmail: string(actor)},
		"Removing "+string(email)+" is already under way.")
}

func (o *Accounts) runContact(ctx context.Context, req operation.StartRequest, already string) (string, error) {
	started, err := o.Client.Start(ctx, req)
	if err != nil {
		return "", err
	}
	if started.AlreadyRunning {
		return already, nil
	}
	return o.outcome(ctx, started.WorkflowID, started.RunID)
}

// PromoteSelf runs PromoteSelf: actor becomes the primary role contact.
func (o *Accounts) PromoteSelf(ctx context.Context, actor licensing.Email, sen licensing.SEN, role licensing.Role) (string, error) {
	started, err := o.Client.launch(ctx, launch{ID: operation.PromoteSelfID(sen, role, actor), Kind: operation.KindPromoteSelf,
		SEN: sen, People: []licensing.Email{actor},
		Fn: workflows.PromoteSelf, Arg: workflows.ContactInput{SEN: sen, Role: role, Email: actor, By: workflows.Requester{Email: string(actor)}}})
	if err != nil {
		return "", err
	}
	if started.AlreadyRunning {
		return "Making you primary is already under way.", nil
	}
	return o.outcome(ctx, started.WorkflowID, started.RunID)
}

// outcome waits for a short operation's result: its message, or its
// failure as a licensing error the page shows. A slow one is reported as
// under way.
func (o *Accounts) outcome(ctx context.Context, id, runID string) (string, error) {
	wait := o.Wait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var res workflows.Result
	err := o.Client.Temporal.GetWorkflow(wctx, id, runID).Get(wctx, &res)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(wctx.Err(), context.DeadlineExceeded):
		return "It is under way; reload this page in a moment to see it.", nil
	case err != nil:
		return "", err
	case res.Outcome == operation.Completed:
		return res.Message, nil
	}
	return "", licensing.Errorf(licensing.FailedPrecondition, "%s", res.Message)
}

// UpdateCardURL starts (or finds) the actor's own card update and makes them
// a link to it: the link's page says what saving a card will do and leads
// to the provider's card page. The token is made here, so it never enters
// workflow history, and nobody else is emailed.
func (o *Accounts) UpdateCardURL(ctx context.Context, actor licensing.Email, sen licensing.SEN) (string, error) {
	l, err := o.DB.License(ctx, sen)
	if licensing.ErrorCode(err) == licensing.NotFound {
		return "", licensing.ErrNotYourLicence
	}
	if err != nil {
		return "", err
	}
	// The relation first: the card rule would tell a stranger the
	// licence's deployment, cycle and status.
	if err := licensing.CheckRelated(l, actor); err != nil {
		return "", err
	}
	if err := licensing.CanUpdateCard(l, actor); err != nil {
		return "", err
	}
	// A card update of theirs already waiting takes the new link too.
	id := operation.AccountCardUpdateID(sen, actor)
	_, err = o.Client.launch(ctx, launch{ID: id, Kind: operation.KindCard, SEN: sen, People: []licensing.Email{actor},
		Fn: workflows.CardUpdate, Arg: workflows.CardUpdateInput{SEN: sen, By: workflows.Requester{Email: string(actor)}, For: actor, Expiry: accountCardExpiry}})
	if err != nil {
		return "", err
	}
	token, _, err := o.DB.CreateLink(ctx, postgres.NewLink{
		Purpose: licensing.PurposeCardUpdate, Email: actor, SEN: sen, WorkflowID: id, TTL: accountCardExpiry,
		// Made on the account page, not emailed: its page says so.
		Data: map[string]any{"summary": licensing.CardUpdateSummary(l), "origin": "account"},
	})
	if err != nil {
		return "", err
	}
	return "/l/" + token, nil
}

// StartPasswordReset starts PasswordReset for email without looking it up:
// the workflow finds out whether there is an account, in the background.
func (o *Accounts) StartPasswordReset(ctx context.Context, email licensing.Email) error {
	// A request while the last one still runs is that one: its mail is coming.
	_, err := o.Client.launch(ctx, launch{ID: operation.PasswordResetID(email), Kind: operation.KindPasswordReset, People: []licensing.Email{email},
		Fn: workflows.PasswordReset, Arg: workflows.PasswordInput{Email: email}})
	return err
}

// PasswordChanged starts PasswordChanged, which emails the confirmation.
func (o *Accounts) PasswordChanged(ctx context.Context, email licensing.Email, reset bool, event int64) error {
	_, err := o.Client.launch(ctx, launch{ID: operation.PasswordChangedID(email, time.Now() /*clock:wall a unique id, not a decision*/), Kind: operation.KindPasswordChanged, People: []licensing.Email{email},
		Fn: workflows.PasswordChanged, Arg: workflows.PasswordInput{Email: email, Reset: reset, Event: event}})
	return err
}

// SignInLocked starts SignInLocked for the hour: a lock that comes back
// within it finds it (running or done) and mails nobody again.
func (o *Accounts) SignInLocked(ctx context.Context, email licensing.Email, event int64) error {
	_, err := o.Client.launch(ctx, launch{ID: operation.SignInLockedID(email, time.Now() /*clock:wall names the hour's mail, not a decision*/), Kind: operation.KindSignInLocked,
		People: []licensing.Email{email}, Fn: workflows.SignInLocked, Arg: workflows.PasswordInput{Email: email, Event: event}})
	return err
}
