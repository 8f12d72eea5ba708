package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/operation"
	"licensedesk/payments"
	"licensedesk/postgres"
)

// licensing.PurposeCardUpdate is the update-card link (7 days, SPEC §3).

// PlanCardUpdateInput names the licence.
type PlanCardUpdateInput struct {
	SEN licensing.SEN
}

// PlanCardUpdateOutput lists who may update the card.
type PlanCardUpdateOutput struct {
	Recipients []licensing.Email
}

// PlanCardUpdate lists exactly the people allowed to update the card
// (licensing.CanUpdateCard over the licence's contacts and site admins).
func (a *Activities) PlanCardUpdate(ctx context.Context, in PlanCardUpdateInput) (PlanCardUpdateOutput, error) {
	l, err := a.DB.License(ctx, in.SEN)
	if err != nil {
		return PlanCardUpdateOutput{}, temporalerr.FromDomain(err)
	}
	out := PlanCardUpdateOutput{Recipients: licensing.CardUpdaters(l)}
	if len(out.Recipients) == 0 {
		if err := licensing.CanUpdateCard(l, ""); err != nil && licensing.ErrorCode(err) != licensing.Invalid {
			return out, temporalerr.FromDomain(err)
		}
		return out, temporalerr.FromDomain(licensing.Errorf(licensing.FailedPrecondition, "Nobody may update the card of %s.", l.SEN))
	}
	return out, nil
}

// ApplyCardInput is a card the provider captured through one of our links.
type ApplyCardInput struct {
	SEN             licensing.SEN
	WorkflowID      string
	SessionID       string
	PaymentMethodID string
	LinkID          int64
}

// ApplyCardOutput says what was applied.
type ApplyCardOutput struct {
	By      licensing.Email
	Card    string // "visa •••• 4242"
	Invoice string // the open invoice to charge now, if the licence owes one
}

// ApplyCard makes a captured card the licence's default. The link's owner
// must still be allowed to update the card (checked again here). Idempotent:
// the provider call can be repeated, and the link is spent in the same
// transaction that records the card; a retry after that finds the card
// already the default and reports success.
func (a *Activities) ApplyCard(ctx context.Context, in ApplyCardInput) (ApplyCardOutput, error) {
	l, err := a.DB.License(ctx, in.SEN)
	if err != nil {
		return ApplyCardOutput{}, temporalerr.FromDomain(err)
	}
	k, err := a.DB.LinkByID(ctx, in.LinkID, licensing.PurposeCardUpdate, in.WorkflowID)
	if err != nil {
		return ApplyCardOutput{}, temporalerr.FromDomain(err)
	}
	out := ApplyCardOutput{By: k.Email}
	if inv, err := a.DB.OpenInvoice(ctx, in.SEN); err == nil && l.Status != licensing.Active {
		out.Invoice = inv.Number
	}
	if k.Used {
		if def, ok := a.DB.DefaultCard(ctx, in.SEN, in.PaymentMethodID); ok {
			out.Card = def
			return out, nil // applied by an earlier try
		}
		return ApplyCardOutput{}, temporalerr.FromDomain(licensing.Errorf(licensing.Gone, "That update-card link was already used."))
	}
	if err := licensing.CanUpdateCard(l, k.Email); err != nil {
		return ApplyCardOutput{}, temporalerr.FromDomain(err)
	}
	customer, err := a.customer(ctx, l)
	if err != nil {
		return ApplyCardOutput{}, err
	}
	pm := in.PaymentMethodID
	if pm == "" {
		r, ok := a.Payments.(payments.SetupResolver)
		if !ok {
			return ApplyCardOutput{}, temporalerr.FromDomain(licensing.Errorf(licensing.Invalid, "The provider reported no card."))
		}
		if pm, err = r.ResolveSetup(ctx, in.SessionID); err != nil {
			return ApplyCardOutput{}, providerError(err)
		}
	}
	card, err := a.Payments.SetDefault(ctx, customer, pm)
	if err != nil {
		return ApplyCardOutput{}, providerError(err)
	}
	if err := a.DB.ApplyCard(ctx, in.LinkID, in.SEN, pm, card.Brand, card.Last4, card.ExpMonth, card.ExpYear); err != nil {
		return ApplyCardOutput{}, temporalerr.FromDomain(err)
	}
	out.Card = fmt.Sprintf("%s •••• %s", card.Brand, card.Last4)
	via := "with an emailed link"
	if in.WorkflowID == operation.AccountCardUpdateID(l.SEN, k.Email) {
		via = "on the account page"
	}
	for _, to := range billingContacts(l) {
		name, _ := a.DB.DisplayName(ctx, to)
		_ = a.deliver(ctx, fmt.Sprintf("%s/card/%d/%s", in.WorkflowID, in.LinkID, to), to, mail.KindCardUpdated, mail.CardUpdated{
			Name: name, SEN: string(l.SEN), Product: l.Product, Card: out.Card, ChargedNow: out.Invoice != "",
			Amount: licensing.FormatMoney(l.PriceCents, l.Currency), By: string(k.Email), ByYou: to == k.Email, Via: via,
		})
	}
	return out, nil
}

