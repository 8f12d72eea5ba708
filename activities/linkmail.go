package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"licensedesk/internal/temporalerr"
	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/postgres"
)

// SendLinksInput emails each recipient their own link for Purpose.
type SendLinksInput struct {
	Purpose    licensing.LinkPurpose
	To         []licensing.Email
	SEN        licensing.SEN
	WorkflowID string
	// MailKey starts each mail's key (the run of the workflow sending it);
	// purpose and recipient follow. Empty: the workflow ID (runs started
	// before it existed).
	MailKey  string
	Deadline time.Time // links expire then
	Reminder bool
	Roles    []licensing.Role // promote: the roles to become primary in

	// What the mail tells (depending on Purpose).
	NewEmail       licensing.Email
	FromEmail      licensing.Email
	MoveRoles      []licensing.Role
	KeepOld        bool
	RequesterEmail licensing.Email
	RequestedBy    string
	RequestedAt    time.Time       // when it was asked for (the operation's start); zero: not said
	ApprovedBy     licensing.Email // promote in a move: the contact who confirmed it
	ApprovedAt     time.Time
	OfferPrimary   bool // complete_account: a separate offer to become primary follows
	// Resent: a fresh link for someone the step waits on (/license
	// resend); the mail says the earlier one no longer works.
	Resent bool
	// Everyone is everyone the step mailed (To may be one of them, on a
	// resend); each mail names the others.
	Everyone []licensing.Email
	// Scope (confirm_request): what the requester asked sales to do.
	Scope []licensing.RequestScope
	// JustAdded (promote): they were just added as contact with this
	// offer, whose mail is the only one they get (review #12).
	JustAdded bool
}

// SendLinks creates one link per recipient (only its hash is stored) and
// emails it. The token never leaves this activity, so it is never in
// workflow history. Idempotent per recipient: a mail already sent under the
// same key is not sent again (and no new link is made for it).
func (a *Activities) SendLinks(ctx context.Context, in SendLinksInput) error {
	l, err := a.DB.License(ctx, in.SEN)
	if err != nil {
		return temporalerr.FromDomain(err)
	}
	ttl := a.timeLeft(ctx, in.Deadline)
	if ttl <= 0 {
		return temporalerr.FromDomain(licensing.Errorf(licensing.Gone, "The deadline for this step has passed."))
	}
	for _, to := range in.To {
		key := linkMailKey(in, to)
		sent, err := a.DB.MailSent(ctx, key)
		if err != nil {
			return err
		}
		if sent {
			continue
		}
		data := linkData(in, l, to)
		token, expires, err := a.DB.CreateLink(ctx, postgres.NewLink{
			Purpose: in.Purpose, Email: to, SEN: in.SEN, WorkflowID: in.WorkflowID, Data: data, TTL: ttl,
		})
		if err != nil {
			return temporalerr.FromDomain(err)
		}
		url := a.PublicBaseURL + "/l/" + token
		name, err := a.DB.DisplayName(ctx, to)
		if err != nil {
			return err
		}
		pending := false
		if in.Purpose == licensing.PurposePromote {
			st, err := a.DB.AccountStatus(ctx, to)
			if err != nil {
				return temporalerr.FromDomain(err)
			}
			pending = st == licensing.AccountPending
		}
		kind, body := a.linkMail(in, l, to, name, url, expires, pending)
		if err := a.deliver(ctx, key, to, kind, body, url); err != nil {
			return err
		}
	}
	return nil
}

// linkMailKey names the mail carrying one recipient's link: a retry of the
// activity finds it sent and makes no second link; a new run (MailKey
// names it) mails a fresh one.
func linkMailKey(in SendLinksInput, to licensing.Email) string {
	prefix := in.MailKey
	if prefix == "" {
		prefix = in.WorkflowID + "/"
	}
	key := prefix + string(in.Purpose) + "/" + string(to)
	if in.Reminder {
		key += "/reminder"
	}
	return key
}

