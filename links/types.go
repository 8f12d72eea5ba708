package links

import (
	"fmt"
	"slices"
	"time"

	"licensedesk/licensing"
)

// Served are the purposes /l/ has pages for: a token made for anything
// else (a password-reset token, whose page is /password/reset/) is
// unknown there.
var Served = []licensing.LinkPurpose{licensing.PurposeConfirmRequest, licensing.PurposeConfirmMove,
	licensing.PurposeCompleteAccount, licensing.PurposePromote, licensing.PurposeCardUpdate, licensing.PurposeConfirmPayment}

func served(p licensing.LinkPurpose) bool { return slices.Contains(Served, p) }

// Where the payment provider's card page sends people back (web serves
// them). Neither carries a token: the provider keeps these URLs, and a
// link's token must stay between the person and us.
const (
	CardSavedPath     = "/card/saved"
	CardCancelledPath = "/card/cancelled"
	// PaymentConfirmedPath is where the bank's check of a payment sends
	// people back (confirm_payment links).
	PaymentConfirmedPath = "/payment/confirmed"
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

	// Who asked for this, and when: an address, or "our sales team".
	AskedBy string
	AskedAt time.Time // zero: not known (links made before it was kept)
	// Promote: the primary contacts now, who become secondary; and, for a
	// move, the contact who confirmed it.
	Demoted    []string
	ForMove    bool
	ApprovedBy string
	ApprovedAt time.Time
	// Moves (confirm_move, and promote for a move).
	NewEmail  string   // the account the licence moves to
	FromEmail string   // the contact it moves from
	KeepOld   bool     // FromEmail stays as a secondary contact
	MoveRoles []string // the roles that move
	Card      string   // confirm_move: the card that stays on the licence, "Visa ending 4242"; confirm_payment: the card the bank asks about
	// confirm_payment: the invoice whose payment the bank asks to confirm.
	Invoice   string
	Amount    string // "USD 10.00"
	Requester string // confirm_request: who asked sales to act for the licence
	// Origin "account": the link was made on the account page for the
	// signed-in person (a card update), not emailed.
	Origin string
	// JustAdded (promote): they were just added as contact with this
	// offer; a pending account may set up and stay secondary.
	JustAdded bool
}

// Action is what a person submitted (POST).
type Action struct {
	// Decision: confirm_*: "approve" or "decline"; promote: "accept",
	// "decline", or "setup_only" (a pending account set up, the offer
	// declined).
	Decision        string
	DisplayName     string // complete_account
	Password        string // complete_account
	PasswordConfirm string // complete_account
}

// Result is the page shown after acting, or where to go instead. It names
// the licence and the operation, says what happens next and by when, and
// offers a way on.
type Result struct {
	SEN         string // the licence it was about, if any
	Product     string
	Title       string   // what was done: "You confirmed moving SEN-1000001 to zoe@new.test"
	Message     string   // its effect
	Next        []string // what happens next, and by when
	Actions     []Step   // ways on; the first is the main one
	RedirectURL string   // e.g. the provider's hosted card page (303 See Other)
	// ReturnRef names the card link for the page the provider sends the
	// person back to (CardSaved): its token's hash, never the token.
	ReturnRef string
	// Tone is how it went: "" done, ToneWait not known yet (the page then
	// reloads itself every Refresh seconds), ToneBad failed.
	Tone    string
	Refresh int
	// RetryCard offers "Try another card" for SEN: straight to a new card
	// page from the account (the person signs in first if they are not).
	RetryCard bool
	// ReturnPath is the path below which that page lives (the cookie
	// carrying ReturnRef is sent there only); "" is "/card/".
	ReturnPath string
}

// Result tones.
const (
	ToneWait = "wait"
	ToneBad  = "bad"
)

// Step is a way on from a page: a label and where it leads.
type Step struct {
	Label string
	URL   string
}

// The ways on that result pages offer.
var (
	ToAccount = Step{Label: "Go to your account", URL: "/account"}
	ToSignIn  = Step{Label: "Sign in", URL: "/signin"}
	ToHome    = Step{Label: "Go to the home page", URL: "/"}
)

// Ended is a link that no longer works (its Code is Gone): how it ended and
// when, and what its recipient did with it. Pages show Done and the licence
// only to the recipient, signed in: anyone else holding the link learns
// nothing they did not read in the mail.
type Ended struct {
	How     string // "used", "expired" or "withdrawn"
	At      time.Time
	Purpose licensing.LinkPurpose
	Email   licensing.Email // its recipient
	SEN     string
	Product string
	Done    string // what the recipient did: "You confirmed moving SEN-1000001 to zoe@new.test."
	Origin  string // "account": made on the account page, not emailed
	// For is what the link was for, naming nobody but the licence ("to
	// confirm the move of SEN-1000001"), which anyone holding it read in
	// its mail; ForYou says it in full, for its recipient signed in.
	For, ForYou string
	// Why it was withdrawn (postgres.Revoked...: "done", "declined",
	// "expired", "cancelled", "left", "replaced", "ended"; "": not said).
	Reason string
	// Outcome is what became of what it was for, when known ("The move
	// was completed on 9 Dec 2026.").
	Outcome string
}

func (e *Ended) Error() string { return fmt.Sprintf("This link was %s.", e.How) }

// Unwrap makes an Ended a licensing Gone error.
func (e *Ended) Unwrap() error { return licensing.Errorf(licensing.Gone, "%s", e.Error()) }