// customer returns the provider customer of a licence, creating it once.
func (a *Activities) customer(ctx context.Context, l licensing.License) (string, error) {
	id, err := payments.EnsureCustomer(ctx, a.DB, a.Payments, l)
	if err != nil {
		return "", providerError(err)
	}
	return id, nil
}

func billingContacts(l licensing.License) []licensing.Email {
	var out []licensing.Email
	for _, c := range l.Contacts {
		if c.Role == licensing.Billing && !slices.Contains(out, c.Email) {
			out = append(out, c.Email)
		}
	}
	return out
}

// providerError keeps provider outages retryable and makes the rest final.
func providerError(err error) error {
	if payments.Retryable(err) {
		return err
	}
	return temporalerr.FromDomain(licensing.Errorf(licensing.FailedPrecondition, "The payment provider refused: %v", err))
}

// InvoiceStateInput names an invoice.
type InvoiceStateInput struct {
	Number string
}

// InvoiceStateOutput is what collecting it starts from.
type InvoiceStateOutput struct {
	SEN             licensing.SEN
	DueDate         time.Time
	Paid            bool
	Attempts        int
	LastHard        bool
	LicenseStatus   licensing.Status
	BillingContacts []licensing.Email
	// LastNeedsAuth: the latest attempt waits for the cardholder to
	// confirm it with their bank (bank authentication).
	LastNeedsAuth bool
}

// InvoiceState reads an invoice and its attempts so far.
func (a *Activities) InvoiceState(ctx context.Context, in InvoiceStateInput) (InvoiceStateOutput, error) {
	inv, err := a.DB.Invoice(ctx, in.Number)
	if err != nil {
		return InvoiceStateOutput{}, temporalerr.FromDomain(err)
	}
	l, err := a.DB.License(ctx, inv.SEN)
	if err != nil {
		return InvoiceStateOutput{}, temporalerr.FromDomain(err)
	}
	out := InvoiceStateOutput{SEN: inv.SEN, DueDate: inv.DueDate, Paid: inv.Paid, Attempts: inv.Attempts,
		LastHard:      inv.LastDeclineCode != "" && payments.IsHardDecline(inv.LastDeclineCode),
		LicenseStatus: inv.LicenseStatus, BillingContacts: billingContacts(l)}
	if inv.LastDeclineCode == postgres.AuthenticationRequired {
		aw, err := a.DB.AwaitingAuthentication(ctx, in.Number, 0)
		if err != nil {
			return InvoiceStateOutput{}, err
		}
		out.LastNeedsAuth = aw != nil
	}
	return out, nil
}

// ChargeInvoiceInput is one numbered attempt to collect an invoice.
type ChargeInvoiceInput struct {
	Number  string
	Attempt int
	// Authenticate (collections since "collect-sca"): a charge the bank
	// wants the cardholder to confirm is its own outcome (NeedsAuth), not
	// a hard decline, and an earlier attempt still waiting for that is
	// cancelled at the provider before this one charges (authenticate.go).
	Authenticate bool
}

// ChargeInvoiceOutput is its outcome.
type ChargeInvoiceOutput struct {
	Paid        bool
	Reactivated bool // the licence became active again
	// WasStatus is what it was before: past_due or suspended (with
	// Reactivated), so the mail says what really happened.
	WasStatus licensing.Status
	Hard      bool   // a hard decline: do not retry until the card changes
	Code      string // decline code
	Reason    string // for people
	// NeedsAuth (with Authenticate): the bank wants the cardholder to
	// confirm this charge; it waits, open, at the provider.
	NeedsAuth bool
}