// linkData is what the link's page shows besides the licence (links.View
// reads it): what will happen, who asked and when, and for whom it changes.
func linkData(in SendLinksInput, l licensing.License, to licensing.Email) map[string]any {
	data := map[string]any{"summary": linkSummary(in, l), "asked_by": licensing.ActorName(in.RequestedBy)}
	if !in.RequestedAt.IsZero() {
		data["asked_at"] = in.RequestedAt.UTC().Format(time.RFC3339)
	}
	move := func() {
		data["new_email"], data["from"], data["keep_old"] = string(in.NewEmail), string(in.FromEmail), in.KeepOld
		data["move_roles"] = roleStrings(in.MoveRoles)
	}
	switch in.Purpose {
	case licensing.PurposePromote:
		data["roles"] = roleStrings(in.Roles)
		data["demoted"] = primariesOf(l, in.Roles, to)
		if in.JustAdded {
			data["just_added"] = true
		}
		if in.NewEmail != "" {
			data["for_move"] = true
			move()
		}
		if in.ApprovedBy != "" {
			data["approved_by"] = string(in.ApprovedBy)
			if !in.ApprovedAt.IsZero() {
				data["approved_at"] = in.ApprovedAt.UTC().Format(time.RFC3339)
			}
		}
	case licensing.PurposeConfirmRequest:
		data["requester"] = string(in.RequesterEmail)
		if len(in.Scope) > 0 {
			data["scope"] = licensing.ScopeWords(in.Scope)
		}
	case licensing.PurposeConfirmMove:
		move()
		if pm := l.PaymentMethod; pm != nil && l.Deployment == licensing.Cloud {
			data["card"] = licensing.CardName(*pm)
		}
	}
	return data
}

// linkSummary is what the link's page says will happen, in sentences.
func linkSummary(in SendLinksInput, l licensing.License) []string {
	lic := fmt.Sprintf("%s (%s)", l.SEN, l.Product)
	switch in.Purpose {
	case licensing.PurposeConfirmMove:
		old := fmt.Sprintf("%s is then removed from the licence.", in.FromEmail)
		if in.KeepOld {
			old = fmt.Sprintf("%s stays on as a secondary contact.", in.FromEmail)
		}
		return []string{
			fmt.Sprintf("Move %s to the account %s.", lic, in.NewEmail),
			fmt.Sprintf("%s is added as %s contact and then makes themselves primary.", in.NewEmail, strings.Join(roleStrings(in.MoveRoles), " and ")),
			old,
		}
	case licensing.PurposeConfirmRequest:
		asked := fmt.Sprintf("%s asked our sales team to act for %s: once approved, our sales team may make the changes they ask for.", in.RequesterEmail, lic)
		if len(in.Scope) > 0 {
			asked = fmt.Sprintf("%s asked our sales team to %s, for %s.", in.RequesterEmail, licensing.JoinWords(licensing.ScopeWords(in.Scope)), lic)
		}
		return []string{
			asked,
			fmt.Sprintf("Approve only if you know %s and agree they may act for this licence.", in.RequesterEmail),
		}
	case licensing.PurposeCardUpdate:
		return licensing.CardUpdateSummary(l)
	case licensing.PurposeCompleteAccount:
		added := fmt.Sprintf("You were added as %s contact of %s.", strings.Join(roleStrings(in.MoveRoles), " and "), lic)
		if len(in.MoveRoles) == 0 { // a site admin of a provisioned licence
			added = fmt.Sprintf("You were added as a site admin of %s.", lic)
		}
		return []string{
			added,
			"Choose your name and a password to finish setting up your account.",
		}
	default:
		return []string{
			fmt.Sprintf("You become the primary %s contact for %s.", strings.Join(roleStrings(in.Roles), " and "), lic),
			"The current primary contact becomes a secondary contact, who can then be removed.",
		}
	}
}

