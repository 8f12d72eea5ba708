package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"licensedesk/licensing"
)

// Kind names one kind of email; each has a data struct of the same name.
type Kind string

// The kinds of email, with the data Render wants for each.
const (
	KindConfirmRequest   Kind = "confirm_request"   // ConfirmRequest
	KindConfirmMove      Kind = "confirm_move"      // ConfirmMove
	KindInvitation       Kind = "invitation"        // Invitation
	KindAddedAsContact   Kind = "added_as_contact"  // AddedAsContact
	KindPromoteYourself  Kind = "promote_yourself"  // PromoteYourself
	KindMoveCompleted    Kind = "move_completed"    // MoveCompleted
	KindMoveCancelled    Kind = "move_cancelled"    // MoveCancelled
	KindRequestOutcome   Kind = "request_outcome"   // RequestOutcome
	KindContactRemoved   Kind = "contact_removed"   // ContactRemoved
	KindPromotedNotice   Kind = "promoted_notice"   // PromotedNotice
	KindContactsChanged  Kind = "contacts_changed"  // ContactsChanged
	KindRequestCancelled Kind = "request_cancelled" // RequestCancelled

	KindUpdateCard       Kind = "update_card"       // UpdateCard
	KindPaymentFailed    Kind = "payment_failed"    // PaymentFailed
	KindPaymentSucceeded Kind = "payment_succeeded" // PaymentSucceeded
	KindLicenceSuspended Kind = "licence_suspended" // LicenceSuspended
	KindCardUpdated      Kind = "card_updated"      // CardUpdated
	KindRenewalReminder  Kind = "renewal_reminder"  // RenewalReminder
	KindCardHandover     Kind = "card_handover"     // CardHandover
	KindConfirmPayment   Kind = "confirm_payment"   // ConfirmPayment
	KindCardExpiring     Kind = "card_expiring"     // CardExpiring

	KindPasswordReset   Kind = "password_reset"   // PasswordReset
	KindPasswordChanged Kind = "password_changed" // PasswordChanged
	KindSignInLocked    Kind = "signin_locked"    // SignInLocked
)

// Kinds returns every Kind, in a fixed order.
func Kinds() []Kind {
	out := make([]Kind, len(kinds))
	for i, k := range kinds {
		out[i] = k.kind
	}
	return out
}

// ConfirmRequest asks a contact or site admin of a licence to confirm that
// someone who contacted sales may act for it (/license verify).
type ConfirmRequest struct {
	Name           string    // the recipient's display name; may be empty
	RequesterEmail string    // who asked sales for a change
	SEN            string    // the licence, e.g. "SEN-1000001"
	Product        string    // the licence's product name
	RequestedBy    string    // who in sales asks; empty (or a Slack id): "our sales team"
	ApproveURL     string    // the link's page, where the request is approved or declined
	Deadline       time.Time // when the link expires
	Reminder       bool      // a reminder of an earlier mail: the subject says so
	NewLink        bool      // a fresh link sent again (/license resend): the earlier one no longer works
	// Scope is what the requester asked sales to do, as phrases ("move
	// the licence to their account"; licensing.RequestScope.Words); empty:
	// not said, so the approval lets sales act on any of it.
	Scope  []string
	Others []string // who else was asked to confirm, each with a link of their own
}

// ConfirmMove asks for confirmation of a licence move to another account.
type ConfirmMove struct {
	Name      string    // the recipient's display name; may be empty
	SEN       string    // the licence
	Product   string    // the licence's product name
	NewEmail  string    // the account the licence moves to
	FromEmail string    // the contact being replaced; may be empty
	Roles     []string  // the roles that move: "billing", "technical"
	KeepOld   bool      // FromEmail stays on as a secondary contact
	URL       string    // the link's page, where the move is confirmed or declined
	Deadline  time.Time // when the link expires
	Reminder  bool      // a reminder of an earlier mail: the subject says so
	NewLink   bool      // a fresh link sent again: the earlier one no longer works
	AskedBy   string    // who asked: a salesperson's name ("Dana Smith, of our sales team") or "our sales team"
	Others    []string  // who else was asked to confirm, each with a link of their own
}

