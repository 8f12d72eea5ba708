package licensing

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestRelationOf_ReportsEveryRoleAndSiteAdmin(t *testing.T) {
	l := monthlyDemo()
	l.SiteAdmins = append(l.SiteAdmins, "alice@acme.test")
	tests := []struct {
		who  Email
		want Relation
	}{
		{"alice@acme.test", Relation{Billing: true, Technical: true, SiteAdmin: true}},
		{"bob@acme.test", Relation{Technical: true}},
		{"carol@acme.test", Relation{SiteAdmin: true}},
		{"mallory@acme.test", Relation{}},
		{"ALICE@acme.test", Relation{}}, // not normalised, so nobody
		{"", Relation{}},
	}
	for _, tt := range tests {
		if got := RelationOf(l, tt.who); got != tt.want {
			t.Errorf("RelationOf(%q) = %+v, want %+v", tt.who, got, tt.want)
		}
	}
}

func TestRelationOf_ZeroEmailNeverMatchesABlankRow(t *testing.T) {
	l := monthlyDemo()
	l.Contacts = append(l.Contacts, Contact{Role: Billing})
	l.SiteAdmins = append(l.SiteAdmins, "")
	if got := RelationOf(l, ""); got != (Relation{}) {
		t.Fatalf("RelationOf(zero) = %+v", got)
	}
}

func TestRelation_IsContactAndHas(t *testing.T) {
	tests := []struct {
		r                        Relation
		contact, billing, techie bool
	}{
		{Relation{}, false, false, false},
		{Relation{SiteAdmin: true}, false, false, false},
		{Relation{Billing: true}, true, true, false},
		{Relation{Technical: true}, true, false, true},
		{Relation{Billing: true, Technical: true}, true, true, true},
	}
	for _, tt := range tests {
		if tt.r.IsContact() != tt.contact || tt.r.Has(Billing) != tt.billing || tt.r.Has(Technical) != tt.techie || tt.r.Has("admin") {
			t.Errorf("%+v: IsContact=%v Has(billing)=%v Has(technical)=%v", tt.r, tt.r.IsContact(), tt.r.Has(Billing), tt.r.Has(Technical))
		}
	}
}

// licenceWith builds a licence where who holds exactly relation r; the
// primaries are other people so the licence stays valid.
func licenceWith(r Relation, who Email, d Deployment, c Cycle, s Status) License {
	l := License{
		SEN: "SEN-1000009", Deployment: d, Cycle: c, Status: s,
		SiteAdmins: []Email{"admin@x.test"},
		Contacts: []Contact{
			{Email: "pb@x.test", Role: Billing, Primary: true},
			{Email: "pt@x.test", Role: Technical, Primary: true},
		},
	}
	if r.Billing {
		l.Contacts = append(l.Contacts, Contact{Email: who, Role: Billing})
	}
	if r.Technical {
		l.Contacts = append(l.Contacts, Contact{Email: who, Role: Technical})
	}
	if r.SiteAdmin {
		l.SiteAdmins = append(l.SiteAdmins, who)
	}
	return l
}

func TestCanUpdateCard_AuthorizationMatrix(t *testing.T) {
	// Expected outcome for an active cloud licence; "" means allowed.
	cloud := []struct {
		r               Relation
		monthly, annual Code
	}{
		{Relation{}, Forbidden, Forbidden},
		{Relation{Billing: true}, "", Forbidden},
		{Relation{Technical: true}, "", Forbidden},
		{Relation{Billing: true, Technical: true}, "", Forbidden},
		{Relation{SiteAdmin: true}, "", ""},
		{Relation{Billing: true, SiteAdmin: true}, "", ""},
		{Relation{Technical: true, SiteAdmin: true}, "", ""},
		{Relation{Billing: true, Technical: true, SiteAdmin: true}, "", ""},
	}
	const who = Email("who@x.test")
	for _, row := range cloud {
		for _, cycle := range Cycles {
			for _, d := range Deployments {
				for _, s := range Statuses {
					want := row.monthly
					if cycle == Annual {
						want = row.annual
					}
					// Deployment and status override the relation.
					if d == Server || s == Cancelled {
						want = FailedPrecondition
					}
					name := fmt.Sprintf("%+v/%s/%s/%s", row.r, cycle, d, s)
					t.Run(name, func(t *testing.T) {
						l := licenceWith(row.r, who, d, cycle, s)
						if got := RelationOf(l, who); got != row.r {
							t.Fatalf("fixture relation %+v, want %+v", got, row.r)
						}
						wantCode(t, CanUpdateCard(l, who), want)
					})
				}
			}
		}
	}
}

