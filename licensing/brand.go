package licensing

import (
	"net/mail"
	"net/url"
	"strings"
)

// DefaultBrandName is the product name customers see when BRAND_NAME is not
// set. It is the one place the name is written.
const DefaultBrandName = "Licence Desk"

// Brand is what customers know the service as, and where they can ask for
// help: page headers, mail signatures, the From name, and the "contact us"
// of every footer and error page say it.
type Brand struct {
	Name         string // BRAND_NAME; DefaultBrandName when empty
	SupportEmail string // SUPPORT_EMAIL; optional
	SupportURL   string // SUPPORT_URL; optional, preferred over the email for links
}

// OrDefault fills in the default name.
func (b Brand) OrDefault() Brand {
	b.Name = strings.TrimSpace(b.Name)
	if b.Name == "" {
		b.Name = DefaultBrandName
	}
	return b
}

// ContactURL is where "contact us" leads: the support page, else a mailto:
// link to the support address; "" when neither is set.
func (b Brand) ContactURL() string {
	switch {
	case b.SupportURL != "":
		return b.SupportURL
	case b.SupportEmail != "":
		return "mailto:" + b.SupportEmail
	}
	return ""
}

// ContactText names the way to ask for help in words: the support address,
// else the support page, else our sales team (who look after every licence).
func (b Brand) ContactText() string {
	switch {
	case b.SupportEmail != "":
		return b.SupportEmail
	case b.SupportURL != "":
		return b.SupportURL
	}
	return "our sales team"
}

// CheckBrand checks the support settings, naming the one at fault: an
// address customers can write to, an absolute http(s) URL, a one-line name.
func CheckBrand(b Brand) error {
	if strings.ContainsAny(b.Name, "\r\n") || len([]rune(b.Name)) > 60 {
		return Errorf(Invalid, "BRAND_NAME must be one line of at most 60 characters")
	}
	if b.SupportEmail != "" {
		a, err := mail.ParseAddress(b.SupportEmail)
		if err != nil || a.Name != "" || a.Address != b.SupportEmail {
			return Errorf(Invalid, "SUPPORT_EMAIL %q is not a plain email address (like help@example.com)", b.SupportEmail)
		}
	}
	if b.SupportURL != "" {
		u, err := url.Parse(b.SupportURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Errorf(Invalid, "SUPPORT_URL %q is not an http(s) URL (like https://example.com/help)", b.SupportURL)
		}
	}
	return nil
}