// Invitation asks someone whose address was just added to a licence to
// complete their (pending) account.
type Invitation struct {
	SEN       string    // the licence
	Product   string    // the licence's product name
	Roles     []string  // the contact roles they were given
	SiteAdmin bool      // a site admin with no contact role (Roles empty): a provisioned licence's
	InvitedBy string    // who added them; empty (or a Slack id): "our sales team"
	URL       string    // the link's page, where the account is completed
	Deadline  time.Time // when the link expires
	Reminder  bool      // a reminder of an earlier mail: the subject says so
	// OfferPrimary: a separate email offers them the primary role;
	// otherwise the mail says they can take it from their account page.
	OfferPrimary bool
}

// AddedAsContact tells an account holder they were made a (secondary)
// contact of a licence.
type AddedAsContact struct {
	Name       string    // the recipient's display name; may be empty
	SEN        string    // the licence
	Product    string    // the licence's product name
	Role       string    // "billing" or "technical"
	AddedBy    string    // who added them; empty (or a Slack id): "our sales team"
	PromoteURL string    // optional link to make themselves primary contact
	Deadline   time.Time // when PromoteURL expires (needed only with it)
	// OfferPrimary: a separate email offers them the primary role;
	// otherwise the mail says they can take it from their account page.
	OfferPrimary bool
}

// PromoteYourself sends a contact the link that makes them primary contact.
type PromoteYourself struct {
	Name     string    // the recipient's display name; may be empty
	SEN      string    // the licence
	Product  string    // the licence's product name
	Roles    []string  // the roles they become primary in
	URL      string    // the link's page, where the promotion is confirmed
	Deadline time.Time // when the link expires
	Reminder bool      // a reminder of an earlier mail: the subject says so
	// Why they are asked: ForMove (the licence moves to them), else an
	// offer someone asked for (OfferedBy; empty or a Slack id: our sales
	// team).
	ForMove   bool
	OfferedBy string
	Demoted   []string // the current primary contacts, who become secondary
	// Who asked and when; for a move, who confirmed it and when, and what
	// happens to the contact it moves from.
	RequestedAt time.Time // zero: not said
	ApprovedBy  string
	ApprovedAt  time.Time
	FromEmail   string
	KeepOld     bool
	// NeedsAccount: their account is still to be set up; the link's page
	// does that and the promotion in one form (review #11).
	NeedsAccount bool
	// JustAdded: they were just added as contact with this offer, and
	// this is the only mail about it (review #12).
	JustAdded bool
}

// MoveCompleted tells both people of a move that it is done.
type MoveCompleted struct {
	Name     string // the recipient's display name; may be empty
	SEN      string // the licence
	Product  string // the licence's product name
	NewEmail string // the account the licence moved to
	OldEmail string // the contact it moved from; may be empty
	KeptOld  bool   // OldEmail stayed on as a secondary contact
	// To the new owner: the card that stays on the licence and keeps
	// paying ("Visa ending 4242"), who saved it, and where they can
	// replace it (AccountURL; empty: a site admin must, SiteAdmins).
	Card        string
	CardAddedBy string
	AccountURL  string
	SiteAdmins  []string
	// To the old owner who left: their own card ("Visa ending 4242")
	// still pays, next on NextCharge, and how to stop it.
	YourCard   string
	NextCharge time.Time
}

// MoveCancelled tells the people of a move that it will not happen.
type MoveCancelled struct {
	Name     string // the recipient's display name; may be empty
	SEN      string // the licence
	Product  string // the licence's product name
	NewEmail string // the account the licence was to move to
	Reason   string // optional, a sentence: "Nobody confirmed it in time."
}

// RequestOutcome tells a requester whether their request was approved.
type RequestOutcome struct {
	Name           string // the recipient's display name; may be empty
	SEN            string // the licence
	Product        string // the licence's product name
	RequesterEmail string // who asked (normally the recipient)
	Approved       bool   // approved, or declined
	By             string // who approved or declined it
}

// ContactRemoved tells a former contact they were removed from a licence.
type ContactRemoved struct {
	Name      string // the recipient's display name; may be empty
	SEN       string // the licence
	Product   string // the licence's product name
	Role      string // the role they lost
	RemovedBy string // who removed them; empty (or a Slack id): "our sales team"
}

