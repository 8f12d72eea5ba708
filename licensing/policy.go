package licensing

import (
	"cmp"
	"slices"
	"strings"
)

// Relation is how one person is attached to a licence. A person may hold any
// combination, or none.
type Relation struct {
	Billing   bool // a billing contact, primary or secondary
	Technical bool // a technical contact, primary or secondary
	SiteAdmin bool
}

// RelationOf computes who's relation to l. Emails are compared exactly, as
// both sides are expected to come from ParseEmail.
func RelationOf(l License, who Email) Relation {
	var r Relation
	if who == "" {
		return r
	}
	for _, c := range l.Contacts {
		if c.Email != who {
			continue
		}
		switch c.Role {
		case Billing:
			r.Billing = true
		case Technical:
			r.Technical = true
		}
	}
	r.SiteAdmin = slices.Contains(l.SiteAdmins, who)
	return r
}

// IsContact reports whether the person is a contact in any role.
func (r Relation) IsContact() bool { return r.Billing || r.Technical }

// Has reports whether the person is a contact in role.
func (r Relation) Has(role Role) bool {
	switch role {
	case Billing:
		return r.Billing
	case Technical:
		return r.Technical
	}
	return false
}

// ErrNotYourLicence answers a customer who asks to act on a licence they
// are neither a contact nor a site admin of, and one who names a SEN no
// licence has, alike (it does not even repeat the SEN): their account page
// must not tell them which SENs exist, or anything about a licence that
// is not theirs. Check the relation before any rule that would say more.
var ErrNotYourLicence = Errorf(NotFound, "That licence isn't one of yours. If it should be, ask one of its contacts to add you.")

// CheckRelated returns ErrNotYourLicence unless who is a contact or a site
// admin of l.
func CheckRelated(l License, who Email) error {
	if r := RelationOf(l, who); r.IsContact() || r.SiteAdmin {
		return nil
	}
	return ErrNotYourLicence
}

// needEmail refuses a zero Email so no rule is ever evaluated for "nobody".
func needEmail(who Email) error {
	if who == "" {
		return Errorf(Invalid, "no email address given")
	}
	return nil
}

func needRole(role Role) error {
	if !role.Valid() {
		return Errorf(Invalid, "%s is not a role: expected %s", quoteInput(string(role)), orList(Roles))
	}
	return nil
}

// CanUpdateCard says whether who may update l's card (SPEC §2 Payment). It is
// meant to be checked when a link is sent and again when it is used.
func CanUpdateCard(l License, who Email) error {
	switch {
	case l.Deployment == Server:
		return Errorf(FailedPrecondition, "%s is a server licence: server licences are not billed by card", l.SEN)
	case l.Deployment != Cloud:
		return Errorf(FailedPrecondition, "%s has no known deployment, so it has no card", l.SEN)
	case l.Status == Cancelled:
		return Errorf(FailedPrecondition, "%s is cancelled, so its card can no longer be updated", l.SEN)
	}
	if err := needEmail(who); err != nil {
		return err
	}
	r := RelationOf(l, who)
	switch l.Cycle {
	case Monthly:
		if r.IsContact() || r.SiteAdmin {
			return nil
		}
		return Errorf(Forbidden, "%s is not a billing or technical contact or a site admin of %s, so may not update its card", who, l.SEN)
	case Annual:
		if r.SiteAdmin {
			return nil
		}
		return Errorf(Forbidden, "%s is an annual licence: annual licences need a site admin to update the card, and %s is not a site admin of it", l.SEN, who)
	}
	return Errorf(FailedPrecondition, "%s has no billing cycle, so its card cannot be updated", l.SEN)
}

// CanEditBillingAddress says whether who may change l's billing address:
// only its site admins (SPEC §2 Payment). It is checked before the address
// itself, so someone not allowed learns nothing about what the form wants.
func CanEditBillingAddress(l License, who Email) error {
	if err := needEmail(who); err != nil {
		return err
	}
	if RelationOf(l, who).SiteAdmin {
		return nil
	}
	return Errorf(Forbidden, "Only a site admin of %s can change its billing address.", l.SEN)
}

// CanConfirmRequest says whether who may confirm, by email link, a request
// made to sales about l (verification or transfer).
func CanConfirmRequest(l License, who Email) error {
	if err := needEmail(who); err != nil {
		return err
	}
	if r := RelationOf(l, who); r.IsContact() || r.SiteAdmin {
		return nil
	}
	return Errorf(Forbidden, "%s is neither a contact nor a site admin of %s, so cannot confirm requests about it", who, l.SEN)
}

// needContact checks that actor is a contact of l in any role.
func needContact(l License, actor Email, doing string) error {
	if err := needEmail(actor); err != nil {
		return err
	}
	if !RelationOf(l, actor).IsContact() {
		return Errorf(Forbidden, "%s is not a contact of %s; only its contacts may %s", actor, l.SEN, doing)
	}
	return nil
}

// CanAddContact says whether actor, a customer, may add newEmail as a role
// contact of l.
func CanAddContact(l License, actor Email, role Role, newEmail Email) error {
	if err := needContact(l, actor, "add contacts"); err != nil {
		return err
	}
	return CheckAddContact(l, role, newEmail)
}

// CheckAddContact checks only the target of an addition; sales use it
// directly once the request is verified.
func CheckAddContact(l License, role Role, newEmail Email) error {
	if err := needRole(role); err != nil {
		return err
	}
	if err := needEmail(newEmail); err != nil {
		return err
	}
	if l.Status == Cancelled {
		return Errorf(FailedPrecondition, "%s is cancelled, so contacts can no longer be added", l.SEN)
	}
	if hasRow(l.Contacts, newEmail, role) {
		return Errorf(Conflict, "%s is already a %s contact of %s", newEmail, role, l.SEN)
	}
	return nil
}