func TestCanUpdateCard_ExplainsRefusals(t *testing.T) {
	tests := []struct {
		name string
		l    License
		who  Email
		code Code
		msg  string
	}{
		{"server", serverDemo(), "hank@umbrella.test", FailedPrecondition, "SEN-2000001 is a server licence: server licences are not billed by card"},
		{"cancelled", cancelled(monthlyDemo()), "alice@acme.test", FailedPrecondition, "SEN-1000001 is cancelled, so its card can no longer be updated"},
		{"annual needs site admin", annualDemo(), "dave@globex.test", Forbidden, "SEN-1000002 is an annual licence: annual licences need a site admin to update the card, and dave@globex.test is not a site admin of it"},
		{"monthly stranger", monthlyDemo(), "mallory@evil.test", Forbidden, "mallory@evil.test is not a billing or technical contact or a site admin of SEN-1000001, so may not update its card"},
		{"no email", monthlyDemo(), "", Invalid, "no email address given"},
		{"cloud without cycle", func() License { l := monthlyDemo(); l.Cycle = ""; return l }(), "alice@acme.test", FailedPrecondition, "SEN-1000001 has no billing cycle, so its card cannot be updated"},
		{"unknown deployment", func() License { l := monthlyDemo(); l.Deployment = ""; return l }(), "alice@acme.test", FailedPrecondition, "SEN-1000001 has no known deployment, so it has no card"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CanUpdateCard(tt.l, tt.who)
			wantCode(t, err, tt.code)
			if err.Error() != tt.msg {
				t.Fatalf("message %q, want %q", err.Error(), tt.msg)
			}
		})
	}
}

func TestCanUpdateCard_DemoData(t *testing.T) {
	tests := []struct {
		l    License
		who  Email
		want Code
	}{
		{monthlyDemo(), "alice@acme.test", ""},
		{monthlyDemo(), "bob@acme.test", ""},
		{monthlyDemo(), "carol@acme.test", ""},
		{annualDemo(), "frank@globex.test", ""},
		{annualDemo(), "dave@globex.test", Forbidden},
		{annualDemo(), "erin@globex.test", Forbidden},
		{serverDemo(), "hank@umbrella.test", FailedPrecondition},
	}
	for _, tt := range tests {
		t.Run(string(tt.l.SEN)+"/"+string(tt.who), func(t *testing.T) {
			wantCode(t, CanUpdateCard(tt.l, tt.who), tt.want)
		})
	}
}

func TestCanConfirmRequest_AllowsAnyContactOrSiteAdmin(t *testing.T) {
	const who = Email("who@x.test")
	for _, r := range []Relation{
		{}, {Billing: true}, {Technical: true}, {SiteAdmin: true}, {Billing: true, Technical: true, SiteAdmin: true},
	} {
		for _, s := range Statuses {
			t.Run(fmt.Sprintf("%+v/%s", r, s), func(t *testing.T) {
				want := Code("")
				if !r.IsContact() && !r.SiteAdmin {
					want = Forbidden
				}
				wantCode(t, CanConfirmRequest(licenceWith(r, who, Cloud, Annual, s), who), want)
			})
		}
	}
	wantCode(t, CanConfirmRequest(monthlyDemo(), ""), Invalid)
}

// Strangers get one answer, whatever the licence is like, and it names
// nothing about it.
func TestCheckRelated_OneAnswerForEveryStranger(t *testing.T) {
	const who = Email("who@x.test")
	for _, r := range []Relation{
		{}, {Billing: true}, {Technical: true}, {SiteAdmin: true},
	} {
		for _, d := range Deployments {
			for _, s := range Statuses {
				l := licenceWith(r, who, d, Annual, s)
				err := CheckRelated(l, who)
				if r.IsContact() || r.SiteAdmin {
					wantCode(t, err, "")
					continue
				}
				if err != ErrNotYourLicence || strings.Contains(ErrorMessage(err), string(l.SEN)) {
					t.Errorf("%+v %s %s: %v; want ErrNotYourLicence", r, d, s, err)
				}
			}
		}
	}
	if CheckRelated(monthlyDemo(), "") != ErrNotYourLicence {
		t.Error("nobody is related to a licence")
	}
}

func TestCanAddContact_RequiresActorToBeAContact(t *testing.T) {
	tests := []struct {
		name  string
		actor Email
		want  Code
	}{
		{"primary contact", "alice@acme.test", ""},
		{"secondary contact", "bob@acme.test", ""},
		{"site admin only", "carol@acme.test", Forbidden},
		{"stranger", "mallory@evil.test", Forbidden},
		{"nobody", "", Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, CanAddContact(monthlyDemo(), tt.actor, Billing, "new@acme.test"), tt.want)
		})
	}
}