// PromotedNotice tells a former primary contact that someone else is now
// primary and they are secondary.
type PromotedNotice struct {
	Name       string // the recipient's display name; may be empty
	SEN        string // the licence
	Product    string // the licence's product name
	Role       string // the role concerned
	NewPrimary string // the new primary contact's address
	Via        string // how they did it: "on their account page", "with the link we emailed them"; "": not said
}

// ContactsChanged tells a primary contact of a licence that its contacts
// changed, naming who did it and through what (review #7): someone was
// added (perhaps with an offer of the primary role, or for a move),
// removed, or made themselves primary. When the change lets someone take
// the recipient's primary role, it says so before it can happen, and how
// to stop it.
type ContactsChanged struct {
	Name    string   // the recipient's display name; may be empty
	SEN     string   // the licence
	Product string   // the licence's product name
	Change  string   // ChangeAdded, ChangeRemoved, ChangePromoted or ChangeMove
	Contact string   // the person concerned
	Roles   []string // the roles concerned
	By      string   // who did it; empty (or a Slack id): "our sales team"; the person themselves for ChangePromoted
	Via     string   // how: "on the account page", "in Slack", "with an emailed link"; may be empty
	Offered bool     // ChangeAdded: they were also offered the primary role
	// YourRoles are the recipient's primary roles among Roles: those the
	// person concerned can take (the recipient then becomes secondary).
	YourRoles  []string
	Former     []string // ChangePromoted: who became secondary
	ApprovedBy string   // ChangeMove: the contact who confirmed the move
	AccountURL string   // where to remove the person (the account page)
}

// What a ContactsChanged is about.
const (
	ChangeAdded    = "added"
	ChangeRemoved  = "removed"
	ChangePromoted = "promoted"
	ChangeMove     = "move"
)

// RequestCancelled tells someone who was asked to act on a request (to
// confirm it, accept an offer, update a card) that our sales team
// cancelled it, so nobody finds out from a dead link (review #14).
type RequestCancelled struct {
	Name    string    // the recipient's display name; may be empty
	SEN     string    // the licence
	Product string    // the licence's product name
	What    string    // what was cancelled: "the move of SEN-1000001 to zed@newco.test"
	At      time.Time // when
}

// UpdateCard sends someone who may update a licence's card the link that
// does it. The link's page leads to a card page run by our payment
// provider, so we never see the card number.
type UpdateCard struct {
	Name      string    // the recipient's display name; may be empty
	SEN       string    // the licence
	Product   string    // the licence's product name
	URL       string    // the link's page, which leads to the provider's card page
	Deadline  time.Time // when the link expires
	PastDue   bool      // an invoice is outstanding: it is charged once the card is saved
	AmountDue string    // the outstanding amount, "USD 10.00" (needed only with PastDue)
	Annual    bool      // an annual licence, whose card only a site admin may update
	Reminder  bool      // a reminder of an earlier mail: the subject says so
	NewLink   bool      // a fresh link sent again: the earlier one no longer works
	AskedBy   string    // who asked for the links; empty (or a Slack id): "our sales team"
	Others    []string  // who else got a link of their own for the same card
}

// PaymentFailed tells a billing contact that charging an invoice failed,
// what happens next and when the licence is suspended if it stays unpaid.
type PaymentFailed struct {
	Name          string    // the recipient's display name; may be empty
	SEN           string    // the licence
	Product       string    // the licence's product name
	Amount        string    // the invoice's amount, "USD 10.00"
	InvoiceNumber string    // the invoice
	Reason        string    // optional, the provider's words: "Your card was declined."
	DeclineCode   string    // optional: "generic_decline"; with Reason, says why in our plain words
	FailedAt      time.Time // when the charge failed; zero: not said
	Hard          bool      // the card can't be retried: a new card is needed
	NextRetry     time.Time // the next automatic retry; zero: no more retries
	SuspendOn     time.Time // when the licence is suspended if still unpaid; may be zero
	UpdateURL     string    // optional link to update the card; without it, ask a site admin
	Deadline      time.Time // when UpdateURL expires (needed only with it)
	LinkSent      bool      // without UpdateURL: the recipient gets an update-card link in a separate email
	// UpdaterOnly: the recipient is not a billing contact but may update
	// the card (a site admin, say), which is why they are told.
	UpdaterOnly bool
	SiteAdmins  []string // named when the recipient must ask a site admin
	InvoiceURL  string   // optional: the invoice's page
}

