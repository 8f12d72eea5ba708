package bot

import (
	"context"
	"fmt"
	"strings"

	"licensedesk/licensing"
)

// ChargeCommand is /license charge <SEN>.
func ChargeCommand(licenses LicenseReader, ops Workflows) Command {
	return Command{
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
	}
}