func TestCanAddContact_ChecksActorBeforeTarget(t *testing.T) {
	// A stranger learns nothing about who is already a contact.
	wantCode(t, CanAddContact(monthlyDemo(), "mallory@evil.test", Billing, "alice@acme.test"), Forbidden)
}

func TestCheckAddContact_ChecksOnlyTheTarget(t *testing.T) {
	tests := []struct {
		name     string
		l        License
		role     Role
		newEmail Email
		code     Code
		msg      string
	}{
		{"new person", monthlyDemo(), Billing, "new@acme.test", "", ""},
		{"contact in the other role", monthlyDemo(), Billing, "bob@acme.test", "", ""},
		{"site admin becomes contact", monthlyDemo(), Technical, "carol@acme.test", "", ""},
		{"past due licence", func() License { l := monthlyDemo(); l.Status = PastDue; return l }(), Billing, "new@acme.test", "", ""},
		{"already in that role", monthlyDemo(), Technical, "bob@acme.test", Conflict, "bob@acme.test is already a technical contact of SEN-1000001"},
		{"already primary", monthlyDemo(), Billing, "alice@acme.test", Conflict, "alice@acme.test is already a billing contact of SEN-1000001"},
		{"cancelled", cancelled(monthlyDemo()), Billing, "new@acme.test", FailedPrecondition, "SEN-1000001 is cancelled, so contacts can no longer be added"},
		{"unknown role", monthlyDemo(), "admin", "new@acme.test", Invalid, `"admin" is not a role: expected billing or technical`},
		{"no email", monthlyDemo(), Billing, "", Invalid, "no email address given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAddContact(tt.l, tt.role, tt.newEmail)
			wantCode(t, err, tt.code)
			if err != nil && err.Error() != tt.msg {
				t.Fatalf("message %q, want %q", err.Error(), tt.msg)
			}
		})
	}
}

func TestCheckRemoveContact_Rules(t *testing.T) {
	withSecondBilling := monthlyDemo()
	withSecondBilling.Contacts = append(withSecondBilling.Contacts, Contact{Email: "bob@acme.test", Role: Billing})
	tests := []struct {
		name   string
		l      License
		role   Role
		target Email
		code   Code
		msg    string
	}{
		{"secondary contact", monthlyDemo(), Technical, "bob@acme.test", "", ""},
		{"secondary of cancelled licence", cancelled(monthlyDemo()), Technical, "bob@acme.test", "", ""},
		{"secondary billing", withSecondBilling, Billing, "bob@acme.test", "", ""},
		{"primary", monthlyDemo(), Technical, "alice@acme.test", FailedPrecondition,
			"alice@acme.test is the primary technical contact of SEN-1000001; someone else must promote themselves first"},
		{"primary with others in role", withSecondBilling, Billing, "alice@acme.test", FailedPrecondition,
			"alice@acme.test is the primary billing contact of SEN-1000001; someone else must promote themselves first"},
		{"last of its role", monthlyDemo(), Billing, "alice@acme.test", FailedPrecondition,
			"alice@acme.test is the last billing contact of SEN-1000001; add another billing contact, who then promotes themselves, first"},
		{"contact in other role only", monthlyDemo(), Billing, "bob@acme.test", NotFound, "bob@acme.test is not a billing contact of SEN-1000001"},
		{"site admin", monthlyDemo(), Billing, "carol@acme.test", NotFound, "carol@acme.test is not a billing contact of SEN-1000001"},
		{"stranger", monthlyDemo(), Technical, "mallory@evil.test", NotFound, "mallory@evil.test is not a technical contact of SEN-1000001"},
		{"unknown role", monthlyDemo(), "", "bob@acme.test", Invalid, `"" is not a role: expected billing or technical`},
		{"no email", monthlyDemo(), Technical, "", Invalid, "no email address given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRemoveContact(tt.l, tt.role, tt.target)
			wantCode(t, err, tt.code)
			if err != nil && err.Error() != tt.msg {
				t.Fatalf("message %q, want %q", err.Error(), tt.msg)
			}
		})
	}
}

func TestCanRemoveContact_RequiresActorToBeAContact(t *testing.T) {
	tests := []struct {
		name  string
		actor Email
		want  Code
	}{
		{"other contact", "alice@acme.test", ""},
		{"the target themselves", "bob@acme.test", ""},
		{"site admin only", "carol@acme.test", Forbidden},
		{"stranger", "mallory@evil.test", Forbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, CanRemoveContact(monthlyDemo(), tt.actor, Technical, "bob@acme.test"), tt.want)
		})
	}
}