// ChargeInvoice charges an invoice off-session. The idempotency key sent to
// the provider is the invoice number and attempt, which the workflow fixes:
// if this activity dies after the provider charged and before the result was
// written, its retry sends the same key and the provider answers with the
// first result instead of charging again. A paid invoice is never charged.
func (a *Activities) ChargeInvoice(ctx context.Context, in ChargeInvoiceInput) (ChargeInvoiceOutput, error) {
	inv, err := a.DB.Invoice(ctx, in.Number)
	if err != nil {
		return ChargeInvoiceOutput{}, temporalerr.FromDomain(err)
	}
	if inv.Paid {
		return ChargeInvoiceOutput{Paid: true}, nil
	}
	key := fmt.Sprintf("%s/%d", inv.Number, in.Attempt)
	if in.Authenticate {
		if out, done, err := a.supersedeAuthentication(ctx, inv.Number, in.Attempt); done || err != nil {
			return out, err
		}
	}
	if inv.PaymentMethod == "" {
		return a.declined(ctx, inv, key, "no_card", "There is no card on file.", true)
	}
	if in.Attempt > 1 {
		if out, done, err := a.settleEarlierAttempts(ctx, inv, in.Attempt); done || err != nil {
			return out, err
		}
	}
	stored, started, err := a.DB.BeginAttempt(ctx, inv.Number, in.Attempt, key, inv.PaymentMethod)
	if err != nil {
		return ChargeInvoiceOutput{}, err
	}
	switch stored.Status {
	case "succeeded":
		return ChargeInvoiceOutput{Paid: true}, nil
	case "failed":
		if in.Authenticate && stored.DeclineCode == postgres.AuthenticationRequired && stored.ProviderRef != "" {
			return ChargeInvoiceOutput{Code: stored.DeclineCode, NeedsAuth: true, Reason: stored.Error}, nil
		}
		return ChargeInvoiceOutput{Code: stored.DeclineCode, Hard: payments.IsHardDecline(stored.DeclineCode), Reason: stored.Error}, nil
	}
	customer := inv.Customer
	if customer == "" {
		l, err := a.DB.License(ctx, inv.SEN)
		if err != nil {
			return ChargeInvoiceOutput{}, temporalerr.FromDomain(err)
		}
		if customer, err = a.customer(ctx, l); err != nil {
			return ChargeInvoiceOutput{}, err
		}
	}
	// Sent before, answer lost, and so long ago that the provider may have
	// forgotten the key: look for the charge it made before sending again.
	if !started && stored.Age >= reconcileAfter(payments.IdempotencyWindowOf(a.Payments)) {
		if out, done, err := a.reconcile(ctx, inv, in.Attempt, key, customer, stored.CreatedAt); done || err != nil {
			return out, err
		}
	}
	charge, err := a.Payments.Charge(ctx, payments.ChargeInput{
		CustomerID: customer, PaymentMethodID: inv.PaymentMethod, AmountCents: inv.AmountCents, Currency: inv.Currency,
		Description: "Invoice " + inv.Number, IdempotencyKey: key,
		Metadata: map[string]string{"invoice": inv.Number, "sen": string(inv.SEN), "attempt": strconv.Itoa(in.Attempt)},
	})
	var decline *payments.DeclineError
	switch {
	case in.Authenticate && errors.Is(err, payments.ErrNeedsAction) && chargeOf(charge, err) != "":
		return a.awaitCardholder(ctx, inv, key, chargeOf(charge, err))
	case errors.As(err, &decline):
		return a.finishDecline(ctx, inv, key, decline.Code, decline.Message, decline.Hard)
	case errors.Is(err, payments.ErrNeedsAction):
		return a.finishDecline(ctx, inv, key, "authentication_required", "The bank wants the cardholder to confirm this payment.", true)
	case err != nil:
		if a.OnProviderError != nil {
			a.OnProviderError()
		}
		return ChargeInvoiceOutput{}, err // provider down or unknown: retried with the same key
	}
	was, err := a.DB.FinishAttempt(ctx, key, postgres.AttemptResult{Status: "succeeded", ProviderRef: charge.ID})
	if err != nil {
		return ChargeInvoiceOutput{}, err
	}
	return ChargeInvoiceOutput{Paid: true, Reactivated: was != "", WasStatus: was}, nil
}

// declined records a failure that never reached the provider.
func (a *Activities) declined(ctx context.Context, inv postgres.Invoice, key, code, reason string, hard bool) (ChargeInvoiceOutput, error) {
	if _, _, err := a.DB.BeginAttempt(ctx, inv.Number, attemptOf(key), key, "none"); err != nil {
		return ChargeInvoiceOutput{}, err
	}
	return a.finishDecline(ctx, inv, key, code, reason, hard)
}

