// Package webhooks is the domain of outbound events (docs/webhooks.md):
// the event types, a receiving endpoint and the rules its URL must follow,
// how a delivery is signed (Standard Webhooks) and when a failed one is
// tried again. No I/O: the events are recorded by PostgreSQL in the
// transaction of each change (postgres, migration 009), posted by
// webhooks/sender and driven by a workflow per endpoint.
package webhooks

import (
	"slices"
	"time"
)

// EventType names what happened, as receivers see it in "type".
type EventType string

// The event types. Each is recorded from the history record of a change
// (SPEC §10) in that change's transaction; docs/webhooks.md has an example
// of each.
const (
	LicenseCreated     EventType = "license.created"
	LicenseUpdated     EventType = "license.updated"
	LicenseSuspended   EventType = "license.suspended"
	LicenseReactivated EventType = "license.reactivated"
	LicenseCancelled   EventType = "license.cancelled"
	LicenseMoved       EventType = "license.moved"
	ContactAdded       EventType = "contact.added"
	ContactRemoved     EventType = "contact.removed"
	ContactPromoted    EventType = "contact.promoted"
	SiteAdminAdded     EventType = "site_admin.added"
	SiteAdminRemoved   EventType = "site_admin.removed"
	PaymentMethodSaved EventType = "payment_method.updated"
	InvoiceCreated     EventType = "invoice.created"
	InvoicePaid        EventType = "invoice.paid"
	InvoiceFailed      EventType = "invoice.payment_failed"
	// InvoiceActionRequired is recorded when a charge needs the customer
	// to authenticate with their bank (SCA): the history action
	// "invoice.payment_action_required", which the bank-authentication
	// flow records in the transaction that marks the invoice so.
	InvoiceActionRequired EventType = "invoice.payment_action_required"
)

// EventTypes lists every type, in the order the documentation shows them.
// The database maps history actions to these (migration 009,
// webhook_event_type); a test keeps the two lists the same.
var EventTypes = []EventType{
	LicenseCreated, LicenseUpdated, LicenseSuspended, LicenseReactivated, LicenseCancelled, LicenseMoved,
	ContactAdded, ContactRemoved, ContactPromoted, SiteAdminAdded, SiteAdminRemoved, PaymentMethodSaved,
	InvoiceCreated, InvoicePaid, InvoiceFailed, InvoiceActionRequired,
}

// Known reports whether t is one of EventTypes.
func Known(t EventType) bool { return slices.Contains(EventTypes, t) }

// Endpoint is a receiver of events.
type Endpoint struct {
	ID             string      `json:"id"` // ep_ and 16 base32 characters
	URL            string      `json:"url"`
	Description    string      `json:"description"`
	Events         []EventType `json:"events"`
	Enabled        bool        `json:"enabled"`
	DisabledReason string      `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time   `json:"created_at"`
	// Backlog is how many events wait to be delivered to it.
	Backlog int `json:"backlog"`
}

// Secrets sign a delivery: the current key, and the one it replaced while
// that one is still honoured (24 h after a rotation).
type Secrets struct {
	Current       []byte
	Previous      []byte
	PreviousUntil time.Time
}

// Attempt is one try to deliver an event to an endpoint, as the delivery
// log shows it.
type Attempt struct {
	ID         string    `json:"id"` // dlv_<n>
	EventID    string    `json:"event_id"`
	EventType  EventType `json:"event_type"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"` // nil: no answer (refused, timed out)
	LatencyMS  int       `json:"latency_ms"`
	Error      string    `json:"error"`
	Delivered  bool      `json:"delivered"`
}
