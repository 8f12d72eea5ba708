package activities

import (
	"context"
	"time"

	"licensedesk/licensing"
	"licensedesk/mail"
)

// PasswordResetInput is a reset request for an email that may have no
// account.
type PasswordResetInput struct {
	Email      licensing.Email
	WorkflowID string // recorded with the link
	Key        string // the mail's idempotency key
}

// SendPasswordReset issues a reset link and emails it, when the email
// belongs to an active account that has not had too many this hour
// (Activities.ResetLinks decides); otherwise it sends nothing. The token
// never leaves this activity. Idempotent by Key: a mail already sent is not
// sent again and no new link is made. It returns nothing, so workflow
// history does not say whether the account exists.
func (a *Activities) SendPasswordReset(ctx context.Context, in PasswordResetInput) error {
	if a.ResetLinks == nil {
		return nil
	}
	if sent, err := a.DB.MailSent(ctx, in.Key); err != nil || sent {
		return err
	}
	path, expires, ok, err := a.ResetLinks(ctx, in.Email, in.WorkflowID)
	if err != nil || !ok {
		return err
	}
	name, err := a.DB.DisplayName(ctx, in.Email)
	if err != nil {
		return err
	}
	url := a.PublicBaseURL + path
	return a.deliver(ctx, in.Key, in.Email, mail.KindPasswordReset, mail.PasswordReset{Name: name, URL: url, Deadline: expires}, url)
}

// PasswordChangedInput is a password change or reset to confirm.
type PasswordChangedInput struct {
	Email licensing.Email
	When  time.Time
	Reset bool
	Key   string
}

// NotifyPasswordChanged emails the account that its password changed, with
// a pointer to the reset page in case it was not them. Idempotent by Key.
func (a *Activities) NotifyPasswordChanged(ctx context.Context, in PasswordChangedInput) error {
	name, err := a.DB.DisplayName(ctx, in.Email)
	if err != nil {
		return err
	}
	return a.deliver(ctx, in.Key, in.Email, mail.KindPasswordChanged, mail.PasswordChanged{
		Name: name, When: in.When, Reset: in.Reset, ForgotURL: a.PublicBaseURL + "/password/forgot",
	})
}

// PromoteContactInput is a signed-in contact making themselves primary.
type PromoteContactInput struct {
	SEN   licensing.SEN
	Role  licensing.Role
	Email licensing.Email
	By    Actor
}

// PromoteContactOutput says what changed.
type PromoteContactOutput struct {
	Promoted bool            // false: they were primary already
	Former   licensing.Email // the previous primary, now secondary
}

// PromoteContact makes Email the primary Role contact in one transaction
// (the former primary becomes secondary). Idempotent: a retry after it
// committed (By.Run set) reports the same promotion and former primary.
func (a *Activities) PromoteContact(ctx context.Context, in PromoteContactInput) (PromoteContactOutput, error) {
	former, promoted, err := a.DB.PromoteContact(ctx, in.SEN, in.Role, in.Email, in.By.db())
	if err != nil {
		return PromoteContactOutput{}, asApplicationError(err)
	}
	return PromoteContactOutput{Promoted: promoted, Former: former}, nil
}
