package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"licensedesk/activities"
	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/operation"
)

// MoveInput is a request to move a licence to another account (SPEC §2).
type MoveInput struct {
	Request licensing.MoveRequest
	By      Requester
	Timing  Timing
}

// MoveResult says how the move ended.
type MoveResult struct {
	Outcome operation.Outcome
	Message string
}

// DecideInput is a confirm link being pressed.
type DecideInput struct {
	TokenHash []byte
	Approve   bool
}

// DecideResult says whose decision was recorded.
type DecideResult struct {
	By      licensing.Email
	Approve bool
}

// PromoteInput is a promote link being pressed.
type PromoteInput struct {
	TokenHash []byte
}

// PromoteResult lists the roles its presser is now primary for.
type PromoteResult struct {
	Email licensing.Email
	Roles []licensing.Role
}

const (
	stepCheck   = "check"
	stepConfirm = "confirm"
	stepAdd     = "add"
	stepPromote = "promote"
	stepRemove  = "remove"
	stepNotify  = "notify"
)

// Move moves a licence to a new account:
//
//	check → a contact or site admin confirms by link → the new account exists
//	and is added in the chosen roles → the new contact promotes themselves →
//	the old contact is removed (unless KeepOld) → everyone is told.
//
// Outcomes, and what each leaves behind:
//   - bad request (unknown licence, --from not a contact, ...): nothing changed.
//   - declined, expired or cancelled before the new contact is added:
//     nothing changed; unused links are revoked.
//   - expired or cancelled while waiting for the promotion: the contact rows
//     this move added are removed again (a pending account it created stays,
//     unattached, so an invitation already in someone's inbox fails cleanly);
//     the licence is as before.
//   - after the promotion the move always completes: cancelling then would
//     leave a half-moved licence, so the last steps run to the end.
func Move(ctx workflow.Context, in MoveInput) (MoveResult, error) {
	timing := in.Timing.orDefault()
	req := in.Request
	t, err := newTracker(ctx, operation.KindMove, req.SEN, fmt.Sprintf("Move %s to %s", req.SEN, req.NewEmail), in.By,
		operation.Step{Key: stepCheck, Title: "Check the request"},
		operation.Step{Key: stepConfirm, Title: "A contact confirms by email"},
		operation.Step{Key: stepAdd, Title: "Add " + string(req.NewEmail) + " as contact"},
		operation.Step{Key: stepPromote, Title: string(req.NewEmail) + " makes themselves primary"},
		operation.Step{Key: stepRemove, Title: "Remove the old contact"},
		operation.Step{Key: stepNotify, Title: "Tell both people"},
	)
	if err != nil {
		return MoveResult{}, err
	}
	m := &move{in: in, timing: timing, t: t}
	if err := m.registerHandlers(ctx); err != nil {
		return MoveResult{}, err
	}
	res, err := m.run(ctx)
	if isCancel(ctx, err) {
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		res = m.undo(dctx, operation.Cancelled, "Cancelled by "+orSomeone(t.cancelBy)+".")
		finishHandlers(dctx)
		return res, temporal.NewCanceledError()
	}
	finishHandlers(ctx)
	return res, err
}

type move struct {
	in     MoveInput
	timing Timing
	t      *tracker
	plan   licensing.MovePlan
	prod   string

	decision  *DecideResult
	decidedAt time.Time // when the confirmer decided, for the new contact's page
	promoted  *PromoteResult
	// declined: the new contact pressed Decline on their promotion link.
	declined *DecideResult
	added    []licensing.Role // contact rows this move created, for undo
}