// Over every valid contact list, a removal is allowed exactly when the
// target is a secondary contact, and the result still meets the invariants.
func TestCheckRemoveContact_AllowedExactlyForSecondariesAndKeepsInvariants(t *testing.T) {
	for _, cs := range validContactStates() {
		l := License{SEN: "SEN-1000009", Deployment: Cloud, Cycle: Monthly, Status: Active, Contacts: cs}
		for _, c := range append(slices.Clone(cs), Contact{Email: "z@x.test", Role: Billing}) {
			err := CheckRemoveContact(l, c.Role, c.Email)
			present := hasRow(cs, c.Email, c.Role)
			switch {
			case !present:
				wantCode(t, err, NotFound)
			case c.Primary:
				wantCode(t, err, FailedPrecondition)
			default:
				wantCode(t, err, "")
				rest := slices.DeleteFunc(slices.Clone(cs), func(x Contact) bool { return x.Email == c.Email && x.Role == c.Role })
				if err := CheckContacts(rest); err != nil {
					t.Fatalf("removing %+v from %+v broke invariants: %v", c, cs, err)
				}
			}
		}
	}
}

func TestPromote_MakesWhoPrimaryAndDemotesThePreviousPrimary(t *testing.T) {
	before := monthlyDemo().Contacts
	snapshot := slices.Clone(before)
	got, err := Promote(before, "bob@acme.test", Technical)
	wantCode(t, err, "")
	want := []Contact{
		{Email: "alice@acme.test", Role: Billing, Primary: true, AccountStatus: AccountActive},
		{Email: "bob@acme.test", Role: Technical, Primary: true, AccountStatus: AccountActive},
		{Email: "alice@acme.test", Role: Technical, AccountStatus: AccountActive},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Promote = %+v\nwant %+v", got, want)
	}
	if !slices.Equal(before, snapshot) {
		t.Fatalf("Promote modified its input: %+v", before)
	}
}

func TestPromote_RefusesNonContactsAndReportsAlreadyPrimary(t *testing.T) {
	tests := []struct {
		name string
		who  Email
		role Role
		code Code
		msg  string
	}{
		{"already primary", "alice@acme.test", Billing, Conflict, "alice@acme.test is already the primary billing contact"},
		{"contact in other role", "bob@acme.test", Billing, NotFound, "bob@acme.test is not a billing contact of this licence"},
		{"stranger", "mallory@evil.test", Technical, NotFound, "mallory@evil.test is not a technical contact of this licence"},
		{"unknown role", "bob@acme.test", "owner", Invalid, `"owner" is not a role: expected billing or technical`},
		{"nobody", "", Technical, Invalid, "no email address given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Promote(monthlyDemo().Contacts, tt.who, tt.role)
			wantCode(t, err, tt.code)
			if got != nil || err.Error() != tt.msg {
				t.Fatalf("Promote = %v, %q; want nil, %q", got, err.Error(), tt.msg)
			}
		})
	}
}

// Promote keeps the invariants from every valid starting state, for every
// person and role, and changes nothing but the primary flags of that role.
func TestPromote_KeepsInvariantsFromEveryValidState(t *testing.T) {
	people := []Email{"a@x.test", "b@x.test", "c@x.test", "z@x.test"}
	states := validContactStates()
	if len(states) != 144 { // 3 primaries × 4 secondary subsets, per role
		t.Fatalf("generated %d valid states, want 144", len(states))
	}
	for _, cs := range states {
		if err := CheckContacts(cs); err != nil {
			t.Fatalf("generated state %+v is invalid: %v", cs, err)
		}
		for _, who := range people {
			for _, role := range Roles {
				got, err := Promote(cs, who, role)
				switch {
				case !hasRow(cs, who, role):
					wantCode(t, err, NotFound)
					continue
				case primaryOf(cs, role) == who:
					wantCode(t, err, Conflict)
					continue
				}
				wantCode(t, err, "")
				if err := CheckContacts(got); err != nil {
					t.Fatalf("Promote(%+v, %s, %s) broke invariants: %v", cs, who, role, err)
				}
				if primaryOf(got, role) != who || len(got) != len(cs) {
					t.Fatalf("Promote(%+v, %s, %s) = %+v", cs, who, role, got)
				}
				for _, c := range cs {
					want := c
					if c.Role == role {
						want.Primary = c.Email == who
					}
					if !slices.Contains(got, want) {
						t.Fatalf("Promote(%+v, %s, %s) = %+v lacks %+v", cs, who, role, got, want)
					}
				}
			}
		}
	}
}

