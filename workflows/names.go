package workflows

import (
	"strings"
	"time"

	"licensedesk/licensing"
)

// The wire contract of licensedesk's workflows: query, update and signal
// names, and workflow IDs that carry business meaning (SPEC §8), so the same
// request twice maps to the same workflow.
const (
	StatusQuery        = "status"
	DecideUpdate       = "decide"  // a confirm link was pressed: approve or decline
	PromoteUpdate      = "promote" // a promote link was pressed
	CancelReasonSignal = "cancel-reason"
)

func MoveID(sen licensing.SEN, to licensing.Email) string {
	return "move/" + string(sen) + "/" + string(to)
}
func VerifyID(sen licensing.SEN, requester licensing.Email) string {
	return "verify/" + string(sen) + "/" + string(requester)
}
func ContactAddID(sen licensing.SEN, role licensing.Role, email licensing.Email) string {
	return "contact-add/" + string(sen) + "/" + string(role) + "/" + string(email)
}
func ContactRemoveID(sen licensing.SEN, role licensing.Role, email licensing.Email) string {
	return "contact-remove/" + string(sen) + "/" + string(role) + "/" + string(email)
}
func PromoteID(sen licensing.SEN, email licensing.Email) string {
	return "promote/" + string(sen) + "/" + string(email)
}

// PromoteSelfID names a signed-in contact making themselves primary.
func PromoteSelfID(sen licensing.SEN, role licensing.Role, email licensing.Email) string {
	return "promote-self/" + string(sen) + "/" + string(role) + "/" + string(email)
}

// PasswordResetID names a reset request for an email (which may have no
// account). Runs are short; each request is a new run of the same ID.
func PasswordResetID(email licensing.Email) string { return "password-reset/" + string(email) }

// PasswordChangedID names the confirmation of one password change.
func PasswordChangedID(email licensing.Email, at time.Time) string {
	return "password-changed/" + string(email) + "/" + at.UTC().Format("20060102T150405.000Z")
}

// CardUpdateForID names a card update started by one signed-in person from
// the account page (CardUpdateID is the one that emails everyone allowed).
func CardUpdateForID(sen licensing.SEN, email licensing.Email) string {
	return "card/" + string(sen) + "/" + string(email)
}

// OperationOf returns the operation a workflow ID names ("move", ...), or ""
// when it is not one of ours.
func OperationOf(workflowID string) string {
	op, rest, ok := strings.Cut(workflowID, "/")
	if !ok || rest == "" {
		return ""
	}
	switch op {
	case "move", "verify", "contact-add", "contact-remove", "promote", "promote-self", "invoice", "billing", "card",
		"password-reset", "password-changed":
		return op
	}
	return ""
}

// All lists every workflow function, for worker registration and replay
// tests.
var All = []any{Move, Verify, ContactAdd, ContactRemove, Promote, CollectInvoice, BillingCycle, CardUpdate,
	PromoteSelf, PasswordReset, PasswordChanged}
