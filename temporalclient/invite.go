package temporalclient

import (
	"context"

	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/workflows"
)

// Invite starts the invitation of one pending person of a provisioned
// licence (workflows.Invite). Once per person and licence: a run in flight
// or closed under the same ID is that invitation, so provisioning the same
// licence again mails nobody twice.
func (c *Client) Invite(ctx context.Context, sen licensing.SEN, email licensing.Email, roles []licensing.Role) error {
	_, err := c.launch(ctx, launch{
		ID: operation.InviteID(sen, email), Kind: operation.KindInvite, SEN: sen, People: []licensing.Email{email},
		Fn: workflows.Invite, Arg: workflows.InviteInput{SEN: sen, Email: email, Roles: roles, Timing: c.Timing},
		Once: true,
	})
	return err
}
