package licensing

import "testing"

// Who may still use a link of each purpose, on the demo licences.
func TestMayUseLink(t *testing.T) {
	monthly, annual := monthlyDemo(), annualDemo()
	for _, tc := range []struct {
		l       License
		purpose LinkPurpose
		who     Email
		want    Code // "" allowed
	}{
		{monthly, PurposeConfirmMove, "alice@acme.test", ""},
		{monthly, PurposeConfirmMove, "carol@acme.test", ""}, // site admin
		{monthly, PurposeConfirmRequest, "zed@newco.test", Forbidden},
		{monthly, PurposePromote, "bob@acme.test", ""},
		{monthly, PurposePromote, "carol@acme.test", Forbidden}, // a site admin is no contact
		{monthly, PurposeCompleteAccount, "zed@newco.test", Forbidden},
		{monthly, PurposeCompleteAccount, "bob@acme.test", ""},
		{monthly, PurposeCompleteAccount, "carol@acme.test", ""}, // an invited site admin sets up their account too
		{monthly, PurposeCardUpdate, "bob@acme.test", ""},
		{annual, PurposeCardUpdate, "dave@globex.test", Forbidden}, // annual: site admins only
		{monthly, PurposePasswordReset, "zed@newco.test", ""},
		{monthly, "nonsense", "alice@acme.test", Invalid},
		{monthly, PurposeConfirmMove, "", Invalid},
	} {
		err := MayUseLink(tc.l, tc.purpose, tc.who)
		if got := Code(""); err != nil {
			got = ErrorCode(err)
			if got != tc.want {
				t.Errorf("%s %s %s: %v; want %q", tc.l.SEN, tc.purpose, tc.who, err, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("%s %s %s: allowed; want %s", tc.l.SEN, tc.purpose, tc.who, tc.want)
		}
	}
}