// Why is why the charge failed, in plain words ("card declined"), as the
// account page's banner and /license show say it.
func (d PaymentFailed) Why() string { return licensing.DeclineWords(d.DeclineCode, d.Reason) }

// PaymentSucceeded confirms to a billing contact that an invoice was paid.
type PaymentSucceeded struct {
	Name          string // the recipient's display name; may be empty
	SEN           string // the licence
	Product       string // the licence's product name
	Amount        string // the amount paid, "USD 10.00"
	InvoiceNumber string // the invoice
	Card          string // optional, the card charged: "visa •••• 4242"
	Reactivated   bool   // the payment made a past-due or suspended licence active again
	Was           string // with Reactivated: "past_due" or "suspended" (what it was); "": not known
	ReceiptURL    string // optional: the invoice's page, with the receipt and PDF
}

// LicenceSuspended tells a billing contact a licence was suspended for an
// unpaid invoice, and that paying it makes the licence active again.
type LicenceSuspended struct {
	Name          string    // the recipient's display name; may be empty
	SEN           string    // the licence
	Product       string    // the licence's product name
	Amount        string    // the unpaid amount, "USD 10.00"
	InvoiceNumber string    // the unpaid invoice
	UpdateURL     string    // optional link to update the card; without it, ask a site admin
	Deadline      time.Time // when UpdateURL expires (needed only with it)
	LinkSent      bool      // without UpdateURL: the recipient gets an update-card link in a separate email
	// UpdaterOnly: the recipient is not a billing contact but may update
	// the card (a site admin, say), which is why they are told.
	UpdaterOnly bool
	SiteAdmins  []string // named when the recipient must ask a site admin
	InvoiceURL  string   // optional: the invoice's page
}

// CardUpdated tells a billing contact that a licence's card changed, so a
// change they did not make is noticed.
type CardUpdated struct {
	Name       string // the recipient's display name; may be empty
	SEN        string // the licence
	Product    string // the licence's product name
	Card       string // the new card: "visa •••• 4242"
	ChargedNow bool   // the outstanding invoice is being charged to the new card
	Amount     string // the amount charged, "USD 10.00" (needed only with ChargedNow)
	By         string // who changed it (an email); empty: not said
	ByYou      bool   // the recipient changed it
	Via        string // how: "on the account page", "with an emailed link"
}

// RenewalReminder tells the billing contacts and site admins of an annual
// licence, 30 days ahead, that it renews: when, how much and to which
// card (licensing.RenewalNotice).
type RenewalReminder struct {
	Name        string    // the recipient's display name; may be empty
	SEN         string    // the licence
	Product     string    // the licence's product name
	RenewsOn    time.Time // the billing date
	Amount      string    // what is charged then, taxes included: "USD 120.00"
	Tax         string    // optional, the tax in it: "VAT 20 %"
	Card        string    // the card charged: "Visa ending 4242"; empty: none on file
	CardExpires string    // the card's expiry when it comes before RenewsOn ("11/26"); empty otherwise
	CanUpdate   bool      // the recipient may update the card (a site admin)
	AccountURL  string    // their account page (needed only with CanUpdate)
	SiteAdmins  []string  // who to ask otherwise
	SiteAdmin   bool      // the recipient is a site admin (not a billing contact)
}

// CardHandover reminds the new owner of a moved licence, 14 days on, that
// its card is still the one the former owner saved.
type CardHandover struct {
	Name       string    // the recipient's display name; may be empty
	SEN        string    // the licence
	Product    string    // the licence's product name
	MovedOn    time.Time // the day of the move
	Card       string    // "Visa ending 4242"
	OldEmail   string    // who saved it
	CanUpdate  bool      // the recipient may update the card
	AccountURL string    // their account page (needed only with CanUpdate)
	SiteAdmins []string  // who to ask otherwise
}

