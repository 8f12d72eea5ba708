package bot

import (
	"context"
	"fmt"

	"licensedesk/licensing"
	"licensedesk/operation"
)

// ContactRemoveCommand is /license contact remove <SEN> <role> <email>: it
// asks first ("Remove bob@acme.test" / "Keep"), unless that removal is
// already running.
func ContactRemoveCommand(licenses LicenseReader, ops Workflows) Command {
	return Command{
		Name: "contact remove", Args: "<SEN> <billing|technical> <email>", Class: Act, Destructive: true, MinArgs: 3, MaxArgs: 3,
		Summary: "Remove a secondary contact (a primary must be replaced first).",
		Verbs: func(req Request) (string, string) {
			return "Remove " + truncate(req.Args[2], 60), "Keep"
		},
		Run: func(ctx context.Context, req Request) (Reply, error) {
			sen, role, email, err := checkRemove(ctx, licenses, req.Args)
			if err != nil {
				return Reply{}, err
			}
			if r, ok := alreadyRunning(ctx, ops, operation.ContactRemoveID(sen, role, email), removalWhat(sen, role, email)); ok {
				return r, nil
			}
			return ephemeral(fmt.Sprintf("*Remove %s as %s contact of %s?* They lose access to the licence.", escape(string(email)), role, sen)), nil
		},
		Confirm: func(ctx context.Context, req Request) (Reply, error) {
			sen, role, email, err := checkRemove(ctx, licenses, req.Args)
			if err != nil {
				return Reply{}, err
			}
			return start(ctx, ops, startRequest(req, operation.StartRequest{Kind: operation.KindContactRemove, SEN: sen, Role: role, Email: email}),
				removalWhat(sen, role, email))
		},
	}
}

func removalWhat(sen licensing.SEN, role licensing.Role, email licensing.Email) string {
	return fmt.Sprintf("Removal of %s as %s contact of %s", email, role, sen)
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
