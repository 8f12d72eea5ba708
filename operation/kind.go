package operation

import (
	"net/url"
	"strings"
)

// Kind names what an operation does. It is the first segment of the
// operation's workflow ID ("move/SEN-1000001/new@x.test" is a KindMove).
type Kind string

const (
	KindMove            Kind = "move"
	KindVerify          Kind = "verify"
	KindContactAdd      Kind = "contact-add"
	KindContactRemove   Kind = "contact-remove"
	KindPromote         Kind = "promote"
	KindPromoteSelf     Kind = "promote-self"
	KindCard            Kind = "card"
	KindInvoice         Kind = "invoice"
	KindBilling         Kind = "billing"
	KindPasswordReset   Kind = "password-reset"
	KindPasswordChanged Kind = "password-changed"
	KindInvite          Kind = "invite"
	// KindSignInLocked mails an account holder that wrong passwords
	// paused sign-in to their account (review #17).
	KindSignInLocked Kind = "signin-locked"
	// KindWebhooks is the delivery of events to one webhook endpoint
	// (webhooks/<endpoint ID>), running for as long as the endpoint exists.
	KindWebhooks Kind = "webhooks"
)

// Kinds lists every kind, in the order help and documentation show them.
var Kinds = []Kind{KindMove, KindVerify, KindContactAdd, KindContactRemove, KindPromote, KindPromoteSelf,
	KindCard, KindInvoice, KindBilling, KindPasswordReset, KindPasswordChanged, KindInvite, KindWebhooks, KindSignInLocked}

// KindOf returns the kind a workflow ID names; ok is false when the ID is
// not one of ours (unknown kind, or nothing after it).
func KindOf(workflowID string) (k Kind, ok bool) {
	first, rest, found := strings.Cut(workflowID, "/")
	if !found || rest == "" {
		return "", false
	}
	for _, k := range Kinds {
		if string(k) == first {
			return k, true
		}
	}
	return "", false
}

// Cancellable reports whether a person may cancel operations of this kind.
// Billing and the collection of an invoice are not requests someone made:
// cancelling them would stop billing a licence for good behind everyone's
// back. Billing stops when the licence is cancelled. Webhook delivery
// stops when its endpoint is disabled or deleted (the API).
func (k Kind) Cancellable() bool {
	return k != KindBilling && k != KindInvoice && k != KindWebhooks
}

// WorkflowURL links to a workflow in the Temporal UI; "" when no UI is known.
func WorkflowURL(uiURL, namespace, workflowID, runID string) string {
	if uiURL == "" {
		return ""
	}
	u := strings.TrimRight(uiURL, "/") + "/namespaces/" + url.PathEscape(namespace) + "/workflows/" + url.PathEscape(workflowID)
	if runID != "" {
		u += "/" + url.PathEscape(runID) + "/history"
	}
	return u
}
