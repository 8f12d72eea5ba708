package licensing

import "strings"

// Digits allowed after "SEN-" (and the optional "L").
const (
	minSENDigits = 5
	maxSENDigits = 12
)

// ParseSEN accepts "SEN-" followed by 5–12 ASCII digits, optionally with an
// "L" right after the dash, in any case and with surrounding whitespace, and
// returns the canonical upper-case form. Anything else is an *Error with Code
// Invalid.
func ParseSEN(s string) (SEN, error) {
	t := strings.TrimSpace(s)
	// Compare bytes, not with strings.EqualFold: it folds U+017F (long s) to
	// 's', which would accept look-alike input.
	if len(t) < 4 || lowerASCII(t[:4]) != "sen-" {
		return "", invalidSEN(t)
	}
	rest, prefix := t[4:], "SEN-"
	if rest != "" && (rest[0] == 'L' || rest[0] == 'l') {
		rest, prefix = rest[1:], "SEN-L"
	}
	if len(rest) < minSENDigits || len(rest) > maxSENDigits {
		return "", invalidSEN(t)
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return "", invalidSEN(t)
		}
	}
	return SEN(prefix + rest), nil
}

func invalidSEN(t string) error {
	return Errorf(Invalid, "%s is not a SEN: expected SEN- followed by 5–12 digits, e.g. SEN-1000001", quoteInput(t))
}

// String returns the canonical form, e.g. "SEN-1000001".
func (s SEN) String() string { return string(s) }
