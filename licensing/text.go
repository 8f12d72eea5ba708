package licensing

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// What people type about themselves and their licences, in characters (the
// database checks the same limits).
const (
	MaxDisplayName = 200
	MaxPhone       = 50
	MaxCompany     = 200
	MaxAddress     = 1000 // a profile's address, and a licence's billing address
)

// CheckDisplayName trims a display name and checks it as CheckText does
// (one line, at most MaxDisplayName characters); it is required. Every form
// that sets a name (the profile, account setup through a link) uses it, so
// a name one refuses the other cannot store.
func CheckDisplayName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if err := CheckText("display name", name, MaxDisplayName, false); err != nil {
		return "", WithField(err, "display_name")
	}
	if name == "" {
		return "", FieldErrorf(Invalid, "display_name", "Enter a display name: the name we use when we write to you.")
	}
	return name, nil
}

// CheckText checks a free-text field a person typed: valid UTF-8, at most
// max characters, and none that would change how it or the text around it
// reads where it is shown (a mail's greeting, a header, a list of
// contacts): no control characters (line breaks and tabs are allowed when
// multiline), no line or paragraph separators, and no bidirectional
// formatting characters, which can make "Alice" followed by U+202E show as
// text running backwards. field names the field in the Invalid error.
func CheckText(field, value string, max int, multiline bool) error {
	if !utf8.ValidString(value) {
		return Errorf(Invalid, "The %s has characters we can't read; type it again.", field)
	}
	if n := utf8.RuneCountInString(value); n > max {
		return Errorf(Invalid, "The %s is too long: use at most %d characters (it has %d).", field, max, n)
	}
	for _, r := range value {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			return Errorf(Invalid, "The %s has a control character; type it again without it.", field)
		case unicode.Is(unicode.Bidi_Control, r):
			return Errorf(Invalid, "The %s has an invisible character that changes the direction of text (U+%04X); type it again without it.", field, r)
		}
	}
	return nil
}