// PasswordReset carries a link to choose a new password (/password/forgot).
type PasswordReset struct {
	Name     string    // the recipient's display name; may be empty
	URL      string    // the reset link
	Deadline time.Time // when the link expires
}

// PasswordChanged confirms a password change or reset, so that a change the
// person did not make is noticed.
type PasswordChanged struct {
	Name      string    // the recipient's display name; may be empty
	When      time.Time // when it changed
	Reset     bool      // through a reset link, not the account page
	ForgotURL string    // optional: where to reset the password
	Device    string    // the browser that did it: "Firefox on Windows"; "": not known
	IP        string    // the address it came from; "": not known
}

// SignInLocked tells an account holder that sign-in to their account was
// paused after wrong passwords (review #17): from which browser and
// address, and what to do if it was not them.
type SignInLocked struct {
	Name      string        // the recipient's display name; may be empty
	When      time.Time     // when the lock began
	Attempts  int           // wrong passwords that led to it
	For       time.Duration // how long the lock lasts
	Device    string        // the browser: "Chrome on Android"; "": not known
	IP        string        // the address; "": not known
	ForgotURL string        // where to reset the password
}

func (d PasswordReset) check() error { return need("URL", d.URL).deadline(d.Deadline).err() }
func (d SignInLocked) check() error {
	p := need("ForgotURL", d.ForgotURL)
	if d.When.IsZero() {
		p = append(p, "When")
	}
	return p.err()
}
func (d ContactsChanged) check() error {
	p := need("SEN", d.SEN, "Contact", d.Contact, "Change", d.Change).roles(d.Roles)
	switch d.Change {
	case ChangeAdded, ChangeRemoved, ChangePromoted, ChangeMove:
	default:
		p = append(p, "Change (unknown)")
	}
	return p.err()
}
func (d RequestCancelled) check() error {
	p := need("SEN", d.SEN, "What", d.What)
	if d.At.IsZero() {
		p = append(p, "At")
	}
	return p.err()
}
func (d PasswordChanged) check() error {
	var m missing
	if d.When.IsZero() {
		m = append(m, "When")
	}
	return m.err()
}

func (d ConfirmRequest) check() error {
	return need("SEN", d.SEN, "RequesterEmail", d.RequesterEmail, "ApproveURL", d.ApproveURL).deadline(d.Deadline).err()
}
func (d ConfirmMove) check() error {
	return need("SEN", d.SEN, "NewEmail", d.NewEmail, "URL", d.URL).roles(d.Roles).deadline(d.Deadline).err()
}
func (d Invitation) check() error {
	m := need("SEN", d.SEN, "URL", d.URL)
	if !d.SiteAdmin {
		m = m.roles(d.Roles)
	}
	return m.deadline(d.Deadline).err()
}
func (d AddedAsContact) check() error {
	p := need("SEN", d.SEN, "Role", d.Role)
	if d.PromoteURL != "" {
		p = p.deadline(d.Deadline)
	}
	return p.err()
}
func (d PromoteYourself) check() error {
	return need("SEN", d.SEN, "URL", d.URL).roles(d.Roles).deadline(d.Deadline).err()
}
func (d MoveCompleted) check() error {
	return need("SEN", d.SEN, "NewEmail", d.NewEmail).err()
}
func (d MoveCancelled) check() error {
	return need("SEN", d.SEN, "NewEmail", d.NewEmail).err()
}
func (d RequestOutcome) check() error {
	return need("SEN", d.SEN, "By", d.By).err()
}
func (d ContactRemoved) check() error {
	return need("SEN", d.SEN, "Role", d.Role).err()
}
func (d PromotedNotice) check() error {
	return need("SEN", d.SEN, "Role", d.Role, "NewPrimary", d.NewPrimary).err()
}
func (d UpdateCard) check() error {
	p := need("SEN", d.SEN, "URL", d.URL)
	if d.PastDue {
		p = append(p, need("AmountDue", d.AmountDue)...)
	}
	return p.deadline(d.Deadline).err()
}
func (d PaymentFailed) check() error {
	p := need("SEN", d.SEN, "Amount", d.Amount, "InvoiceNumber", d.InvoiceNumber)
	if d.UpdateURL != "" {
		p = p.deadline(d.Deadline)
	}
	return p.err()
}
func (d PaymentSucceeded) check() error {
	return need("SEN", d.SEN, "Amount", d.Amount, "InvoiceNumber", d.InvoiceNumber).err()
}
func (d LicenceSuspended) check() error {
	p := need("SEN", d.SEN, "Amount", d.Amount, "InvoiceNumber", d.InvoiceNumber)
	if d.UpdateURL != "" {
		p = p.deadline(d.Deadline)
	}
	return p.err()
}
func (d RenewalReminder) check() error {
	p := need("SEN", d.SEN, "Amount", d.Amount)
	if d.RenewsOn.IsZero() {
		p = append(p, "RenewsOn")
	}
	if d.CanUpdate {
		p = append(p, need("AccountURL", d.AccountURL)...)
	}
	return p.err()
}
func (d CardHandover) check() error {
	p := need("SEN", d.SEN, "Card", d.Card, "OldEmail", d.OldEmail)
	if d.MovedOn.IsZero() {
		p = append(p, "MovedOn")
	}
	if d.CanUpdate {
		p = append(p, need("AccountURL", d.AccountURL)...)
	}
	return p.err()
}
func (d CardUpdated) check() error {
	p := need("SEN", d.SEN, "Card", d.Card)
	if d.ChargedNow {
		p = append(p, need("Amount", d.Amount)...)
	}
	return p.err()
}

