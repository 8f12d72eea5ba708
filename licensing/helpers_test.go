package licensing

import (
	"errors"
	"testing"
)

// wantCode fails t unless err is an *Error with code; code "" means err must
// be nil.
func wantCode(t *testing.T, err error, code Code) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want *Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%q), want %s", e.Code, e.Message, code)
	}
}

// monthlyDemo, annualDemo and serverDemo mirror the demo data of SPEC §6.
func monthlyDemo() License {
	return License{
		SEN: "SEN-1000001", Product: "Jira Software", Deployment: Cloud, Cycle: Monthly, Status: Active,
		Site: "acme.example.net", PriceCents: 1000, Currency: "USD",
		SiteAdmins: []Email{"carol@acme.test"},
		Contacts: []Contact{
			{Email: "alice@acme.test", Role: Billing, Primary: true, AccountStatus: AccountActive},
			{Email: "alice@acme.test", Role: Technical, Primary: true, AccountStatus: AccountActive},
			{Email: "bob@acme.test", Role: Technical, AccountStatus: AccountActive},
		},
	}
}

func annualDemo() License {
	return License{
		SEN: "SEN-1000002", Product: "Confluence", Deployment: Cloud, Cycle: Annual, Status: Active,
		Site: "globex.example.net", PriceCents: 10000, Currency: "USD",
		SiteAdmins: []Email{"frank@globex.test"},
		Contacts: []Contact{
			{Email: "dave@globex.test", Role: Billing, Primary: true, AccountStatus: AccountActive},
			{Email: "erin@globex.test", Role: Technical, Primary: true, AccountStatus: AccountActive},
		},
	}
}

func serverDemo() License {
	return License{
		SEN: "SEN-2000001", Product: "Bitbucket Data Center", Deployment: Server, Status: Active,
		Contacts: []Contact{
			{Email: "hank@umbrella.test", Role: Billing, Primary: true, AccountStatus: AccountActive},
			{Email: "ivan@umbrella.test", Role: Technical, Primary: true, AccountStatus: AccountActive},
		},
	}
}

func cancelled(l License) License {
	l.Status = Cancelled
	return l
}

// contactStates enumerates every contact list over three people and both
// roles where each person is absent, secondary or primary in each role: 729
// lists, valid and not.
func contactStates() [][]Contact {
	people := []Email{"a@x.test", "b@x.test", "c@x.test"}
	var perRole [2][][]Contact
	for ri, role := range Roles {
		for n := 0; n < 27; n++ {
			var cs []Contact
			for i, m := 0, n; i < len(people); i, m = i+1, m/3 {
				switch m % 3 {
				case 1:
					cs = append(cs, Contact{Email: people[i], Role: role})
				case 2:
					cs = append(cs, Contact{Email: people[i], Role: role, Primary: true})
				}
			}
			perRole[ri] = append(perRole[ri], cs)
		}
	}
	var out [][]Contact
	for _, b := range perRole[0] {
		for _, t := range perRole[1] {
			out = append(out, append(append([]Contact{}, b...), t...))
		}
	}
	return out
}

// validContactStates is the subset of contactStates that meets SPEC §2.
func validContactStates() [][]Contact {
	var out [][]Contact
	for _, cs := range contactStates() {
		if primaries(cs, Billing) == 1 && primaries(cs, Technical) == 1 {
			out = append(out, cs)
		}
	}
	return out
}

func primaries(cs []Contact, role Role) int {
	n := 0
	for _, c := range cs {
		if c.Role == role && c.Primary {
			n++
		}
	}
	return n
}