func (m *move) registerHandlers(ctx workflow.Context) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, DecideUpdate,
		func(ctx workflow.Context, in DecideInput) (DecideResult, error) {
			var out activities.RedeemDecisionOutput
			err := workflow.ExecuteActivity(withActivities(ctx), a.RedeemDecision, activities.RedeemDecisionInput{
				TokenHash: in.TokenHash, WorkflowID: m.t.st.WorkflowID, Purpose: licensing.PurposeConfirmMove, Approve: in.Approve,
			}).Get(ctx, &out)
			if err != nil {
				return DecideResult{}, err
			}
			if m.decision == nil {
				m.decision = &DecideResult{By: out.By, Approve: in.Approve}
				m.decidedAt = workflow.Now(ctx)
			}
			return *m.decision, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in DecideInput) error {
			if m.t.st.Step != stepConfirm || m.decision != nil {
				return errNotWaiting
			}
			return nil
		}})
	if err != nil {
		return err
	}
	// Decline on the promotion link: the move is called off, as when it
	// expires. (A run that never gets this update replays as before.)
	err = workflow.SetUpdateHandlerWithOptions(ctx, DeclinePromotionUpdate,
		func(ctx workflow.Context, in PromoteInput) (DecideResult, error) {
			by, err := declinePromotion(ctx, in, m.t.st.WorkflowID)
			if err != nil {
				return DecideResult{}, err
			}
			if m.declined == nil {
				m.declined = &DecideResult{By: by}
			}
			return *m.declined, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in PromoteInput) error {
			if m.t.st.Step != stepPromote || m.promoted != nil || m.declined != nil {
				return errNotWaiting
			}
			return nil
		}})
	if err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, PromoteUpdate,
		func(ctx workflow.Context, in PromoteInput) (PromoteResult, error) {
			var out activities.RedeemPromotionOutput
			err := workflow.ExecuteActivity(withActivities(ctx), a.RedeemPromotion, activities.RedeemPromotionInput{
				TokenHash: in.TokenHash, WorkflowID: m.t.st.WorkflowID,
			}).Get(ctx, &out)
			if err != nil {
				return PromoteResult{}, err
			}
			m.promoted = &PromoteResult{Email: out.Email, Roles: out.Roles}
			return *m.promoted, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in PromoteInput) error {
			if m.t.st.Step != stepPromote || m.promoted != nil || m.declined != nil {
				return errNotWaiting
			}
			return nil
		}})
}

// declinePromotion spends a promote link as declined (audited
// promote.decline) and says whose it was.
func declinePromotion(ctx workflow.Context, in PromoteInput, workflowID string) (licensing.Email, error) {
	var out activities.RedeemDecisionOutput
	err := workflow.ExecuteActivity(withActivities(ctx), a.RedeemDecision, activities.RedeemDecisionInput{
		TokenHash: in.TokenHash, WorkflowID: workflowID, Purpose: licensing.PurposePromote, Approve: false,
	}).Get(ctx, &out)
	return out.By, err
}

// errNotWaiting rejects a link pressed when the operation no longer waits
// for it (already decided, promoted, or past that step).
var errNotWaiting = temporalerr.New(licensing.Gone, "This request is no longer waiting for this; the link has no effect now.")

func (m *move) run(ctx workflow.Context) (MoveResult, error) {
	for _, step := range []func(workflow.Context) (bool, MoveResult, error){m.check, m.confirm, m.addContact, m.awaitPromotion} {
		if ended, res, err := step(ctx); ended {
			return res, err
		}
	}
	return m.finish(ctx)
}

// moveEnded says a step of the move ended it, with what Move returns.
func moveEnded(res MoveResult, err error) (bool, MoveResult, error) { return true, res, err }

// check (step 1) checks the request and resolves its defaults (--from,
// --roles, --confirm-by).
func (m *move) check(ctx workflow.Context) (bool, MoveResult, error) {
	m.t.begin(ctx, stepCheck)
	var planned activities.PlanMoveOutput
	if err := workflow.ExecuteActivity(withActivities(ctx), a.PlanMove, activities.PlanMoveInput{Request: m.in.Request}).Get(ctx, &planned); err != nil {
		return moveEnded(m.fail(ctx, err))
	}
	m.plan, m.prod = planned.Plan, planned.Product
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrCustomerEmails.ValueSet(
		emails(append([]licensing.Email{m.plan.NewEmail, m.plan.From}, m.plan.ConfirmBy...)...)))
	m.t.done(stepCheck)
	m.t.note(ctx, fmt.Sprintf("Plan: add %s as %s contact; %s; confirmation asked of %s.",
		m.plan.NewEmail, roleList(m.plan.Add), oldFate(m.plan), emailList(m.plan.ConfirmBy)))
	return false, MoveResult{}, nil
}