// Who acted, as a customer may read it (licensing.ActorName).
func actor(by string) string { return licensing.ActorName(by) }

func (d *ConfirmRequest) fill()  { d.RequestedBy = actor(d.RequestedBy) }
func (d *Invitation) fill()      { d.InvitedBy = actor(d.InvitedBy) }
func (d *PromoteYourself) fill() { d.OfferedBy = actor(d.OfferedBy) }
func (d *AddedAsContact) fill()  { d.AddedBy = actor(d.AddedBy) }
func (d *ContactRemoved) fill()  { d.RemovedBy = actor(d.RemovedBy) }
func (d *UpdateCard) fill()      { d.AskedBy = actor(d.AskedBy) }
func (d *ConfirmMove) fill()     { d.AskedBy = actor(d.AskedBy) }
func (d *ContactsChanged) fill() {
	if d.Change != ChangePromoted {
		d.By = actor(d.By)
	}
}

func (d ConfirmRequest) newLink() bool { return d.NewLink }
func (d ConfirmMove) newLink() bool    { return d.NewLink }
func (d UpdateCard) newLink() bool     { return d.NewLink }

func (d ConfirmRequest) reminder() bool  { return d.Reminder }
func (d ConfirmMove) reminder() bool     { return d.Reminder }
func (d Invitation) reminder() bool      { return d.Reminder }
func (d PromoteYourself) reminder() bool { return d.Reminder }
func (d UpdateCard) reminder() bool      { return d.Reminder }

// missing collects the names of required fields left empty.
type missing []string

func need(nameValue ...string) missing {
	var m missing
	for i := 0; i+1 < len(nameValue); i += 2 {
		if strings.TrimSpace(nameValue[i+1]) == "" {
			m = append(m, nameValue[i])
		}
	}
	return m
}

func (m missing) roles(r []string) missing {
	if len(r) == 0 {
		return append(m, "Roles")
	}
	return m
}

func (m missing) deadline(t time.Time) missing {
	if t.IsZero() {
		return append(m, "Deadline")
	}
	return m
}

func (m missing) err() error {
	if len(m) == 0 {
		return nil
	}
	return fmt.Errorf("missing %s", strings.Join(m, ", "))
}

type kindSpec struct {
	kind   Kind
	accept func(any) (any, error)
}

// accept checks data is a T or a non-nil *T with its required fields set,
// and returns the T.
func accept[T any, PT interface {
	*T
	check() error
}](data any) (any, error) {
	var d T
	switch v := data.(type) {
	case T:
		d = v
	case *T:
		if v == nil {
			return nil, fmt.Errorf("nil %T", v)
		}
		d = *v
	default:
		return nil, fmt.Errorf("want %T, got %T", d, data)
	}
	if f, ok := any(PT(&d)).(interface{ fill() }); ok {
		f.fill()
	}
	if err := PT(&d).check(); err != nil {
		return nil, err
	}
	return d, nil
}

