package web

import (
	"context"
	"slices"
	"time"
)

// LinkPurpose is what an emailed link lets its recipient do (SPEC §3).
type LinkPurpose string

const (
	PurposeConfirmRequest  LinkPurpose = "confirm_request"  // approve/decline a verification request
	PurposeConfirmMove     LinkPurpose = "confirm_move"     // approve/decline moving a licence
	PurposeCompleteAccount LinkPurpose = "complete_account" // a pending account sets name and password
	PurposePromote         LinkPurpose = "promote"          // a contact makes themselves primary
	PurposeCardUpdate      LinkPurpose = "card_update"      // go on to the payment provider's card page
)

// LinkPurposes are the purposes /l/ serves: a token made for anything else
// (a password-reset token, whose page is /password/reset/) is unknown there.
var LinkPurposes = []LinkPurpose{PurposeConfirmRequest, PurposeConfirmMove, PurposeCompleteAccount, PurposePromote, PurposeCardUpdate}

// Served reports whether /l/ serves links of purpose p.
func (p LinkPurpose) Served() bool { return slices.Contains(LinkPurposes, p) }

// LinkView is what a link's page shows before anything happens (GET).
type LinkView struct {
	Purpose   LinkPurpose
	Email     string    // the person the link was sent to (it only acts for them)
	SEN       string    // licence concerned, if any
	Product   string    // e.g. "Jira Software"
	Summary   []string  // plain sentences: what will happen if they act
	Roles     []string  // promote: the roles they become primary for
	ExpiresAt time.Time // shown as a deadline
	// CompleteAccount: the account is pending and needs a name and password.
	NeedsAccountDetails bool
}

// LinkAction is what a person submitted (POST).
type LinkAction struct {
	Decision        string // confirm_*: "approve" or "decline"
	DisplayName     string // complete_account
	Password        string // complete_account
	PasswordConfirm string // complete_account
}

// LinkResult is the page shown after acting, or where to go instead.
type LinkResult struct {
	Title       string
	Message     string
	RedirectURL string // e.g. the provider's hosted card page (303 See Other)
}

// LinkService looks links up and acts on them. Errors are *licensing.Error:
// NotFound (unknown token → 404), Gone (used, expired or revoked → 410),
// Invalid (bad form input → the form again with the message, 422), others
// as their codes say.
type LinkService interface {
	Lookup(ctx context.Context, token string) (LinkView, error)
	Act(ctx context.Context, token string, action LinkAction) (LinkResult, error)
}
