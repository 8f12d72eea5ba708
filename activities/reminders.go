package activities

import (
	"context"
	"fmt"
	"slices"
	"time"

	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/postgres"
)

// Billing reminders, run by the billing sweep (issue 20): annual renewals
// 30 days ahead, and the new owner of a moved licence still paid by the
// former owner's card, 14 days on. Queueing is one set-based statement a
// page; sending empties the outbox a page at a time, each mail keyed, so
// a retried page sends nothing twice.

// QueueRenewalsInput is one page of renewals to queue.
type QueueRenewalsInput struct {
	Today time.Time // the workflow's clock
	Limit int
}

// QueueRenewalsOutput says how many licences the page marked (fewer than
// Limit: none is left).
type QueueRenewalsOutput struct {
	Marked int
}

// QueueRenewals queues the renewal reminders of one page of annual
// licences renewing within licensing.RenewalNotice.
func (a *Activities) QueueRenewals(ctx context.Context, in QueueRenewalsInput) (QueueRenewalsOutput, error) {
	marked, _, err := a.DB.QueueRenewalReminders(ctx, in.Today, in.Limit)
	return QueueRenewalsOutput{Marked: marked}, err
}

// SendRemindersInput is one page of the reminder outbox.
type SendRemindersInput struct {
	Today time.Time
	Limit int
}

// SendRemindersOutput says how many reminders the page took from the
// outbox (fewer than Limit: it is empty) and how many mails went out.
type SendRemindersOutput struct {
	Done, Mailed int
}

// SendReminders mails one page of due reminders and stamps them. A
// reminder with nothing left to say (the licence was cancelled, the card
// replaced, the person left) is stamped without a mail.
func (a *Activities) SendReminders(ctx context.Context, in SendRemindersInput) (SendRemindersOutput, error) {
	due, err := a.DB.PendingReminders(ctx, in.Today, in.Limit)
	if err != nil || len(due) == 0 {
		return SendRemindersOutput{}, err
	}
	var out SendRemindersOutput
	ids := make([]int64, 0, len(due))
	for _, r := range due {
		n, err := a.sendReminder(ctx, r, in.Today)
		if err != nil {
			return out, err
		}
		out.Mailed += n
		ids = append(ids, r.ID)
	}
	if err := a.DB.RemindersSent(ctx, ids); err != nil {
		return out, err
	}
	out.Done = len(due)
	return out, nil
}

func (a *Activities) sendReminder(ctx context.Context, r postgres.Reminder, today time.Time) (int, error) {
	l, err := a.DB.License(ctx, r.SEN)
	if err != nil {
		return 0, err
	}
	switch r.Kind {
	case postgres.ReminderRenewal:
		return a.renewalReminder(ctx, r, l, today)
	case postgres.ReminderCardHandover:
		return a.cardHandover(ctx, r, l)
	}
	return 0, fmt.Errorf("unknown reminder kind %q", r.Kind)
}

// renewalReminder mails the billing contacts and the site admins (who
// update an annual licence's card) what the renewal will charge and to
// which card, unless the licence no longer renews on that date.
func (a *Activities) renewalReminder(ctx context.Context, r postgres.Reminder, l licensing.License, today time.Time) (int, error) {
	if l.Status == licensing.Cancelled || l.Cycle != licensing.Annual || !sameDay(l.NextBillingDate, r.About) {
		return 0, nil // cancelled, re-dated or moved to monthly meanwhile: nothing to remind of
	}
	addr, err := a.DB.BillingAddress(ctx, l.SEN)
	if err != nil {
		return 0, err
	}
	bill := licensing.NextBillOf(l, addr, a.Taxes)
	if bill == nil {
		return 0, nil
	}
	d := mail.RenewalReminder{SEN: string(l.SEN), Product: l.Product, RenewsOn: bill.Date, Amount: bill.Amount(), SiteAdmins: emailStrings(l.SiteAdmins)}
	if bill.Tax.Name != "" {
		d.Tax = bill.Tax.Name + " " + bill.Tax.Rate()
	}
	if pm := l.PaymentMethod; pm != nil {
		d.Card = licensing.CardName(*pm)
		// A card is good through the last day of its expiry month.
		if expires := time.Date(pm.ExpYear, time.Month(pm.ExpMonth)+1, 1, 0, 0, 0, 0, time.UTC); !expires.After(bill.Date) {
			d.CardExpires = fmt.Sprintf("%02d/%02d", pm.ExpMonth, pm.ExpYear%100)
		}
	}
	to := billingContacts(l)
	for _, e := range l.SiteAdmins {
		if !slices.Contains(to, e) {
			to = append(to, e)
		}
	}
	mailed := 0
	for _, e := range to {
		m := d
		m.Name, _ = a.DB.DisplayName(ctx, e)
		m.SiteAdmin = !slices.Contains(billingContacts(l), e)
		if m.CanUpdate = licensing.CanUpdateCard(l, e) == nil; m.CanUpdate {
			m.AccountURL = a.PublicBaseURL + "/account"
		}
		key := fmt.Sprintf("renewal/%s/%s/%s", l.SEN, r.About.Format("2006-01-02"), e)
		if err := a.deliver(ctx, key, e, mail.KindRenewalReminder, m); err != nil {
			return mailed, err
		}
		mailed++
	}
	return mailed, nil
}

// cardHandover reminds the new owner of a moved licence, once, that the
// card is still the one the former owner saved, if it still is and they
// are still on the licence.
func (a *Activities) cardHandover(ctx context.Context, r postgres.Reminder, l licensing.License) (int, error) {
	to, old := licensing.Email(r.Detail["new"]), licensing.Email(r.Detail["old"])
	ref, err := a.DB.DefaultCardRef(ctx, l.SEN)
	if err != nil {
		return 0, err
	}
	rel := licensing.RelationOf(l, to)
	if l.Status == licensing.Cancelled || l.PaymentMethod == nil || ref != r.Detail["card"] || (!rel.IsContact() && !rel.SiteAdmin) {
		return 0, nil // a new card was saved, or the licence or the person is gone
	}
	d := mail.CardHandover{SEN: string(l.SEN), Product: l.Product, MovedOn: r.About, Card: licensing.CardName(*l.PaymentMethod),
		OldEmail: string(old), SiteAdmins: emailStrings(l.SiteAdmins)}
	d.Name, _ = a.DB.DisplayName(ctx, to)
	if d.CanUpdate = licensing.CanUpdateCard(l, to) == nil; d.CanUpdate {
		d.AccountURL = a.PublicBaseURL + "/account"
	}
	key := fmt.Sprintf("card-handover/%s/%s/%s", l.SEN, r.About.Format("2006-01-02"), to)
	return 1, a.deliver(ctx, key, to, mail.KindCardHandover, d)
}

func sameDay(a, b time.Time) bool {
	return a.UTC().Format("2006-01-02") == b.UTC().Format("2006-01-02")
}
