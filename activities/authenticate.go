package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/payments"
	"licensedesk/postgres"
	"licensedesk/slackout"
)

// Bank authentication (SCA). A charge the bank wants the cardholder to
// confirm is recorded as a failed attempt with decline code
// authentication_required and the provider's charge (provider_ref), which
// stays open at the provider. The people allowed to pay get a link that
// leads to the bank's check of that same charge (links.Service); when the
// provider reports it succeeded (webhook, or SettleAuthentication's look
// at the retry times), the attempt is recorded succeeded and the invoice
// paid.
//
// Never twice: a new attempt first cancels the charge still waiting
// (supersedeAuthentication); a charge that succeeded meanwhile cannot be
// cancelled, and is then the payment, so no new charge is made. The
// provider serialises confirming and cancelling one charge.

// NoticeNeedsAuth asks those allowed to pay to confirm the payment with
// their bank (BillingNoticeInput.Reminder on the retry schedule; Suspend
// when the licence is suspended meanwhile).
const NoticeNeedsAuth = "needs-authentication"

// authLinkLife is how long a confirm-payment link lives, as an update-card
// link (SPEC §3: 7 days); reminders carry fresh ones.
const authLinkLife = 7 * 24 * time.Hour

func (a *Activities) authenticator() (payments.Authenticator, bool) {
	au, ok := a.Payments.(payments.Authenticator)
	return au, ok
}

// chargeOf is the provider's charge a failed call left behind.
func chargeOf(c payments.Charge, err error) string {
	var d *payments.DeclineError
	if errors.As(err, &d) && d.ChargeID != "" {
		return d.ChargeID
	}
	return c.ID
}

// awaitCardholder records an attempt the bank wants confirmed: failed, with
// its open charge, the licence past due. Without a provider that can
// authenticate, it is the hard decline it was before.
func (a *Activities) awaitCardholder(ctx context.Context, inv postgres.Invoice, key, chargeID string) (ChargeInvoiceOutput, error) {
	reason := "The bank wants the cardholder to confirm this payment."
	if _, ok := a.authenticator(); !ok {
		return a.finishDecline(ctx, inv, key, postgres.AuthenticationRequired, reason, true)
	}
	if _, err := a.DB.FinishAttempt(ctx, key, postgres.AttemptResult{Status: "failed", ProviderRef: chargeID,
		DeclineCode: postgres.AuthenticationRequired, Error: reason}); err != nil {
		return ChargeInvoiceOutput{}, err
	}
	if err := a.DB.MarkPastDue(ctx, inv.SEN, inv.DueDate, inv.Number); err != nil {
		return ChargeInvoiceOutput{}, err
	}
	return ChargeInvoiceOutput{Code: postgres.AuthenticationRequired, NeedsAuth: true, Reason: reason}, nil
}

// supersedeAuthentication cancels, before attempt charges, an earlier
// attempt's charge that still waits for the cardholder. If the provider
// says that charge succeeded (the challenge was completed meanwhile), it
// is recorded as the payment and done is true: no new charge is made.
// Repeating it is harmless (cancelling a cancelled charge is).
func (a *Activities) supersedeAuthentication(ctx context.Context, number string, attempt int) (out ChargeInvoiceOutput, done bool, err error) {
	aw, err := a.DB.AwaitingAuthentication(ctx, number, attempt)
	if err != nil || aw == nil {
		return out, false, err
	}
	au, ok := a.authenticator()
	if !ok {
		return out, false, nil
	}
	c, err := au.CancelCharge(ctx, aw.ChargeID)
	if err != nil {
		return out, false, providerError(err)
	}
	if c.Status != payments.ChargeSucceeded {
		return out, false, nil
	}
	was, err := a.DB.FinishAttempt(ctx, aw.Key, postgres.AttemptResult{Status: "succeeded", ProviderRef: aw.ChargeID})
	if err != nil {
		return out, false, err
	}
	return ChargeInvoiceOutput{Paid: true, Reactivated: was != "", WasStatus: was}, true, nil
}

// SettleAuthenticationInput names the invoice whose charge may have been
// confirmed.
type SettleAuthenticationInput struct {
	Number string
}

// SettleAuthenticationOutput says where the charge stands.
type SettleAuthenticationOutput struct {
	Paid        bool
	Reactivated bool
	WasStatus   licensing.Status // with Reactivated: past_due or suspended
	Attempt     int              // the attempt that was confirmed
	Status      string           // the waiting charge's status at the provider; "" when none waits
}

// SettleAuthentication asks the provider about the charge waiting for the
// cardholder and, when it succeeded, records the payment (the attempt
// succeeded, the invoice paid, the licence active again). The provider's
// answer decides, never the caller's word: a forged or stale signal pays
// nothing. Idempotent.
func (a *Activities) SettleAuthentication(ctx context.Context, in SettleAuthenticationInput) (SettleAuthenticationOutput, error) {
	aw, err := a.DB.AwaitingAuthentication(ctx, in.Number, 0)
	if err != nil {
		return SettleAuthenticationOutput{}, err
	}
	if aw == nil {
		inv, err := a.DB.Invoice(ctx, in.Number)
		if err != nil {
			return SettleAuthenticationOutput{}, temporalerr.FromDomain(err)
		}
		return SettleAuthenticationOutput{Paid: inv.Paid}, nil
	}
	au, ok := a.authenticator()
	if !ok {
		return SettleAuthenticationOutput{Status: payments.ChargeRequiresPaymentMethod, Attempt: aw.Attempt}, nil
	}
	c, err := au.LookupCharge(ctx, aw.ChargeID)
	if err != nil {
		return SettleAuthenticationOutput{}, providerError(err)
	}
	out := SettleAuthenticationOutput{Status: c.Status, Attempt: aw.Attempt}
	if c.Status != payments.ChargeSucceeded {
		return out, nil
	}
	if out.WasStatus, err = a.DB.FinishAttempt(ctx, aw.Key, postgres.AttemptResult{Status: "succeeded", ProviderRef: aw.ChargeID}); err != nil {
		return SettleAuthenticationOutput{}, err
	}
	out.Paid, out.Reactivated = true, out.WasStatus != ""
	return out, nil
}

