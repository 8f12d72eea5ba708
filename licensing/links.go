package licensing

import "fmt"

// LinkPurpose is what an emailed link lets its recipient do (SPEC §3).
type LinkPurpose string

const (
	PurposeConfirmRequest  LinkPurpose = "confirm_request"  // approve/decline a verification request
	PurposeConfirmMove     LinkPurpose = "confirm_move"     // approve/decline moving a licence
	PurposeCompleteAccount LinkPurpose = "complete_account" // a pending account sets name and password
	PurposePromote         LinkPurpose = "promote"          // a contact makes themselves primary
	PurposeCardUpdate      LinkPurpose = "card_update"      // go on to the payment provider's card page
	PurposePasswordReset   LinkPurpose = "password_reset"   // choose a new password
	// PurposeConfirmPayment goes on to the bank's authentication of a
	// charge it asked the cardholder to confirm (SCA), for the invoice in
	// the link's data.
	PurposeConfirmPayment LinkPurpose = "confirm_payment"
)

// MayUseLink says whether who may still do, on l, what a link of purpose p
// sent to them is for. A link is checked when it is sent and again when it
// is used, because people leave in between: a confirmer removed from the
// licence, a contact who lost the role, a card rule that changed with the
// billing cycle.
func MayUseLink(l License, p LinkPurpose, who Email) error {
	switch p {
	case PurposeConfirmRequest, PurposeConfirmMove:
		return CanConfirmRequest(l, who)
	case PurposeCardUpdate, PurposeConfirmPayment:
		// Those who may pay are those who may update the card.
		return CanUpdateCard(l, who)
	case PurposePromote:
		if err := needEmail(who); err != nil {
			return err
		}
		if !RelationOf(l, who).IsContact() {
			return Errorf(Forbidden, "%s is no longer a contact of %s, so this link no longer does anything", who, l.SEN)
		}
		return nil
	case PurposeCompleteAccount:
		// Invitations go to the contacts and site admins of a licence the
		// provisioning API created (SPEC §9 "invite").
		if err := needEmail(who); err != nil {
			return err
		}
		if r := RelationOf(l, who); !r.IsContact() && !r.SiteAdmin {
			return Errorf(Forbidden, "%s is no longer a contact or site admin of %s, so this link no longer does anything", who, l.SEN)
		}
		return nil
	case PurposePasswordReset:
		return nil // about the account, not a licence
	}
	return Errorf(Invalid, "unknown link purpose %s", quoteInput(string(p)))
}

// CardUpdateSummary is what an update-card link's page says will happen:
// the outstanding invoice charged at once, or the card used on the next
// billing date.
func CardUpdateSummary(l License) []string {
	lic := fmt.Sprintf("%s (%s)", l.SEN, l.Product)
	if l.Status == PastDue || l.Status == Suspended {
		return []string{fmt.Sprintf("%s is past due: the outstanding %s is charged as soon as you save the new card.", lic, FormatMoney(l.PriceCents, l.Currency))}
	}
	return []string{fmt.Sprintf("The new card is charged on the next billing date of %s, %s.", lic, l.NextBillingDate.Format("2 January 2006"))}
}