func (a *Activities) finishDecline(ctx context.Context, inv postgres.Invoice, key, code, reason string, hard bool) (ChargeInvoiceOutput, error) {
	if reason == "" {
		reason = "Your card was declined."
	}
	if _, err := a.DB.FinishAttempt(ctx, key, postgres.AttemptResult{Status: "failed", DeclineCode: code, Error: reason}); err != nil {
		return ChargeInvoiceOutput{}, err
	}
	if err := a.DB.MarkPastDue(ctx, inv.SEN, inv.DueDate, inv.Number); err != nil {
		return ChargeInvoiceOutput{}, err
	}
	return ChargeInvoiceOutput{Code: code, Hard: hard || payments.IsHardDecline(code), Reason: reason}, nil
}

func attemptOf(key string) int {
	var n int
	for i := len(key) - 1; i >= 0 && key[i] >= '0' && key[i] <= '9'; i-- {
		n = 0
		fmt.Sscanf(key[i:], "%d", &n)
	}
	return n
}

// Billing notice kinds.
const (
	NoticePaid      = "paid"
	NoticeFailed    = "failed"
	NoticeSuspended = "suspended"
)

// BillingNoticeInput is one billing event to tell people about.
type BillingNoticeInput struct {
	Kind        string
	Number      string
	Key         string
	Reason      string
	Hard        bool
	NextRetry   time.Time
	SuspendOn   time.Time
	Suspend     bool // retries ran out: suspend now
	Reactivated bool
	WasStatus   licensing.Status // with Reactivated: past_due or suspended ("" from runs before it was told)
	Channel     string
	Reminder    bool // NoticeNeedsAuth: a reminder on the retry schedule
	// CardLinks, on a failure or suspension, gives each person allowed to
	// update the card a link of their own in the mail. Nil: the mail says
	// a link comes separately (collections started before links were
	// theirs).
	CardLinks *CardLinks
}

// CardLinks are update-card links a billing notice carries: they belong
// to WorkflowID (the collection, which applies the card they capture) and
// expire at Deadline.
type CardLinks struct {
	WorkflowID string
	Deadline   time.Time
}

// BillingNotice emails the billing contacts about a payment, a failure or
// a suspension (a suspension is applied here) and records it for the
// billing run's digest in Slack, with a line in its thread when a person
// must act. Nothing is posted to Slack per invoice. Idempotent by Key.
func (a *Activities) BillingNotice(ctx context.Context, in BillingNoticeInput) error {
	if in.Kind == NoticeNeedsAuth {
		return a.authNotice(ctx, in)
	}
	inv, err := a.DB.Invoice(ctx, in.Number)
	if err != nil {
		return temporalerr.FromDomain(err)
	}
	suspended := false
	if in.Kind == NoticeSuspended || in.Suspend {
		if suspended, err = a.DB.Suspend(ctx, inv.SEN, inv.Number); err != nil {
			return err
		}
	}
	l, err := a.DB.License(ctx, inv.SEN)
	if err != nil {
		return temporalerr.FromDomain(err)
	}
	amount := licensing.FormatMoney(inv.AmountCents, inv.Currency)
	// The failed charge as the account page's banner tells it.
	var failedAt time.Time
	code := ""
	if in.Kind == NoticeFailed {
		if o, err := a.DB.Overdue(ctx, inv.SEN); err == nil && o != nil && o.Invoice == inv.Number {
			failedAt, code = o.FailedAt, o.DeclineCode
		}
	}
	invoiceURL := a.PublicBaseURL + licensing.InvoicePath(inv.Number)
	for _, to := range noticeRecipients(l, in) {
		key := in.Key + "/" + string(to)
		if sent, err := a.DB.MailSent(ctx, key); err != nil || sent {
			if err != nil {
				return err
			}
			continue // an earlier try sent it (and made its link)
		}
		name, _ := a.DB.DisplayName(ctx, to)
		var (
			kind mail.Kind
			data any
		)
		allowed := licensing.CanUpdateCard(l, to) == nil
		// With CardLinks, those allowed to update the card get a link of
		// their own in this mail; without, a CardUpdate the collection
		// starts mails them one. The others are told to ask a site admin.
		var url string
		var deadline time.Time
		if in.Kind != NoticePaid && in.CardLinks != nil && allowed {
			var err error
			if url, deadline, err = a.cardLink(ctx, l, to, in.CardLinks); err != nil {
				return err
			}
		}
		linkSent := allowed && in.CardLinks == nil
		updaterOnly := !slices.Contains(billingContacts(l), to)
		admins := emailStrings(l.SiteAdmins)
		switch {
		case in.Kind == NoticePaid:
			kind, data = mail.KindPaymentSucceeded, mail.PaymentSucceeded{Name: name, SEN: string(l.SEN), Product: l.Product, Amount: amount, InvoiceNumber: inv.Number, Card: inv.Card,
				Reactivated: in.Reactivated, Was: string(in.WasStatus), ReceiptURL: invoiceURL}
		case in.Kind == NoticeFailed && !(in.Suspend && l.Status == licensing.Suspended):
			kind, data = mail.KindPaymentFailed, mail.PaymentFailed{Name: name, SEN: string(l.SEN), Product: l.Product, Amount: amount, InvoiceNumber: inv.Number,
				Reason: in.Reason, DeclineCode: code, FailedAt: failedAt, Hard: in.Hard, NextRetry: in.NextRetry, SuspendOn: in.SuspendOn, LinkSent: linkSent, UpdateURL: url, Deadline: deadline,
				UpdaterOnly: updaterOnly, SiteAdmins: admins, InvoiceURL: invoiceURL}
		default: // suspended now, by this notice or because retries ran out
			kind, data = mail.KindLicenceSuspended, mail.LicenceSuspended{Name: name, SEN: string(l.SEN), Product: l.Product, Amount: amount, InvoiceNumber: inv.Number,
				LinkSent: linkSent, UpdateURL: url, Deadline: deadline, UpdaterOnly: updaterOnly, SiteAdmins: admins, InvoiceURL: invoiceURL}
		}
		var links []string
		if url != "" {
			links = []string{url}
		}
		if err := a.deliver(ctx, key, to, kind, data, links...); err != nil {
			return err
		}
	}
	// Slack hears of it in the billing run's digest, not a message of its own.
	return a.recordBillingEvent(ctx, inv, in, suspended, l.Status == licensing.Suspended)
}

