package links

import (
	"context"
	"fmt"
	"strings"
	"time"

	"licensedesk/licensing"
	"licensedesk/postgres"
)

// What a result page says after a link did its work: the licence and the
// operation, what happens next and by when, and a way on.

// nextDeadline is when the step after this link's ends: the operation gives
// each step the same time as this link had (its Timing.Expiry).
func nextDeadline(k postgres.Link, now time.Time) time.Time {
	if k.CreatedAt.IsZero() || !k.ExpiresAt.After(k.CreatedAt) {
		return time.Time{}
	}
	return now.Add(k.ExpiresAt.Sub(k.CreatedAt))
}

func byDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " by " + licensing.ShortDate(t)
}

func decided(k postgres.Link, v View, approve bool, now time.Time) Result {
	r := Result{SEN: v.SEN, Product: v.Product, Actions: []Step{ToAccount}}
	asker := orSales(v.AskedBy)
	switch {
	case k.Purpose == licensing.PurposeConfirmMove && approve:
		newEmail := orSomeone(v.NewEmail, "the new account")
		r.Title = fmt.Sprintf("You confirmed moving %s to %s", v.SEN, newEmail)
		r.Message = fmt.Sprintf("Thank you. %s (%s) now moves to %s.", v.SEN, v.Product, newEmail)
		r.Next = []string{fmt.Sprintf("%s gets an email to set up their account if they need one and to make themselves the primary %s contact; they have until %s.",
			newEmail, orSomeone(licensing.JoinWords(v.MoveRoles), "billing and technical"), licensing.ShortDate(nextDeadline(k, now)))}
		if v.FromEmail != "" {
			if v.KeepOld {
				r.Next = append(r.Next, fmt.Sprintf("%s then stays on as a secondary contact.", v.FromEmail))
			} else {
				r.Next = append(r.Next, fmt.Sprintf("%s is then removed from the licence.", v.FromEmail))
			}
		}
		r.Next = append(r.Next, "We'll email you when the move is done, or if it is called off.")
	case k.Purpose == licensing.PurposeConfirmMove:
		r.Title = fmt.Sprintf("You declined moving %s", v.SEN)
		r.Message = fmt.Sprintf("Nothing changed: %s keeps its contacts, and the move's links no longer work.", v.SEN)
		r.Next = []string{fmt.Sprintf("We have told %s. If it was a mistake, ask them to start the move again.", asker)}
	case approve:
		who := orSomeone(v.Requester, "The person who asked")
		r.Title = fmt.Sprintf("You confirmed %s's request about %s", who, v.SEN)
		r.Message = fmt.Sprintf("Thank you. %s may now act for %s (%s) through our sales team.", who, v.SEN, v.Product)
		r.Next = []string{fmt.Sprintf("We have told %s, who carry on with the request; you'll get an email about any change to the licence's contacts.", asker)}
	default:
		who := orSomeone(v.Requester, "the person who asked")
		r.Title = fmt.Sprintf("You declined %s's request about %s", who, v.SEN)
		r.Message = fmt.Sprintf("Nothing changed: our sales team won't act for %s on %s.", who, v.SEN)
		r.Next = []string{fmt.Sprintf("We have told %s.", asker)}
	}
	return r
}

func accountReady(k postgres.Link, v View) Result {
	r := Result{SEN: v.SEN, Product: v.Product, Title: "Your account is ready",
		Message: "You can now sign in with " + string(k.Email) + " and the password you chose.",
		Actions: []Step{ToSignIn}}
	if v.SEN != "" {
		r.Next = []string{fmt.Sprintf("Your account page shows %s (%s) and its contacts; you can make yourself its primary contact there.", v.SEN, v.Product)}
	}
	return r
}

// accountReadySecondary is a new contact who set up their account and
// declined the primary role in one form (review #12).
func accountReadySecondary(k postgres.Link, v View) Result {
	return Result{SEN: v.SEN, Product: v.Product, Title: "Your account is ready",
		Message: fmt.Sprintf("You can now sign in with %s and the password you chose. You stay a secondary %s contact of %s.", k.Email, licensing.JoinWords(v.Roles), v.SEN),
		Next:    []string{"You can still make yourself primary later, from your account page."},
		Actions: []Step{ToSignIn}}
}