// confirm (step 2): a contact or site admin confirms.
func (m *move) confirm(ctx workflow.Context) (bool, MoveResult, error) {
	m.t.begin(ctx, stepConfirm)
	deadline := workflow.Now(ctx).Add(m.timing.Expiry)
	if err := m.sendLinks(ctx, licensing.PurposeConfirmMove, m.plan.ConfirmBy, deadline, false); err != nil {
		return moveEnded(m.fail(ctx, err))
	}
	m.t.waiting(ctx, m.plan.ConfirmBy, deadline)
	ok, err := awaitPerson(ctx, m.timing, deadline, func() bool { return m.decision != nil || m.t.allLeft(m.plan.ConfirmBy) }, func(ctx workflow.Context) {
		if err := m.sendLinks(ctx, licensing.PurposeConfirmMove, m.plan.ConfirmBy, deadline, true); err != nil {
			workflow.GetLogger(ctx).Warn("confirmation reminder failed", "err", err)
		}
		m.t.note(ctx, "Reminder sent to "+emailList(m.plan.ConfirmBy)+".")
	})
	switch {
	case err != nil:
		return moveEnded(MoveResult{}, err)
	case m.decision == nil && m.t.allLeft(m.plan.ConfirmBy):
		return moveEnded(m.undo(ctx, operation.Failure, fmt.Sprintf("%s, asked to confirm, no longer belongs to %s; nothing was changed. Ask again, naming another contact or site admin with --confirm-by.",
			emailList(m.plan.ConfirmBy), m.in.Request.SEN)), nil)
	case !ok:
		return moveEnded(m.undo(ctx, operation.Expired, fmt.Sprintf("Nobody confirmed within %s; nothing was changed.", days(m.timing.Expiry))), nil)
	case !m.decision.Approve:
		return moveEnded(m.undo(ctx, operation.Declined, fmt.Sprintf("%s declined the move; nothing was changed.", m.decision.By)), nil)
	}
	m.t.done(stepConfirm)
	m.t.note(ctx, fmt.Sprintf("%s approved.", m.decision.By))
	return false, MoveResult{}, nil
}

// addContact (step 3): the new account exists (pending until its owner
// sets it up) and is a contact in the chosen roles.
func (m *move) addContact(ctx workflow.Context) (bool, MoveResult, error) {
	req := m.in.Request
	m.t.begin(ctx, stepAdd)
	var added activities.EnsureContactsOutput
	if err := workflow.ExecuteActivity(withActivities(ctx), a.EnsureContacts, activities.EnsureContactsInput{
		SEN: req.SEN, Email: m.plan.NewEmail, Roles: m.plan.Add, By: m.actor(),
	}).Get(ctx, &added); err != nil {
		return moveEnded(m.fail(ctx, err))
	}
	m.added = added.Added
	m.t.done(stepAdd)
	// Version 1: the primary contacts hear of it before the new contact
	// can take their role (review #7); the one who approved knows.
	if len(m.plan.Promote) > 0 && workflow.GetVersion(ctx, "move-tells-primaries", workflow.DefaultVersion, 1) >= 1 {
		tellPrimaries(ctx, m.t, activities.NotifyPrimariesInput{SEN: req.SEN, Change: mail.ChangeMove, Contact: m.plan.NewEmail, Roles: m.plan.Add,
			By: m.in.By.Asker(), Via: "slack", ApprovedBy: m.decision.By, Except: []licensing.Email{m.decision.By}})
	}
	if added.AccountCreated {
		m.t.note(ctx, fmt.Sprintf("Created a pending account for %s; they set their name and password from the emailed link.", m.plan.NewEmail))
	}
	return false, MoveResult{}, nil
}

// awaitPromotion (step 4): the new contact promotes themselves (nobody
// can do it for them).
func (m *move) awaitPromotion(ctx workflow.Context) (bool, MoveResult, error) {
	if len(m.plan.Promote) == 0 {
		m.t.skipped(stepPromote)
		return false, MoveResult{}, nil
	}
	m.t.begin(ctx, stepPromote)
	deadline := workflow.Now(ctx).Add(m.timing.Expiry)
	if err := m.sendLinks(ctx, licensing.PurposePromote, []licensing.Email{m.plan.NewEmail}, deadline, false); err != nil {
		return moveEnded(m.fail(ctx, err))
	}
	m.t.waiting(ctx, []licensing.Email{m.plan.NewEmail}, deadline)
	newContact := []licensing.Email{m.plan.NewEmail}
	ok, err := awaitPerson(ctx, m.timing, deadline, func() bool { return m.promoted != nil || m.declined != nil || m.t.allLeft(newContact) }, func(ctx workflow.Context) {
		if err := m.sendLinks(ctx, licensing.PurposePromote, []licensing.Email{m.plan.NewEmail}, deadline, true); err != nil {
			workflow.GetLogger(ctx).Warn("promotion reminder failed", "err", err)
		}
		m.t.note(ctx, "Reminder sent to "+string(m.plan.NewEmail)+".")
	})
	switch {
	case err != nil:
		return moveEnded(MoveResult{}, err)
	case m.declined != nil:
		return moveEnded(m.undo(ctx, operation.Declined, fmt.Sprintf("%s declined to become the primary contact, so the move was called off; the contact added for it was removed again and nothing else changed.", m.plan.NewEmail)), nil)
	case m.promoted == nil && m.t.allLeft(newContact):
		return moveEnded(m.undo(ctx, operation.Failure, fmt.Sprintf("%s was removed from %s before making themselves primary, so the move was called off; nothing else changed.", m.plan.NewEmail, m.in.Request.SEN)), nil)
	case !ok && !m.promotedMeanwhile(ctx):
		return moveEnded(m.undo(ctx, operation.Expired, fmt.Sprintf("%s did not make themselves primary within %s; the contact added for the move was removed again.", m.plan.NewEmail, days(m.timing.Expiry))), nil)
	}
	m.t.done(stepPromote)
	m.t.note(ctx, fmt.Sprintf("%s is now the primary %s contact; %s is secondary.", m.plan.NewEmail, roleList(m.plan.Promote), m.plan.From))
	return false, MoveResult{}, nil
}