func TestCheckContacts_AcceptsExactlyTheValidStates(t *testing.T) {
	for _, cs := range contactStates() {
		valid := primaries(cs, Billing) == 1 && primaries(cs, Technical) == 1
		if err := CheckContacts(cs); (err == nil) != valid {
			t.Fatalf("CheckContacts(%+v) = %v, want valid=%v", cs, err, valid)
		}
	}
}

func TestCheckContacts_ReportsEachViolation(t *testing.T) {
	pb := Contact{Email: "a@x.test", Role: Billing, Primary: true}
	pt := Contact{Email: "a@x.test", Role: Technical, Primary: true}
	tests := []struct {
		name     string
		contacts []Contact
		msg      string
	}{
		{"empty", nil, "there must be exactly one primary billing contact, found 0"},
		{"no technical", []Contact{pb}, "there must be exactly one primary technical contact, found 0"},
		{"two primaries", []Contact{pb, pt, {Email: "b@x.test", Role: Billing, Primary: true}}, "there must be exactly one primary billing contact, found 2"},
		{"duplicate row", []Contact{pb, pt, {Email: "a@x.test", Role: Technical}}, "a@x.test is listed twice as a technical contact"},
		{"no email", []Contact{pb, pt, {Role: Technical}}, "a technical contact has no email address"},
		{"unknown role", []Contact{pb, pt, {Email: "b@x.test", Role: "owner"}}, `b@x.test has the unknown role "owner"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckContacts(tt.contacts)
			wantCode(t, err, Internal)
			if err.Error() != tt.msg {
				t.Fatalf("message %q, want %q", err.Error(), tt.msg)
			}
		})
	}
	for _, l := range []License{monthlyDemo(), annualDemo(), serverDemo()} {
		wantCode(t, CheckContacts(l.Contacts), "")
	}
}

func TestSortContacts_OrdersByRoleThenPrimaryThenEmail(t *testing.T) {
	cs := []Contact{
		{Email: "z@x.test", Role: "zzz"},
		{Email: "b@x.test", Role: Technical},
		{Email: "c@x.test", Role: Technical, Primary: true},
		{Email: "a@x.test", Role: Technical},
		{Email: "b@x.test", Role: Billing},
		{Email: "d@x.test", Role: Billing, Primary: true},
		{Email: "y@x.test", Role: "aaa"},
	}
	SortContacts(cs)
	var got []string
	for _, c := range cs {
		got = append(got, fmt.Sprintf("%s/%s/%v", c.Role, c.Email, c.Primary))
	}
	want := "billing/d@x.test/true billing/b@x.test/false technical/c@x.test/true technical/a@x.test/false technical/b@x.test/false aaa/y@x.test/false zzz/z@x.test/false"
	if strings.Join(got, " ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestCardUpdaters_FollowTheCycle(t *testing.T) {
	monthly := License{SEN: "SEN-1000001", Deployment: Cloud, Cycle: Monthly, Status: Active,
		Contacts: []Contact{{Email: "alice@acme.test", Role: Billing, Primary: true}, {Email: "alice@acme.test", Role: Technical, Primary: true},
			{Email: "bob@acme.test", Role: Technical}},
		SiteAdmins: []Email{"carol@acme.test"}}
	if got := CardUpdaters(monthly); fmt.Sprint(got) != "[alice@acme.test bob@acme.test carol@acme.test]" {
		t.Errorf("monthly: %v", got)
	}
	annual := monthly
	annual.Cycle = Annual
	if got := CardUpdaters(annual); fmt.Sprint(got) != "[carol@acme.test]" {
		t.Errorf("annual: %v", got)
	}
	server := monthly
	server.Deployment, server.Cycle = Server, ""
	if got := CardUpdaters(server); len(got) != 0 {
		t.Errorf("server: %v", got)
	}
}

// Only a site admin may change the billing address, whatever else they are.
func TestCanEditBillingAddress_SiteAdminsOnly(t *testing.T) {
	const who = Email("who@x.test")
	for _, r := range []Relation{
		{}, {Billing: true}, {Technical: true}, {SiteAdmin: true}, {Billing: true, Technical: true},
	} {
		want := Forbidden
		if r.SiteAdmin {
			want = ""
		}
		wantCode(t, CanEditBillingAddress(licenceWith(r, who, Cloud, Monthly, Active), who), want)
	}
	wantCode(t, CanEditBillingAddress(monthlyDemo(), ""), Invalid)
}
