package workflows

import (
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/operation"
)

// ContactInput names a contact to add or remove.
type ContactInput struct {
	SEN    licensing.SEN
	Role   licensing.Role
	Email  licensing.Email
	By     Requester
	Timing Timing // for the self-promotion offer that follows an add
	// OfferPrimary (add): also email them an offer to make themselves
	// primary. Promotion is a deliberate extra step, asked for by whoever
	// adds them; without it they can still do it from their account page.
	OfferPrimary bool
}

// Result says how an operation of one outcome and a sentence ended: contact
// changes, promotions, card updates, password mails.
type Result struct {
	Outcome operation.Outcome
	Message string
}

const (
	stepContactAdd    = "add"
	stepContactTell   = "tell"
	stepContactRemove = "remove"
)

// ContactAdd adds email as a secondary role contact, creating a pending
// account (with an invitation to set it up) when nobody has that email, tells
// the person, and, when asked to (OfferPrimary), offers them self-promotion
// (a Promote workflow of its own).
func ContactAdd(ctx workflow.Context, in ContactInput) (Result, error) {
	t, err := newTracker(ctx, operation.KindContactAdd, in.SEN, fmt.Sprintf("Add %s as %s contact of %s", in.Email, in.Role, in.SEN), in.By,
		operation.Step{Key: stepContactAdd, Title: "Add the contact"},
		operation.Step{Key: stepContactTell, Title: "Email them"},
	)
	if err != nil {
		return Result{}, err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(emails(in.Email)))
	actx := withActivities(ctx)

	t.begin(ctx, stepContactAdd)
	var added activities.EnsureContactsOutput
	if err := workflow.ExecuteActivity(actx, a.EnsureContacts, activities.EnsureContactsInput{
		SEN: in.SEN, Email: in.Email, Roles: []licensing.Role{in.Role}, By: actorOf(in.By, t),
	}).Get(ctx, &added); err != nil {
		return t.fail(ctx, err)
	}
	if len(added.Added) == 0 {
		msg := fmt.Sprintf("%s was already a %s contact of %s; nothing changed.", in.Email, in.Role, in.SEN)
		return t.finish(ctx, operation.Completed, msg)
	}
	t.done(stepContactAdd)

	// Runs started before the offer was asked for explicitly always made it.
	offer := in.OfferPrimary ||
		workflow.GetVersion(ctx, "contact-add-offer-on-request", workflow.DefaultVersion, 1) == workflow.DefaultVersion

	// Version 1: the primary contacts hear of it first, before an offer
	// to take their role can be accepted (review #7).
	if workflow.GetVersion(ctx, "contact-add-tells-primaries", workflow.DefaultVersion, 1) >= 1 {
		tellPrimaries(ctx, t, activities.NotifyPrimariesInput{SEN: in.SEN, Change: mail.ChangeAdded, Contact: in.Email, Roles: added.Added,
			Offered: offer, By: in.By.Asker(), Via: viaOf(in.By), Except: actorEmails(in.By)})
	}
	// Version 1: with an offer, its mail is the only one (review #12): it
	// says they were added, and its page sets up a pending account and
	// makes them primary in one form, as a move's does.
	oneMail := offer && workflow.GetVersion(ctx, "contact-add-one-mail-with-offer", workflow.DefaultVersion, 1) >= 1

	t.begin(ctx, stepContactTell)
	if oneMail {
		err = nil // the offer's mail, below
	} else if added.AccountPending {
		err = workflow.ExecuteActivity(actx, a.SendLinks, activities.SendLinksInput{
			Purpose: licensing.PurposeCompleteAccount, To: []licensing.Email{in.Email}, SEN: in.SEN,
			WorkflowID: t.st.WorkflowID, MailKey: t.mailKey(), Deadline: workflow.Now(ctx).Add(in.Timing.orDefault().Expiry),
			MoveRoles: []licensing.Role{in.Role}, RequestedBy: in.By.Asker(), OfferPrimary: offer,
		}).Get(ctx, nil)
	} else {
		err = workflow.ExecuteActivity(actx, a.Notify, activities.NotifyInput{
			Key: t.mailKey("added"), Kind: activities.NotifyAddedAsContact, To: in.Email,
			SEN: in.SEN, Role: in.Role, By: in.By.String(), OfferPrimary: offer,
		}).Get(ctx, nil)
	}
	if err != nil {
		return t.fail(ctx, err)
	}
	msg := fmt.Sprintf("%s is now a %s contact of %s.", in.Email, in.Role, in.SEN)
	if !offer {
		msg += " They were not offered the primary role; they can take it from their account page."
		return t.finish(ctx, operation.Completed, msg)
	}
	// The self-promotion offer lives on its own, so this operation can end.
	child := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        operation.PromoteID(in.SEN, in.Email),
		ParentClosePolicy: enums.PARENT_CLOSE_POLICY_ABANDON,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			AttrLicenseSEN.ValueSet(string(in.SEN)), AttrOperation.ValueSet(string(operation.KindPromote)), AttrCustomerEmails.ValueSet(emails(in.Email))),
	})
	f := workflow.ExecuteChildWorkflow(child, Promote, PromoteOfferInput{
		SEN: in.SEN, Email: in.Email, Roles: []licensing.Role{in.Role}, Timing: in.Timing, OfferedBy: in.By.Asker(), JustAdded: oneMail,
	})
	if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		// Already offered (a promotion offer is running): that one stands.
		workflow.GetLogger(ctx).Info("self-promotion offer not started", "err", err)
	}
	msg += " They were emailed an offer to make themselves primary."
	return t.finish(ctx, operation.Completed, msg)
}