func promoted(k postgres.Link, v View, roles []licensing.Role, demoted []string, setUp bool) Result {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	r := Result{SEN: v.SEN, Product: v.Product, Actions: []Step{ToAccount},
		Title: fmt.Sprintf("You are now the primary %s contact of %s", licensing.JoinWords(names), k.SEN)}
	if len(demoted) > 0 {
		r.Message = fmt.Sprintf("%s became a secondary contact; we've emailed them.", licensing.JoinWords(demoted))
	} else {
		r.Message = "The previous primary contact is now a secondary contact."
	}
	if v.ForMove {
		fate := "the move finishes now"
		if v.FromEmail != "" && !v.KeepOld {
			fate = fmt.Sprintf("the move finishes now: %s is removed from the licence", v.FromEmail)
		} else if v.FromEmail != "" {
			fate = fmt.Sprintf("the move finishes now: %s stays on as a secondary contact", v.FromEmail)
		}
		r.Next = []string{strings.ToUpper(fate[:1]) + fate[1:] + ", and you both get an email when it is done.",
			"The licence's card stays as it is; to pay with your own card, update it from your account page."}
	}
	if setUp {
		// Review #11: the account made on the same page, and how to sign in.
		r.Title = "Your account is set up, and y" + r.Title[1:]
		r.Next = append([]string{fmt.Sprintf("Sign in with %s and the password you just chose to see the licence on your account page.", k.Email)}, r.Next...)
		r.Actions = []Step{ToSignIn}
	}
	return r
}

func promotionDeclined(v View) Result {
	r := Result{SEN: v.SEN, Product: v.Product}
	stays := "The primary contact stays as it is"
	if len(v.Demoted) > 0 {
		stays = licensing.JoinWords(v.Demoted) + " stays the primary contact"
	}
	if v.ForMove {
		r.Title = fmt.Sprintf("You declined to take over %s", v.SEN)
		r.Message = fmt.Sprintf("The move of %s to you is called off. Nothing changed: %s, and we've told them and %s.", v.SEN, stays, orSales(v.AskedBy))
		r.Next = []string{"If you change your mind, ask our sales team to start the move again."}
		r.Actions = []Step{ToHome}
		return r
	}
	r.Title = fmt.Sprintf("You declined to become the primary %s contact of %s", licensing.JoinWords(v.Roles), v.SEN)
	r.Message = fmt.Sprintf("Nothing changed: you stay a secondary contact, and %s.", strings.ToLower(stays[:1])+stays[1:])
	r.Next = []string{"You can still make yourself primary later, from your account page."}
	r.Actions = []Step{ToAccount}
	return r
}

// ended describes a link that no longer works, from its stored state.
func (s *Service) ended(ctx context.Context, token string) (*Ended, error) {
	st, err := s.DB.LinkState(ctx, token)
	if err != nil {
		return nil, err
	}
	e := &Ended{Purpose: st.Purpose, Email: st.Email, SEN: string(st.SEN), Origin: dataString(st.Data, "origin")}
	switch {
	case !st.UsedAt.IsZero():
		e.How, e.At = "used", st.UsedAt
	case !st.RevokedAt.IsZero():
		e.How, e.At, e.Reason = "withdrawn", st.RevokedAt, st.RevokedReason
	default:
		e.How, e.At = "expired", st.ExpiresAt
	}
	e.For, e.ForYou = linkFor(st)
	e.Outcome = outcomeOf(st)
	if st.SEN != "" {
		if l, err := s.DB.License(ctx, st.SEN); err == nil {
			e.Product = l.Product
		}
	}
	if e.How == "used" {
		e.Done = doneSentence(st, e.At)
	}
	return e, nil
}

