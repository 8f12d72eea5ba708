package bot

import (
	"context"
	"fmt"
	"strings"

	"licensedesk/licensing"
	"licensedesk/operation"
)

// MoveCommand is /license move: typed with its arguments it shows what
// will happen and asks ("Start the move" / "Don't move"); typed without
// them, or from a licence's Move… button, it opens its form. The same
// move sent again while it runs says so at once.
func MoveCommand(licenses LicenseReader, ops Workflows) Command {
	return Command{
		Name: "move", Args: "<SEN> <new-email> [--from <email>] [--roles billing,technical] [--keep-old] [--confirm-by <email>]",
		Class: Act, Destructive: true, MinArgs: 2, MaxArgs: NoMax,
		Summary: "Move a licence to another account: a contact confirms, the new contact promotes themselves, the old one is removed.",
		Verbs:   func(Request) (string, string) { return "Start the move", "Don't move" },
		Modal:   moveForm(licenses),
		Run: func(ctx context.Context, req Request) (Reply, error) {
			if sen, email, err := senAndEmail(req.Args[0], req.Args[1]); err == nil {
				if r, ok := alreadyRunning(ctx, ops, operation.MoveID(sen, email), moveWhat(sen, email)); ok {
					return r, nil
				}
			}
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
			return start(ctx, ops, startRequest(req, operation.StartRequest{Kind: operation.KindMove, Move: mr, SEN: mr.SEN}),
				moveWhat(mr.SEN, mr.NewEmail))
		},
	}
}

func moveWhat(sen licensing.SEN, to licensing.Email) string {
	return fmt.Sprintf("Move of %s to %s", sen, to)
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