var kinds = []*kindSpec{
	{kind: KindConfirmRequest, accept: accept[ConfirmRequest]},
	{kind: KindConfirmMove, accept: accept[ConfirmMove]},
	{kind: KindInvitation, accept: accept[Invitation]},
	{kind: KindAddedAsContact, accept: accept[AddedAsContact]},
	{kind: KindPromoteYourself, accept: accept[PromoteYourself]},
	{kind: KindMoveCompleted, accept: accept[MoveCompleted]},
	{kind: KindMoveCancelled, accept: accept[MoveCancelled]},
	{kind: KindRequestOutcome, accept: accept[RequestOutcome]},
	{kind: KindContactRemoved, accept: accept[ContactRemoved]},
	{kind: KindPromotedNotice, accept: accept[PromotedNotice]},
	{kind: KindContactsChanged, accept: accept[ContactsChanged]},
	{kind: KindRequestCancelled, accept: accept[RequestCancelled]},
	{kind: KindUpdateCard, accept: accept[UpdateCard]},
	{kind: KindPaymentFailed, accept: accept[PaymentFailed]},
	{kind: KindPaymentSucceeded, accept: accept[PaymentSucceeded]},
	{kind: KindLicenceSuspended, accept: accept[LicenceSuspended]},
	{kind: KindCardUpdated, accept: accept[CardUpdated]},
	{kind: KindRenewalReminder, accept: accept[RenewalReminder]},
	{kind: KindCardHandover, accept: accept[CardHandover]},
	{kind: KindConfirmPayment, accept: accept[ConfirmPayment]},
	{kind: KindCardExpiring, accept: accept[CardExpiring]},
	{kind: KindPasswordReset, accept: accept[PasswordReset]},
	{kind: KindPasswordChanged, accept: accept[PasswordChanged]},
	{kind: KindSignInLocked, accept: accept[SignInLocked]},
}

//go:embed templates
var templateFiles embed.FS

// page is what the layouts see: the data of the kind is .Data.
type page struct {
	Subject string
	Data    any
	NewLink bool // say that the earlier link no longer works
}

// button is a call to action: a link, its label and its expiry.
type button struct {
	URL      string
	Label    string
	Deadline time.Time
}