// ContactRemove removes a secondary contact (never a primary, never the
// last of a role), withdraws any self-promotion offer they had, and tells them.
func ContactRemove(ctx workflow.Context, in ContactInput) (Result, error) {
	t, err := newTracker(ctx, operation.KindContactRemove, in.SEN, fmt.Sprintf("Remove %s as %s contact of %s", in.Email, in.Role, in.SEN), in.By,
		operation.Step{Key: stepContactRemove, Title: "Remove the contact"},
		operation.Step{Key: stepContactTell, Title: "Email them"},
	)
	if err != nil {
		return Result{}, err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(emails(in.Email)))
	actx := withActivities(ctx)

	t.begin(ctx, stepContactRemove)
	var removed activities.RemoveContactOutput
	if err := workflow.ExecuteActivity(actx, a.RemoveContact, activities.RemoveContactInput{
		SEN: in.SEN, Role: in.Role, Email: in.Email, By: actorOf(in.By, t),
	}).Get(ctx, &removed); err != nil {
		return t.fail(ctx, err)
	}
	// Version 1: operations that held links of someone who no longer
	// belongs to the licence are told, so none waits on them for days.
	if workflow.GetVersion(ctx, "contact-remove-tells-waiters", workflow.DefaultVersion, 1) >= 1 {
		tellWithdrawn(ctx, t.st.WorkflowID, PersonLeft{SEN: in.SEN, Email: in.Email}, removed.Withdrawn)
	}
	if !removed.Removed {
		msg := fmt.Sprintf("%s was not a %s contact of %s; nothing changed.", in.Email, in.Role, in.SEN)
		return t.finish(ctx, operation.Completed, msg)
	}
	t.done(stepContactRemove)
	if workflow.GetVersion(ctx, "contact-remove-tells-primaries", workflow.DefaultVersion, 1) >= 1 {
		tellPrimaries(ctx, t, activities.NotifyPrimariesInput{SEN: in.SEN, Change: mail.ChangeRemoved, Contact: in.Email, Roles: []licensing.Role{in.Role},
			By: in.By.Asker(), Via: viaOf(in.By), Except: actorEmails(in.By)})
	}
	// A pending offer to promote themselves no longer makes sense.
	_ = workflow.RequestCancelExternalWorkflow(ctx, operation.PromoteID(in.SEN, in.Email), "").Get(ctx, nil)

	t.begin(ctx, stepContactTell)
	_ = workflow.ExecuteActivity(actx, a.Notify, activities.NotifyInput{
		Key: t.mailKey("removed"), Kind: activities.NotifyContactRemoved,
		To: in.Email, SEN: in.SEN, Role: in.Role, By: in.By.String(),
	}).Get(ctx, nil)
	msg := fmt.Sprintf("%s is no longer a %s contact of %s.", in.Email, in.Role, in.SEN)
	return t.finish(ctx, operation.Completed, msg)
}

