package activities

import (
	"context"
	"slices"
	"time"

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
		d, err := a.moveCompleted(ctx, in, l, name)
		if err != nil {
			return err
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

// cardHandoverAfter is when the new owner of a moved licence is reminded
// that the former owner's card still pays for it (review #3).
const cardHandoverAfter = 14 * 24 * time.Hour

// moveCompleted is the "moved" mail for one of the move's people. The new
// owner learns whose card keeps paying and how to replace it (and a
// reminder is queued for 14 days on, sent only if that card is still the
// one on file); the former owner, whose own card it is, learns that it
// still pays, until when, and how to stop it.
func (a *Activities) moveCompleted(ctx context.Context, in NotifyInput, l licensing.License, name string) (mail.MoveCompleted, error) {
	d := mail.MoveCompleted{Name: name, SEN: string(l.SEN), Product: l.Product,
		NewEmail: string(in.NewEmail), OldEmail: string(in.OldEmail), KeptOld: in.KeptOld}
	pm := l.PaymentMethod
	if pm == nil || l.Deployment != licensing.Cloud {
		return d, nil
	}
	// Saved by someone who is no longer on the licence: the former owner.
	leftBehind := pm.AddedBy != "" && !licensing.RelationOf(l, pm.AddedBy).IsContact() && !slices.Contains(l.SiteAdmins, pm.AddedBy)
	switch in.To {
	case in.NewEmail:
		d.Card = licensing.CardName(*pm)
		if pm.AddedBy != in.To {
			d.CardAddedBy = string(pm.AddedBy)
		}
		if licensing.CanUpdateCard(l, in.To) == nil {
			d.AccountURL = a.PublicBaseURL + "/account"
		} else {
			d.SiteAdmins = emailStrings(l.SiteAdmins)
		}
		if leftBehind {
			now := a.Clock.Now()
			ref, err := a.DB.DefaultCardRef(ctx, l.SEN)
			if err != nil {
				return d, err
			}
			if err := a.DB.QueueCardHandover(ctx, l.SEN, now, now.Add(cardHandoverAfter), pm.AddedBy, in.NewEmail, ref); err != nil {
				return d, err
			}
		}
	case in.OldEmail:
		if leftBehind && pm.AddedBy == in.To {
			d.YourCard = licensing.CardName(*pm)
			if l.Status != licensing.Cancelled {
				d.NextCharge = l.NextBillingDate
			}
		}
	}
	return d, nil
}
