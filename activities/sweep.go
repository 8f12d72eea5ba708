package activities

import (
	"context"
	"time"

	"licensedesk/postgres"
)

// CollectionStarter starts the collection workflow of each invoice; one
// already started (running or ended) is left as it is
// (temporalclient.Client).
type CollectionStarter interface {
	StartCollections(ctx context.Context, invoices []postgres.InvoiceRef) error
}

// InvoiceDueInput is one page of the billing sweep.
type InvoiceDueInput struct {
	// Today is the workflow's clock when it asked. The activity bills by
	// its own clock (Activities.Clock), which is the same day in
	// production, so that what is due agrees with the day every page and
	// mail renders; Today stays in the input for the recorded histories.
	Today time.Time
	Limit int
}

// InvoiceDueOutput says what the page did.
type InvoiceDueOutput struct {
	Moved    int // licences whose billing date moved on (fewer than Limit: none left)
	Invoiced int // invoices created
}

// InvoiceDue invoices one page of due licences (postgres.DB.InvoiceDue).
// Idempotent: a retry finds the page's licences already moved on.
func (a *Activities) InvoiceDue(ctx context.Context, in InvoiceDueInput) (InvoiceDueOutput, error) {
	moved, invoiced, err := a.DB.InvoiceDue(ctx, a.Clock.Now(), in.Limit, a.Taxes)
	return InvoiceDueOutput{Moved: moved, Invoiced: invoiced}, err
}

// StartCollectionsInput is one page of the collection outbox.
type StartCollectionsInput struct {
	Limit int
}

// StartCollectionsOutput says how many collections started.
type StartCollectionsOutput struct {
	Started int // fewer than Limit: the outbox is empty
}

// StartCollections starts the collections of up to Limit invoices that
// have none yet, then stamps them. A crash in between starts them again on
// the retry, which the workflow IDs (invoice/<number>) make harmless.
func (a *Activities) StartCollections(ctx context.Context, in StartCollectionsInput) (StartCollectionsOutput, error) {
	pending, err := a.DB.PendingCollections(ctx, in.Limit)
	if err != nil || len(pending) == 0 {
		return StartCollectionsOutput{}, err
	}
	if err := a.Collections.StartCollections(ctx, pending); err != nil {
		return StartCollectionsOutput{}, err
	}
	numbers := make([]string, len(pending))
	for i, p := range pending {
		numbers[i] = p.Number
	}
	if err := a.DB.CollectionsStarted(ctx, numbers); err != nil {
		return StartCollectionsOutput{}, err
	}
	return StartCollectionsOutput{Started: len(pending)}, nil
}
