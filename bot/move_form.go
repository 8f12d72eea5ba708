package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
)

// The move's form: SEN, new email, roles as checkboxes, keep-old as a
// toggle, and who confirms, chosen from the licence's contacts and site
// admins once the SEN is known (Enter in the SEN field loads them).

// Block IDs of the move's form.
const (
	fieldSEN       = "sen"
	fieldNewEmail  = "new_email"
	fieldRoles     = "roles"
	fieldKeepOld   = "keep_old"
	fieldConfirmBy = "confirm_by"
)

// maxOptions is Slack's limit on a select's options.
const maxOptions = 100

func moveForm(licenses LicenseReader) *Modal {
	return &Modal{
		Title: "Move a licence", Submit: "Start the move", Refresh: fieldSEN,
		Form: func(ctx context.Context, v FormValues) []slack.Block {
			l, note := formLicence(ctx, licenses, v[fieldSEN])
			blocks := []slack.Block{senInput(v[fieldSEN], true)}
			if note != "" {
				blocks = append(blocks, slack.NewContextBlock("sen_note", mrkdwnText(note)))
			}
			blocks = append(blocks,
				emailInput(fieldNewEmail, "New email", "new.owner@example.com", v[fieldNewEmail], "The account the licence moves to; they are invited to set one up if they have none."),
				optional(slack.NewInputBlock(fieldRoles, plainText("Roles to move"),
					plainText("None ticked: every role the old contact holds."), roleBoxes(v[fieldRoles]))),
				optional(slack.NewInputBlock(fieldKeepOld, plainText("Old contact"), nil,
					checkboxes("keep_old", v[fieldKeepOld], option("keep", "Keep them as a secondary contact", "Unticked: they are removed at the end.")))),
				confirmByInput(l, v[fieldConfirmBy]),
			)
			return blocks
		},
		Args: func(ctx context.Context, v FormValues) ([]string, map[string]string) {
			return moveArgs(ctx, licenses, v)
		},
		Blame: func(error) string { return fieldNewEmail },
	}
}

// formLicence reads the licence a form's SEN names, and what to say under
// the field: the licence, or why there is none.
func formLicence(ctx context.Context, licenses LicenseReader, arg string) (*licensing.License, string) {
	if strings.TrimSpace(arg) == "" {
		return nil, ""
	}
	sen, err := licensing.ParseSEN(arg)
	if err != nil {
		return nil, ":warning: " + escape(sentence(licensing.ErrorMessage(err)))
	}
	l, err := licenses.License(ctx, sen)
	if err != nil {
		return nil, ":warning: " + escape(sentence(licensing.ErrorMessage(err)))
	}
	note := fmt.Sprintf("*%s* · %s · %s", escape(string(l.SEN)), escape(l.Product), strings.ToLower(statusWord(l.Status)))
	if from := primaryBilling(l); from != "" {
		note += " · the licence moves from its primary billing contact, " + escape(string(from))
	}
	return &l, note
}

func primaryBilling(l licensing.License) licensing.Email {
	for _, c := range l.Contacts {
		if c.Role == licensing.Billing && c.Primary {
			return c.Email
		}
	}
	return ""
}

// confirmByInput is who confirms: a choice among the licence's people once
// it is known, else an address.
func confirmByInput(l *licensing.License, value string) slack.Block {
	hint := plainText("Nobody chosen: the current primary contacts of the moved roles confirm by emailed link.")
	if l == nil {
		return optional(slack.NewInputBlock(fieldConfirmBy, plainText("Who confirms"), hint,
			slack.NewPlainTextInputBlockElement(plainText("Press Enter in the SEN field to choose"), "confirm_by_email").WithInitialValue(value)))
	}
	var opts []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	for _, e := range peopleOf(*l) {
		if len(opts) == maxOptions {
			break
		}
		o := option(string(e), truncate(string(e)+" ("+personRoles(*l, e)+")", 75), "")
		if string(e) == value {
			initial = o
		}
		opts = append(opts, o)
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("The primaries of the moved roles"), "confirm_by_select", opts...)
	sel.InitialOption = initial
	return optional(slack.NewInputBlock(fieldConfirmBy, plainText("Who confirms"), hint, sel))
}

