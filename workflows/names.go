package workflows

// The wire contract of licensedesk's workflows: query, update and signal
// names. Their IDs are built in package operation (operation.MoveID...).
const (
	StatusQuery   = "status"
	DecideUpdate  = "decide"  // a confirm link was pressed: approve or decline
	PromoteUpdate = "promote" // a promote link was pressed
	// DeclinePromotionUpdate is a promote link's Decline: the offer ends
	// (and a move waiting for it is called off).
	DeclinePromotionUpdate = "decline-promotion"
	CancelReasonSignal     = "cancel-reason"
	// NudgeWebhooksSignal tells an endpoint's delivery that events wait
	// (WebhookNudge).
	NudgeWebhooksSignal = "webhooks-nudge"
	// PaymentAuthenticatedSignal tells an invoice's collection that the
	// provider reports a charge of it confirmed by the cardholder (bank
	// authentication); the collection asks the provider itself.
	PaymentAuthenticatedSignal = "payment-authenticated"
)

// All lists every workflow function, for worker registration and replay
// tests.
var All = []any{Move, Verify, ContactAdd, ContactRemove, Promote, CollectInvoice, BillingCycle, BillingSweep, CardUpdate,
	PromoteSelf, PasswordReset, PasswordChanged, Invite, DeliverWebhooks, BillingNotices, CardReminders, SignInLocked}
