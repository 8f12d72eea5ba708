package accounts

import (
	"context"
	"errors"
	"strings"
	"time"

	"licensedesk/licensing"
	"licensedesk/passwords"
	"licensedesk/postgres"
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
	// Every request counts (it starts a workflow and may send mail), not
	// only failed ones, and before it is made, in one atomic step: the
	// address is slowed after ResetsPerAddr, refused above
	// ResetsPerAddrHour an hour, and every address together above
	// ResetsPerMinute a minute.
	perAddr := s.opt
	perAddr.MaxFailures = s.opt.ResetsPerAddr
	if _, err := s.attempt(ctx,
		rule{key: addrKey("reset", clientAddr), next: perAddr.nextFailure},
		rule{key: "reset-rate:" + strings.TrimPrefix(addrKey("reset", clientAddr), "reset-addr:"), next: rate(s.opt.ResetsPerAddrHour, time.Hour)},
		rule{key: "reset-all", next: rate(s.opt.ResetsPerMinute, time.Minute)},
	); err != nil {
		return err
	}
	return s.ops.StartPasswordReset(ctx, e)
}

// ResetRequest is one password-reset request, as its background part
// (the PasswordReset workflow's activity) sees it.
type ResetRequest struct {
	Email licensing.Email
	// Key names the request: the workflow run (ID and run ID), the same on
	// every retry of its activity and different for every new request.
	Key        string
	WorkflowID string // recorded with the link
}

// ResetLink is a freshly issued password-reset link.
type ResetLink struct {
	Email     licensing.Email
	Token     string    // secret: put it in the email, nowhere else
	Path      string    // ResetPath + Token; prefix PUBLIC_BASE_URL
	ExpiresAt time.Time //
	// Issue numbers the request's tokens: 1 for the first, n when a
	// retry replaced the previous one for the (n-1)th time.
	Issue int
}

// IssueResetLink returns a token for the reset link of request, to be
// mailed: ok is false, and nothing is to be sent, when no active account
// has the email, when the account has already had ResetsPerHour requests
// in the last hour (the person has recent links), or when the request's
// link can no longer be used (spent, expired, or revoked by a newer
// request).
//
// One request has one link, made (and counted against ResetsPerHour) on
// the first call, which also revokes the account's older reset links and
// fixes the expiry at ResetTTL. A retry of the same request (same Key)
// continues that link with a new token, and the previous token is revoked:
// the count, the expiry and other requests' links are left alone. That is
// the price of never storing a token in a form that can be mailed again:
// a mail that must still go out needs a token that exists now. The
// attempt that had the previous one failed to mail it, which is why it is
// retried (activities.SendPasswordReset covers the attempt that mailed it
// and then failed).
func (s *Service) IssueResetLink(ctx context.Context, r ResetRequest) (link ResetLink, ok bool, err error) {
	if r.Key == "" {
		return ResetLink{}, false, errors.New("accounts: a reset request needs a Key")
	}
	got, err := s.db.IssueResetLink(ctx, postgres.ResetLinkRequest{
		Email: r.Email, Request: r.Key, WorkflowID: r.WorkflowID, TTL: s.opt.ResetTTL,
		Since: s.opt.Now().Add(-time.Hour), PerHour: s.opt.ResetsPerHour,
	})
	if err != nil {
		return ResetLink{}, false, err
	}
	switch got.Outcome {
	case postgres.ResetLinkIssued:
		if got.Issue > 1 {
			s.opt.Logger.InfoContext(ctx, "password reset link re-issued for a retry", "account", got.AccountID, "link_id", got.LinkID, "issue", got.Issue)
		}
		return ResetLink{Email: r.Email, Token: got.Token, Path: ResetPath + got.Token, ExpiresAt: got.ExpiresAt, Issue: got.Issue}, true, nil
	case postgres.ResetTooMany:
		s.opt.Logger.WarnContext(ctx, "password reset not sent: too many this hour", "account", got.AccountID, "requests", got.Requests)
	case postgres.ResetLinkGone:
		s.opt.Logger.InfoContext(ctx, "password reset not sent: its link was used, expired or replaced by a newer request", "account", got.AccountID, "link_id", got.LinkID)
	}
	return ResetLink{}, false, nil
}

// resetLink looks a reset link up without spending it.
func (s *Service) resetLink(ctx context.Context, token string) (postgres.Link, error) {
	k, err := s.db.LookupLink(ctx, token)
	if err != nil {
		return postgres.Link{}, err
	}
	if k.Purpose != licensing.PurposePasswordReset {
		return postgres.Link{}, errNotResetLk
	}
	return k, nil
}

// ResetInfo describes a usable reset link: NotFound for unknown tokens (or
// links for something else), Gone for used, revoked or expired ones.
func (s *Service) ResetInfo(ctx context.Context, token string) (ResetInfo, error) {
	k, err := s.resetLink(ctx, token)
	if err != nil {
		return ResetInfo{}, err
	}
	return ResetInfo{Email: k.Email, ExpiresAt: k.ExpiresAt}, nil
}

// CompleteReset checks the new password, then spends the link and sets the
// password in one transaction that also revokes every session and every
// other reset link of the account. It does not sign anyone in. The
// confirmation email follows; failing to send it is logged.
func (s *Service) CompleteReset(ctx context.Context, token, password, confirm string) error {
	return s.CompleteResetFrom(ctx, token, password, confirm, Client{})
}

// CompleteResetFrom is CompleteReset for a request from a browser, which
// the confirmation mail names (review #18).
func (s *Service) CompleteResetFrom(ctx context.Context, token, password, confirm string, from Client) error {
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
	s.passwordChanged(ctx, email, true, from)
	return nil
}