func emailStrings(list []licensing.Email) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = string(e)
	}
	return out
}

// noticeRecipients are the billing contacts; on a failure with its own
// update-card links, also those allowed to update the card (a site admin
// of an annual licence, say), who can fix it.
func noticeRecipients(l licensing.License, in BillingNoticeInput) []licensing.Email {
	to := billingContacts(l)
	if in.Kind != NoticePaid && in.CardLinks != nil {
		for _, e := range licensing.CardUpdaters(l) {
			if !slices.Contains(to, e) {
				to = append(to, e)
			}
		}
	}
	return to
}

// cardLink makes one person's update-card link for a billing notice; only
// its hash is stored, and it acts for the collection in links.WorkflowID.
func (a *Activities) cardLink(ctx context.Context, l licensing.License, to licensing.Email, links *CardLinks) (string, time.Time, error) {
	ttl := a.timeLeft(ctx, links.Deadline)
	if ttl <= 0 {
		ttl = time.Hour // a retried activity long after the notice: a short-lived link still helps
	}
	token, expires, err := a.DB.CreateLink(ctx, postgres.NewLink{
		Purpose: licensing.PurposeCardUpdate, Email: to, SEN: l.SEN, WorkflowID: links.WorkflowID, TTL: ttl,
		Data: map[string]any{"summary": licensing.CardUpdateSummary(l)},
	})
	if err != nil {
		return "", time.Time{}, temporalerr.FromDomain(err)
	}
	return a.PublicBaseURL + "/l/" + token, expires, nil
}

// NextBillingInput names a licence.
type NextBillingInput struct {
	SEN licensing.SEN
}

// NextBillingOutput is when it is next billed, and who is billed.
type NextBillingOutput struct {
	Date            time.Time
	Billable        bool
	BillingContacts []licensing.Email
}

// NextBilling reads the next billing date and the billing contacts.
func (a *Activities) NextBilling(ctx context.Context, in NextBillingInput) (NextBillingOutput, error) {
	d, ok, err := a.DB.NextBillingDate(ctx, in.SEN)
	if err != nil {
		return NextBillingOutput{}, temporalerr.FromDomain(err)
	}
	l, err := a.DB.License(ctx, in.SEN)
	if err != nil {
		return NextBillingOutput{}, temporalerr.FromDomain(err)
	}
	return NextBillingOutput{Date: d, Billable: ok, BillingContacts: billingContacts(l)}, nil
}

// CreateInvoiceInput is a period to invoice.
type CreateInvoiceInput struct {
	SEN         licensing.SEN
	PeriodStart time.Time
}

// CreateInvoiceOutput names the invoice.
type CreateInvoiceOutput struct {
	Number string
}

// CreateInvoice invoices a period and moves the next billing date on.
// Idempotent per period.
func (a *Activities) CreateInvoice(ctx context.Context, in CreateInvoiceInput) (CreateInvoiceOutput, error) {
	n, err := a.DB.CreateInvoice(ctx, in.SEN, in.PeriodStart)
	if err != nil {
		return CreateInvoiceOutput{}, temporalerr.FromDomain(err)
	}
	return CreateInvoiceOutput{Number: n}, nil
}
