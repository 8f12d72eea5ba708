// Package licensing holds licensedesk's domain: licences, accounts, contacts
// and the rules about who may do what. It does no I/O, so every rule can be
// tested exhaustively without a database, Temporal or Slack.
package licensing

import (
	"strings"
	"time"
)

// Role is the kind of contact an account is for a licence.
type Role string

const (
	Billing   Role = "billing"
	Technical Role = "technical"
)

// Roles lists every role in display order.
var Roles = []Role{Billing, Technical}

// Deployment says where a licensed product runs.
type Deployment string

const (
	Server Deployment = "server"
	Cloud  Deployment = "cloud"
)

// Cycle is how often a cloud licence is billed.
type Cycle string

const (
	Monthly Cycle = "monthly"
	Annual  Cycle = "annual"
)

// Status is a licence's billing status.
type Status string

const (
	Active    Status = "active"
	PastDue   Status = "past_due"
	Suspended Status = "suspended"
	Cancelled Status = "cancelled"
)

// AccountStatus is the state of a customer account.
type AccountStatus string

const (
	AccountPending  AccountStatus = "pending"
	AccountActive   AccountStatus = "active"
	AccountDisabled AccountStatus = "disabled"
)

// Contact is one (account, role) row of a licence.
type Contact struct {
	Email         Email         `json:"email"`
	Role          Role          `json:"role"`
	Primary       bool          `json:"primary"`
	AccountStatus AccountStatus `json:"account_status"`
}

// PaymentMethod is our reference to a card held by the payment provider;
// never a card number.
type PaymentMethod struct {
	Brand    string `json:"brand"`
	Last4    string `json:"last4"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	// AddedBy is who saved the card (an account's email), when known:
	// after a move it may be someone no longer on the licence.
	AddedBy Email `json:"added_by,omitempty"`
}

// License is the read model of a licence with everyone attached to it.
type License struct {
	SEN             SEN
	Product         string
	Deployment      Deployment
	Cycle           Cycle // empty for server licences
	Status          Status
	Site            string
	PriceCents      int64
	Currency        string
	NextBillingDate time.Time // zero for server licences
	SiteAdmins      []Email
	Contacts        []Contact // ordered by role, primary first, then email
	PaymentMethod   *PaymentMethod
}

// SEN is a canonical Support Entitlement Number, e.g. SEN-1000001 or
// SEN-L1234567. Build one with ParseSEN.
type SEN string

// Email is a normalised (trimmed, lower-case) email address. Build one with
// ParseEmail.
type Email string

// CardName names a card as customers read it: "Visa ending 4242".
func CardName(pm PaymentMethod) string {
	brand := pm.Brand
	if brand != "" {
		brand = strings.ToUpper(brand[:1]) + brand[1:]
	} else {
		brand = "Card"
	}
	return brand + " ending " + pm.Last4
}
