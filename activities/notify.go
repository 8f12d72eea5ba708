package activities

import (
	"context"
	"fmt"
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
	// NotifyRequestCancelled tells someone a step waited on that sales
	// cancelled the operation (review #14).
	NotifyRequestCancelled = "request_cancelled"
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
	// Via (promoted): how the new primary did it, "account" or "link".
	Via string
	// Request cancelled: the operation's kind ("move", "verify",
	// "promote", "card"), who the request was about (verify: the
	// requester; move: the new account), the roles (promote) and when.
	Operation string
	Roles     []licensing.Role
	At        time.Time
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
			Role: string(in.Role), NewPrimary: string(in.NewEmail), Via: viaWords(in.Via, true)}
	case NotifyRequestCancelled:
		kind, data = mail.KindRequestCancelled, mail.RequestCancelled{Name: name, SEN: sen, Product: product,
			What: cancelledWhat(in), At: in.At}
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

// cancelledWhat names an operation sales cancelled, as the mail to
// someone it waited on says it.
func cancelledWhat(in NotifyInput) string {
	switch in.Operation {
	case "move":
		return fmt.Sprintf("the move of %s to %s", in.SEN, in.NewEmail)
	case "verify":
		return fmt.Sprintf("the request to confirm that %s may act for %s", in.NewEmail, in.SEN)
	case "promote":
		return fmt.Sprintf("the offer to make you the primary %s contact of %s", licensing.JoinWords(roleStrings(in.Roles)), in.SEN)
	case "card":
		return fmt.Sprintf("the request to update the card of %s", in.SEN)
	}
	return fmt.Sprintf("the request about %s", in.SEN)
}

// viaWords says how a contact change was made, for a mail: "on the
// account page" ("on their account page" when the person did it to
// themselves), "with the link we emailed them"; nothing for Slack, whose
// actor is already "our sales team".
func viaWords(via string, themselves bool) string {
	switch via {
	case "account":
		if themselves {
			return "on their account page"
		}
		return "on the account page"
	case "link":
		return "with the link we emailed them"
	}
	return ""
}

// NotifyPrimariesInput is a change of a licence's contacts made by a
// person (a contact on the account page or with a link, or sales in
// Slack), which its primary contacts are told about (review #7).
type NotifyPrimariesInput struct {
	Key        string // one mail per recipient under this key, ever
	SEN        licensing.SEN
	Change     string          // mail.ChangeAdded, ChangeRemoved, ChangePromoted, ChangeMove
	Contact    licensing.Email // the person concerned
	Roles      []licensing.Role
	Offered    bool            // added with an offer of the primary role
	By         string          // who did it, as Requester.Asker says it
	Via        string          // "slack", "account" or "link"
	ApprovedBy licensing.Email // a move: who confirmed it
	Former     []licensing.Email
	// Except are told otherwise or already know: whoever did it, the
	// person demoted (promoted_notice).
	Except []licensing.Email
}

// NotifyPrimaries mails each primary contact of the licence (once, with
// both roles) but Contact and Except about a change of its contacts.
// The licence is read as the change left it. At most two mails a change
// (a licence has one primary per role); idempotent by Key and recipient.
func (a *Activities) NotifyPrimaries(ctx context.Context, in NotifyPrimariesInput) error {
	l, err := a.DB.License(ctx, in.SEN)
	if err != nil {
		return temporalerr.FromDomain(err)
	}
	mine := map[licensing.Email][]string{}
	var order []licensing.Email
	for _, c := range l.Contacts {
		if !c.Primary || c.Email == in.Contact || slices.Contains(in.Except, c.Email) {
			continue
		}
		if _, ok := mine[c.Email]; !ok {
			order = append(order, c.Email)
		}
		if slices.Contains(in.Roles, c.Role) {
			mine[c.Email] = append(mine[c.Email], string(c.Role))
		} else if mine[c.Email] == nil {
			mine[c.Email] = []string{}
		}
	}
	for _, to := range order {
		name, err := a.DB.DisplayName(ctx, to)
		if err != nil {
			return err
		}
		d := mail.ContactsChanged{Name: name, SEN: string(l.SEN), Product: l.Product, Change: in.Change, Contact: string(in.Contact),
			Roles: roleStrings(in.Roles), By: in.By, Via: viaWords(in.Via, in.Change == mail.ChangePromoted), Offered: in.Offered,
			YourRoles: mine[to], Former: emailStrings(in.Former), ApprovedBy: string(in.ApprovedBy), AccountURL: a.PublicBaseURL + "/account"}
		if in.Change == mail.ChangeMove {
			d.Via = ""
		}
		if err := a.deliver(ctx, in.Key+"/"+string(to), to, mail.KindContactsChanged, d); err != nil {
			return err
		}
	}
	return nil
}