func (a *Activities) linkMail(in SendLinksInput, l licensing.License, to licensing.Email, name, url string, expires time.Time, pending bool) (mail.Kind, any) {
	switch in.Purpose {
	case licensing.PurposeConfirmMove:
		return mail.KindConfirmMove, mail.ConfirmMove{Name: name, SEN: string(l.SEN), Product: l.Product,
			NewEmail: string(in.NewEmail), FromEmail: string(in.FromEmail), Roles: roleStrings(in.MoveRoles),
			KeepOld: in.KeepOld, URL: url, Deadline: expires, Reminder: in.Reminder, NewLink: in.Resent, AskedBy: in.RequestedBy,
			Others: othersThan(in, to)}
	case licensing.PurposeConfirmRequest:
		return mail.KindConfirmRequest, mail.ConfirmRequest{Name: name, RequesterEmail: string(in.RequesterEmail),
			SEN: string(l.SEN), Product: l.Product, RequestedBy: in.RequestedBy, ApproveURL: url, Deadline: expires, Reminder: in.Reminder, NewLink: in.Resent,
			Scope: licensing.ScopeWords(in.Scope), Others: othersThan(in, to)}
	case licensing.PurposeCardUpdate:
		pastDue := l.Status == licensing.PastDue || l.Status == licensing.Suspended
		return mail.KindUpdateCard, mail.UpdateCard{Name: name, SEN: string(l.SEN), Product: l.Product, URL: url, Deadline: expires,
			PastDue: pastDue, AmountDue: licensing.FormatMoney(l.PriceCents, l.Currency), Annual: l.Cycle == licensing.Annual, Reminder: in.Reminder,
			NewLink: in.Resent, AskedBy: in.RequestedBy, Others: othersThan(in, to)}
	case licensing.PurposeCompleteAccount:
		return mail.KindInvitation, mail.Invitation{SEN: string(l.SEN), Product: l.Product, Roles: roleStrings(in.MoveRoles), SiteAdmin: len(in.MoveRoles) == 0,
			InvitedBy: in.RequestedBy, URL: url, Deadline: expires, Reminder: in.Reminder, OfferPrimary: in.OfferPrimary}
	default: // licensing.PurposePromote
		return mail.KindPromoteYourself, mail.PromoteYourself{Name: name, SEN: string(l.SEN), Product: l.Product,
			Roles: roleStrings(in.Roles), URL: url, Deadline: expires, Reminder: in.Reminder,
			ForMove: in.NewEmail != "", OfferedBy: in.RequestedBy, Demoted: primariesOf(l, in.Roles, to),
			RequestedAt: in.RequestedAt, ApprovedBy: string(in.ApprovedBy), ApprovedAt: in.ApprovedAt, FromEmail: string(in.FromEmail), KeepOld: in.KeepOld,
			NeedsAccount: pending, JustAdded: in.JustAdded}
	}
}

func (a *Activities) deliver(ctx context.Context, key string, to licensing.Email, kind mail.Kind, data any, links ...string) error {
	subject, text, html, err := mail.RenderAs(a.Brand, kind, data)
	if err != nil {
		return err
	}
	return a.Mail.Deliver(ctx, mail.Message{Key: key, To: string(to), Subject: subject, Text: text, HTML: html, Links: links})
}

// primariesOf lists who is primary in roles now (and so becomes secondary
// when to promotes themselves), leaving out to itself.
func primariesOf(l licensing.License, roles []licensing.Role, to licensing.Email) []string {
	var out []string
	for _, c := range l.Contacts {
		if c.Primary && c.Email != to && slices.Contains(roles, c.Role) && !slices.Contains(out, string(c.Email)) {
			out = append(out, string(c.Email))
		}
	}
	return out
}

func roleStrings(roles []licensing.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// RedeemDecisionInput is a confirm link pressed on its page.
type RedeemDecisionInput struct {
	TokenHash  []byte
	WorkflowID string
	Purpose    licensing.LinkPurpose
	Approve    bool
}

// RedeemDecisionOutput says whose link it was.
type RedeemDecisionOutput struct {
	By licensing.Email
}

// RedeemDecision spends the link (atomically: one conditional UPDATE) and
// audits the decision. A link of another workflow or purpose, used, expired
// or revoked is refused.
func (a *Activities) RedeemDecision(ctx context.Context, in RedeemDecisionInput) (RedeemDecisionOutput, error) {
	action := string(in.Purpose) + ".decline"
	if in.Approve {
		action = string(in.Purpose) + ".approve"
	}
	k, err := a.DB.SpendLink(ctx, in.TokenHash, in.Purpose, in.WorkflowID, licensing.Actor{Kind: "link", WorkflowID: in.WorkflowID}, action, spender(ctx))
	if err != nil {
		return RedeemDecisionOutput{}, temporalerr.FromDomain(err)
	}
	return RedeemDecisionOutput{By: k.Email}, nil
}

// spender names this activity (its workflow run and activity ID, the same
// on every retry) to the store, so a retry after a lost answer gets the
// answer the first attempt committed instead of "already used". "" outside
// an activity.
func spender(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return ""
	}
	info := activity.GetInfo(ctx)
	return info.WorkflowExecution.RunID + "/" + info.ActivityID
}