// CanRemoveContact says whether actor, a customer, may remove target as a
// role contact of l.
func CanRemoveContact(l License, actor Email, role Role, target Email) error {
	if err := needContact(l, actor, "remove contacts"); err != nil {
		return err
	}
	return CheckRemoveContact(l, role, target)
}

// CheckRemoveContact checks only the target of a removal: it must be a
// secondary contact in role, and not the last one.
func CheckRemoveContact(l License, role Role, target Email) error {
	if err := needRole(role); err != nil {
		return err
	}
	if err := needEmail(target); err != nil {
		return err
	}
	i := slices.IndexFunc(l.Contacts, func(c Contact) bool { return c.Email == target && c.Role == role })
	if i < 0 {
		return Errorf(NotFound, "%s is not a %s contact of %s", target, role, l.SEN)
	}
	// Checked before "primary" because promoting someone else is impossible
	// when there is nobody else.
	if countRole(l.Contacts, role) == 1 {
		return Errorf(FailedPrecondition, "%s is the last %s contact of %s; add another %s contact, who then promotes themselves, first", target, role, l.SEN, role)
	}
	if l.Contacts[i].Primary {
		return Errorf(FailedPrecondition, "%s is the primary %s contact of %s; someone else must promote themselves first", target, role, l.SEN)
	}
	return nil
}

// Promote returns a copy of contacts in which who is the primary contact for
// role and the previous primary of that role is secondary, sorted as
// SortContacts does. contacts is not modified. If who is already primary the
// error has Code Conflict; callers may treat that as success.
func Promote(contacts []Contact, who Email, role Role) ([]Contact, error) {
	if err := needRole(role); err != nil {
		return nil, err
	}
	if err := needEmail(who); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(contacts, func(c Contact) bool { return c.Email == who && c.Role == role })
	if i < 0 {
		return nil, Errorf(NotFound, "%s is not a %s contact of this licence", who, role)
	}
	if contacts[i].Primary {
		return nil, Errorf(Conflict, "%s is already the primary %s contact", who, role)
	}
	out := slices.Clone(contacts)
	for j := range out {
		if out[j].Role == role {
			out[j].Primary = j == i
		}
	}
	SortContacts(out)
	return out, nil
}

// CanPromoteSelf says whether who may make themselves the primary role
// contact of l: they must be a secondary contact in that role. It returns
// the primary who would become secondary ("" if none).
func CanPromoteSelf(l License, who Email, role Role) (Email, error) {
	if _, err := Promote(l.Contacts, who, role); err != nil {
		if ErrorCode(err) == NotFound {
			return "", Errorf(Forbidden, "You are not a %s contact of %s, so you can't become its primary %s contact.", role, l.SEN, role)
		}
		return "", err
	}
	return primaryOf(l.Contacts, role), nil
}

// SortContacts orders contacts as License.Contacts documents: by role (in the
// order of Roles), primary first, then by email.
func SortContacts(contacts []Contact) {
	rank := func(r Role) int {
		if i := slices.Index(Roles, r); i >= 0 {
			return i
		}
		return len(Roles)
	}
	slices.SortStableFunc(contacts, func(a, b Contact) int {
		if c := cmp.Compare(rank(a.Role), rank(b.Role)); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Role), string(b.Role)); c != 0 {
			return c
		}
		if a.Primary != b.Primary {
			if a.Primary {
				return -1
			}
			return 1
		}
		return strings.Compare(string(a.Email), string(b.Email))
	})
}

// CheckContacts checks the contact invariants of SPEC §2: every row has an
// email and a known role, no (email, role) pair appears twice, and each role
// has exactly one primary. A violation is our bug, hence Code Internal.
func CheckContacts(contacts []Contact) error {
	type key struct {
		email Email
		role  Role
	}
	seen := make(map[key]bool, len(contacts))
	primaries := map[Role]int{}
	for _, c := range contacts {
		if c.Email == "" {
			return Errorf(Internal, "a %s contact has no email address", c.Role)
		}
		if !c.Role.Valid() {
			return Errorf(Internal, "%s has the unknown role %s", c.Email, quoteInput(string(c.Role)))
		}
		k := key{c.Email, c.Role}
		if seen[k] {
			return Errorf(Internal, "%s is listed twice as a %s contact", c.Email, c.Role)
		}
		seen[k] = true
		if c.Primary {
			primaries[c.Role]++
		}
	}
	for _, r := range Roles {
		if n := primaries[r]; n != 1 {
			return Errorf(Internal, "there must be exactly one primary %s contact, found %d", r, n)
		}
	}
	return nil
}

func hasRow(contacts []Contact, who Email, role Role) bool {
	return slices.ContainsFunc(contacts, func(c Contact) bool { return c.Email == who && c.Role == role })
}

func countRole(contacts []Contact, role Role) int {
	n := 0
	for _, c := range contacts {
		if c.Role == role {
			n++
		}
	}
	return n
}

// primaryOf returns the primary contact of role, or "" when there is none.
func primaryOf(contacts []Contact, role Role) Email {
	for _, c := range contacts {
		if c.Role == role && c.Primary {
			return c.Email
		}
	}
	return ""
}

// CardUpdaters lists everyone CanUpdateCard allows for l: its contacts
// (in contact order), then site admins, each once.
func CardUpdaters(l License) []Email {
	var out []Email
	consider := make([]Email, 0, len(l.Contacts)+len(l.SiteAdmins))
	for _, c := range l.Contacts {
		consider = append(consider, c.Email)
	}
	consider = append(consider, l.SiteAdmins...)
	for _, e := range consider {
		if !slices.Contains(out, e) && CanUpdateCard(l, e) == nil {
			out = append(out, e)
		}
	}
	return out
}
