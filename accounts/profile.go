package accounts

import (
	"strings"

	"licensedesk/licensing"
)

// CheckProfile trims the fields of p and checks them: a display name is
// required (licensing.CheckDisplayName, as for account setup through a
// link), every field has a length limit (licensing.Max*), the phone number
// holds only what phone numbers hold, and no field has characters
// licensing.CheckText refuses (the address may have line breaks,
// normalised to \n). It returns the cleaned profile, or an Invalid error
// saying what to fix.
func CheckProfile(p Profile) (Profile, error) {
	name, err := licensing.CheckDisplayName(p.DisplayName)
	if err != nil {
		return Profile{}, err
	}
	p.DisplayName = name
	p.Phone = strings.TrimSpace(p.Phone)
	p.Company = strings.TrimSpace(p.Company)
	p.Address = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(p.Address, "\r\n", "\n"), "\r", "\n"))
	for _, f := range []struct {
		name, key, value string
		max              int
		multiline        bool
	}{
		{"phone number", "phone", p.Phone, licensing.MaxPhone, false},
		{"company", "company", p.Company, licensing.MaxCompany, false},
		{"address", "address", p.Address, licensing.MaxAddress, true},
	} {
		if err := licensing.CheckText(f.name, f.value, f.max, f.multiline); err != nil {
			return Profile{}, licensing.WithField(err, f.key)
		}
	}
	if p.Phone != "" && !plausiblePhone(p.Phone) {
		return Profile{}, licensing.FieldErrorf(licensing.Invalid, "phone", "Write the phone number with digits, spaces and + - ( ) only, for example +1 555 0100.")
	}
	return p, nil
}

// plausiblePhone accepts digits, spaces and + - ( ) . / with at least one
// digit, and an extension written "ext" or "x".
func plausiblePhone(s string) bool {
	digits := 0
	lower := strings.ToLower(s)
	lower = strings.ReplaceAll(lower, "ext", " ")
	for _, r := range lower {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +-()./x", r):
		default:
			return false
		}
	}
	return digits >= 3
}

// CheckBillingAddress checks a licence's billing address as the address of
// a profile.
func CheckBillingAddress(addr string) (string, error) {
	addr = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(addr, "\r\n", "\n"), "\r", "\n"))
	if err := licensing.CheckText("billing address", addr, licensing.MaxAddress, true); err != nil {
		return "", err
	}
	return addr, nil
}
