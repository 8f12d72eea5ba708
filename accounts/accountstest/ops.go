// Package accountstest provides a stand-in for accounts.Operations in
// tests: contact changes go straight to the database (no Temporal), and
// emails are kept in memory instead of being sent.
package accountstest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"licensedesk/accounts"
	"licensedesk/licensing"
	"licensedesk/postgres"
)

// Mail is an email the fake would have sent.
type Mail struct {
	To      licensing.Email
	Subject string
	Link    string // the reset link's path (ResetPath + token), when it has one
	Event   int64  // the security event it names (password changed, sign-in locked)
}

// Ops implements accounts.Operations on a database, keeping mail.
type Ops struct {
	DB *postgres.DB
	// Service handles the background part of a reset (IssueResetLink), as
	// the real workflow's activity does. Set it after accounts.New.
	Service *accounts.Service
	// CardURL is what UpdateCardURL returns, with %s for the SEN.
	CardURL string
	// Fail, when set, makes every operation fail with it.
	Fail error

	mu     sync.Mutex
	mails  []Mail
	calls  []string
	bg     sync.WaitGroup
	resets atomic.Int64
}

var _ accounts.Operations = (*Ops)(nil)

// New returns a fake on db; call SetService once the service exists.
func New(db *postgres.DB) *Ops { return &Ops{DB: db, CardURL: "/test/card/%s"} }

func (o *Ops) record(call string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, call)
	return o.Fail
}

func actor(e licensing.Email) licensing.Actor { return licensing.Actor{Kind: "account", ID: string(e)} }

// AddContact adds the contact directly.
func (o *Ops) AddContact(ctx context.Context, by licensing.Email, sen licensing.SEN, role licensing.Role, email licensing.Email, offerPrimary bool) (string, error) {
	call := fmt.Sprintf("add %s %s %s by %s", sen, role, email, by)
	if offerPrimary {
		call += " offering primary"
	}
	if err := o.record(call); err != nil {
		return "", err
	}
	res, err := o.DB.EnsureContact(ctx, sen, role, email, actor(by))
	if err != nil {
		return "", err
	}
	if !res.Added {
		return "", licensing.Errorf(licensing.Conflict, "%s is already a %s contact of %s", email, role, sen)
	}
	o.keep(Mail{To: email, Subject: fmt.Sprintf("You're now a %s contact of %s", role, sen)})
	if res.AccountCreated {
		return fmt.Sprintf("%s is now a %s contact of %s. We've emailed them an invitation to set up their account.", email, role, sen), nil
	}
	return fmt.Sprintf("%s is now a %s contact of %s. We've let them know by email.", email, role, sen), nil
}

// RemoveContact removes the contact directly.
func (o *Ops) RemoveContact(ctx context.Context, by licensing.Email, sen licensing.SEN, role licensing.Role, email licensing.Email) (string, error) {
	if err := o.record(fmt.Sprintf("remove %s %s %s by %s", sen, role, email, by)); err != nil {
		return "", err
	}
	if _, err := o.DB.RemoveContact(ctx, sen, role, email, actor(by)); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s is no longer a %s contact of %s.", email, role, sen), nil
}

// PromoteSelf promotes directly.
func (o *Ops) PromoteSelf(ctx context.Context, by licensing.Email, sen licensing.SEN, role licensing.Role) (string, error) {
	if err := o.record(fmt.Sprintf("promote %s %s %s", sen, role, by)); err != nil {
		return "", err
	}
	if _, _, err := o.DB.PromoteContact(ctx, sen, role, by, actor(by)); err != nil {
		return "", err
	}
	return fmt.Sprintf("You are now the primary %s contact of %s. The previous primary contact is now a secondary contact.", role, sen), nil
}

// UpdateCardURL returns CardURL with the SEN.
func (o *Ops) UpdateCardURL(ctx context.Context, by licensing.Email, sen licensing.SEN) (string, error) {
	if err := o.record(fmt.Sprintf("card %s by %s", sen, by)); err != nil {
		return "", err
	}
	return fmt.Sprintf(o.CardURL, sen), nil
}

// StartPasswordReset does the reset's background part in a goroutine, as a
// workflow would: IssueResetLink, then the email. Wait waits for it.
func (o *Ops) StartPasswordReset(ctx context.Context, email licensing.Email) error {
	if err := o.record("reset " + string(email)); err != nil {
		return err
	}
	key := fmt.Sprintf("test-reset/%s/%d", email, o.resets.Add(1)) // a new request each time, as a new workflow run is
	o.bg.Go(func() {
		link, ok, err := o.Service.IssueResetLink(context.WithoutCancel(ctx), accounts.ResetRequest{Email: email, Key: key})
		if err != nil || !ok {
			return
		}
		o.keep(Mail{To: link.Email, Subject: "Reset your password", Link: link.Path})
	})
	return nil
}

// PasswordChanged keeps the confirmation email.
func (o *Ops) PasswordChanged(ctx context.Context, email licensing.Email, reset bool, event int64) error {
	if err := o.record("password changed " + string(email)); err != nil {
		return err
	}
	o.keep(Mail{To: email, Subject: "Your password was changed", Event: event})
	return nil
}

// SignInLocked keeps the lock's email.
func (o *Ops) SignInLocked(ctx context.Context, email licensing.Email, event int64) error {
	if err := o.record("sign-in locked " + string(email)); err != nil {
		return err
	}
	o.keep(Mail{To: email, Subject: "Sign-in to your account was paused", Event: event})
	return nil
}

func (o *Ops) keep(m Mail) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mails = append(o.mails, m)
}

// Wait waits for background reset work to finish.
func (o *Ops) Wait() { o.bg.Wait() }

// Mails returns the mails kept so far, oldest first (after Wait).
func (o *Ops) Mails() []Mail {
	o.Wait()
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.mails)
}

// MailsTo returns the mails kept for one address.
func (o *Ops) MailsTo(to licensing.Email) []Mail {
	var out []Mail
	for _, m := range o.Mails() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// LastResetLink returns the path of the newest reset link sent to, or "".
func (o *Ops) LastResetLink(to licensing.Email) string {
	mails := o.MailsTo(to)
	for i := len(mails) - 1; i >= 0; i-- {
		if mails[i].Link != "" {
			return mails[i].Link
		}
	}
	return ""
}

// Calls returns the operations called so far, described.
func (o *Ops) Calls() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.calls)
}