// moveArgs checks the form field by field, the licence's rules included,
// so each problem is shown next to the field that causes it, and gives the
// arguments of the typed command.
func moveArgs(ctx context.Context, licenses LicenseReader, v FormValues) ([]string, map[string]string) {
	bad := map[string]string{}
	sen, err := licensing.ParseSEN(v[fieldSEN])
	blame(bad, fieldSEN, err)
	email, err := licensing.ParseEmail(v[fieldNewEmail])
	blame(bad, fieldNewEmail, err)
	var roles []licensing.Role
	if v[fieldRoles] != "" {
		roles, err = licensing.ParseRoles(v[fieldRoles])
		blame(bad, fieldRoles, err)
	}
	var confirmBy licensing.Email
	if v[fieldConfirmBy] != "" {
		confirmBy, err = licensing.ParseEmail(v[fieldConfirmBy])
		blame(bad, fieldConfirmBy, err)
	}
	if len(bad) > 0 {
		return nil, bad
	}
	l, err := licenses.License(ctx, sen)
	if blame(bad, fieldSEN, err) {
		return nil, bad
	}
	mr := licensing.MoveRequest{SEN: sen, NewEmail: email}
	steps := []struct {
		field string
		apply func()
	}{
		{fieldNewEmail, func() {}},
		{fieldRoles, func() { mr.Roles = roles }},
		{fieldKeepOld, func() { mr.KeepOld = v[fieldKeepOld] != "" }},
		{fieldConfirmBy, func() { mr.ConfirmBy = confirmBy }},
	}
	for _, s := range steps {
		s.apply()
		if _, err := licensing.PlanMove(l, mr); err != nil {
			field := s.field
			if s.field == fieldNewEmail && licensing.ErrorCode(err) == licensing.FailedPrecondition {
				field = fieldSEN // the licence itself does not allow it
			}
			blame(bad, field, err)
			return nil, bad
		}
	}
	args := []string{string(sen), string(email)}
	if len(roles) > 0 {
		args = append(args, "--roles", roleList(roles))
	}
	if mr.KeepOld {
		args = append(args, "--keep-old")
	}
	if confirmBy != "" {
		args = append(args, "--confirm-by", string(confirmBy))
	}
	return args, nil
}

// blame puts err's message on field (the first problem of a field wins)
// and reports whether there was one.
func blame(bad map[string]string, field string, err error) bool {
	if err == nil {
		return false
	}
	if _, seen := bad[field]; !seen {
		bad[field] = formWords(sentence(licensing.ErrorMessage(err)))
	}
	return true
}

// formWords says a rule's advice the way the form asks it: the typed
// command's flags are the form's fields.
var formWords = strings.NewReplacer(
	"name someone with --confirm-by", "choose who confirms",
	"name one with --from", "move named roles from another contact by typing the command with --from",
	"--offer-primary", "the offer box",
).Replace

func roleList(roles []licensing.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// Form elements.

func senInput(value string, refresh bool) *slack.InputBlock {
	in := slack.NewPlainTextInputBlockElement(plainText("SEN-1000001"), "sen").WithInitialValue(value)
	hint := plainText("The licence's SEN.")
	b := slack.NewInputBlock(fieldSEN, plainText("Licence"), hint, in)
	if refresh {
		in.DispatchActionConfig = &slack.DispatchActionConfig{TriggerActionsOn: []string{"on_enter_pressed"}}
		b.DispatchAction = true
		b.Hint = plainText("The licence's SEN; press Enter to choose among its contacts below.")
	}
	return b
}

func emailInput(block, label, placeholder, value, hint string) *slack.InputBlock {
	in := slack.NewPlainTextInputBlockElement(plainText(placeholder), block).WithInitialValue(value).WithMaxLength(254)
	return slack.NewInputBlock(block, plainText(label), plainText(hint), in)
}

func roleBoxes(value string) *slack.CheckboxGroupsBlockElement {
	return checkboxes("roles", value, option("billing", "Billing", ""), option("technical", "Technical", ""))
}

// checkboxes ticks the options whose values value lists.
func checkboxes(actionID, value string, opts ...*slack.OptionBlockObject) *slack.CheckboxGroupsBlockElement {
	c := slack.NewCheckboxGroupsBlockElement(actionID, opts...)
	for _, o := range opts {
		for _, v := range strings.Split(value, ",") {
			if v == o.Value {
				c.InitialOptions = append(c.InitialOptions, o)
			}
		}
	}
	return c
}

func option(value, text, description string) *slack.OptionBlockObject {
	var d *slack.TextBlockObject
	if description != "" {
		d = plainText(description)
	}
	return slack.NewOptionBlockObject(value, plainText(text), d)
}

func optional(b *slack.InputBlock) *slack.InputBlock {
	b.Optional = true
	return b
}
