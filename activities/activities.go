// Package activities holds every side effect licensedesk's workflows perform
// (database writes, mail, Slack). Activities are methods on one struct
// holding the dependencies, and each is idempotent: Temporal may run it more
// than once, so each either checks what is already done (contact rows, mail
// keys) or is naturally repeatable.
package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"licensedesk/internal/clock"
	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/payments"
	"licensedesk/postgres"
	"licensedesk/slackout"
)

// Mailer delivers a message at most once per Key (mail.Outbox).
type Mailer interface {
	Deliver(ctx context.Context, m mail.Message) error
}

// Activities holds what the activities need.
type Activities struct {
	DB          *postgres.DB
	Mail        Mailer
	Slack       slackout.Poster // nil: no Slack reporting
	Payments    payments.Provider
	Collections CollectionStarter // the billing sweep starts invoice collections through it
	// OnProviderError, if set, is told of every charge the payment
	// provider did not answer (retried with the same idempotency key).
	OnProviderError func()
	PublicBaseURL   string // emailed links are built from it
	// AlertChannel is where billing runs post their digests (SLACK_CHANNEL).
	AlertChannel string
	// LargeInvoiceCents: an invoice of at least this much (minor units, in
	// its own currency) whose charge fails gets a line in its digest's
	// thread (BILLING_LARGE_INVOICE); 0: none is large.
	LargeInvoiceCents int64
	// ChargeConcurrency is how many first attempts of a billing page are
	// in flight at once; 0: 32. The paced provider keeps the rate.
	ChargeConcurrency int
	TemporalUIURL     string // for links to workflows in Slack
	Namespace         string
	Brand             licensing.Brand    // signs every mail (BRAND_NAME) and gives its support contact
	Clock             clock.Clock        // what "now" is for what activities decide and render; nil: the wall clock
	Webhooks          Webhooks           // outbound events: the sender and its metrics
	Taxes             licensing.TaxRules // INVOICE_TAXES: the tax new invoices carry
	// LockFor is how long a first sign-in lock lasts (accounts.Options
	// LockBase), which the lock mail says [1 minute].
	LockFor time.Duration

	// ResetLinks returns a token for the link of one password-reset
	// request (named by request; the same on every retry), or ok false
	// when no reset mail must be sent (no active account, enough requests
	// this hour, or the request's link no longer usable).
	// accounts.Service.IssueResetLink; nil: resets send nothing.
	ResetLinks func(ctx context.Context, email licensing.Email, workflowID, request string) (link ResetLink, ok bool, err error)
}

// timeLeft is how long remains until a workflow's deadline. The deadline is
// on the workflow's clock (the Temporal server's), so it is measured from
// when the server started this activity, not from this process's clock:
// the two agree in production, and a test that moves the process's clock
// still gives links the lifetime their workflow meant.
func (a *Activities) timeLeft(ctx context.Context, deadline time.Time) time.Duration {
	if activity.IsActivity(ctx) {
		if started := activity.GetInfo(ctx).StartedTime; !started.IsZero() {
			return deadline.Sub(started)
		}
	}
	return a.Clock.Until(deadline)
}

// ResetLink is a password-reset link to mail, as ResetLinks returns it.
type ResetLink struct {
	Path      string // below PublicBaseURL; holds the token
	ExpiresAt time.Time
	Issue     int // 1: the link's first token; n: its nth, made for a retry
}

// LookupLicenseInput names a licence.
type LookupLicenseInput struct {
	SEN licensing.SEN
}

// LookupLicenseOutput is the licence as it is now.
type LookupLicenseOutput struct {
	License licensing.License
}

// LookupLicense reads a licence with its contacts and site admins.
func (a *Activities) LookupLicense(ctx context.Context, in LookupLicenseInput) (LookupLicenseOutput, error) {
	l, err := a.DB.License(ctx, in.SEN)
	if err != nil {
		return LookupLicenseOutput{}, temporalerr.FromDomain(err)
	}
	return LookupLicenseOutput{License: l}, nil
}
