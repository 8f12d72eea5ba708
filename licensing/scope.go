package licensing

import (
	"slices"
	"strings"
)

// RequestScope is one thing a person who contacted sales asked them to do
// for a licence, named in /license verify (--for) so the people asked to
// confirm know what they approve (review #8).
type RequestScope string

// The request scopes, in the order mails list them.
const (
	ScopeMove     RequestScope = "move"
	ScopeContacts RequestScope = "contacts"
	ScopeCard     RequestScope = "card"
	ScopeBilling  RequestScope = "billing"
	ScopeDetails  RequestScope = "details"
)

// RequestScopes lists every scope.
var RequestScopes = []RequestScope{ScopeMove, ScopeContacts, ScopeCard, ScopeBilling, ScopeDetails}

// Words is what the scope asks for, as a mail's "asked us to …" reads it.
func (s RequestScope) Words() string {
	switch s {
	case ScopeMove:
		return "move the licence to their account"
	case ScopeContacts:
		return "add or remove its contacts"
	case ScopeCard:
		return "send them a link to update its card"
	case ScopeBilling:
		return "change its billing address"
	case ScopeDetails:
		return "tell them about it (its contacts, billing and invoices)"
	}
	return string(s)
}

// ParseRequestScopes reads a comma-separated list of scopes ("move,card"),
// each once, in the canonical order. An empty list is an error: the flag
// was given without what it is for.
func ParseRequestScopes(s string) ([]RequestScope, error) {
	var out []RequestScope
	for _, part := range strings.Split(s, ",") {
		p := RequestScope(strings.ToLower(strings.TrimSpace(part)))
		if p == "" {
			continue
		}
		if !slices.Contains(RequestScopes, p) {
			return nil, FieldErrorf(Invalid, "for", "%q is not something a request can be for: use one or more of %s, separated by commas.", string(p), scopeList())
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, FieldErrorf(Invalid, "for", "Say what the request is for: one or more of %s, separated by commas.", scopeList())
	}
	slices.SortFunc(out, func(a, b RequestScope) int { return slices.Index(RequestScopes, a) - slices.Index(RequestScopes, b) })
	return out, nil
}

// ScopeWords is each scope's Words.
func ScopeWords(scopes []RequestScope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = s.Words()
	}
	return out
}

func scopeList() string {
	names := make([]string, len(RequestScopes))
	for i, s := range RequestScopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}
