package workflows

import (
	"strings"

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

// OperationOf returns the operation a workflow ID names ("move", ...), or ""
// when it is not one of ours.
func OperationOf(workflowID string) string {
	op, rest, ok := strings.Cut(workflowID, "/")
	if !ok || rest == "" {
		return ""
	}
	switch op {
	case "move", "verify", "contact-add", "contact-remove", "promote", "invoice", "billing", "card":
		return op
	}
	return ""
}

// All lists every workflow function, for worker registration and replay
// tests.
var All = []any{Move, Verify, ContactAdd, ContactRemove, Promote, CollectInvoice, BillingCycle, CardUpdate}