// RedeemPromotionInput is a promote link pressed on its page.
type RedeemPromotionInput struct {
	TokenHash  []byte
	WorkflowID string
}

// Demotion is a former primary who is now secondary.
type Demotion struct {
	Role  licensing.Role
	Email licensing.Email
}

// RedeemPromotionOutput says who was promoted in which roles.
type RedeemPromotionOutput struct {
	Email   licensing.Email
	Roles   []licensing.Role
	Demoted []Demotion
}

// RedeemPromotion spends the link and promotes its recipient in one
// transaction.
func (a *Activities) RedeemPromotion(ctx context.Context, in RedeemPromotionInput) (RedeemPromotionOutput, error) {
	k, roles, demoted, err := a.DB.RedeemPromotion(ctx, in.TokenHash, in.WorkflowID, spender(ctx))
	if err != nil {
		return RedeemPromotionOutput{}, temporalerr.FromDomain(err)
	}
	out := RedeemPromotionOutput{Email: k.Email, Roles: roles}
	for _, d := range demoted {
		out.Demoted = append(out.Demoted, Demotion{Role: d.Role, Email: d.Email})
	}
	return out, nil
}

// RevokeLinksInput names the workflow whose links end, and why (a
// postgres.Revoked... reason; "": not said), which their page tells.
type RevokeLinksInput struct {
	WorkflowID string
	Reason     string
}

// RevokeLinks revokes every unused link of a workflow. Idempotent.
func (a *Activities) RevokeLinks(ctx context.Context, in RevokeLinksInput) error {
	_, err := a.DB.RevokeLinksBecause(ctx, in.WorkflowID, in.Reason)
	return err
}

// RevokePersonLinksInput names one person's links of one purpose in an
// operation.
type RevokePersonLinksInput struct {
	WorkflowID string
	Email      licensing.Email
	Purpose    licensing.LinkPurpose
}

// RevokePersonLinks revokes a person's unused links of a purpose in an
// operation (a fresh one replaces them). Idempotent.
func (a *Activities) RevokePersonLinks(ctx context.Context, in RevokePersonLinksInput) error {
	_, err := a.DB.RevokePersonLinks(ctx, in.WorkflowID, in.Email, in.Purpose)
	return err
}

// RecordResendInput is a fresh link mailed at a salesperson's request.
type RecordResendInput struct {
	SEN        licensing.SEN
	WorkflowID string
	Email      licensing.Email
	By         string // Slack user ID
}

// RecordResend puts the resend in the licence's history.
func (a *Activities) RecordResend(ctx context.Context, in RecordResendInput) error {
	return a.DB.RecordResend(ctx, licensing.Actor{Kind: "slack", ID: in.By, WorkflowID: in.WorkflowID}, in.SEN, in.Email)
}

// othersThan is who else the step mailed a link of their own.
func othersThan(in SendLinksInput, to licensing.Email) []string {
	all := in.Everyone
	if len(all) == 0 {
		all = in.To
	}
	var out []string
	for _, e := range all {
		if e != to {
			out = append(out, string(e))
		}
	}
	return out
}

// Why an operation's links were withdrawn (RevokeLinksInput.Reason), as
// the links' page tells their recipients.
const (
	RevokedDone      = postgres.RevokedDone
	RevokedDeclined  = postgres.RevokedDeclined
	RevokedExpired   = postgres.RevokedExpired
	RevokedCancelled = postgres.RevokedCancelled
	RevokedEnded     = postgres.RevokedEnded
)