// authNotice mails the billing contacts, and whoever else may pay, that
// the bank asks the cardholder to confirm the payment: those allowed get
// their own confirm link (and, with CardLinks, an update-card link as the
// other way to pay); the others are told whom to ask. Slack hears it once.
// Idempotent by Key.
func (a *Activities) authNotice(ctx context.Context, in BillingNoticeInput) error {
	inv, err := a.DB.Invoice(ctx, in.Number)
	if err != nil {
		return temporalerr.FromDomain(err)
	}
	suspended := false
	if in.Suspend {
		if suspended, err = a.DB.Suspend(ctx, inv.SEN, inv.Number); err != nil {
			return err
		}
	}
	l, err := a.DB.License(ctx, inv.SEN)
	if err != nil {
		return temporalerr.FromDomain(err)
	}
	var askedAt time.Time
	if o, err := a.DB.Overdue(ctx, inv.SEN); err == nil && o != nil && o.Invoice == inv.Number {
		askedAt = o.FailedAt
	}
	amount := licensing.FormatMoney(inv.AmountCents, inv.Currency)
	to := billingContacts(l)
	for _, e := range licensing.CardUpdaters(l) {
		if !slices.Contains(to, e) {
			to = append(to, e)
		}
	}
	for _, email := range to {
		d := mail.ConfirmPayment{SEN: string(l.SEN), Product: l.Product, Amount: amount, InvoiceNumber: inv.Number, Card: inv.Card,
			AskedAt: askedAt, SuspendOn: in.SuspendOn, Suspended: l.Status == licensing.Suspended, Reminder: in.Reminder && l.Status != licensing.Suspended,
			UpdaterOnly: !slices.Contains(billingContacts(l), email), SiteAdmins: emailStrings(l.SiteAdmins)}
		if err := a.sendAuthNotice(ctx, in, l, email, d); err != nil {
			return err
		}
	}
	alert := fmt.Sprintf(":closed_lock_with_key: Payment of %s for %s waits for the cardholder to confirm it with their bank (3-D Secure); those allowed to pay were emailed a link.", amount, l.SEN)
	if !in.SuspendOn.IsZero() && l.Status != licensing.Suspended {
		alert += " Unpaid on " + in.SuspendOn.UTC().Format("2006-01-02") + ", it is suspended."
	}
	if suspended {
		alert = fmt.Sprintf(":no_entry: %s is suspended: invoice %s (%s) still waits for the cardholder to confirm it with their bank.", l.SEN, inv.Number, amount)
	}
	if a.Slack != nil && in.Channel != "" && !in.Reminder {
		if _, err := a.Slack.Post(ctx, slackout.Message{Channel: in.Channel, Text: alert}); err != nil && !slackout.IsPermanent(err) {
			return err
		}
	}
	return nil
}

// sendAuthNotice mails one person their confirm-payment notice, once per
// key: their own links are made only when the mail has not gone yet.
func (a *Activities) sendAuthNotice(ctx context.Context, in BillingNoticeInput, l licensing.License, to licensing.Email, d mail.ConfirmPayment) error {
	key := in.Key + "/" + string(to)
	if sent, err := a.DB.MailSent(ctx, key); err != nil || sent {
		return err
	}
	d.Name, _ = a.DB.DisplayName(ctx, to)
	var links []string
	if in.CardLinks != nil && licensing.CanUpdateCard(l, to) == nil {
		var err error
		if d.ConfirmURL, d.Deadline, err = a.confirmLink(ctx, l, to, d, in.CardLinks.WorkflowID); err != nil {
			return err
		}
		if d.UpdateURL, d.UpdateDeadline, err = a.cardLink(ctx, l, to, in.CardLinks); err != nil {
			return err
		}
		links = []string{d.ConfirmURL, d.UpdateURL}
	}
	return a.deliver(ctx, key, to, mail.KindConfirmPayment, d, links...)
}

// confirmLink makes one person's confirm-payment link: only its hash is
// stored; it names the invoice, and acts for the collection workflowID.
func (a *Activities) confirmLink(ctx context.Context, l licensing.License, to licensing.Email, d mail.ConfirmPayment, workflowID string) (string, time.Time, error) {
	token, expires, err := a.DB.CreateLink(ctx, postgres.NewLink{
		Purpose: licensing.PurposeConfirmPayment, Email: to, SEN: l.SEN, WorkflowID: workflowID, TTL: authLinkLife,
		Data: map[string]any{"invoice": d.InvoiceNumber, "amount": d.Amount, "card": d.Card},
	})
	if err != nil {
		return "", time.Time{}, temporalerr.FromDomain(err)
	}
	return a.PublicBaseURL + "/l/" + token, expires, nil
}
