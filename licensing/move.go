package licensing

import (
	"fmt"
	"slices"
	"strings"
)

// MoveRequest is a request to move a licence to a new account (SPEC §2, the
// answer to "I can't change my email"). Zero fields take the defaults noted.
type MoveRequest struct {
	SEN       SEN
	NewEmail  Email
	From      Email  // zero: the primary billing contact
	Roles     []Role // empty: every role From holds
	KeepOld   bool   // keep From as a secondary contact instead of removing it
	ConfirmBy Email  // zero: the current primaries of the moved roles
}

// MovePlan is a validated MoveRequest with every default resolved. All role
// lists are in the order of Roles.
type MovePlan struct {
	SEN       SEN
	NewEmail  Email
	From      Email
	Roles     []Role  // roles being moved; From holds each of them
	KeepOld   bool    // copied from the request
	ConfirmBy []Email // who must confirm by email link, without duplicates
	Add       []Role  // roles in which NewEmail must be added (as secondary)
	Promote   []Role  // roles in which From is primary, so NewEmail must promote itself
	Remove    []Role  // From's rows to remove after the promotions; empty when KeepOld
}

// PlanMove validates r against l and resolves its defaults. It changes
// nothing; the caller carries the plan out.
func PlanMove(l License, r MoveRequest) (MovePlan, error) {
	if r.SEN != "" && r.SEN != l.SEN {
		return MovePlan{}, Errorf(Invalid, "the request is for %s but the licence is %s", r.SEN, l.SEN)
	}
	if l.Status == Cancelled {
		return MovePlan{}, Errorf(FailedPrecondition, "%s is cancelled, so it cannot be moved", l.SEN)
	}
	if r.NewEmail == "" {
		return MovePlan{}, Errorf(Invalid, "no new email address given")
	}

	from := r.From
	if from == "" {
		if from = primaryOf(l.Contacts, Billing); from == "" {
			return MovePlan{}, Errorf(FailedPrecondition, "%s has no primary billing contact to move from; name one with --from", l.SEN)
		}
	}
	rel := RelationOf(l, from)
	if !rel.IsContact() {
		return MovePlan{}, Errorf(NotFound, "%s is not a contact of %s, so there is nothing to move from it", from, l.SEN)
	}
	if r.NewEmail == from {
		return MovePlan{}, Errorf(Invalid, "old and new are the same address (%s)", from)
	}

	roles := r.Roles
	if len(roles) == 0 {
		roles = nil
		for _, role := range Roles {
			if rel.Has(role) {
				roles = append(roles, role)
			}
		}
	}
	want := map[Role]bool{}
	for _, role := range roles {
		if err := needRole(role); err != nil {
			return MovePlan{}, err
		}
		if !rel.Has(role) {
			return MovePlan{}, Errorf(Invalid, "%s is not a %s contact of %s, so that role cannot be moved from it", from, role, l.SEN)
		}
		want[role] = true
	}
	roles = canonicalRoles(want)

	p := MovePlan{SEN: l.SEN, NewEmail: r.NewEmail, From: from, Roles: roles, KeepOld: r.KeepOld}
	for _, role := range roles {
		if !hasRow(l.Contacts, r.NewEmail, role) {
			p.Add = append(p.Add, role)
		}
		if primaryOf(l.Contacts, role) == from {
			p.Promote = append(p.Promote, role)
		}
		if !r.KeepOld {
			p.Remove = append(p.Remove, role)
		}
	}
	if len(p.Add) == 0 {
		return MovePlan{}, Errorf(Conflict, "%s is already a %s contact of %s", r.NewEmail, joinRoles(roles), l.SEN)
	}

	// Whoever the licence moves to never confirms their own takeover
	// (review #23): a contact already, they are left out of the default
	// confirmers, and cannot be named as one.
	if r.ConfirmBy != "" {
		if err := CanConfirmRequest(l, r.ConfirmBy); err != nil {
			return MovePlan{}, err
		}
		if r.ConfirmBy == r.NewEmail {
			return MovePlan{}, Errorf(Forbidden, "%s is who %s moves to, so they cannot confirm the move; name another contact or site admin with --confirm-by", r.NewEmail, l.SEN)
		}
		p.ConfirmBy = []Email{r.ConfirmBy}
		return p, nil
	}
	for _, role := range roles {
		who := primaryOf(l.Contacts, role)
		if who == "" {
			return MovePlan{}, Errorf(FailedPrecondition, "%s has no primary %s contact to confirm the move; name someone with --confirm-by", l.SEN, role)
		}
		if who != r.NewEmail && !slices.Contains(p.ConfirmBy, who) {
			p.ConfirmBy = append(p.ConfirmBy, who)
		}
	}
	if len(p.ConfirmBy) == 0 {
		return MovePlan{}, Errorf(FailedPrecondition, "the only primary contact who could confirm is %s, whom %s moves to; name another contact or site admin with --confirm-by", r.NewEmail, l.SEN)
	}
	return p, nil
}

// Staying lists, for a move that does not take every role, the roles left
// behind with their primary contacts (review #10): "erin@globex.test stays
// primary technical contact", and the command that moves that role too.
func (p MovePlan) Staying(l License) []string {
	var out []string
	for _, role := range Roles {
		if slices.Contains(p.Roles, role) {
			continue
		}
		who := primaryOf(l.Contacts, role)
		if who == "" || who == p.NewEmail {
			continue
		}
		out = append(out, fmt.Sprintf("%s stays primary %s contact: this moves the %s role only. To move the %s role too, run /license move %s %s --from %s --roles %s after this move.",
			who, role, joinRoles(p.Roles), role, l.SEN, p.NewEmail, who, role))
	}
	return out
}

// joinRoles renders roles as "billing and technical".
func joinRoles(roles []Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, " and ")
}
