package bot

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
	"licensedesk/operation"
)

// ContactAddCommand is /license contact add: typed with its arguments it
// starts at once; without them, or from a licence's Add contact… button,
// it opens its form.
func ContactAddCommand(licenses LicenseReader, ops Workflows) Command {
	return Command{
		Name: "contact add", Args: "<SEN> <billing|technical> <email> [--offer-primary]", Class: Act, MinArgs: 3, MaxArgs: 4,
		Summary: "Add a secondary contact (inviting them to set up an account if they have none); --offer-primary also emails them an offer to make themselves primary.",
		Modal:   contactAddForm(licenses),
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
			return start(ctx, ops, startRequest(req, operation.StartRequest{Kind: operation.KindContactAdd, SEN: sen, Role: role, Email: email, OfferPrimary: offer}),
				fmt.Sprintf("Adding %s as %s contact of %s", email, role, sen), then)
		},
	}
}

// Block IDs of the contact's form.
const (
	fieldRole  = "role"
	fieldEmail = "email"
	fieldOffer = "offer"
)

func contactAddForm(licenses LicenseReader) *Modal {
	return &Modal{
		Title: "Add a contact", Submit: "Add the contact",
		Form: func(ctx context.Context, v FormValues) []slack.Block {
			blocks := []slack.Block{senInput(v[fieldSEN], false)}
			if _, note := formLicence(ctx, licenses, v[fieldSEN]); note != "" {
				blocks = append(blocks, slack.NewContextBlock("sen_note", mrkdwnText(note)))
			}
			role := slack.NewRadioButtonsBlockElement("role", option("billing", "Billing", "Receives invoices and card requests"),
				option("technical", "Technical", "Receives technical notices"))
			for _, o := range role.Options {
				if o.Value == v[fieldRole] {
					role.InitialOption = o
				}
			}
			return append(blocks,
				slack.NewInputBlock(fieldRole, plainText("Role"), nil, role),
				emailInput(fieldEmail, "Email", "new.contact@example.com", v[fieldEmail], "They are invited to set up an account if they have none."),
				optional(slack.NewInputBlock(fieldOffer, plainText("Primary role"), nil,
					checkboxes("offer", v[fieldOffer], option("offer", "Also email them an offer to become primary", "They decide; nothing changes until they accept.")))),
			)
		},
		Args: func(ctx context.Context, v FormValues) ([]string, map[string]string) {
			bad := map[string]string{}
			sen, err := licensing.ParseSEN(v[fieldSEN])
			blame(bad, fieldSEN, err)
			role, err := licensing.ParseRole(v[fieldRole])
			blame(bad, fieldRole, err)
			email, err := licensing.ParseEmail(v[fieldEmail])
			blame(bad, fieldEmail, err)
			if len(bad) > 0 {
				return nil, bad
			}
			l, err := licenses.License(ctx, sen)
			if blame(bad, fieldSEN, err) {
				return nil, bad
			}
			if blame(bad, fieldEmail, licensing.CheckAddContact(l, role, email)) {
				return nil, bad
			}
			args := []string{string(sen), string(role), string(email)}
			if v[fieldOffer] != "" {
				args = append(args, "--offer-primary")
			}
			return args, nil
		},
		Blame: func(error) string { return fieldEmail },
	}
}
