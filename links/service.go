// Package links serves what emailed links do (SPEC §3): it looks a token up
// for its page, and acts when the person presses the button. Decisions and
// promotions are Temporal updates to the workflow that sent the link, so
// the workflow records them and the page shows the real outcome; setting up
// an account is done here directly, so a password never enters workflow
// history.
package links

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"licensedesk/internal/clock"
	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/passwords"
	"licensedesk/payments"
	"licensedesk/postgres"
	"licensedesk/workflows"
)

// Service does what emailed links are for (web.LinkService).
type Service struct {
	DB            *postgres.DB
	Temporal      client.Client
	Payments      payments.Provider
	PublicBaseURL string
	// Hasher hashes the passwords people choose in account setup: the
	// process's one argon2id limiter (accounts.Service.Hasher).
	Hasher *passwords.Hasher
	// SuspendAfter is BILLING_SUSPEND_DAYS, for the suspension date a card
	// page names [15 days].
	SuspendAfter time.Duration
	// Clock is what "now" is for the pages' deadlines; nil: the wall clock.
	Clock clock.Clock
}

func (s *Service) suspendAfter() time.Duration {
	if s.SuspendAfter > 0 {
		return s.SuspendAfter
	}
	return 15 * 24 * time.Hour
}

// lookup returns the usable link with token, if /l/ serves its purpose: a
// token made for something else (a password-reset token) is as unknown
// here as a token never made (SPEC §3), and nothing is done with it.
func (s *Service) lookup(ctx context.Context, token string) (postgres.Link, error) {
	k, err := s.DB.LookupLink(ctx, token)
	if licensing.ErrorCode(err) == licensing.Gone {
		// Say how it ended, if it is one of ours.
		if e, eerr := s.ended(ctx, token); eerr == nil && served(e.Purpose) {
			return postgres.Link{}, e
		}
	}
	if err != nil {
		return postgres.Link{}, err
	}
	if !served(k.Purpose) {
		return postgres.Link{}, errNotALink
	}
	return k, nil
}

var errNotALink = licensing.Errorf(licensing.NotFound, "This link isn't valid.")

// Lookup describes what a link will do. It changes nothing.
func (s *Service) Lookup(ctx context.Context, token string) (View, error) {
	k, err := s.lookup(ctx, token)
	if err != nil {
		return View{}, err
	}
	if k.Purpose == licensing.PurposeConfirmPayment {
		// Paid meanwhile (another card, a retry): nothing to confirm.
		if inv, err := s.DB.Invoice(ctx, dataString(k.Data, "invoice")); err != nil || inv.Paid {
			if err != nil {
				return View{}, err
			}
			return View{}, licensing.Errorf(licensing.Gone, "Invoice %s is already paid, so there is nothing to confirm with your bank.", inv.Number)
		}
	}
	return s.view(ctx, k)
}

// view is a usable link's page.
func (s *Service) view(ctx context.Context, k postgres.Link) (View, error) {
	v := View{Purpose: k.Purpose, Email: string(k.Email), SEN: string(k.SEN), ExpiresAt: k.ExpiresAt}
	if k.SEN != "" {
		l, err := s.DB.License(ctx, k.SEN)
		if err != nil {
			return View{}, err
		}
		v.Product = l.Product
		if (k.Purpose == licensing.PurposeCardUpdate || k.Purpose == licensing.PurposeConfirmPayment) && (l.Status == licensing.PastDue || l.Status == licensing.Suspended) {
			o, err := s.DB.Overdue(ctx, k.SEN)
			if err != nil {
				return View{}, err
			}
			if o != nil {
				with := o.WithSuspension(s.suspendAfter())
				v.Overdue = &with
			}
		}
	}
	for _, line := range stringList(k.Data["summary"]) {
		v.Summary = append(v.Summary, line)
	}
	v.Roles = stringList(k.Data["roles"])
	v.AskedBy, v.AskedAt = dataString(k.Data, "asked_by"), dataTime(k.Data, "asked_at")
	v.Demoted = stringList(k.Data["demoted"])
	v.ForMove, _ = k.Data["for_move"].(bool)
	v.ApprovedBy, v.ApprovedAt = dataString(k.Data, "approved_by"), dataTime(k.Data, "approved_at")
	v.NewEmail, v.FromEmail, v.Card = dataString(k.Data, "new_email"), dataString(k.Data, "from"), dataString(k.Data, "card")
	v.KeepOld, _ = k.Data["keep_old"].(bool)
	v.MoveRoles = stringList(k.Data["move_roles"])
	v.Requester, v.Origin = dataString(k.Data, "requester"), dataString(k.Data, "origin")
	v.Invoice, v.Amount = dataString(k.Data, "invoice"), dataString(k.Data, "amount")
	v.JustAdded, _ = k.Data["just_added"].(bool)
	switch v.Purpose {
	case licensing.PurposeCompleteAccount:
		v.NeedsAccountDetails = true
	case licensing.PurposePromote:
		v.NeedsAccountDetails = k.AccountStatus == licensing.AccountPending
	}
	return v, nil
}

