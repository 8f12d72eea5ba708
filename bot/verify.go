package bot

import (
	"context"
	"fmt"

	"licensedesk/licensing"
	"licensedesk/operation"
)

// VerifyCommand is /license verify <SEN> <email>.
func VerifyCommand(licenses LicenseReader, ops Workflows) Command {
	return Command{
		Name: "verify", Args: "<SEN> <email>", Class: Act, MinArgs: 2, MaxArgs: 2,
		Summary: "Ask the licence's primary contacts to confirm, by emailed link, that the person at <email> may act on it.",
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
			return start(ctx, ops, startRequest(req, operation.StartRequest{Kind: operation.KindVerify, SEN: sen, Email: email}),
				fmt.Sprintf("Verification of %s for %s", email, sen))
		},
	}
}
