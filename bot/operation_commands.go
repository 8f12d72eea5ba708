package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/slackout"
)

// Workflows starts and inspects operations (licensedesk's workflows); the
// bot knows nothing of Temporal beyond this.
type Workflows interface {
	Start(ctx context.Context, req operation.StartRequest) (operation.Started, error)
	Status(ctx context.Context, workflowID string) (operation.Status, error)
	Running(ctx context.Context, sen licensing.SEN) ([]operation.Status, error)
	Cancel(ctx context.Context, workflowID, by string) error
	// ChargeNow retries the licence's outstanding invoice at once and
	// answers with its number.
	ChargeNow(ctx context.Context, sen licensing.SEN, slackUser string) (string, error)
	// Resend mails a fresh link for the step a running operation waits
	// on, to email or (empty) everyone it waits on, and says who got one.
	Resend(ctx context.Context, workflowID string, email licensing.Email, slackUser string) ([]licensing.Email, error)
	// URL links to a workflow in the Temporal UI.
	URL(workflowID, runID string) string
}

// OperationCommands returns verify, move, contact add/remove, status and
// cancel.
func OperationCommands(licenses LicenseReader, ops Workflows) []Command {
	return []Command{
		{
			Name: "verify", Args: "<SEN> <email>", Class: Act, MinArgs: 2, MaxArgs: 2,
			Summary: "Ask the licence's primary contacts to confirm, by emailed link, that <email> may act on it.",
			Run: func(ctx context.Context, req Request) (Reply, error) {
				sen, email, err := senAndEmail(req.Args[0], req.Args[1])
				if err != nil {
					return Reply{}, err
				}
				l, err := licenses.License(ctx, sen)
				if err != nil {
					return Reply{}, err
				}
				if l.Status == licensing.Cancelled {
					return Reply{}, licensing.Errorf(licensing.FailedPrecondition, "%s is cancelled.", sen)
				}
				return start(ctx, ops, operation.StartRequest{Kind: operation.KindVerify, SEN: sen, Email: email, SlackUser: req.UserID, Channel: req.ChannelID},
					fmt.Sprintf("Verification of %s for %s", email, sen))
			},
		},
		{
			Name: "move", Args: "<SEN> <new-email> [--from <email>] [--roles billing,technical] [--keep-old] [--confirm-by <email>]",
			Class: Act, Destructive: true, MinArgs: 2, MaxArgs: NoMax,
			Summary: "Move a licence to another account: a contact confirms, the new contact promotes themselves, the old one is removed.",
			Run: func(ctx context.Context, req Request) (Reply, error) {
				mr, plan, l, err := planMove(ctx, licenses, req.Args)
				if err != nil {
					return Reply{}, err
				}
				return ephemeral(movePreview(mr, plan, l)), nil
			},
			Confirm: func(ctx context.Context, req Request) (Reply, error) {
				mr, _, _, err := planMove(ctx, licenses, req.Args)
				if err != nil {
					return Reply{}, err
				}
				return start(ctx, ops, operation.StartRequest{Kind: operation.KindMove, Move: mr, SEN: mr.SEN, SlackUser: req.UserID, Channel: req.ChannelID},
					fmt.Sprintf("Move of %s to %s", mr.SEN, mr.NewEmail))
			},
		},
		{
			Name: "contact add", Args: "<SEN> <billing|technical> <email> [--offer-primary]", Class: Act, MinArgs: 3, MaxArgs: 4,
			Summary: "Add a secondary contact (inviting them to set up an account if they have none); --offer-primary also emails them an offer to make themselves primary.",
			Run: func(ctx context.Context, req Request) (Reply, error) {
				offer := false
				if len(req.Args) == 4 {
					if req.Args[3] != "--offer-primary" {
						return Reply{}, licensing.Errorf(licensing.Invalid, "unknown option %q", truncate(req.Args[3], maxEcho))
					}
					offer = true
				}
				sen, role, email, err := contactArgs(req.Args[:3])
				if err != nil {
					return Reply{}, err
				}
				l, err := licenses.License(ctx, sen)
				if err != nil {
					return Reply{}, err
				}
				if err := licensing.CheckAddContact(l, role, email); err != nil {
					return Reply{}, notInvalid(err)
				}
				then := "They are not offered the primary role (add `--offer-primary` to offer it); they can still take it from their account page."
				if offer {
					then = "They are also emailed an offer to make themselves the primary " + string(role) + " contact."
				}
				return start(ctx, ops, operation.StartRequest{Kind: operation.KindContactAdd, SEN: sen, Role: role, Email: email, SlackUser: req.UserID, Channel: req.ChannelID, OfferPrimary: offer},
					fmt.Sprintf("Adding %s as %s contact of %s", email, role, sen), then)
			},
		},
		{
			Name: "contact remove", Args: "<SEN> <billing|technical> <email>", Class: Act, Destructive: true, MinArgs: 3, MaxArgs: 3,
			Summary: "Remove a secondary contact (a primary must be replaced first).",
			Run: func(ctx context.Context, req Request) (Reply, error) {
				sen, role, email, err := checkRemove(ctx, licenses, req.Args)
				if err != nil {
					return Reply{}, err
				}
				return ephemeral(fmt.Sprintf("*Remove %s as %s contact of %s?* They lose access to the licence.", escape(string(email)), role, sen)), nil
			},
			Confirm: func(ctx context.Context, req Request) (Reply, error) {
				sen, role, email, err := checkRemove(ctx, licenses, req.Args)
				if err != nil {
					return Reply{}, err
				}
				return start(ctx, ops, operation.StartRequest{Kind: operation.KindContactRemove, SEN: sen, Role: role, Email: email, SlackUser: req.UserID, Channel: req.ChannelID},
					fmt.Sprintf("Removal of %s as %s contact of %s", email, role, sen))
			},
		},
		{
			Name: "card", Args: "<SEN>", Class: Act, MinArgs: 1, MaxArgs: 1,
			Summary: "Email update-card links to those allowed (monthly: billing and technical contacts and site admins; annual: site admins).",
			Run: func(ctx context.Context, req Request) (Reply, error) {
				l, err := licenceArg(ctx, licenses, req.Args[0])
				if err != nil {
					return Reply{}, err
				}
				sen := l.SEN
				who := licensing.CardUpdaters(l)
				if len(who) == 0 {
					if err := licensing.CanUpdateCard(l, ""); licensing.ErrorCode(err) == licensing.FailedPrecondition {
						return Reply{}, err
					}
					return Reply{}, licensing.Errorf(licensing.FailedPrecondition, "Nobody may update the card of %s.", sen)
				}
				r, err := start(ctx, ops, operation.StartRequest{Kind: operation.KindCard, SEN: sen, SlackUser: req.UserID, Channel: req.ChannelID},
					fmt.Sprintf("Card update for %s", sen))
				if err == nil {
					r.Text += "\nLinks go to " + escape(emailWords(who)) + "."
				}
				return r, err
			},
		},
		{
			Name: "charge", Args: "<SEN>", Class: Act, MinArgs: 1, MaxArgs: 1,
			Summary: "Retry the outstanding charge now (past-due and suspended licences only).",
			Run: func(ctx context.Context, req Request) (Reply, error) {
				l, err := licenceArg(ctx, licenses, req.Args[0])
				if err != nil {
					return Reply{}, err
				}
				sen := l.SEN
				if l.Status != licensing.PastDue && l.Status != licensing.Suspended {
					return Reply{}, licensing.Errorf(licensing.FailedPrecondition, "%s is %s: there is nothing to charge now.", sen, strings.ReplaceAll(string(l.Status), "_", " "))
				}
				invoice, err := ops.ChargeNow(ctx, sen, req.UserID)
				if err != nil {
					return Reply{}, err
				}
				return ephemeral(fmt.Sprintf("Charging invoice %s of %s now; the result is posted to the billing channel.", escape(invoice), sen)), nil
			},
		},
		{
			Name: "status", Args: "<SEN|workflow-id>", Class: Read, MinArgs: 1, MaxArgs: 1,
			Summary: "Operations in flight for a licence, or one operation, with their current step.",
			Run: func(ctx context.Context, req Request) (Reply, error) {
				if sen, err := licensing.ParseSEN(req.Args[0]); err == nil {
					list, err := ops.Running(ctx, sen)
					if err != nil {
						return Reply{}, err
					}
					return statusListReply(sen, list, ops), nil
				}
				id, err := workflowID(req.Args[0])
				if err != nil {
					return Reply{}, err
				}
				st, err := ops.Status(ctx, id)
				if err != nil {
					return Reply{}, err
				}
				return Reply{ResponseType: slack.ResponseTypeEphemeral, Text: slackout.ProgressText(st),
					Blocks: slackout.ProgressBlocks(st, ops.URL(st.WorkflowID, st.RunID))}, nil
			},
		},
		{
			Name: "cancel", Args: "<workflow-id>", Class: Act, Destructive: true, MinArgs: 1, MaxArgs: 1,
			Summary: "Cancel an operation in flight; what it already did is undone where it can be.",
			Run: func(ctx context.Context, req Request) (Reply, error) {
				st, err := cancellableOp(ctx, ops, req.Args[0])
				if err != nil {
					return Reply{}, err
				}
				return ephemeral(fmt.Sprintf("*Cancel “%s”?* It is at step: %s.", escape(st.Summary), escape(st.Current().Title))), nil
			},
			Confirm: func(ctx context.Context, req Request) (Reply, error) {
				st, err := cancellableOp(ctx, ops, req.Args[0])
				if err != nil {
					return Reply{}, err
				}
				if err := ops.Cancel(ctx, st.WorkflowID, "<@"+req.UserID+">"); err != nil {
					return Reply{}, err
				}
				return ephemeral(fmt.Sprintf("Cancelling “%s”. Its progress message will say what was undone.", escape(st.Summary))), nil
			},
		},
		{
			Name: "resend", Args: "<workflow-id> [email]", Class: Act, MinArgs: 1, MaxArgs: 2,
			Summary: "Mail a fresh link for the step an operation waits on (to one person, or all it waits on); the old link stops working. Once per person per 10 minutes.",
			Run: func(ctx context.Context, req Request) (Reply, error) {
				id, err := workflowID(req.Args[0])
				if err != nil {
					return Reply{}, err
				}
				var email licensing.Email
				if len(req.Args) == 2 {
					if email, err = licensing.ParseEmail(req.Args[1]); err != nil {
						return Reply{}, asInvalid(err)
					}
				}
				sent, err := ops.Resend(ctx, id, email, req.UserID)
				if err != nil {
					return Reply{}, err
				}
				return ephemeral(fmt.Sprintf("A fresh link went to %s; the one sent before no longer works. The operation's thread says so too.", escape(emailWords(sent)))), nil
			},
		},
	}
}

