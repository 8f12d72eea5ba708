package accounts

import (
	"context"
	"time"

	"licensedesk/licensing"
	"licensedesk/passwords"
	"licensedesk/postgres"
	"licensedesk/web"
)

// ResetPath is where a reset link points, below PUBLIC_BASE_URL.
const ResetPath = "/password/reset/"

// RequestReset starts a password reset for email. The answer, and the work
// done before it, are the same whether or not an account has that email:
// parse the email, count the request against the client address, and hand
// the email to Operations.StartPasswordReset, which finds out in the
// background. Only a malformed email or a throttled address is reported.
func (s *Service) RequestReset(ctx context.Context, email, clientAddr string) error {
	e, err := licensing.ParseEmail(email)
	if err != nil {
		return errEmailFormat
	}
	key := addrKey("reset", clientAddr)
	if err := s.throttled(ctx, key); err != nil {
		return err
	}
	// Every request counts (it sends mail), not only failed ones.
	now := s.opt.Now()
	perAddr := s.opt
	perAddr.MaxFailures = s.opt.ResetsPerAddr
	if _, err := s.db.RecordFailure(ctx, key, func(prev postgres.Throttle) postgres.Throttle {
		return perAddr.nextFailure(prev, now)
	}); err != nil {
		return err
	}
	return s.ops.StartPasswordReset(ctx, e)
}

// ResetLink is a freshly issued password-reset link.
type ResetLink struct {
	Email     licensing.Email
	Token     string    // secret: put it in the email, nowhere else
	Path      string    // ResetPath + Token; prefix PUBLIC_BASE_URL
	ExpiresAt time.Time //
}

// IssueResetLink creates a reset link for email, valid for ResetTTL, and
// revokes the account's older ones. ok is false, and nothing is created,
// when no active account has that email or when it has already been sent
// ResetsPerHour links in the last hour (then no email should be sent: the
// person already has recent ones). workflowID, if any, is recorded with the
// link. Meant for the background part of Operations.StartPasswordReset.
func (s *Service) IssueResetLink(ctx context.Context, email licensing.Email, workflowID string) (link ResetLink, ok bool, err error) {
	acc, err := s.db.AccountByEmail(ctx, email)
	if licensing.ErrorCode(err) == licensing.NotFound {
		return ResetLink{}, false, nil
	}
	if err != nil {
		return ResetLink{}, false, err
	}
	if acc.Status != licensing.AccountActive {
		return ResetLink{}, false, nil
	}
	n, err := s.db.ResetLinksSince(ctx, acc.Email, s.opt.Now().Add(-time.Hour))
	if err != nil {
		return ResetLink{}, false, err
	}
	if n >= s.opt.ResetsPerHour {
		s.opt.Logger.WarnContext(ctx, "password reset not sent: too many this hour", "account", acc.ID, "links", n)
		return ResetLink{}, false, nil
	}
	token, expires, err := s.db.CreateLink(ctx, postgres.NewLink{
		Purpose: postgres.PurposePasswordReset, Email: acc.Email, WorkflowID: workflowID, TTL: s.opt.ResetTTL,
	})
	if err != nil {
		return ResetLink{}, false, err
	}
	if _, err := s.db.RevokeOlderResetLinks(ctx, token); err != nil {
		return ResetLink{}, false, err
	}
	return ResetLink{Email: acc.Email, Token: token, Path: ResetPath + token, ExpiresAt: expires}, true, nil
}

// resetLink looks a reset link up without spending it.
func (s *Service) resetLink(ctx context.Context, token string) (postgres.Link, error) {
	k, err := s.db.LookupLink(ctx, token)
	if err != nil {
		return postgres.Link{}, err
	}
	if k.Purpose != postgres.PurposePasswordReset {
		return postgres.Link{}, errNotResetLk
	}
	return k, nil
}

// ResetInfo describes a usable reset link: NotFound for unknown tokens (or
// links for something else), Gone for used, revoked or expired ones.
func (s *Service) ResetInfo(ctx context.Context, token string) (web.ResetInfo, error) {
	k, err := s.resetLink(ctx, token)
	if err != nil {
		return web.ResetInfo{}, err
	}
	return web.ResetInfo{Email: k.Email, ExpiresAt: k.ExpiresAt}, nil
}

// CompleteReset checks the new password, then spends the link and sets the
// password in one transaction that also revokes every session and every
// other reset link of the account. It does not sign anyone in. The
// confirmation email follows; failing to send it is logged.
func (s *Service) CompleteReset(ctx context.Context, token, password, confirm string) error {
	k, err := s.resetLink(ctx, token)
	if err != nil {
		return err
	}
	if err := passwords.CheckNew(password, confirm, string(k.Email)); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	email, err := s.db.SpendResetLink(ctx, token, hash)
	if err != nil {
		return err
	}
	s.opt.Logger.InfoContext(ctx, "password reset", "link_id", k.ID)
	if err := s.ops.PasswordChanged(ctx, email, true); err != nil {
		s.opt.Logger.ErrorContext(ctx, "password-changed email not sent", "link_id", k.ID, "err", err)
	}
	return nil
}