// PromoteOfferInput offers a contact to make themselves primary.
type PromoteOfferInput struct {
	SEN       licensing.SEN
	Email     licensing.Email
	Roles     []licensing.Role
	Timing    Timing
	OfferedBy string // who asked for the offer, as the mail names them
	// JustAdded: they were added as contact with this offer, whose mail
	// is the only one they get about it (it says they were added).
	JustAdded bool
}

// Promote emails a contact a link to make themselves primary in Roles,
// reminds them after 3 days and withdraws the offer after 14. Pressing the
// link promotes them in one transaction (the former primary becomes
// secondary and is told). Cancelling withdraws the offer; nothing changes.
func Promote(ctx workflow.Context, in PromoteOfferInput) (Result, error) {
	timing := in.Timing.orDefault()
	t, err := newTracker(ctx, operation.KindPromote, in.SEN, fmt.Sprintf("%s may make themselves primary %s contact of %s", in.Email, roleList(in.Roles), in.SEN),
		Requester{Email: string(in.Email)},
		operation.Step{Key: stepPromote, Title: string(in.Email) + " makes themselves primary"},
	)
	if err != nil {
		return Result{}, err
	}
	p := &promoteOffer{in: in, timing: timing, t: t}
	if err := p.registerHandlers(ctx); err != nil {
		return Result{}, err
	}
	return p.run(ctx)
}

// promoteOffer is one run of Promote.
type promoteOffer struct {
	in       PromoteOfferInput
	timing   Timing
	t        *tracker
	promoted *PromoteResult
	declined *DecideResult // Decline on the link: the offer ends
}

// waiting is true while the offer waits for its link.
func (p *promoteOffer) waiting(workflow.Context, PromoteInput) error {
	if p.promoted != nil || p.declined != nil || p.t.st.Done {
		return errNotWaiting
	}
	return nil
}

func (p *promoteOffer) registerHandlers(ctx workflow.Context) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, DeclinePromotionUpdate,
		func(ctx workflow.Context, in PromoteInput) (DecideResult, error) {
			by, err := declinePromotion(ctx, in, p.t.st.WorkflowID)
			if err != nil {
				return DecideResult{}, err
			}
			if p.declined == nil {
				p.declined = &DecideResult{By: by}
			}
			return *p.declined, nil
		},
		workflow.UpdateHandlerOptions{Validator: p.waiting})
	if err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, PromoteUpdate, p.promote, workflow.UpdateHandlerOptions{Validator: p.waiting})
}

// promote spends the promote link: the person becomes primary, and those
// they replace and the primary contacts are told.
func (p *promoteOffer) promote(ctx workflow.Context, in PromoteInput) (PromoteResult, error) {
	t := p.t
	var out activities.RedeemPromotionOutput
	err := workflow.ExecuteActivity(withActivities(ctx), a.RedeemPromotion, activities.RedeemPromotionInput{
		TokenHash: in.TokenHash, WorkflowID: t.st.WorkflowID,
	}).Get(ctx, &out)
	if err != nil {
		return PromoteResult{}, err
	}
	p.promoted = &PromoteResult{Email: out.Email, Roles: out.Roles}
	var former []licensing.Email
	for _, d := range out.Demoted {
		_ = workflow.ExecuteActivity(withActivities(ctx), a.Notify, activities.NotifyInput{
			Key: t.mailKey("demoted", string(d.Role), string(d.Email)), Kind: activities.NotifyPromoted,
			To: d.Email, SEN: p.in.SEN, Role: d.Role, NewEmail: p.in.Email, Via: "link",
		}).Get(ctx, nil)
		former = append(former, d.Email)
	}
	if workflow.GetVersion(ctx, "promote-tells-primaries", workflow.DefaultVersion, 1) >= 1 {
		tellPrimaries(ctx, t, activities.NotifyPrimariesInput{SEN: p.in.SEN, Change: mail.ChangePromoted, Contact: out.Email, Roles: out.Roles,
			By: string(out.Email), Via: "link", Former: former, Except: former})
	}
	return *p.promoted, nil
}

