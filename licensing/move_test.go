package licensing

import (
	"reflect"
	"testing"
)

func TestPlanMove_ResolvesDefaultsAndListsTheSteps(t *testing.T) {
	both := []Role{Billing, Technical}
	// alice is primary in both roles and a secondary billing contact exists.
	crowded := monthlyDemo()
	crowded.Contacts = append(crowded.Contacts, Contact{Email: "bob@acme.test", Role: Billing})

	tests := []struct {
		name string
		l    License
		r    MoveRequest
		want MovePlan
	}{
		{
			name: "defaults move the primary billing contact in all their roles",
			l:    monthlyDemo(),
			r:    MoveRequest{SEN: "SEN-1000001", NewEmail: "alice@new.test"},
			want: MovePlan{SEN: "SEN-1000001", NewEmail: "alice@new.test", From: "alice@acme.test", Roles: both,
				ConfirmBy: []Email{"alice@acme.test"}, Add: both, Promote: both, Remove: both},
		},
		{
			name: "keep old removes nothing",
			l:    monthlyDemo(),
			r:    MoveRequest{NewEmail: "alice@new.test", KeepOld: true},
			want: MovePlan{SEN: "SEN-1000001", NewEmail: "alice@new.test", From: "alice@acme.test", Roles: both, KeepOld: true,
				ConfirmBy: []Email{"alice@acme.test"}, Add: both, Promote: both},
		},
		{
			name: "secondary contact moves without promotion and primaries confirm",
			l:    monthlyDemo(),
			r:    MoveRequest{NewEmail: "bob@new.test", From: "bob@acme.test"},
			want: MovePlan{SEN: "SEN-1000001", NewEmail: "bob@new.test", From: "bob@acme.test", Roles: []Role{Technical},
				ConfirmBy: []Email{"alice@acme.test"}, Add: []Role{Technical}, Remove: []Role{Technical}},
		},
		{
			name: "explicit subset of roles in canonical order",
			l:    monthlyDemo(),
			r:    MoveRequest{NewEmail: "alice@new.test", Roles: []Role{Technical, Technical}},
			want: MovePlan{SEN: "SEN-1000001", NewEmail: "alice@new.test", From: "alice@acme.test", Roles: []Role{Technical},
				ConfirmBy: []Email{"alice@acme.test"}, Add: []Role{Technical}, Promote: []Role{Technical}, Remove: []Role{Technical}},
		},
		{
			name: "roles listed out of order are canonicalised",
			l:    monthlyDemo(),
			r:    MoveRequest{NewEmail: "alice@new.test", Roles: []Role{Technical, Billing}},
			want: MovePlan{SEN: "SEN-1000001", NewEmail: "alice@new.test", From: "alice@acme.test", Roles: both,
				ConfirmBy: []Email{"alice@acme.test"}, Add: both, Promote: both, Remove: both},
		},
		{
			name: "an existing secondary contact only gets the missing rows",
			l:    monthlyDemo(),
			r:    MoveRequest{NewEmail: "bob@acme.test"},
			want: MovePlan{SEN: "SEN-1000001", NewEmail: "bob@acme.test", From: "alice@acme.test", Roles: both,
				ConfirmBy: []Email{"alice@acme.test"}, Add: []Role{Billing}, Promote: both, Remove: both},
		},
		{
			name: "site admin confirms",
			l:    monthlyDemo(),
			r:    MoveRequest{NewEmail: "alice@new.test", ConfirmBy: "carol@acme.test"},
			want: MovePlan{SEN: "SEN-1000001", NewEmail: "alice@new.test", From: "alice@acme.test", Roles: both,
				ConfirmBy: []Email{"carol@acme.test"}, Add: both, Promote: both, Remove: both},
		},
		{
			name: "secondary contact confirms",
			l:    crowded,
			r:    MoveRequest{NewEmail: "alice@new.test", Roles: []Role{Billing}, ConfirmBy: "bob@acme.test"},
			want: MovePlan{SEN: "SEN-1000001", NewEmail: "alice@new.test", From: "alice@acme.test", Roles: []Role{Billing},
				ConfirmBy: []Email{"bob@acme.test"}, Add: []Role{Billing}, Promote: []Role{Billing}, Remove: []Role{Billing}},
		},
		{
			name: "different primaries per role both confirm",
			l: func() License {
				l := annualDemo()
				l.Contacts = append(l.Contacts,
					Contact{Email: "gus@globex.test", Role: Billing}, Contact{Email: "gus@globex.test", Role: Technical})
				return l
			}(),
			r: MoveRequest{NewEmail: "gus@new.test", From: "gus@globex.test"},
			want: MovePlan{SEN: "SEN-1000002", NewEmail: "gus@new.test", From: "gus@globex.test", Roles: both,
				ConfirmBy: []Email{"dave@globex.test", "erin@globex.test"}, Add: both, Remove: both},
		},
		{
			name: "annual default is the billing primary only",
			l:    annualDemo(),
			r:    MoveRequest{NewEmail: "dave@new.test"},
			want: MovePlan{SEN: "SEN-1000002", NewEmail: "dave@new.test", From: "dave@globex.test", Roles: []Role{Billing},
				ConfirmBy: []Email{"dave@globex.test"}, Add: []Role{Billing}, Promote: []Role{Billing}, Remove: []Role{Billing}},
		},
		{
			name: "moving to the other role's primary adds the missing role",
			l:    annualDemo(),
			r:    MoveRequest{NewEmail: "erin@globex.test"},
			want: MovePlan{SEN: "SEN-1000002", NewEmail: "erin@globex.test", From: "dave@globex.test", Roles: []Role{Billing},
				ConfirmBy: []Email{"dave@globex.test"}, Add: []Role{Billing}, Promote: []Role{Billing}, Remove: []Role{Billing}},
		},
		{
			name: "server licences can move",
			l:    serverDemo(),
			r:    MoveRequest{NewEmail: "ivan@new.test", From: "ivan@umbrella.test"},
			want: MovePlan{SEN: "SEN-2000001", NewEmail: "ivan@new.test", From: "ivan@umbrella.test", Roles: []Role{Technical},
				ConfirmBy: []Email{"ivan@umbrella.test"}, Add: []Role{Technical}, Promote: []Role{Technical}, Remove: []Role{Technical}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanMove(tt.l, tt.r)
			wantCode(t, err, "")
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("PlanMove =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestPlanMove_RefusesInvalidRequests(t *testing.T) {
	noPrimary := monthlyDemo()
	noPrimary.Contacts = noPrimary.Contacts[1:]
	noTechPrimary := monthlyDemo()
	noTechPrimary.Contacts[1].Primary = false
	tests := []struct {
		name string
		l    License
		r    MoveRequest
		code Code
		msg  string
	}{
		{"cancelled", cancelled(monthlyDemo()), MoveRequest{NewEmail: "x@new.test"}, FailedPrecondition,
			"SEN-1000001 is cancelled, so it cannot be moved"},
		{"wrong licence", monthlyDemo(), MoveRequest{SEN: "SEN-1000002", NewEmail: "x@new.test"}, Invalid,
			"the request is for SEN-1000002 but the licence is SEN-1000001"},
		{"no new email", monthlyDemo(), MoveRequest{}, Invalid, "no new email address given"},
		{"from a stranger", monthlyDemo(), MoveRequest{NewEmail: "x@new.test", From: "mallory@evil.test"}, NotFound,
			"mallory@evil.test is not a contact of SEN-1000001, so there is nothing to move from it"},
		{"from a site admin", monthlyDemo(), MoveRequest{NewEmail: "x@new.test", From: "carol@acme.test"}, NotFound,
			"carol@acme.test is not a contact of SEN-1000001, so there is nothing to move from it"},
		{"from a role they do not hold", monthlyDemo(), MoveRequest{NewEmail: "x@new.test", From: "bob@acme.test", Roles: []Role{Billing}}, Invalid,
			"bob@acme.test is not a billing contact of SEN-1000001, so that role cannot be moved from it"},
		{"unknown role", monthlyDemo(), MoveRequest{NewEmail: "x@new.test", Roles: []Role{"owner"}}, Invalid,
			`"owner" is not a role: expected billing or technical`},
		{"same address", monthlyDemo(), MoveRequest{NewEmail: "alice@acme.test"}, Invalid,
			"old and new are the same address (alice@acme.test)"},
		{"same as explicit from", monthlyDemo(), MoveRequest{NewEmail: "bob@acme.test", From: "bob@acme.test"}, Invalid,
			"old and new are the same address (bob@acme.test)"},
		{"already a contact in every moved role", monthlyDemo(), MoveRequest{NewEmail: "bob@acme.test", Roles: []Role{Technical}}, Conflict,
			"bob@acme.test is already a technical contact of SEN-1000001"},
		{"confirm by a stranger", monthlyDemo(), MoveRequest{NewEmail: "x@new.test", ConfirmBy: "mallory@evil.test"}, Forbidden,
			"mallory@evil.test is neither a contact nor a site admin of SEN-1000001, so cannot confirm requests about it"},
		{"confirm by the new address", monthlyDemo(), MoveRequest{NewEmail: "x@new.test", ConfirmBy: "x@new.test"}, Forbidden,
			"x@new.test is neither a contact nor a site admin of SEN-1000001, so cannot confirm requests about it"},
		{"no primary billing to default to", noPrimary, MoveRequest{NewEmail: "x@new.test"}, FailedPrecondition,
			"SEN-1000001 has no primary billing contact to move from; name one with --from"},
		{"no primary to confirm", noTechPrimary, MoveRequest{NewEmail: "x@new.test"}, FailedPrecondition,
			"SEN-1000001 has no primary technical contact to confirm the move; name someone with --confirm-by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanMove(tt.l, tt.r)
			wantCode(t, err, tt.code)
			if err == nil {
				return
			}
			if !reflect.DeepEqual(p, MovePlan{}) || err.Error() != tt.msg {
				t.Fatalf("PlanMove = %+v, %q; want zero plan, %q", p, err.Error(), tt.msg)
			}
		})
	}
}

func TestPlanMove_ConflictNamesEveryMovedRole(t *testing.T) {
	l := monthlyDemo()
	l.Contacts = append(l.Contacts, Contact{Email: "bob@acme.test", Role: Billing})
	_, err := PlanMove(l, MoveRequest{NewEmail: "bob@acme.test"})
	wantCode(t, err, Conflict)
	if want := "bob@acme.test is already a billing and technical contact of SEN-1000001"; err.Error() != want {
		t.Fatalf("message %q, want %q", err.Error(), want)
	}
}

// Carrying out any plan, from any valid state, keeps the invariants: add the
// rows, promote the new address where planned, then remove the old rows.
func TestPlanMove_ExecutedPlansKeepInvariants(t *testing.T) {
	people := []Email{"a@x.test", "b@x.test", "c@x.test", "n@x.test"}
	executed := 0
	for _, cs := range validContactStates() {
		l := License{SEN: "SEN-1000009", Deployment: Cloud, Cycle: Monthly, Status: Active, Contacts: cs}
		for _, from := range people {
			for _, to := range people {
				for _, keep := range []bool{false, true} {
					p, err := PlanMove(l, MoveRequest{NewEmail: to, From: from, KeepOld: keep})
					if err != nil {
						continue
					}
					executed++
					got := cs
					for _, role := range p.Add {
						got = append(got[:len(got):len(got)], Contact{Email: to, Role: role})
					}
					for _, role := range p.Promote {
						if got, err = Promote(got, to, role); err != nil {
							t.Fatalf("plan %+v: promote %s: %v", p, role, err)
						}
					}
					for _, role := range p.Remove {
						l2 := l
						l2.Contacts = got
						if err := CheckRemoveContact(l2, role, from); err != nil {
							t.Fatalf("plan %+v from %+v: remove %s: %v", p, cs, role, err)
						}
						var next []Contact
						for _, c := range got {
							if c.Email != from || c.Role != role {
								next = append(next, c)
							}
						}
						got = next
					}
					if err := CheckContacts(got); err != nil {
						t.Fatalf("plan %+v from %+v left %+v: %v", p, cs, got, err)
					}
				}
			}
		}
	}
	if executed < 1000 {
		t.Fatalf("only %d plans were executed; the generator is too narrow", executed)
	}
	t.Logf("executed %d plans", executed)
}

// Review #23: the person a licence moves to never confirms their own
// takeover; review #10: a move of one role says who keeps the other and
// how to move it too.
func TestPlanMove_TheNewOwnerNeverConfirmsAndTheRestIsNamed(t *testing.T) {
	l := License{SEN: "SEN-1000001", Product: "Jira", Deployment: Cloud, Status: Active, Contacts: []Contact{
		{Email: "zed@newco.test", Role: Billing, Primary: true}, {Email: "zed@newco.test", Role: Technical},
		{Email: "bob@acme.test", Role: Technical, Primary: true}}}
	p, err := PlanMove(l, MoveRequest{NewEmail: "bob@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.ConfirmBy) != 1 || p.ConfirmBy[0] != "zed@newco.test" {
		t.Errorf("confirmers %v; want zed only, never bob", p.ConfirmBy)
	}
	if _, err := PlanMove(l, MoveRequest{NewEmail: "bob@acme.test", ConfirmBy: "bob@acme.test"}); ErrorCode(err) != Forbidden {
		t.Errorf("bob named to confirm his own move: %v", err)
	}
	// The only primary is the new owner: someone else must be named.
	solo := License{SEN: "SEN-1", Product: "Jira", Deployment: Cloud, Status: Active, Contacts: []Contact{
		{Email: "a@x.test", Role: Billing, Primary: true}, {Email: "b@x.test", Role: Technical, Primary: true}, {Email: "b@x.test", Role: Billing}}}
	if _, err := PlanMove(solo, MoveRequest{NewEmail: "b@x.test", From: "b@x.test", Roles: []Role{Technical}}); err == nil {
		t.Error("moving b's role to b: accepted")
	}
	split := License{SEN: "SEN-1000002", Product: "Confluence", Deployment: Cloud, Status: Active, Contacts: []Contact{
		{Email: "dave@globex.test", Role: Billing, Primary: true}, {Email: "erin@globex.test", Role: Technical, Primary: true}}}
	p, err = PlanMove(split, MoveRequest{NewEmail: "yan@globex2.test"})
	if err != nil {
		t.Fatal(err)
	}
	st := p.Staying(split)
	if len(st) != 1 || st[0] != "erin@globex.test stays primary technical contact: this moves the billing role only. To move the technical role too, run /license move SEN-1000002 yan@globex2.test --from erin@globex.test --roles technical after this move." {
		t.Errorf("staying %q", st)
	}
}
