package licensing

import "strings"

// Limits from RFC 5321 (as corrected by erratum 1690 for the whole address).
const (
	maxEmailLen = 254
	maxLocalLen = 64
	maxLabelLen = 63
)

// ParseEmail trims and lower-cases s and accepts it only if it is a plain
// addr-spec: a dot-atom local part (no quoted strings, no display name) and a
// domain of at least two DNS labels. Non-ASCII input is refused rather than
// normalised. Failure is an *Error with Code Invalid.
func ParseEmail(s string) (Email, error) {
	t := strings.TrimSpace(s)
	if len(t) > maxEmailLen {
		return "", invalidEmail(t)
	}
	e := lowerASCII(t)
	local, domain, ok := strings.Cut(e, "@")
	if !ok || strings.Contains(domain, "@") || !validLocal(local) || !validDomain(domain) {
		return "", invalidEmail(t)
	}
	return Email(e), nil
}

func invalidEmail(t string) error {
	return Errorf(Invalid, "%s is not an email address", quoteInput(t))
}

func validLocal(local string) bool {
	if local == "" || len(local) > maxLocalLen {
		return false
	}
	for _, atom := range strings.Split(local, ".") {
		if atom == "" { // leading, trailing or consecutive dot
			return false
		}
		for i := 0; i < len(atom); i++ {
			if !isAtext(atom[i]) {
				return false
			}
		}
	}
	return true
}

// isAtext reports whether c is RFC 5322 atext (input is already lower-case).
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func validDomain(domain string) bool {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLen || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// String returns the normalised address.
func (e Email) String() string { return string(e) }

// Domain returns the part after the '@', or "" for the zero Email.
func (e Email) Domain() string {
	_, d, _ := strings.Cut(string(e), "@")
	return d
}
