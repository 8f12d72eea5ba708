package links

import (
	"slices"
	"time"

	"licensedesk/licensing"
)

// Served are the purposes /l/ has pages for: a token made for anything
// else (a password-reset token, whose page is /password/reset/) is
// unknown there.
var Served = []licensing.LinkPurpose{licensing.PurposeConfirmRequest, licensing.PurposeConfirmMove,
	licensing.PurposeCompleteAccount, licensing.PurposePromote, licensing.PurposeCardUpdate}

func served(p licensing.LinkPurpose) bool { return slices.Contains(Served, p) }

// Where the payment provider's card page sends people back (web serves
// them). Neither carries a token: the provider keeps these URLs, and a
// link's token must stay between the person and us.
const (
	CardSavedPath     = "/card/saved"
	CardCancelledPath = "/card/cancelled"
)

// View is what a link's page shows before anything happens (GET).
type View struct {
	Purpose   licensing.LinkPurpose
	Email     string    // the person the link was sent to (it only acts for them)
	SEN       string    // licence concerned, if any
	Product   string    // e.g. "Jira Software"
	Summary   []string  // plain sentences: what will happen if they act
	Roles     []string  // promote: the roles they become primary for
	ExpiresAt time.Time // shown as a deadline
	// CompleteAccount: the account is pending and needs a name and password.
	NeedsAccountDetails bool
	// Overdue (card update): the licence's unpaid invoice and failed charge.
	Overdue *licensing.Overdue
}

// Action is what a person submitted (POST).
type Action struct {
	Decision        string // confirm_*: "approve" or "decline"
	DisplayName     string // complete_account
	Password        string // complete_account
	PasswordConfirm string // complete_account
}

// Result is the page shown after acting, or where to go instead.
type Result struct {
	Title       string
	Message     string
	RedirectURL string // e.g. the provider's hosted card page (303 See Other)
}
