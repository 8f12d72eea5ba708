package activities

import (
	"context"

	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/mail"
)

// Notification kinds (mails without a link to act on).
const (
	NotifyMoveCompleted  = "move_completed"
	NotifyMoveCancelled  = "move_cancelled"
	NotifyAddedAsContact = "added_as_contact"
	NotifyContactRemoved = "contact_removed"
	NotifyPromoted       = "promoted" // to the former primary
)

// NotifyInput is one notification mail; fields are used as Kind needs.
type NotifyInput struct {
	Key      string // one mail per Key, ever
	Kind     string
	To       licensing.Email
	SEN      licensing.SEN
	NewEmail licensing.Email
	OldEmail licensing.Email
	KeptOld  bool
	Role     licensing.Role
	By       string
	Reason   string
	// OfferPrimary (added_as_contact): a separate offer to become primary
	// follows; otherwise the mail says how to do it from the account page.
	OfferPrimary bool
}

// Notify renders and delivers a notification. Idempotent by Key.
func (a *Activities) Notify(ctx context.Context, in NotifyInput) error {
	l, err := a.DB.License(ctx, in.SEN)
	if err != nil {
		return temporalerr.FromDomain(err)
	}
	name, err := a.DB.DisplayName(ctx, in.To)
	if err != nil {
		return err
	}
	sen, product := string(l.SEN), l.Product
	var (
		kind mail.Kind
		data any
	)
	switch in.Kind {
	case NotifyMoveCompleted:
		d := mail.MoveCompleted{Name: name, SEN: sen, Product: product,
			NewEmail: string(in.NewEmail), OldEmail: string(in.OldEmail), KeptOld: in.KeptOld}
		// The new owner learns the old card keeps paying, and how to replace it.
		if pm := l.PaymentMethod; in.To == in.NewEmail && pm != nil && l.Deployment == licensing.Cloud {
			d.Card = licensing.CardName(*pm)
			if licensing.CanUpdateCard(l, in.To) == nil {
				d.AccountURL = a.PublicBaseURL + "/account"
			}
		}
		kind, data = mail.KindMoveCompleted, d
	case NotifyMoveCancelled:
		kind, data = mail.KindMoveCancelled, mail.MoveCancelled{Name: name, SEN: sen, Product: product,
			NewEmail: string(in.NewEmail), Reason: in.Reason}
	case NotifyAddedAsContact:
		kind, data = mail.KindAddedAsContact, mail.AddedAsContact{Name: name, SEN: sen, Product: product,
			Role: string(in.Role), AddedBy: in.By, OfferPrimary: in.OfferPrimary}
	case NotifyContactRemoved:
		kind, data = mail.KindContactRemoved, mail.ContactRemoved{Name: name, SEN: sen, Product: product,
			Role: string(in.Role), RemovedBy: in.By}
	case NotifyPromoted:
		kind, data = mail.KindPromotedNotice, mail.PromotedNotice{Name: name, SEN: sen, Product: product,
			Role: string(in.Role), NewPrimary: string(in.NewEmail)}
	default:
		return temporalerr.FromDomain(licensing.Errorf(licensing.Invalid, "unknown notification %q", in.Kind))
	}
	return a.deliver(ctx, in.Key, in.To, kind, data)
}
