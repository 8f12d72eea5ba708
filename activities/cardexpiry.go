package activities

import (
	"context"
	"fmt"
	"time"

	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/operation"
	"licensedesk/postgres"
)

// Expiring cards: the daily run (workflows.CardReminders) queues the
// reminders that came due, then mails them a page at a time. Each person
// allowed to update the card gets their own update-card link; it belongs
// to a card update of theirs (operation.CardExpiryID) that starts only if
// they save a card through it. Every reminder goes out at most once: one
// row per card and stage, and one mail key per reminder and person.

// expiryLinkLife is how long a reminder's update-card link lives (SPEC §3:
// card update 7 days).
const expiryLinkLife = 7 * 24 * time.Hour

// QueueCardRemindersInput is the day of the run.
type QueueCardRemindersInput struct {
	Today time.Time // the workflow's clock
}

// QueueCardRemindersOutput says how many reminders came due.
type QueueCardRemindersOutput struct {
	Queued int
}

// QueueCardReminders queues the reminders due today (postgres.DB.
// QueueCardReminders). Idempotent.
func (a *Activities) QueueCardReminders(ctx context.Context, in QueueCardRemindersInput) (QueueCardRemindersOutput, error) {
	n, err := a.DB.QueueCardReminders(ctx, in.Today)
	return QueueCardRemindersOutput{Queued: n}, err
}

// SendCardRemindersInput is one page of the reminders to mail.
type SendCardRemindersInput struct {
	Limit int
	Now   time.Time // the workflow's clock, for what the mails say
}

// SendCardRemindersOutput says what the page did.
type SendCardRemindersOutput struct {
	Done    int // reminders finished, mailed or skipped (fewer than Limit: none left)
	Mailed  int // mails sent
	Skipped int // reminders dropped: a new card, or the licence cancelled, before they went out
}

// SendCardReminders mails up to Limit queued reminders and stamps them. A
// reminder whose card was replaced, or whose licence was cancelled or is
// no longer billed, meanwhile is stamped skipped and mails nobody. A crash
// part-way mails the rest on the retry; the mail keys stop a second copy.
func (a *Activities) SendCardReminders(ctx context.Context, in SendCardRemindersInput) (SendCardRemindersOutput, error) {
	pending, err := a.DB.PendingCardReminders(ctx, in.Limit)
	if err != nil {
		return SendCardRemindersOutput{}, err
	}
	var out SendCardRemindersOutput
	for _, r := range pending {
		mailed, skipped, err := a.cardReminder(ctx, r, in.Now)
		if err != nil {
			return out, err
		}
		if err := a.DB.CardReminderDone(ctx, r.PaymentMethodID, r.Stage, skipped); err != nil {
			return out, err
		}
		out.Done++
		out.Mailed += mailed
		if skipped != "" {
			out.Skipped++
		}
	}
	return out, nil
}

// cardReminder mails one reminder to each person allowed to update the
// card, or says why nobody is mailed.
func (a *Activities) cardReminder(ctx context.Context, r postgres.CardReminder, now time.Time) (mailed int, skipped string, err error) {
	if !r.Default {
		return 0, "replaced", nil
	}
	l, err := a.DB.License(ctx, r.SEN)
	if licensing.ErrorCode(err) == licensing.NotFound {
		return 0, "no licence", nil
	}
	if err != nil {
		return 0, "", err
	}
	if l.Deployment != licensing.Cloud || l.Status == licensing.Cancelled {
		return 0, "cancelled", nil
	}
	to := licensing.CardUpdaters(l)
	if len(to) == 0 {
		return 0, "nobody may update the card", nil
	}
	d := mail.CardExpiring{SEN: string(l.SEN), Product: l.Product, Card: licensing.CardName(r.Card),
		Expires: licensing.CardExpiresOn(r.Card.ExpMonth, r.Card.ExpYear), NextCharge: l.NextBillingDate,
		Amount: licensing.FormatMoney(l.PriceCents, l.Currency), Annual: l.Cycle == licensing.Annual}
	d.Expired = !now.Before(d.Expires)
	for _, email := range to {
		key := fmt.Sprintf("card-expiry/%d/%s/%s", r.PaymentMethodID, r.Stage, email)
		if sent, err := a.DB.MailSent(ctx, key); err != nil || sent {
			if err != nil {
				return mailed, "", err
			}
			continue
		}
		d.Name, _ = a.DB.DisplayName(ctx, email)
		token, expires, err := a.DB.CreateLink(ctx, postgres.NewLink{
			Purpose: licensing.PurposeCardUpdate, Email: email, SEN: l.SEN, WorkflowID: operation.CardExpiryID(l.SEN, email), TTL: expiryLinkLife,
			Data: map[string]any{"summary": licensing.CardUpdateSummary(l), "origin": "expiry"},
		})
		if err != nil {
			return mailed, "", temporalerr.FromDomain(err)
		}
		d.UpdateURL, d.Deadline = a.PublicBaseURL+"/l/"+token, expires
		if err := a.deliver(ctx, key, email, mail.KindCardExpiring, d, d.UpdateURL); err != nil {
			return mailed, "", err
		}
		mailed++
	}
	return mailed, "", nil
}