// funcs are the template functions; product and the support contact are
// the brand's.
func funcs(b licensing.Brand) map[string]any {
	return map[string]any{
		"product": func() string { return b.Name },
		"brand":   func() licensing.Brand { return b },
		// capital starts a sentence with a name: "Our sales team", but an
		// address as it is.
		"capital": func(s string) string {
			if s == "" || strings.Contains(s, "@") {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"hello": func(name string) string {
			if name = strings.TrimSpace(name); name == "" {
				return "Hello,"
			}
			return "Hi " + name + ","
		},
		// date formats a deadline in UTC, which every reader can convert.
		"date": func(t time.Time) string {
			return t.UTC().Format("Monday 2 January 2006 at 15:04 UTC")
		},
		// day is a date without the time: "Monday 13 December 2026".
		"day": func(t time.Time) string {
			return t.UTC().Format("Monday 2 January 2006")
		},
		// roles reads a list of roles: "billing", "billing and technical".
		"roles": licensing.JoinWords,
		// has says whether list holds s.
		"has": func(list []string, s string) bool { return slices.Contains(list, s) },
		// minutes reads a duration: "1 minute", "15 minutes".
		"minutes": func(d time.Duration) string {
			n := int((d + time.Minute - 1) / time.Minute)
			if n <= 1 {
				return "1 minute"
			}
			return fmt.Sprintf("%d minutes", n)
		},
		"button": func(url, label string, deadline time.Time) button {
			return button{URL: url, Label: label, Deadline: deadline}
		},
	}
}

// templateSet is every kind's templates, parsed with one brand's functions.
type templateSet struct {
	text map[Kind]*texttemplate.Template
	html map[Kind]*htmltemplate.Template
}

func parseTemplates(b licensing.Brand) *templateSet {
	f := funcs(b)
	textBase := texttemplate.Must(texttemplate.New("layout.txt").Funcs(f).
		ParseFS(templateFiles, "templates/layout.txt"))
	htmlBase := htmltemplate.Must(htmltemplate.New("layout.html").Funcs(f).
		ParseFS(templateFiles, "templates/layout.html"))
	set := &templateSet{text: map[Kind]*texttemplate.Template{}, html: map[Kind]*htmltemplate.Template{}}
	for _, k := range kinds {
		set.text[k.kind] = texttemplate.Must(texttemplate.Must(textBase.Clone()).
			ParseFS(templateFiles, "templates/"+string(k.kind)+".txt"))
		set.html[k.kind] = htmltemplate.Must(htmltemplate.Must(htmlBase.Clone()).
			ParseFS(templateFiles, "templates/"+string(k.kind)+".html"))
	}
	return set
}

// templateSets holds one parsed set per brand a process renders for (one,
// in practice).
var templateSets sync.Map // licensing.Brand → *templateSet

func templatesFor(b licensing.Brand) *templateSet {
	b = b.OrDefault()
	if set, ok := templateSets.Load(b); ok {
		return set.(*templateSet)
	}
	set, _ := templateSets.LoadOrStore(b, parseTemplates(b))
	return set.(*templateSet)
}

// The templates parse at start, so a broken one fails every test at once.
func init() { templatesFor(licensing.Brand{}) }

func specOf(kind Kind) *kindSpec {
	for _, k := range kinds {
		if k.kind == kind {
			return k
		}
	}
	return nil
}

// Render renders an email of kind from data, which is the struct of the
// same name (ConfirmMove for KindConfirmMove, ...), or a pointer to it,
// signed with the default brand. Required fields left empty are an error.
// A Reminder prefixes the subject with "Reminder: ". The HTML body is
// escaped for HTML (a display name can not inject markup); the plain-text
// body is not.
func Render(kind Kind, data any) (subject, text, html string, err error) {
	return RenderAs(licensing.Brand{}, kind, data)
}

// RenderAs is Render for a brand: its name signs the mail and its support
// contact is the footer's.
func RenderAs(brand licensing.Brand, kind Kind, data any) (subject, text, html string, err error) {
	set := templatesFor(brand)
	k := specOf(kind)
	if k == nil {
		return "", "", "", fmt.Errorf("mail: unknown kind %q", kind)
	}
	d, err := k.accept(data)
	if err != nil {
		return "", "", "", fmt.Errorf("mail: render %s: %w", kind, err)
	}
	var b bytes.Buffer
	if err := set.text[kind].ExecuteTemplate(&b, "subject", d); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s subject: %w", kind, err)
	}
	subject = oneLine(b.String())
	if r, ok := d.(interface{ reminder() bool }); ok && r.reminder() {
		subject = "Reminder: " + subject
	}
	if r, ok := d.(interface{ newLink() bool }); ok && r.newLink() {
		subject += " (new link)"
	}
	p := page{Subject: subject, Data: d, NewLink: strings.HasSuffix(subject, " (new link)")}
	b.Reset()
	if err := set.text[kind].Execute(&b, p); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s text: %w", kind, err)
	}
	text = tidyText(b.String())
	b.Reset()
	if err := set.html[kind].Execute(&b, p); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s HTML: %w", kind, err)
	}
	return subject, text, b.String(), nil
}

var (
	spaces     = regexp.MustCompile(`[\s\p{Cc}]+`)
	lineEnds   = regexp.MustCompile(`[ \t]+\n`)
	blankLines = regexp.MustCompile(`\n{3,}`)
)

// oneLine makes s fit a header: control characters and runs of white space
// (a newline in a name) become one space.
func oneLine(s string) string {
	return strings.TrimSpace(spaces.ReplaceAllString(s, " "))
}

// tidyText lets the text templates be laid out freely: trailing spaces go,
// at most one blank line in a row, and one final newline.
func tidyText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = lineEnds.ReplaceAllString(s, "\n")
	s = blankLines.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s) + "\n"
}