// run mails the promote link and waits for it to be used, declined or to
// expire.
func (p *promoteOffer) run(ctx workflow.Context) (Result, error) {
	in, t := p.in, p.t
	t.begin(ctx, stepPromote)
	deadline := workflow.Now(ctx).Add(p.timing.Expiry)
	send := func(ctx workflow.Context, reminder bool) error {
		return t.sendLinks(ctx, activities.SendLinksInput{
			Purpose: licensing.PurposePromote, To: []licensing.Email{in.Email}, SEN: in.SEN, WorkflowID: t.st.WorkflowID, MailKey: t.mailKey(),
			Deadline: deadline, Reminder: reminder, Roles: in.Roles, RequestedBy: in.OfferedBy,
			RequestedAt: workflow.GetInfo(ctx).WorkflowStartTime, JustAdded: in.JustAdded,
		})
	}
	if err := send(ctx, false); err != nil {
		return t.fail(ctx, err)
	}
	t.waiting(ctx, []licensing.Email{in.Email}, deadline)
	me := []licensing.Email{in.Email}
	ok, err := awaitPerson(ctx, p.timing, deadline, func() bool { return p.promoted != nil || p.declined != nil || t.allLeft(me) }, func(ctx workflow.Context) {
		_ = send(ctx, true)
	})
	return p.end(ctx, ok, err)
}

// end ends the offer after its wait: ok is whether the wait ended before
// the deadline, err how it failed (cancelled, perhaps).
func (p *promoteOffer) end(ctx workflow.Context, ok bool, err error) (Result, error) {
	in, t := p.in, p.t
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	revoke := func(o operation.Outcome) {
		_ = workflow.ExecuteActivity(withActivities(dctx), a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: revokeReason(o)}).Get(dctx, nil)
	}
	me := []licensing.Email{in.Email}
	switch {
	case isCancel(ctx, err):
		revoke(operation.Cancelled)
		if workflow.GetVersion(dctx, "cancel-tells-waiting", workflow.DefaultVersion, 1) >= 1 {
			t.tellCancelled(dctx, activities.NotifyInput{SEN: in.SEN, Operation: "promote", Roles: in.Roles})
		}
		t.end(dctx, operation.Cancelled, "The offer to "+string(in.Email)+" was withdrawn.")
		finishHandlers(dctx)
		return Result{Outcome: operation.Cancelled}, temporal.NewCanceledError()
	case err != nil:
		return Result{}, err
	case p.declined != nil:
		revoke(operation.Declined)
		finishHandlers(ctx)
		return t.finish(ctx, operation.Declined, fmt.Sprintf("%s declined to become the primary %s contact of %s; nothing changed.", in.Email, roleList(in.Roles), in.SEN))
	case p.promoted == nil && t.allLeft(me):
		revoke(operation.Failure)
		finishHandlers(ctx)
		return t.finish(ctx, operation.Failure, fmt.Sprintf("%s no longer belongs to %s, so the offer to make themselves primary was withdrawn.", in.Email, in.SEN))
	case !ok:
		revoke(operation.Expired)
		msg := fmt.Sprintf("%s did not use their promotion link within %s.", in.Email, days(p.timing.Expiry))
		return t.finish(ctx, operation.Expired, msg)
	}
	finishHandlers(ctx)
	_ = workflow.ExecuteActivity(withActivities(ctx), a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: t.st.WorkflowID, Reason: activities.RevokedDone}).Get(ctx, nil)
	msg := fmt.Sprintf("%s is now the primary %s contact of %s.", in.Email, roleList(p.promoted.Roles), in.SEN)
	return t.finish(ctx, operation.Completed, msg)
}

func actorOf(by Requester, t *tracker) licensing.Actor {
	kind, id := "slack", by.SlackUser
	if id == "" {
		kind, id = "account", by.Email
	}
	return licensing.Actor{Kind: kind, ID: id, WorkflowID: t.st.WorkflowID}
}