// start starts an operation and answers with a link to it, or to the one
// already running. then (mrkdwn) is added to the answer when it started.
func start(ctx context.Context, ops Workflows, req operation.StartRequest, what string, then ...string) (Reply, error) {
	s, err := ops.Start(ctx, req)
	if err != nil {
		return Reply{}, err
	}
	url := ops.URL(s.WorkflowID, s.RunID)
	if s.AlreadyRunning {
		return ephemeral(fmt.Sprintf("%s is already running; nothing new was started. <%s|%s>", escape(what), url, escape(s.WorkflowID))), nil
	}
	text := fmt.Sprintf("%s started: progress is posted in this channel. <%s|%s>", escape(what), url, escape(s.WorkflowID))
	for _, t := range then {
		text += "\n" + t
	}
	return ephemeral(text), nil
}

// cancellableOp finds the running operation arg names, refusing kinds
// nobody may cancel (billing, collection) before anything else.
func cancellableOp(ctx context.Context, ops Workflows, arg string) (operation.Status, error) {
	id, err := workflowID(arg)
	if err != nil {
		return operation.Status{}, err
	}
	if kind, _ := operation.KindOf(id); !kind.Cancellable() {
		return operation.Status{}, errNotCancellable(id)
	}
	st, err := ops.Status(ctx, id)
	if err != nil {
		return operation.Status{}, err
	}
	if st.Done {
		return operation.Status{}, licensing.Errorf(licensing.FailedPrecondition, "%s has already ended (%s).", id, st.Outcome)
	}
	return st, nil
}

