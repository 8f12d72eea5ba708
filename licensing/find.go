package licensing

import "strings"

// Finding licences (SPEC §9): by a person, by everyone with an email at a
// domain, or by site.

// FindBy says what a FindQuery matches.
type FindBy string

const (
	FindByEmail  FindBy = "email"  // licences where the person is a contact or site admin
	FindByDomain FindBy = "domain" // licences where anyone at the domain is
	FindBySite   FindBy = "site"   // licences of the site
)

// FindQuery is a checked search: Value is an Email, a domain or a site, in
// canonical form.
type FindQuery struct {
	By    FindBy
	Value string
}

// ParseFindQuery reads what /license find takes: an email, "@" and a
// domain, or a site. Anything else is Invalid.
func ParseFindQuery(s string) (FindQuery, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return FindQuery{}, Errorf(Invalid, "give an email, @domain or site to find licences by")
	case strings.HasPrefix(t, "@"):
		d, err := ParseDomain(t[1:])
		return FindQuery{By: FindByDomain, Value: d}, err
	case strings.Contains(t, "@"):
		e, err := ParseEmail(t)
		return FindQuery{By: FindByEmail, Value: string(e)}, err
	}
	site, err := ParseSite(t)
	return FindQuery{By: FindBySite, Value: site}, err
}

// NewFindQuery checks value as a search by by (the API's email=, domain=
// and site= parameters).
func NewFindQuery(by FindBy, value string) (FindQuery, error) {
	var (
		v   string
		err error
	)
	switch by {
	case FindByEmail:
		var e Email
		e, err = ParseEmail(value)
		v = string(e)
	case FindByDomain:
		v, err = ParseDomain(strings.TrimPrefix(strings.TrimSpace(value), "@"))
	case FindBySite:
		v, err = ParseSite(value)
	default:
		return FindQuery{}, Errorf(Invalid, "%s is not something to find licences by: expected email, domain or site", quoteInput(string(by)))
	}
	if err != nil {
		return FindQuery{}, withField(err, string(by))
	}
	return FindQuery{By: by, Value: v}, nil
}

// ParseDomain accepts the domain of an email address, e.g. "acme.test",
// trimmed and lower-cased.
func ParseDomain(s string) (string, error) {
	t := strings.TrimSpace(s)
	d := lowerASCII(t)
	if len(d) > maxEmailLen || !validDomain(d) {
		return "", Errorf(Invalid, "%s is not a domain: expected something like acme.test", quoteInput(t))
	}
	return d, nil
}