// finish (steps 5 and 6) removes the old contact unless asked to keep it,
// records the move and tells both people. From here on the move finishes
// even if cancelled: undoing a promotion is not ours to do (only a person
// can promote themselves).
func (m *move) finish(ctx workflow.Context) (MoveResult, error) {
	req := m.in.Request
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	actx := withActivities(dctx)
	if err := m.removeOld(dctx); err != nil {
		return m.fail(dctx, err)
	}

	// Version 1: the move is recorded in the history when it is done
	// (license.moved for receivers of events).
	if workflow.GetVersion(dctx, "move-records-moved", workflow.DefaultVersion, 1) >= 1 {
		if err := workflow.ExecuteActivity(actx, a.RecordMove, activities.RecordMoveInput{
			SEN: req.SEN, From: m.plan.From, To: m.plan.NewEmail, KeptOld: m.plan.KeepOld, By: m.actor(),
		}).Get(dctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("the move was not recorded in the history", "err", err)
		}
	}

	// 6. Both people are told.
	m.t.begin(dctx, stepNotify)
	for _, to := range []licensing.Email{m.plan.NewEmail, m.plan.From} {
		if err := workflow.ExecuteActivity(actx, a.Notify, activities.NotifyInput{
			Key: m.t.mailKey("done", string(to)), Kind: activities.NotifyMoveCompleted, To: to,
			SEN: req.SEN, NewEmail: m.plan.NewEmail, OldEmail: m.plan.From, KeptOld: m.plan.KeepOld,
		}).Get(dctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("completion mail failed", "to", to, "err", err)
		}
	}
	_ = workflow.ExecuteActivity(actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: m.t.st.WorkflowID, Reason: activities.RevokedDone}).Get(dctx, nil)
	msg := fmt.Sprintf("%s moved to %s.", req.SEN, m.plan.NewEmail)
	if m.plan.KeepOld {
		msg += fmt.Sprintf(" %s stays as a secondary contact.", m.plan.From)
	} else {
		msg += fmt.Sprintf(" %s was removed.", m.plan.From)
	}
	m.t.end(dctx, operation.Completed, msg)
	return MoveResult{Outcome: operation.Completed, Message: msg}, nil
}

// removeOld (step 5): the old contact goes, unless asked to stay as
// secondary. dctx is disconnected from cancellation.
func (m *move) removeOld(dctx workflow.Context) error {
	if m.plan.KeepOld || len(m.plan.Remove) == 0 {
		m.t.skipped(stepRemove)
		return nil
	}
	req := m.in.Request
	m.t.begin(dctx, stepRemove)
	var withdrawn []string
	for _, role := range m.plan.Remove {
		var removed activities.RemoveContactOutput
		if err := workflow.ExecuteActivity(withActivities(dctx), a.RemoveContact, activities.RemoveContactInput{
			SEN: req.SEN, Role: role, Email: m.plan.From, By: m.actor(),
		}).Get(dctx, &removed); err != nil {
			return err
		}
		withdrawn = append(withdrawn, removed.Withdrawn...)
	}
	// Version 1: as ContactRemove, tell what waited on the old contact.
	if workflow.GetVersion(dctx, "move-remove-tells-waiters", workflow.DefaultVersion, 1) >= 1 {
		tellWithdrawn(dctx, m.t.st.WorkflowID, PersonLeft{SEN: req.SEN, Email: m.plan.From}, withdrawn)
	}
	m.t.done(stepRemove)
	return nil
}

// promotedMeanwhile re-reads the database when the wait expires: if the new
// contact is primary after all (a promotion that raced the timer), the move
// goes on instead of undoing it.
func (m *move) promotedMeanwhile(ctx workflow.Context) bool {
	var out activities.CheckPrimaryOutput
	err := workflow.ExecuteActivity(withActivities(ctx), a.CheckPrimary, activities.CheckPrimaryInput{
		SEN: m.in.Request.SEN, Email: m.plan.NewEmail, Roles: m.plan.Promote,
	}).Get(ctx, &out)
	return err == nil && out.AllPrimary
}