// workflowID checks arg names one of our operations, e.g. move/SEN-1000001/x@y.test.
func workflowID(arg string) (string, error) {
	if _, ok := operation.KindOf(arg); ok {
		return arg, nil
	}
	return "", licensing.Errorf(licensing.Invalid, "%q is neither a SEN nor an operation id (like move/SEN-1000001/new@example.com)", truncate(arg, maxEcho))
}

// errNotCancellable is the refusal to cancel billing or a collection,
// which says how billing is stopped instead.
func errNotCancellable(workflowID string) error {
	return licensing.Errorf(licensing.FailedPrecondition,
		"%s can't be cancelled: billing and collection run for as long as the licence is billed. "+
			"To stop billing, cancel the licence; a past-due invoice is settled by a new card or `/license charge`.", workflowID)
}

func senAndEmail(senArg, emailArg string) (licensing.SEN, licensing.Email, error) {
	sen, err := licensing.ParseSEN(senArg)
	if err != nil {
		return "", "", asInvalid(err)
	}
	email, err := licensing.ParseEmail(emailArg)
	if err != nil {
		return "", "", asInvalid(err)
	}
	return sen, email, nil
}

func contactArgs(args []string) (licensing.SEN, licensing.Role, licensing.Email, error) {
	sen, email, err := senAndEmail(args[0], args[2])
	if err != nil {
		return "", "", "", err
	}
	role, err := licensing.ParseRole(args[1])
	if err != nil {
		return "", "", "", asInvalid(err)
	}
	return sen, role, email, nil
}

func checkRemove(ctx context.Context, licenses LicenseReader, args []string) (licensing.SEN, licensing.Role, licensing.Email, error) {
	sen, role, email, err := contactArgs(args)
	if err != nil {
		return "", "", "", err
	}
	l, err := licenses.License(ctx, sen)
	if err != nil {
		return "", "", "", err
	}
	if err := licensing.CheckRemoveContact(l, role, email); err != nil {
		return "", "", "", notInvalid(err)
	}
	return sen, role, email, nil
}

