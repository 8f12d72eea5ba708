package bot

import (
	"context"
	"fmt"
	"strings"

	"licensedesk/licensing"
	"licensedesk/operation"
)

// CardCommand is /license card <SEN>.
func CardCommand(licenses LicenseReader, ops Workflows) Command {
	return Command{
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
			r, err := start(ctx, ops, startRequest(req, operation.StartRequest{Kind: operation.KindCard, SEN: sen}),
				fmt.Sprintf("Card update for %s", sen))
			if err == nil {
				r.Text += "\nLinks go to " + escape(emailList(who)) + "."
			}
			return r, err
		},
	}
}

// emailList names everyone in list: "a, b and c".
func emailList(list []licensing.Email) string {
	s := make([]string, len(list))
	for i, e := range list {
		s[i] = string(e)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
