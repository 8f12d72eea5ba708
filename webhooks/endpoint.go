package webhooks

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"licensedesk/licensing"
)

// Limits of an endpoint.
const (
	MaxURLLength         = 2048
	MaxDescriptionLength = 500
	secretBytes          = 32 // Standard Webhooks: 24 to 64
	SecretPrefix         = "whsec_"
)

// NewEndpoint is an endpoint to create, as POST /api/v1/webhook-endpoints
// sends it.
type NewEndpoint struct {
	URL         string      `json:"url"`
	Events      []EventType `json:"events"`
	Description string      `json:"description"`
}

// Policy says which destinations are allowed. Outside dev and tests
// (WEBHOOK_ALLOW_PRIVATE) only https:// to public addresses.
type Policy struct {
	AllowPrivate bool // http:// and private, loopback and link-local addresses too
}

// Check validates n under p, returning it normalised (events without
// duplicates, in EventTypes order). Every error names its field. The host's
// addresses are checked again after DNS at every delivery (sender).
func (p Policy) Check(n NewEndpoint) (NewEndpoint, error) {
	if err := p.CheckURL(n.URL); err != nil {
		return n, err
	}
	if len(n.Events) == 0 {
		return n, licensing.FieldErrorf(licensing.Invalid, "events", "name at least one event type (for example %q)", InvoicePaid)
	}
	for _, t := range n.Events {
		if !Known(t) {
			return n, licensing.FieldErrorf(licensing.Invalid, "events", "%q is not an event type; known types: %s", t, typeList())
		}
	}
	n.Events = slices.DeleteFunc(slices.Clone(EventTypes), func(t EventType) bool { return !slices.Contains(n.Events, t) })
	n.Description = strings.TrimSpace(n.Description)
	if len([]rune(n.Description)) > MaxDescriptionLength {
		return n, licensing.FieldErrorf(licensing.Invalid, "description", "the description is longer than %d characters", MaxDescriptionLength)
	}
	return n, nil
}

func typeList() string {
	s := make([]string, len(EventTypes))
	for i, t := range EventTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// CheckURL checks an endpoint URL's form: absolute, https (http too when
// private destinations are allowed), no credentials, at most MaxURLLength,
// and, when the host is an address, an allowed one.
func (p Policy) CheckURL(raw string) error {
	bad := func(format string, args ...any) error {
		return licensing.FieldErrorf(licensing.Invalid, "url", format, args...)
	}
	if raw == "" {
		return bad("the url is missing")
	}
	if len(raw) > MaxURLLength {
		return bad("the url is longer than %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return bad("%q is not an absolute URL", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowPrivate:
	default:
		return bad("the url must start with https:// (got %s://)", u.Scheme)
	}
	if u.User != nil {
		return bad("the url must not carry credentials (user:password@): receivers verify the signature instead")
	}
	if u.Fragment != "" {
		return bad("the url must not have a #fragment")
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		if err := p.CheckAddr(ip); err != nil {
			return bad("%s", err)
		}
	}
	return nil
}

// special are ranges no webhook may reach besides those netip names:
// shared address space (carrier NAT), the IPv4 "this network", benchmarking
// and IPv6 translation prefixes that can lead back inside.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// CheckAddr refuses private, loopback, link-local and other non-public
// addresses unless p allows private destinations.
func (p Policy) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	if p.AllowPrivate {
		return nil
	}
	switch {
	case ip.IsLoopback():
		return fmt.Errorf("%s is a loopback address", ip)
	case ip.IsPrivate():
		return fmt.Errorf("%s is a private address", ip)
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return fmt.Errorf("%s is a link-local address", ip)
	case ip.IsUnspecified(), ip.IsMulticast(), !ip.IsGlobalUnicast():
		return fmt.Errorf("%s is not a public unicast address", ip)
	}
	for _, r := range special {
		if r.Contains(ip) {
			return fmt.Errorf("%s is in the reserved range %s", ip, r)
		}
	}
	return nil
}

// NewEndpointID makes an endpoint's ID: ep_ and 16 base32 characters.
func NewEndpointID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "ep_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ValidEndpointID reports whether s has an endpoint ID's form.
func ValidEndpointID(s string) bool {
	if len(s) != 19 || !strings.HasPrefix(s, "ep_") {
		return false
	}
	return strings.Trim(s[3:], "abcdefghijklmnopqrstuvwxyz234567") == ""
}

// NewSecret makes a signing key.
func NewSecret() []byte {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b)
	return b
}

// FormatSecret is a key as receivers configure it: whsec_ and base64.
func FormatSecret(key []byte) string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// ParseSecret reads a whsec_ secret back into its key.
func ParseSecret(s string) ([]byte, error) {
	if !strings.HasPrefix(s, SecretPrefix) {
		return nil, fmt.Errorf("a webhook secret starts with %s", SecretPrefix)
	}
	return base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
}
