package bot

import (
	"context"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
	"licensedesk/slackout"
)

// LicenseReader loads a licence with everything /license show displays. An
// unknown SEN is a *licensing.Error with Code NotFound.
type LicenseReader interface {
	License(ctx context.Context, sen licensing.SEN) (licensing.License, error)
}

// OverdueReader reads a past-due or suspended licence's unpaid invoice and
// its last failed charge (nil when it owes nothing overdue).
type OverdueReader interface {
	Overdue(ctx context.Context, sen licensing.SEN) (*licensing.Overdue, error)
}

// ShowCommand is /license show <SEN>. Its reply is ephemeral: it lists
// customers' emails and card details, which the asker may share on purpose
// but the bot should not broadcast. A past-due licence also shows what it
// owes, why the charge failed and when it is suspended (suspendAfter, from
// BILLING_SUSPEND_DAYS, after the due date); overdue nil leaves that out.
func ShowCommand(licenses LicenseReader, overdue OverdueReader, suspendAfter time.Duration, opts ...ShowOption) Command {
	var set showSettings
	for _, o := range opts {
		o(&set)
	}
	return Command{
		Name:    "show",
		Args:    "<SEN>",
		Summary: "Show a licence: billing, contacts, site admins and card.",
		Class:   Read,
		MinArgs: 1,
		MaxArgs: 1,
		Run: func(ctx context.Context, req Request) (Reply, error) {
			l, err := licenceArg(ctx, licenses, req.Args[0])
			if err != nil {
				return Reply{}, err
			}
			var o *licensing.Overdue
			if overdue != nil && (l.Status == licensing.PastDue || l.Status == licensing.Suspended) {
				found, err := overdue.Overdue(ctx, l.SEN)
				if err != nil {
					return Reply{}, err
				}
				if found != nil {
					with := found.WithSuspension(suspendAfter)
					o = &with
				}
			}
			b, err := set.billingOf(ctx, l)
			if err != nil {
				return Reply{}, err
			}
			return Reply{
				ResponseType: slack.ResponseTypeEphemeral,
				Text:         licenseSummary(l),
				Blocks:       append(append(LicenseBlocks(l, o, req.Now), BillingBlocks(l, b, req.Now)...), LicenseActions(l)),
			}, nil
		},
	}
}

// LicenseActions are the buttons under a licence: Move…, Add contact…,
// Send card links (when someone may update its card) and History; a
// cancelled licence has its history only.
func LicenseActions(l licensing.License) slack.Block {
	sen := string(l.SEN)
	var buttons []slackout.Button
	if l.Status != licensing.Cancelled {
		buttons = append(buttons, slackout.Open("Move…", "move", sen), slackout.Open("Add contact…", "contact add", sen))
		if len(licensing.CardUpdaters(l)) > 0 {
			buttons = append(buttons, slackout.Run("Send card links", "card", sen))
		}
	}
	buttons = append(buttons, slackout.Run("History", "history", sen))
	return slackout.Actions("licence_"+sen, buttons...)
}

// asInvalid makes sure a parse failure reaches the user as bad input (with
// the usage line), even if a parser returned a plain error.
// licenceArg parses a SEN argument and reads its licence.
func licenceArg(ctx context.Context, licenses LicenseReader, arg string) (licensing.License, error) {
	sen, err := licensing.ParseSEN(arg)
	if err != nil {
		return licensing.License{}, asInvalid(err)
	}
	return licenses.License(ctx, sen)
}

func asInvalid(err error) error {
	if licensing.ErrorCode(err) == licensing.Internal {
		return &licensing.Error{Code: licensing.Invalid, Message: err.Error()}
	}
	return err
}
