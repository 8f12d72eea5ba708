package accounts

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"licensedesk/licensing"
	"licensedesk/web"
)

// CheckProfile trims the fields of p and checks them: a display name is
// required, every field has a length limit (web.Max*), the phone number
// holds only what phone numbers hold, and no field has control characters
// (the address may have line breaks, normalised to \n). It returns the
// cleaned profile, or an Invalid error saying what to fix.
func CheckProfile(p web.Profile) (web.Profile, error) {
	p.DisplayName = strings.TrimSpace(p.DisplayName)
	p.Phone = strings.TrimSpace(p.Phone)
	p.Company = strings.TrimSpace(p.Company)
	p.Address = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(p.Address, "\r\n", "\n"), "\r", "\n"))
	for _, f := range []struct {
		name, value string
		max         int
		multiline   bool
	}{
		{"display name", p.DisplayName, web.MaxDisplayName, false},
		{"phone number", p.Phone, web.MaxPhone, false},
		{"company", p.Company, web.MaxCompany, false},
		{"address", p.Address, web.MaxAddress, true},
	} {
		if err := checkText(f.name, f.value, f.max, f.multiline); err != nil {
			return web.Profile{}, err
		}
	}
	if p.DisplayName == "" {
		return web.Profile{}, licensing.Errorf(licensing.Invalid, "Enter a display name: the name we use when we write to you.")
	}
	if p.Phone != "" && !plausiblePhone(p.Phone) {
		return web.Profile{}, licensing.Errorf(licensing.Invalid, "Write the phone number with digits, spaces and + - ( ) only, for example +1 555 0100.")
	}
	return p, nil
}

// checkText checks a free-text field: valid UTF-8, at most max characters,
// no control characters (but line breaks and tabs when multiline).
func checkText(name, value string, max int, multiline bool) error {
	if !utf8.ValidString(value) {
		return licensing.Errorf(licensing.Invalid, "The %s has characters we can't read; type it again.", name)
	}
	if n := utf8.RuneCountInString(value); n > max {
		return licensing.Errorf(licensing.Invalid, "The %s is too long: use at most %d characters (it has %d).", name, max, n)
	}
	for _, r := range value {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return licensing.Errorf(licensing.Invalid, "The %s has a control character; type it again without it.", name)
		}
	}
	return nil
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
	if err := checkText("billing address", addr, web.MaxBillingAddress, true); err != nil {
		return "", err
	}
	return addr, nil
}