// planMove parses move's arguments and checks them against the licence.
func planMove(ctx context.Context, licenses LicenseReader, args []string) (licensing.MoveRequest, licensing.MovePlan, licensing.License, error) {
	var mr licensing.MoveRequest
	fail := func(err error) (licensing.MoveRequest, licensing.MovePlan, licensing.License, error) {
		return mr, licensing.MovePlan{}, licensing.License{}, err
	}
	sen, email, err := senAndEmail(args[0], args[1])
	if err != nil {
		return fail(err)
	}
	mr.SEN, mr.NewEmail = sen, email
	rest := args[2:]
	for len(rest) > 0 {
		flag, value, hasValue := strings.Cut(rest[0], "=")
		rest = rest[1:]
		if flag == "--keep-old" {
			if hasValue {
				return fail(licensing.Errorf(licensing.Invalid, "The option --keep-old takes no value"))
			}
			mr.KeepOld = true
			continue
		}
		if flag != "--from" && flag != "--confirm-by" && flag != "--roles" {
			return fail(licensing.Errorf(licensing.Invalid, "unknown option %q", truncate(flag, maxEcho)))
		}
		if !hasValue {
			if len(rest) == 0 {
				return fail(licensing.Errorf(licensing.Invalid, "The option %s needs a value", truncate(flag, maxEcho)))
			}
			value, rest = rest[0], rest[1:]
		}
		switch flag {
		case "--from", "--confirm-by":
			e, err := licensing.ParseEmail(value)
			if err != nil {
				return fail(asInvalid(err))
			}
			if flag == "--from" {
				mr.From = e
			} else {
				mr.ConfirmBy = e
			}
		case "--roles":
			roles, err := licensing.ParseRoles(value)
			if err != nil {
				return fail(asInvalid(err))
			}
			mr.Roles = roles
		}
	}
	l, err := licenses.License(ctx, sen)
	if err != nil {
		return fail(err)
	}
	plan, err := licensing.PlanMove(l, mr)
	if err != nil {
		return fail(notInvalid(err))
	}
	return mr, plan, l, nil
}

// notInvalid keeps a domain rule's refusal (say, --from is not a contact)
// from being shown as a usage problem: the syntax was fine.
func notInvalid(err error) error {
	if licensing.ErrorCode(err) == licensing.Invalid {
		return licensing.Errorf(licensing.FailedPrecondition, "%s", licensing.ErrorMessage(err))
	}
	return err
}

// movePreview is the move's confirmation in Slack: its steps in the order
// they happen, and what stays as it is (the card).
func movePreview(mr licensing.MoveRequest, plan licensing.MovePlan, l licensing.License) string {
	newEmail := escape(string(plan.NewEmail))
	lines := []string{
		fmt.Sprintf("*Move %s (%s) to %s?*", mr.SEN, escape(l.Product), newEmail),
		fmt.Sprintf("1. %s confirm%s by emailed link", escape(emailWords(plan.ConfirmBy)), verbS(plan.ConfirmBy)),
		fmt.Sprintf("2. %s is added as %s contact (invited to set up an account if they have none)", newEmail, roleWords(plan.Add)),
	}
	n := 3
	if len(plan.Promote) > 0 {
		lines = append(lines, fmt.Sprintf("%d. %s makes themselves primary %s contact by emailed link, or declines, which calls the move off", n, newEmail, roleWords(plan.Promote)))
		n++
	}
	lines = append(lines, fmt.Sprintf("%d. %s", n, escape(fate(plan))))
	for _, stay := range plan.Staying(l) {
		lines = append(lines, ":information_source: "+escape(stay))
	}
	if pm := l.PaymentMethod; pm != nil && l.Deployment == licensing.Cloud {
		lines = append(lines, fmt.Sprintf("The card on file (%s) stays on the licence and keeps paying after the move; %s can replace it from their account page.",
			escape(licensing.CardName(*pm)), newEmail))
	}
	lines = append(lines, fmt.Sprintf("Nothing changes until %s confirm%s.", escape(emailWords(plan.ConfirmBy)), verbS(plan.ConfirmBy)))
	return strings.Join(lines, "\n")
}

func fate(p licensing.MovePlan) string {
	if p.KeepOld {
		return string(p.From) + " stays as a secondary contact"
	}
	return string(p.From) + " is removed at the end"
}

func roleWords(roles []licensing.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, " and ")
}

func emailWords(list []licensing.Email) string {
	s := make([]string, len(list))
	for i, e := range list {
		s[i] = string(e)
	}
	return strings.Join(s, " or ")
}

func verbS(list []licensing.Email) string {
	if len(list) == 1 {
		return "s"
	}
	return ""
}
