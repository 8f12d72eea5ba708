package bot

import (
	"context"
	"fmt"
	"strings"

	"licensedesk/licensing"
	"licensedesk/operation"
)

// VerifyCommand is /license verify <SEN> <email> [--for <list>].
func VerifyCommand(licenses LicenseReader, ops Workflows) Command {
	return Command{
		Name: "verify", Args: "<SEN> <email> [--for move,contacts,card,billing,details]", Class: Act, MinArgs: 2, MaxArgs: 4,
		Summary: "Ask the licence's primary contacts to confirm, by emailed link, that the person at <email> may act on it; --for says what they asked for, and the mail names it.",
		Run: func(ctx context.Context, req Request) (Reply, error) {
			sen, email, err := senAndEmail(req.Args[0], req.Args[1])
			if err != nil {
				return Reply{}, err
			}
			scope, err := verifyScope(req.Args[2:])
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
			return start(ctx, ops, startRequest(req, operation.StartRequest{Kind: operation.KindVerify, SEN: sen, Email: email, Scope: scope}),
				fmt.Sprintf("Verification of %s for %s", email, sen))
		},
	}
}

// verifyScope reads verify's optional "--for <list>" (or "--for=<list>"):
// what the requester asked for, which the confirmation mail names.
func verifyScope(args []string) ([]licensing.RequestScope, error) {
	if len(args) == 0 {
		return nil, nil
	}
	flag, value, hasValue := strings.Cut(args[0], "=")
	if flag != "--for" {
		return nil, licensing.Errorf(licensing.Invalid, "unknown option %q", truncate(flag, maxEcho))
	}
	switch {
	case hasValue && len(args) == 1:
	case !hasValue && len(args) == 2:
		value = args[1]
	default:
		return nil, licensing.Errorf(licensing.Invalid, "The option --for needs one value, e.g. --for move,contacts")
	}
	return licensing.ParseRequestScopes(value)
}
