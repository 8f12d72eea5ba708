package workflows

// The wire contract of licensedesk's workflows: every query, update and
// signal name, here and nowhere else (names_test.go fails on a handler or
// a client call that names one with a literal or a constant of its own).
// Runs in flight and clients of other versions use these strings: never
// change one. Workflow IDs are built in package operation
// (operation.MoveID...).

// Queries.
const (
	// StatusQuery answers every operation's status (operation.Status).
	StatusQuery = "status"
)

// Updates.
const (
	DecideUpdate  = "decide"  // a confirm link was pressed: approve or decline
	PromoteUpdate = "promote" // a promote link was pressed
	// DeclinePromotionUpdate is a promote link's Decline: the offer ends
	// (and a move waiting for it is called off).
	DeclinePromotionUpdate = "decline-promotion"
	// ResendUpdate mails a fresh link for the step an operation waits on
	// (/license resend, SPEC §11).
	ResendUpdate = "resend"
)

// Signals.
const (
	CancelReasonSignal = "cancel-reason"
	// NudgeWebhooksSignal tells an endpoint's delivery that events wait
	// (WebhookNudge).
	NudgeWebhooksSignal = "webhooks-nudge"
	// PaymentAuthenticatedSignal tells an invoice's collection that the
	// provider reports a charge of it confirmed by the cardholder (bank
	// authentication); the collection asks the provider itself.
	PaymentAuthenticatedSignal = "payment-authenticated"
	// PersonLeftSignal tells a workflow that a person it may be waiting on
	// is no longer a contact or site admin of its licence: their links to
	// it were withdrawn. A step that waits only on people who left ends at
	// once, saying so, instead of waiting for its deadline with nobody
	// able to act.
	PersonLeftSignal = "person-left"

	// Billing: an invoice's collection (CollectInvoice) and the card
	// update (CardUpdate).
	CardUpdatedSignal  = "card-updated"  // a new default card is set: retry at once
	ChargeNowSignal    = "charge-now"    // /license charge: retry at once
	CardCapturedSignal = "card-captured" // the provider reports a captured card (webhook)
	// ChargeResultSignal tells a workflow that asked for a charge (a card
	// update) how the attempt went.
	ChargeResultSignal = "charge-result"
)

// All lists every workflow function, for worker registration and replay
// tests.
var All = []any{Move, Verify, ContactAdd, ContactRemove, Promote, CollectInvoice, BillingCycle, BillingSweep, CardUpdate,
	PromoteSelf, PasswordReset, PasswordChanged, Invite, DeliverWebhooks, BillingNotices, CardReminders, SignInLocked}
