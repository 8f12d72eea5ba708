package accounts

import (
	"context"
	"slices"
	"time"

	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/postgres"
)

// accountConfirmLife is how long a confirm-payment link made on the
// account page lives: it is used at once.
const accountConfirmLife = 24 * time.Hour

// ConfirmPaymentURL returns where actor confirms, with their bank, the
// payment the bank asked the cardholder to confirm (bank authentication):
// a confirm_payment link of their own, made now and not emailed, acting
// for the invoice's collection. Only those allowed to update the card may
// pay; a licence whose payment waits for nothing of the kind gets a clear
// refusal.
func (s *Service) ConfirmPaymentURL(ctx context.Context, actor licensing.Email, sen string) (string, error) {
	l, err := s.myLicence(ctx, actor, sen)
	if err != nil {
		return "", err
	}
	if err := licensing.MayUseLink(l, licensing.PurposeConfirmPayment, actor); err != nil {
		return "", err
	}
	o, err := s.db.Overdue(ctx, l.SEN)
	if err != nil {
		return "", err
	}
	if o == nil || !o.NeedsAuthentication() {
		return "", licensing.Errorf(licensing.FailedPrecondition, "No payment of %s is waiting for your bank's confirmation.", l.SEN)
	}
	card := ""
	if l.PaymentMethod != nil {
		card = licensing.CardName(*l.PaymentMethod)
	}
	token, _, err := s.db.CreateLink(ctx, postgres.NewLink{
		Purpose: licensing.PurposeConfirmPayment, Email: actor, SEN: l.SEN, WorkflowID: operation.InvoiceID(o.Invoice), TTL: accountConfirmLife,
		Data: map[string]any{"invoice": o.Invoice, "amount": o.Amount(), "card": card, "origin": "account"},
	})
	if err != nil {
		return "", err
	}
	return "/l/" + token, nil
}

// expiringCards are the account's licences whose card expires within 30
// days or has expired, but for those already in unpaid (their banner says
// more): one indexed read for the SENs, then each licence.
func (s *Service) expiringCards(ctx context.Context, accountID int64, me licensing.Email, unpaid []MyLicense) ([]MyLicense, error) {
	now := s.opt.Now()
	sens, err := s.db.AccountExpiringCards(ctx, accountID, now.AddDate(0, 0, licensing.CardReminderDays[0]), LicencesPerPage)
	if err != nil {
		return nil, err
	}
	var out []MyLicense
	for _, sen := range sens {
		if slices.ContainsFunc(unpaid, func(m MyLicense) bool { return m.License.SEN == sen }) {
			continue
		}
		l, err := s.db.License(ctx, sen)
		if err != nil {
			return nil, err
		}
		m := s.myLicenseOf(l, licensing.BillingAddress{}, me)
		if m.CardExpiry = licensing.CardExpiry(l, now); m.CardExpiry != nil {
			out = append(out, m)
		}
	}
	return out, nil
}
