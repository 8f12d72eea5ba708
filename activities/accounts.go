package activities

import (
	"context"
	"fmt"
	"time"

	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/mail"
)

// PasswordResetInput is a reset request for an email that may have no
// account.
type PasswordResetInput struct {
	Email      licensing.Email
	WorkflowID string // recorded with the link
	// Key names the request (workflow ID and run ID). The request's one
	// link is found by it on every retry, and its mail is keyed by it.
	Key string
}

// SendPasswordReset emails the reset link of the request, when the email
// belongs to an active account that has not had too many requests this
// hour (Activities.ResetLinks decides); otherwise it sends nothing. It
// returns nothing, so workflow history does not say whether the account
// exists, and the token never leaves this activity.
//
// A retry (after an SMTP server answered 451, say) continues the request's
// link and is not counted as a new request. Only a token's hash is stored,
// so a retry that still has to mail gets a new token, and the previous one
// is revoked: it was in no mail that got out, or there would be no retry.
// A retry first checks whether the mail with the newest token was recorded
// as sent (an attempt that sent it and then failed to report back), and
// then sends nothing. Left over is a server that took a mail without our
// hearing of it: the next mail carries the working token, under its own
// key, so its Message-ID differs and no mailbox drops it as a duplicate.
func (a *Activities) SendPasswordReset(ctx context.Context, in PasswordResetInput) error {
	if a.ResetLinks == nil {
		return nil
	}
	issued, err := a.DB.ResetLinkIssue(ctx, in.Email, in.Key)
	if err != nil {
		return err
	}
	if sent, err := a.DB.MailSent(ctx, resetMailKey(in.Key, issued)); err != nil || sent {
		return err
	}
	link, ok, err := a.ResetLinks(ctx, in.Email, in.WorkflowID, in.Key)
	if err != nil || !ok {
		return err
	}
	name, err := a.DB.DisplayName(ctx, in.Email)
	if err != nil {
		return err
	}
	url := a.PublicBaseURL + link.Path
	return a.deliver(ctx, resetMailKey(in.Key, link.Issue), in.Email, mail.KindPasswordReset,
		mail.PasswordReset{Name: name, URL: url, Deadline: link.ExpiresAt}, url)
}

// resetMailKey is the mail key of a reset request's link with its issue-th
// token: the request's key for the first (as before links had issues), then
// one per token, so a mail with another token is another message.
func resetMailKey(request string, issue int) string {
	if issue <= 1 {
		return request
	}
	return fmt.Sprintf("%s/%d", request, issue)
}

// PasswordChangedInput is a password change or reset to confirm.
type PasswordChangedInput struct {
	Email licensing.Email
	When  time.Time
	Reset bool
	Key   string
	Event int64 // the security event naming the browser (0: none)
}

// NotifyPasswordChanged emails the account that its password changed, with
// a pointer to the reset page in case it was not them. Idempotent by Key.
func (a *Activities) NotifyPasswordChanged(ctx context.Context, in PasswordChangedInput) error {
	name, err := a.DB.DisplayName(ctx, in.Email)
	if err != nil {
		return err
	}
	d := mail.PasswordChanged{Name: name, When: in.When, Reset: in.Reset, ForgotURL: a.PublicBaseURL + "/password/forgot"}
	if in.Event != 0 {
		e, err := a.DB.SecurityEventOf(ctx, in.Event, in.Email)
		if err != nil && licensing.ErrorCode(err) != licensing.NotFound {
			return err
		}
		d.Device, d.IP = licensing.DeviceOf(e.UserAgent), e.ClientIP
	}
	return a.deliver(ctx, in.Key, in.Email, mail.KindPasswordChanged, d)
}

// SignInLockedInput is a sign-in lock to tell the account holder of.
type SignInLockedInput struct {
	Email licensing.Email
	Event int64 // the security event: when, how many tries, which browser
	Key   string
}

// NotifySignInLocked emails the account holder about a sign-in lock, with
// the browser and address the event recorded. An event pruned meanwhile
// (a month later) sends nothing. Idempotent by Key.
func (a *Activities) NotifySignInLocked(ctx context.Context, in SignInLockedInput) error {
	e, err := a.DB.SecurityEventOf(ctx, in.Event, in.Email)
	if licensing.ErrorCode(err) == licensing.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	name, err := a.DB.DisplayName(ctx, in.Email)
	if err != nil {
		return err
	}
	lock := a.LockFor
	if lock <= 0 {
		lock = time.Minute
	}
	return a.deliver(ctx, in.Key, in.Email, mail.KindSignInLocked, mail.SignInLocked{Name: name, When: e.At, Attempts: e.Attempts,
		For: lock, Device: licensing.DeviceOf(e.UserAgent), IP: e.ClientIP, ForgotURL: a.PublicBaseURL + "/password/forgot"})
}

// PromoteContactInput is a signed-in contact making themselves primary.
type PromoteContactInput struct {
	SEN   licensing.SEN
	Role  licensing.Role
	Email licensing.Email
	By    licensing.Actor
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
	former, promoted, err := a.DB.PromoteContact(ctx, in.SEN, in.Role, in.Email, in.By)
	if err != nil {
		return PromoteContactOutput{}, temporalerr.FromDomain(err)
	}
	return PromoteContactOutput{Promoted: promoted, Former: former}, nil
}
