package licensing

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRole_AcceptsAnyCaseTrimmed(t *testing.T) {
	tests := []struct {
		in   string
		want Role
	}{
		{"billing", Billing},
		{"BILLING", Billing},
		{" Technical\t", Technical},
	}
	for _, tt := range tests {
		got, err := ParseRole(tt.in)
		wantCode(t, err, "")
		if got != tt.want {
			t.Errorf("ParseRole(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseRole_RejectsUnknownAndListsValidRoles(t *testing.T) {
	for _, in := range []string{"", "admin", "bill", "billing,technical", "tech nical", "bıllıng"} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseRole(in)
			wantCode(t, err, Invalid)
			if got != "" {
				t.Fatalf("got %q alongside an error", got)
			}
			if want := quoteInput(in) + " is not a role: expected billing or technical"; err.Error() != want {
				t.Fatalf("message %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestParseRoles_DedupesAndReturnsCanonicalOrder(t *testing.T) {
	tests := []struct {
		in   string
		want []Role
	}{
		{"billing", []Role{Billing}},
		{"technical", []Role{Technical}},
		{"billing,technical", []Role{Billing, Technical}},
		{"technical,billing", []Role{Billing, Technical}},
		{" Technical , BILLING ", []Role{Billing, Technical}},
		{"billing,billing", []Role{Billing}},
		{"technical,billing,technical", []Role{Billing, Technical}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRoles(tt.in)
			wantCode(t, err, "")
			if !slices.Equal(got, tt.want) {
				t.Fatalf("ParseRoles(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseRoles_RejectsEmptyListsEmptyItemsAndUnknownRoles(t *testing.T) {
	tests := []struct{ in, message string }{
		{"", "no roles given: expected billing, technical or billing,technical"},
		{"  ", "no roles given: expected billing, technical or billing,technical"},
		{",", `"," has an empty role: expected billing, technical or billing,technical`},
		{"billing,", `"billing," has an empty role: expected billing, technical or billing,technical`},
		{",technical", `",technical" has an empty role: expected billing, technical or billing,technical`},
		{"billing, ,technical", `"billing, ,technical" has an empty role: expected billing, technical or billing,technical`},
		{"billing,admin", `"admin" is not a role: expected billing or technical`},
		{"billing;technical", `"billing;technical" is not a role: expected billing or technical`},
		{"billing technical", `"billing technical" is not a role: expected billing or technical`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRoles(tt.in)
			wantCode(t, err, Invalid)
			if got != nil {
				t.Fatalf("got %v alongside an error", got)
			}
			if err.Error() != tt.message {
				t.Fatalf("message %q, want %q", err.Error(), tt.message)
			}
		})
	}
}

// TestParseEnums_AcceptEveryValidValueInAnyCase covers the four remaining
// parsers through one table, since they share behaviour.
func TestParseEnums_AcceptEveryValidValueInAnyCase(t *testing.T) {
	type parser struct {
		name  string
		parse func(string) (string, error)
		valid []string
	}
	parsers := []parser{
		{"deployment", wrap(ParseDeployment), strs(Deployments)},
		{"cycle", wrap(ParseCycle), strs(Cycles)},
		{"status", wrap(ParseStatus), strs(Statuses)},
		{"account status", wrap(ParseAccountStatus), strs(AccountStatuses)},
		{"role", wrap(ParseRole), strs(Roles)},
	}
	for _, p := range parsers {
		for _, v := range p.valid {
			for _, in := range []string{v, strings.ToUpper(v), " " + v + " "} {
				got, err := p.parse(in)
				wantCode(t, err, "")
				if got != v {
					t.Errorf("%s: parse(%q) = %q, want %q", p.name, in, got, v)
				}
			}
		}
	}
}

func TestParseEnums_RejectUnknownValuesListingTheValidOnes(t *testing.T) {
	tests := []struct {
		name    string
		parse   func(string) (string, error)
		in      string
		message string
	}{
		{"deployment", wrap(ParseDeployment), "datacenter", `"datacenter" is not a deployment: expected server or cloud`},
		{"cycle", wrap(ParseCycle), "weekly", `"weekly" is not a billing cycle: expected monthly or annual`},
		{"status", wrap(ParseStatus), "past-due", `"past-due" is not a licence status: expected active, past_due, suspended or cancelled`},
		{"account status", wrap(ParseAccountStatus), "", `"" is not an account status: expected pending, active or disabled`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(tt.in)
			wantCode(t, err, Invalid)
			if got != "" || err.Error() != tt.message {
				t.Fatalf("parse(%q) = %q, %q; want message %q", tt.in, got, err.Error(), tt.message)
			}
		})
	}
}

func TestValid_TrueOnlyForDeclaredValues(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
		want  bool
	}{
		{"billing", Billing.Valid(), true},
		{"technical", Technical.Valid(), true},
		{"empty role", Role("").Valid(), false},
		{"upper-case role", Role("BILLING").Valid(), false},
		{"server", Server.Valid(), true},
		{"cloud", Cloud.Valid(), true},
		{"empty deployment", Deployment("").Valid(), false},
		{"monthly", Monthly.Valid(), true},
		{"annual", Annual.Valid(), true},
		{"empty cycle", Cycle("").Valid(), false},
		{"active", Active.Valid(), true},
		{"past_due", PastDue.Valid(), true},
		{"suspended", Suspended.Valid(), true},
		{"cancelled", Cancelled.Valid(), true},
		{"canceled", Status("canceled").Valid(), false},
		{"pending", AccountPending.Valid(), true},
		{"account active", AccountActive.Valid(), true},
		{"disabled", AccountDisabled.Valid(), true},
		{"empty account status", AccountStatus("").Valid(), false},
	}
	for _, tt := range tests {
		if tt.valid != tt.want {
			t.Errorf("%s: Valid() = %v, want %v", tt.name, tt.valid, tt.want)
		}
	}
}

func wrap[T ~string](parse func(string) (T, error)) func(string) (string, error) {
	return func(s string) (string, error) {
		v, err := parse(s)
		return string(v), err
	}
}

func strs[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

func FuzzParseRoles(f *testing.F) {
	for _, s := range []string{
		"billing", "technical", "billing,technical", "Technical, billing", "billing,billing",
		"", ",", "billing,", "admin", "billing;technical", strings.Repeat("billing,", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseRoles(in)
		if err != nil {
			if ErrorCode(err) != Invalid || got != nil {
				t.Fatalf("ParseRoles(%q) = %v, %v", in, got, err)
			}
			return
		}
		if len(got) == 0 || len(got) > len(Roles) {
			t.Fatalf("ParseRoles(%q) = %v", in, got)
		}
		for i, r := range got {
			if !r.Valid() || (i > 0 && slices.Index(Roles, got[i-1]) >= slices.Index(Roles, r)) {
				t.Fatalf("ParseRoles(%q) = %v: not valid, unique and in canonical order", in, got)
			}
		}
		// Each accepted item names one of the returned roles, and back.
		joined := strings.Join(strs(got), ",")
		again, err := ParseRoles(joined)
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("re-parsing %q gave %v, %v", joined, again, err)
		}
	})
}

// FuzzParseEnums checks the single-value parsers together: no panics, and a
// value is accepted exactly when its trimmed, lower-cased form is valid.
func FuzzParseEnums(f *testing.F) {
	for _, s := range []string{"billing", "CLOUD", " annual ", "past_due", "pending", "", "ſerver", "\u212a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		key := lowerASCII(strings.TrimSpace(in))
		check := func(name string, got string, err error, valid []string) {
			if slices.Contains(valid, key) != (err == nil) {
				t.Fatalf("%s(%q) = %q, %v", name, in, got, err)
			}
			if err == nil && got != key {
				t.Fatalf("%s(%q) = %q, want %q", name, in, got, key)
			}
			if err != nil && (got != "" || ErrorCode(err) != Invalid) {
				t.Fatalf("%s(%q) = %q, %v", name, in, got, err)
			}
		}
		r, err := ParseRole(in)
		check("ParseRole", string(r), err, strs(Roles))
		d, err := ParseDeployment(in)
		check("ParseDeployment", string(d), err, strs(Deployments))
		c, err := ParseCycle(in)
		check("ParseCycle", string(c), err, strs(Cycles))
		s, err := ParseStatus(in)
		check("ParseStatus", string(s), err, strs(Statuses))
		a, err := ParseAccountStatus(in)
		check("ParseAccountStatus", string(a), err, strs(AccountStatuses))
	})
}