// Act does what the link is for.
func (s *Service) Act(ctx context.Context, token string, action Action) (Result, error) {
	k, err := s.lookup(ctx, token)
	if err != nil {
		return Result{}, err
	}
	v, err := s.view(ctx, k)
	if err != nil {
		return Result{}, err
	}
	switch k.Purpose {
	case licensing.PurposeConfirmMove, licensing.PurposeConfirmRequest:
		var approve bool
		switch action.Decision {
		case "approve":
			approve = true
		case "decline":
		default:
			return Result{}, licensing.Errorf(licensing.Invalid, "Choose Confirm or Decline.")
		}
		var res workflows.DecideResult
		if err := s.update(ctx, k.WorkflowID, workflows.DecideUpdate, workflows.DecideInput{TokenHash: postgres.TokenHash(token), Approve: approve}, &res); err != nil {
			return Result{}, err
		}
		return decided(k, v, approve, s.Clock.Now()), nil

	case licensing.PurposeCompleteAccount:
		if err := s.completeAccount(ctx, token, k, action); err != nil {
			return Result{}, err
		}
		return accountReady(k, v), nil

	case licensing.PurposeCardUpdate:
		return s.cardSession(ctx, k, token)

	case licensing.PurposeConfirmPayment:
		return s.confirmPayment(ctx, k, token)

	case licensing.PurposePromote:
		setUp := k.AccountStatus == licensing.AccountPending
		switch action.Decision {
		case "decline":
			setUp = false
		case "setup_only":
			// Review #12: a new contact sets up their account and stays
			// secondary. Not for a move, whose decline calls it off.
			if !setUp || v.ForMove {
				return Result{}, licensing.Errorf(licensing.Invalid, "Choose to accept or decline.")
			}
		}
		if setUp {
			if err := s.completeAccount(ctx, token, k, action); err != nil {
				return Result{}, err
			}
		}
		if action.Decision == "decline" || action.Decision == "setup_only" {
			var res workflows.DecideResult
			if err := s.update(ctx, k.WorkflowID, workflows.DeclinePromotionUpdate, workflows.PromoteInput{TokenHash: postgres.TokenHash(token)}, &res); err != nil {
				return Result{}, err
			}
			if setUp {
				return accountReadySecondary(k, v), nil
			}
			return promotionDeclined(v), nil
		}
		var res workflows.PromoteResult
		if err := s.update(ctx, k.WorkflowID, workflows.PromoteUpdate, workflows.PromoteInput{TokenHash: postgres.TokenHash(token)}, &res); err != nil {
			return Result{}, err
		}
		return promoted(k, v, res.Roles, v.Demoted, setUp), nil
	}
	return Result{}, errNotALink
}

// cardSession sends the person to the provider's card page. Who may update
// the card is checked again now (a contact may have been removed, or the
// licence's cycle changed, since the link was sent). The link is spent only
// when the card is saved, so a person who backs out can use it again.
func (s *Service) cardSession(ctx context.Context, k postgres.Link, token string) (Result, error) {
	l, err := s.DB.License(ctx, k.SEN)
	if err != nil {
		return Result{}, err
	}
	if err := licensing.CanUpdateCard(l, k.Email); err != nil {
		return Result{}, err
	}
	customer, err := payments.EnsureCustomer(ctx, s.DB, s.Payments, l)
	if err != nil {
		return Result{}, err
	}
	sess, err := s.Payments.CardSession(ctx, payments.CardSessionInput{
		CustomerID: customer, SEN: string(l.SEN), Reference: fmt.Sprintf("%s|%d", k.WorkflowID, k.ID),
		SuccessURL: s.PublicBaseURL + CardSavedPath, CancelURL: s.PublicBaseURL + CardCancelledPath,
	})
	if err != nil {
		return Result{}, err
	}
	return Result{RedirectURL: sess.URL, ReturnRef: base64.RawURLEncoding.EncodeToString(postgres.TokenHash(token))}, nil
}

// completeAccount activates k's pending account with the name and password
// submitted. Everything cheap is checked before the password is hashed (19
// MiB and tens of milliseconds each, within the shared limit): that the
// link is usable (the caller looked it up) and its account still pending,
// the name, and the password policy. The transaction that spends the link
// checks the link and the account again.
func (s *Service) completeAccount(ctx context.Context, token string, k postgres.Link, action Action) error {
	if k.AccountStatus != licensing.AccountPending {
		return errAlreadySetUp
	}
	name, err := licensing.CheckDisplayName(action.DisplayName)
	if err != nil {
		return err
	}
	if err := passwords.CheckNew(action.Password, action.PasswordConfirm, string(k.Email)); err != nil {
		return err
	}
	if s.Hasher == nil {
		return errors.New("links: Service.Hasher is not set")
	}
	hash, err := s.Hasher.Hash(ctx, action.Password)
	if err != nil {
		return err
	}
	_, err = s.DB.CompleteAccount(ctx, token, name, hash)
	return err
}

var errAlreadySetUp = licensing.Errorf(licensing.Gone, "This account is already set up; sign in instead.")

// update sends a Temporal update to the workflow that owns the link and
// waits for its result. A workflow that has ended, or that no longer waits
// for this, makes the link Gone; domain errors from the workflow come back
// as they were raised.
func (s *Service) update(ctx context.Context, workflowID, name string, arg, result any) error {
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, result)
	}
	if err == nil {
		return nil
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return licensing.Errorf(licensing.Gone, "This request has already ended, so the link no longer does anything.")
	}
	if de := temporalerr.ToDomain(err); de != nil {
		return de
	}
	return err
}

func dataString(data map[string]any, key string) string {
	s, _ := data[key].(string)
	return s
}

func dataTime(data map[string]any, key string) time.Time {
	t, _ := time.Parse(time.RFC3339, dataString(data, key))
	return t
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