// undo ends the move without completing it, removing the contact rows it
// added (if any) and revoking its links.
func (m *move) undo(ctx workflow.Context, outcome operation.Outcome, msg string) MoveResult {
	actx := withActivities(ctx)
	if len(m.added) > 0 && m.promoted == nil {
		var out activities.UndoContactsOutput
		if err := workflow.ExecuteActivity(actx, a.UndoContacts, activities.UndoContactsInput{
			SEN: m.in.Request.SEN, Email: m.plan.NewEmail, Roles: m.added, By: m.actor(),
		}).Get(ctx, &out); err != nil {
			workflow.GetLogger(ctx).Error("undo of added contact failed", "err", err)
			msg += " Removing the added contact failed; check the licence."
		}
	}
	_ = workflow.ExecuteActivity(actx, a.RevokeLinks, activities.RevokeLinksInput{WorkflowID: m.t.st.WorkflowID, Reason: revokeReason(outcome)}).Get(ctx, nil)
	var tell []licensing.Email
	if len(m.added) > 0 { // the new person was told about the move: tell them it ended
		tell = append(tell, m.plan.NewEmail)
	}
	if m.declined != nil && m.plan.From != "" { // the contact it was moving from learns why it did not
		tell = append(tell, m.plan.From)
	}
	// Version 1: when sales cancel, the mail says so in words for the
	// customer (not the Slack mention), and whoever the step waited on
	// (those asked to confirm) is told too (review #14).
	reason := msg
	if outcome == operation.Cancelled && workflow.GetVersion(ctx, "cancel-tells-waiting", workflow.DefaultVersion, 1) >= 1 {
		reason = "Our sales team cancelled it."
		m.t.tellCancelled(ctx, activities.NotifyInput{SEN: m.in.Request.SEN, Operation: "move", NewEmail: m.plan.NewEmail}, tell...)
	}
	for _, to := range tell {
		_ = workflow.ExecuteActivity(actx, a.Notify, activities.NotifyInput{
			Key: m.t.mailKey("ended", string(to)), Kind: activities.NotifyMoveCancelled,
			To: to, SEN: m.in.Request.SEN, NewEmail: m.plan.NewEmail, Reason: reason,
		}).Get(ctx, nil)
	}
	m.t.end(ctx, outcome, msg)
	return MoveResult{Outcome: outcome, Message: msg}
}

// fail ends the move on an error: a domain error (bad request) is an
// outcome with its message; anything else is returned for Temporal to show.
func (m *move) fail(ctx workflow.Context, err error) (MoveResult, error) {
	if isCancel(ctx, err) {
		return MoveResult{}, err
	}
	if de := temporalerr.ToDomain(err); de != nil {
		return m.undo(ctx, operation.Failure, de.Message), nil
	}
	m.undo(ctx, operation.Failure, "The move stopped on an internal error; ops have the details in the Temporal UI.")
	return MoveResult{}, err
}

func (m *move) sendLinks(ctx workflow.Context, purpose licensing.LinkPurpose, to []licensing.Email, deadline time.Time, reminder bool) error {
	in := activities.SendLinksInput{
		Purpose: purpose, To: to, SEN: m.in.Request.SEN, WorkflowID: m.t.st.WorkflowID, MailKey: m.t.mailKey(),
		Deadline: deadline, Reminder: reminder, Roles: m.plan.Promote,
		NewEmail: m.plan.NewEmail, FromEmail: m.plan.From, MoveRoles: m.plan.Add, KeepOld: m.plan.KeepOld,
		RequestedBy: m.in.By.Asker(), RequestedAt: workflow.GetInfo(ctx).WorkflowStartTime,
	}
	if m.decision != nil && m.decision.Approve {
		in.ApprovedBy, in.ApprovedAt = m.decision.By, m.decidedAt
	}
	return m.t.sendLinks(ctx, in)
}

func (m *move) actor() licensing.Actor { return actorOf(m.in.By, m.t) }

func oldFate(p licensing.MovePlan) string {
	if p.KeepOld {
		return string(p.From) + " stays as secondary"
	}
	return string(p.From) + " is removed afterwards"
}

func roleList(roles []licensing.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, " and ")
}

func emailList(list []licensing.Email) string {
	s := make([]string, len(list))
	for i, e := range list {
		s[i] = string(e)
	}
	return strings.Join(s, ", ")
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}

func orSomeone(s string) string {
	if s == "" {
		return "an operator"
	}
	return s
}
