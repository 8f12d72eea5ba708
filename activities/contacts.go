package activities

import (
	"context"
	"slices"

	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
)

// PlanMoveInput is a move request as sales typed it.
type PlanMoveInput struct {
	Request licensing.MoveRequest
}

// PlanMoveOutput is the request with every default resolved.
type PlanMoveOutput struct {
	Plan    licensing.MovePlan
	Product string
}

// PlanMove checks a move against the licence as it is now.
func (a *Activities) PlanMove(ctx context.Context, in PlanMoveInput) (PlanMoveOutput, error) {
	l, err := a.DB.License(ctx, in.Request.SEN)
	if err != nil {
		return PlanMoveOutput{}, temporalerr.FromDomain(err)
	}
	plan, err := licensing.PlanMove(l, in.Request)
	if err != nil {
		return PlanMoveOutput{}, temporalerr.FromDomain(err)
	}
	return PlanMoveOutput{Plan: plan, Product: l.Product}, nil
}

// PlanVerifyInput names the licence a request is about.
type PlanVerifyInput struct {
	SEN licensing.SEN
}

// PlanVerifyOutput lists who is asked to confirm.
type PlanVerifyOutput struct {
	Confirmers []licensing.Email
	Product    string
}

// PlanVerify chooses who confirms a request: the primary billing and
// technical contacts, who speak for the licence. (Any contact or site admin
// may confirm by policy; asking the primaries keeps the mail to one or two
// people who always exist.)
func (a *Activities) PlanVerify(ctx context.Context, in PlanVerifyInput) (PlanVerifyOutput, error) {
	l, err := a.DB.License(ctx, in.SEN)
	if err != nil {
		return PlanVerifyOutput{}, temporalerr.FromDomain(err)
	}
	if l.Status == licensing.Cancelled {
		return PlanVerifyOutput{}, temporalerr.FromDomain(licensing.Errorf(licensing.FailedPrecondition, "%s is cancelled.", l.SEN))
	}
	var out PlanVerifyOutput
	out.Product = l.Product
	for _, c := range l.Contacts {
		if c.Primary && !slices.Contains(out.Confirmers, c.Email) {
			out.Confirmers = append(out.Confirmers, c.Email)
		}
	}
	return out, nil
}

// EnsureContactsInput adds Email as secondary contact in Roles.
type EnsureContactsInput struct {
	SEN   licensing.SEN
	Email licensing.Email
	Roles []licensing.Role
	By    licensing.Actor
}

// EnsureContactsOutput says what changed.
type EnsureContactsOutput struct {
	Added          []licensing.Role // roles newly added (the rest already were)
	AccountCreated bool             // a pending account was created
	AccountPending bool             // the account still has to be set up by its owner
}

// EnsureContacts makes Email a contact in every role, creating a pending
// account when needed. Idempotent: rows already there are left as they are.
func (a *Activities) EnsureContacts(ctx context.Context, in EnsureContactsInput) (EnsureContactsOutput, error) {
	var out EnsureContactsOutput
	for _, role := range in.Roles {
		res, err := a.DB.EnsureContact(ctx, in.SEN, role, in.Email, in.By)
		if err != nil {
			return out, temporalerr.FromDomain(err)
		}
		if res.Added {
			out.Added = append(out.Added, role)
		}
		out.AccountCreated = out.AccountCreated || res.AccountCreated
	}
	status, err := a.DB.AccountStatus(ctx, in.Email)
	if err != nil {
		return out, temporalerr.FromDomain(err)
	}
	out.AccountPending = status == licensing.AccountPending
	return out, nil
}

// UndoContactsInput removes rows an operation added.
type UndoContactsInput struct {
	SEN   licensing.SEN
	Email licensing.Email
	Roles []licensing.Role
	By    licensing.Actor
}

// UndoContactsOutput lists the rows removed.
type UndoContactsOutput struct {
	Removed []licensing.Role
}

// UndoContacts removes Email's secondary rows in Roles. A row that has
// become primary meanwhile is kept (only its owner could have done that).
func (a *Activities) UndoContacts(ctx context.Context, in UndoContactsInput) (UndoContactsOutput, error) {
	var out UndoContactsOutput
	for _, role := range in.Roles {
		ok, err := a.DB.RemoveContact(ctx, in.SEN, role, in.Email, in.By)
		if licensing.ErrorCode(err) == licensing.FailedPrecondition {
			continue
		}
		if err != nil {
			return out, temporalerr.FromDomain(err)
		}
		if ok {
			out.Removed = append(out.Removed, role)
		}
	}
	return out, nil
}

// CheckPrimaryInput asks whether Email is primary in every role.
type CheckPrimaryInput struct {
	SEN   licensing.SEN
	Email licensing.Email
	Roles []licensing.Role
}

// CheckPrimaryOutput is the answer.
type CheckPrimaryOutput struct {
	AllPrimary bool
}

// CheckPrimary reads the licence and answers.
func (a *Activities) CheckPrimary(ctx context.Context, in CheckPrimaryInput) (CheckPrimaryOutput, error) {
	l, err := a.DB.License(ctx, in.SEN)
	if err != nil {
		return CheckPrimaryOutput{}, temporalerr.FromDomain(err)
	}
	for _, role := range in.Roles {
		if !slices.ContainsFunc(l.Contacts, func(c licensing.Contact) bool {
			return c.Email == in.Email && c.Role == role && c.Primary
		}) {
			return CheckPrimaryOutput{}, nil
		}
	}
	return CheckPrimaryOutput{AllPrimary: true}, nil
}

// RemoveContactInput removes one contact row.
type RemoveContactInput struct {
	SEN   licensing.SEN
	Role  licensing.Role
	Email licensing.Email
	By    licensing.Actor
}

// RemoveContactOutput says whether a row went, and which workflows had
// links of the person withdrawn because they no longer belong to the
// licence (to be told: they may be waiting on them).
type RemoveContactOutput struct {
	Removed   bool
	Withdrawn []string
}

// RemoveContact removes a secondary contact; the database refuses primaries
// and the last contact of a role. Idempotent: a row already gone is done.
func (a *Activities) RemoveContact(ctx context.Context, in RemoveContactInput) (RemoveContactOutput, error) {
	ok, err := a.DB.RemoveContact(ctx, in.SEN, in.Role, in.Email, in.By)
	if err != nil {
		return RemoveContactOutput{}, temporalerr.FromDomain(err)
	}
	// Read after the removal, so a retry after a lost answer (Removed false
	// then) still names them.
	withdrawn, err := a.DB.WithdrawnLinkWorkflows(ctx, in.SEN, in.Email)
	if err != nil {
		return RemoveContactOutput{}, err
	}
	return RemoveContactOutput{Removed: ok, Withdrawn: withdrawn}, nil
}

// RecordMoveInput is a move that has just completed.
type RecordMoveInput struct {
	SEN      licensing.SEN
	From, To licensing.Email
	KeptOld  bool
	By       licensing.Actor
}

// RecordMove records the completed move in the licence's history (once per
// operation), which tells receivers of license.moved.
func (a *Activities) RecordMove(ctx context.Context, in RecordMoveInput) error {
	return temporalerr.FromDomain(a.DB.RecordMove(ctx, in.By, in.SEN, in.From, in.To, in.KeptOld))
}
