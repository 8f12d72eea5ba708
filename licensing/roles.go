package licensing

import (
	"slices"
	"strings"
)

// Every valid value of each enumeration, in display order.
var (
	Deployments     = []Deployment{Server, Cloud}
	Cycles          = []Cycle{Monthly, Annual}
	Statuses        = []Status{Active, PastDue, Suspended, Cancelled}
	AccountStatuses = []AccountStatus{AccountPending, AccountActive, AccountDisabled}
)

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Valid reports whether d is one of Deployments.
func (d Deployment) Valid() bool { return slices.Contains(Deployments, d) }

// Valid reports whether c is one of Cycles.
func (c Cycle) Valid() bool { return slices.Contains(Cycles, c) }

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Valid reports whether s is one of AccountStatuses.
func (s AccountStatus) Valid() bool { return slices.Contains(AccountStatuses, s) }

// ParseRole accepts "billing" or "technical", trimmed, in any case.
func ParseRole(s string) (Role, error) { return parseEnum(s, "a role", Roles) }

// ParseDeployment accepts "server" or "cloud", trimmed, in any case.
func ParseDeployment(s string) (Deployment, error) { return parseEnum(s, "a deployment", Deployments) }

// ParseCycle accepts "monthly" or "annual", trimmed, in any case.
func ParseCycle(s string) (Cycle, error) { return parseEnum(s, "a billing cycle", Cycles) }

// ParseStatus accepts a licence status such as "past_due", trimmed, in any case.
func ParseStatus(s string) (Status, error) { return parseEnum(s, "a licence status", Statuses) }

// ParseAccountStatus accepts an account state such as "pending", trimmed, in
// any case.
func ParseAccountStatus(s string) (AccountStatus, error) {
	return parseEnum(s, "an account status", AccountStatuses)
}

func parseEnum[T ~string](s, kind string, valid []T) (T, error) {
	t := strings.TrimSpace(s)
	v := T(lowerASCII(t))
	if slices.Contains(valid, v) {
		return v, nil
	}
	var zero T
	return zero, Errorf(Invalid, "%s is not %s: expected %s", quoteInput(t), kind, orList(valid))
}

// orList renders values as "a, b or c".
func orList[T ~string](values []T) string {
	var b strings.Builder
	for i, v := range values {
		switch {
		case i == 0:
		case i == len(values)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(v))
	}
	return b.String()
}

// ParseRoles parses a comma-separated list such as "billing,technical" (items
// trimmed, any case). Duplicates collapse; the result is in the order of
// Roles. An empty list or an empty item is an *Error with Code Invalid.
func ParseRoles(s string) ([]Role, error) {
	t := strings.TrimSpace(s)
	usage := "expected billing, technical or billing,technical"
	if t == "" {
		return nil, Errorf(Invalid, "no roles given: %s", usage)
	}
	seen := map[Role]bool{}
	for item := range strings.SplitSeq(t, ",") {
		if strings.TrimSpace(item) == "" {
			return nil, Errorf(Invalid, "%s has an empty role: %s", quoteInput(t), usage)
		}
		r, err := ParseRole(item)
		if err != nil {
			return nil, err
		}
		seen[r] = true
	}
	return canonicalRoles(seen), nil
}

// canonicalRoles returns the roles set in seen, in the order of Roles.
func canonicalRoles(seen map[Role]bool) []Role {
	var out []Role
	for _, r := range Roles {
		if seen[r] {
			out = append(out, r)
		}
	}
	return out
}

// Actor says who made a change and through what, for the history (SPEC
// §10): Kind is how they acted (slack, link, account, api, system), ID who
// (a Slack user ID, an account's email, "api"...).
type Actor struct {
	Kind       string
	ID         string
	WorkflowID string // the operation it happened in, if any
	// Run, if set, names this one execution of the operation (its
	// workflow run): a retried activity finds its own earlier result by it.
	Run string
}

// OurSalesTeam is how a customer reads an action of someone in sales (a
// Slack user, whose name we do not know).
const OurSalesTeam = "our sales team"

// ActorName is who acted, as a customer may read it: a person's address,
// or else our sales team (never empty, never a Slack id like "<@U123>").
func ActorName(by string) string {
	by = strings.TrimSpace(by)
	if by == "" || strings.HasPrefix(by, "<@") || strings.HasPrefix(by, "<!") || by == OurSalesTeam {
		return OurSalesTeam
	}
	return by
}
