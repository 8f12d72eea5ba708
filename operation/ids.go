package operation

import (
	"strconv"
	"strings"
	"time"

	"licensedesk/licensing"
)

// Workflow IDs carry business meaning (SPEC §8): the kind, then what the
// operation is about, so the same request twice maps to the same workflow
// and /license status finds it by what sales typed. KindOf reads them back.

func (k Kind) id(parts ...string) string { return string(k) + "/" + strings.Join(parts, "/") }

// MoveID names moving a licence to the account to.
func MoveID(sen licensing.SEN, to licensing.Email) string {
	return KindMove.id(string(sen), string(to))
}

// VerifyID names verifying that requester may act on a licence.
func VerifyID(sen licensing.SEN, requester licensing.Email) string {
	return KindVerify.id(string(sen), string(requester))
}

// ContactAddID names adding a contact in one role.
func ContactAddID(sen licensing.SEN, role licensing.Role, email licensing.Email) string {
	return KindContactAdd.id(string(sen), string(role), string(email))
}

// ContactRemoveID names removing a contact from one role.
func ContactRemoveID(sen licensing.SEN, role licensing.Role, email licensing.Email) string {
	return KindContactRemove.id(string(sen), string(role), string(email))
}

// PromoteID names the emailed offer to a contact to make themselves primary.
func PromoteID(sen licensing.SEN, email licensing.Email) string {
	return KindPromote.id(string(sen), string(email))
}

// PromoteSelfID names a signed-in contact making themselves primary.
func PromoteSelfID(sen licensing.SEN, role licensing.Role, email licensing.Email) string {
	return KindPromoteSelf.id(string(sen), string(role), string(email))
}

// CardUpdateID names emailing update-card links to everyone allowed.
func CardUpdateID(sen licensing.SEN) string { return KindCard.id(string(sen)) }

// AccountCardUpdateID names a card update one signed-in person starts from
// the account page (nobody is emailed).
func AccountCardUpdateID(sen licensing.SEN, email licensing.Email) string {
	return KindCard.id(string(sen), string(email))
}

// InvoiceID names the collection of one invoice.
func InvoiceID(number string) string { return KindInvoice.id(number) }

// BillingID names a licence's billing cycle.
func BillingID(sen licensing.SEN) string { return KindBilling.id(string(sen)) }

// BillingNoticesID names the payment mails of the nth page a billing sweep
// charged (sweep: the sweep's workflow ID and first run ID).
func BillingNoticesID(sweep string, n int) string {
	return KindBilling.id("notices", sweep, strconv.Itoa(n))
}

// PasswordResetID names a reset request for an email (which may have no
// account). Runs are short; each request is a new run of the same ID.
func PasswordResetID(email licensing.Email) string { return KindPasswordReset.id(string(email)) }

// PasswordChangedID names the confirmation of one password change.
func PasswordChangedID(email licensing.Email, at time.Time) string {
	return KindPasswordChanged.id(string(email), at.UTC().Format("20060102T150405.000Z"))
}

// SignInLockedID names the mail about a sign-in lock of an account in the
// hour of at: one an hour at most, however often the lock comes back.
func SignInLockedID(email licensing.Email, at time.Time) string {
	return KindSignInLocked.id(string(email), at.UTC().Format("20060102T15"))
}

// InviteID names mailing the account-setup invitation to a person a
// provisioned licence names (SPEC §9 "invite": true). One per person and
// licence, ever: provisioning the same licence again invites nobody twice.
func InviteID(sen licensing.SEN, email licensing.Email) string {
	return KindInvite.id(string(sen), string(email))
}

// WebhooksID names the delivery of events to one webhook endpoint.
func WebhooksID(endpointID string) string { return KindWebhooks.id(endpointID) }

// CardExpiryID names the card update a card-expiry reminder's link leads
// to, one per licence and person: it is started only when they save a
// card through the link (the payment webhook starts it), so reminders
// cost no workflow.
func CardExpiryID(sen licensing.SEN, email licensing.Email) string {
	return KindCard.id(string(sen), string(email), "expiry")
}

// ParseCardExpiryID reads a CardExpiryID back.
func ParseCardExpiryID(id string) (licensing.SEN, licensing.Email, bool) {
	parts := strings.Split(id, "/")
	if len(parts) != 4 || parts[0] != string(KindCard) || parts[3] != "expiry" {
		return "", "", false
	}
	sen, err := licensing.ParseSEN(parts[1])
	if err != nil {
		return "", "", false
	}
	email, err := licensing.ParseEmail(parts[2])
	if err != nil {
		return "", "", false
	}
	return sen, email, true
}