// doneSentence is what the recipient did with a used link.
func doneSentence(st postgres.LinkState, at time.Time) string {
	on := " on " + licensing.ShortDate(at) + "."
	newEmail := orSomeone(dataString(st.Data, "new_email"), "another account")
	switch {
	case st.Action == "confirm_move.approve":
		return fmt.Sprintf("You confirmed moving %s to %s%s", st.SEN, newEmail, on)
	case st.Action == "confirm_move.decline":
		return fmt.Sprintf("You declined moving %s to %s%s", st.SEN, newEmail, on)
	case st.Action == "confirm_request.approve":
		return fmt.Sprintf("You confirmed %s's request about %s%s", orSomeone(dataString(st.Data, "requester"), "someone"), st.SEN, on)
	case st.Action == "confirm_request.decline":
		return fmt.Sprintf("You declined %s's request about %s%s", orSomeone(dataString(st.Data, "requester"), "someone"), st.SEN, on)
	case st.Action == "promote.decline":
		return fmt.Sprintf("You declined to become the primary contact of %s%s", st.SEN, on)
	case st.Purpose == licensing.PurposePromote:
		return fmt.Sprintf("You made yourself the primary %s contact of %s%s", licensing.JoinWords(stringList(st.Data["roles"])), st.SEN, on)
	case st.Purpose == licensing.PurposeCompleteAccount:
		return "You set up your account" + on + " Sign in with " + string(st.Email) + "."
	case st.Purpose == licensing.PurposeCardUpdate:
		return fmt.Sprintf("You saved a new card for %s%s", st.SEN, on)
	}
	return "It was used" + on
}

func orSales(s string) string { return orSomeone(s, licensing.OurSalesTeam) }

func orSomeone(s, otherwise string) string {
	if strings.TrimSpace(s) == "" {
		return otherwise
	}
	return s
}

// linkFor says what a link was for (review #13): naming only the licence,
// which anyone holding the link read in its mail, and in full for its
// recipient.
func linkFor(st postgres.LinkState) (anyone, you string) {
	sen := string(st.SEN)
	switch st.Purpose {
	case licensing.PurposeConfirmMove:
		anyone = "to confirm a move of " + sen
		if to := dataString(st.Data, "new_email"); to != "" {
			return anyone, fmt.Sprintf("to confirm the move of %s to %s", sen, to)
		}
	case licensing.PurposeConfirmRequest:
		anyone = "to confirm a request about " + sen
		if who := dataString(st.Data, "requester"); who != "" {
			return anyone, fmt.Sprintf("to confirm that %s may act for %s", who, sen)
		}
	case licensing.PurposePromote:
		anyone = "to become the primary contact of " + sen
		if roles := stringList(st.Data["roles"]); len(roles) > 0 {
			anyone = fmt.Sprintf("to become the primary %s contact of %s", licensing.JoinWords(roles), sen)
		}
		if dataBool(st.Data, "for_move") {
			anyone = "to take over " + sen + " as its primary contact"
		}
	case licensing.PurposeCompleteAccount:
		anyone = "to set up your account"
		if sen != "" {
			anyone += ", as a contact of " + sen
		}
	case licensing.PurposeCardUpdate:
		anyone = "to update the card of " + sen
	}
	return anyone, anyone
}

// outcomeOf is what became of what a used link was for, when the link's
// state tells.
func outcomeOf(st postgres.LinkState) string {
	if st.UsedAt.IsZero() {
		return ""
	}
	switch st.Action {
	case "confirm_move.approve":
		if !st.MovedAt.IsZero() {
			return "The move was completed on " + licensing.ShortDate(st.MovedAt) + "."
		}
		return "The move now waits for its last step; we email you when it is done, or if it is called off."
	case "confirm_move.decline":
		return "The move was called off: nothing changed."
	case "confirm_request.approve":
		return "Our sales team may act on the request."
	case "confirm_request.decline":
		return "Our sales team won't act on the request: nothing changed."
	case "promote.decline":
		return "Nothing changed."
	}
	switch st.Purpose {
	case licensing.PurposePromote:
		if dataBool(st.Data, "for_move") {
			return "The move was completed with it."
		}
		return "It made its recipient the primary contact."
	case licensing.PurposeCompleteAccount:
		return "The account is set up: sign in with the email it was sent to."
	case licensing.PurposeCardUpdate:
		return "The card was saved with it."
	}
	return ""
}

func dataBool(data map[string]any, key string) bool {
	b, _ := data[key].(bool)
	return b
}
