package licensing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Provisioning (SPEC §9): licences as the vendor's purchasing system sends
// them, to POST /api/v1/licenses and as the lines of an import.

// Limits on one licence as provisioned.
const (
	MaxProduct          = 200
	MaxContactsPerLine  = 100
	MaxSiteAdminsOfLine = 100
	maxPriceMinor       = 1_000_000_000_000 // ten billion in major units: anything above is a typo
	maxSiteLen          = 253
)

// DateLayout is how dates travel: ISO 8601 calendar dates.
const DateLayout = "2006-01-02"

// LicenseRecord is a licence on the wire (SPEC §9), field for field. Absent
// and null are the same (nil); ParseLicenseRecord says what is required.
type LicenseRecord struct {
	SEN             *string         `json:"sen,omitempty"`
	Product         *string         `json:"product,omitempty"`
	Deployment      *string         `json:"deployment,omitempty"`
	BillingCycle    *string         `json:"billing_cycle,omitempty"`
	Site            *string         `json:"site,omitempty"`
	PriceMinor      *int64          `json:"price_minor,omitempty"`
	Currency        *string         `json:"currency,omitempty"`
	NextBillingDate *string         `json:"next_billing_date,omitempty"`
	Status          *string         `json:"status,omitempty"`
	Contacts        []ContactRecord `json:"contacts"`
	SiteAdmins      []string        `json:"site_admins"`
	Invite          bool            `json:"invite,omitempty"`
}

// ContactRecord is one contact row of a LicenseRecord.
type ContactRecord struct {
	Email   string `json:"email"`
	Role    string `json:"role"`
	Primary bool   `json:"primary"`
}

// NewLicense is a licence to provision, checked: License holds what is
// stored (contacts and site admins sorted as the read model sorts them;
// account statuses empty), Invite whether its pending accounts are mailed
// the account-setup invitation.
type NewLicense struct {
	License License
	Invite  bool
}

// DecodeLicense reads one licence from JSON (a request body, an NDJSON
// line) and checks it with ParseLicenseRecord. Unknown fields, trailing
// data and wrong types are Invalid, naming the field where there is one.
// sen is the SEN as sent, for reports about a line that did not parse
// ("" when unreadable).
func DecodeLicense(data []byte) (l NewLicense, sen string, err error) {
	var rec LicenseRecord
	if err := decodeStrict(data, &rec, "a licence"); err != nil {
		return NewLicense{}, rawSEN(data), err
	}
	if rec.SEN != nil {
		sen = *rec.SEN
	}
	l, err = ParseLicenseRecord(rec)
	return l, sen, err
}

// rawSEN digs the "sen" out of JSON that did not decode as a licence.
func rawSEN(data []byte) string {
	var probe struct {
		SEN any `json:"sen"`
	}
	if json.Unmarshal(data, &probe) != nil {
		return ""
	}
	s, _ := probe.SEN.(string)
	return s
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// fields, and turns encoding/json's errors into field errors.
func decodeStrict(data []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, what)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Errorf(Invalid, "unexpected data after %s: send one JSON object per request or line", what)
	}
	return nil
}

func jsonError(err error, what string) error {
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return Errorf(Invalid, "no JSON: expected %s as a JSON object", what)
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(Invalid, "malformed JSON: %v", err)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return Errorf(Invalid, "expected %s as a JSON object, not a JSON %s", what, typeErr.Value)
		}
		field := typeErr.Field
		return FieldErrorf(Invalid, field, "%s must be %s, not a JSON %s", field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, _ := strconv.Unquote(name)
		return FieldErrorf(Invalid, field, "unknown field %s", quoteInput(field))
	}
	return Errorf(Invalid, "malformed JSON: %v", err)
}

func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "a whole number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case kind == "slice":
		return "a list"
	case kind == "struct":
		return "an object"
	}
	return "a " + kind
}

// ParseLicenseRecord checks a licence against SPEC §2 and §9 and returns it
// in canonical form, or an Invalid *Error naming the first bad field:
//   - sen, product and deployment are required; status defaults to active;
//   - a cloud licence needs billing_cycle, site, price_minor (> 0),
//     currency and next_billing_date; a server licence has none of the
//     first four, no site admins, and is active or cancelled (it is not
//     billed); its currency, if given, is stored (default USD);
//   - contacts: at least one, each (email, role) once, exactly one
//     primary per role; site_admins: each once.
func ParseLicenseRecord(r LicenseRecord) (NewLicense, error) {
	var l License
	var err error
	if r.SEN == nil {
		return NewLicense{}, FieldErrorf(Invalid, "sen", "sen is required")
	}
	if l.SEN, err = ParseSEN(*r.SEN); err != nil {
		return NewLicense{}, withField(err, "sen")
	}
	if l.Product, err = parseProduct(r.Product); err != nil {
		return NewLicense{}, err
	}
	if r.Deployment == nil {
		return NewLicense{}, FieldErrorf(Invalid, "deployment", "deployment is required: server or cloud")
	}
	if l.Deployment, err = ParseDeployment(*r.Deployment); err != nil {
		return NewLicense{}, withField(err, "deployment")
	}
	l.Status = Active
	if r.Status != nil {
		if l.Status, err = ParseStatus(*r.Status); err != nil {
			return NewLicense{}, withField(err, "status")
		}
	}
	switch l.Deployment {
	case Cloud:
		err = parseCloudBilling(r, &l)
	case Server:
		err = parseServerBilling(r, &l)
	}
	if err != nil {
		return NewLicense{}, err
	}
	if l.Contacts, err = parseContacts(r.Contacts); err != nil {
		return NewLicense{}, err
	}
	if l.SiteAdmins, err = parseSiteAdmins(r.SiteAdmins); err != nil {
		return NewLicense{}, err
	}
	if l.Deployment == Server && len(l.SiteAdmins) > 0 {
		return NewLicense{}, FieldErrorf(Invalid, "site_admins", "a server licence has no site, so no site admins")
	}
	return NewLicense{License: l, Invite: r.Invite}, nil
}

func parseProduct(p *string) (string, error) {
	if p == nil || strings.TrimSpace(*p) == "" {
		return "", FieldErrorf(Invalid, "product", "product is required, e.g. \"Jira Software\"")
	}
	name := strings.TrimSpace(*p)
	if err := CheckText("product", name, MaxProduct, false); err != nil {
		return "", withField(err, "product")
	}
	return name, nil
}

func parseCloudBilling(r LicenseRecord, l *License) error {
	var err error
	if r.BillingCycle == nil {
		return FieldErrorf(Invalid, "billing_cycle", "a cloud licence needs a billing_cycle: monthly or annual")
	}
	if l.Cycle, err = ParseCycle(*r.BillingCycle); err != nil {
		return withField(err, "billing_cycle")
	}
	if r.Site == nil {
		return FieldErrorf(Invalid, "site", "a cloud licence needs a site, e.g. acme.example.net")
	}
	if l.Site, err = ParseSite(*r.Site); err != nil {
		return withField(err, "site")
	}
	if r.PriceMinor == nil {
		return FieldErrorf(Invalid, "price_minor", "a cloud licence needs a price_minor: its price per cycle in minor units (cents)")
	}
	if l.PriceCents, err = checkPrice(*r.PriceMinor); err != nil {
		return err
	}
	if r.Currency == nil {
		return FieldErrorf(Invalid, "currency", "a cloud licence needs a currency: an ISO 4217 code such as USD")
	}
	if l.Currency, err = ParseCurrency(*r.Currency); err != nil {
		return withField(err, "currency")
	}
	if r.NextBillingDate == nil {
		return FieldErrorf(Invalid, "next_billing_date", "a cloud licence needs a next_billing_date, e.g. 2027-01-01")
	}
	if l.NextBillingDate, err = ParseDate(*r.NextBillingDate); err != nil {
		return withField(err, "next_billing_date")
	}
	return nil
}

func parseServerBilling(r LicenseRecord, l *License) error {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"billing_cycle", r.BillingCycle != nil}, {"site", r.Site != nil},
		{"price_minor", r.PriceMinor != nil}, {"next_billing_date", r.NextBillingDate != nil},
	} {
		if f.set {
			return FieldErrorf(Invalid, f.name, "a server licence is not billed in cycles, so it has no %s", f.name)
		}
	}
	if l.Status != Active && l.Status != Cancelled {
		return FieldErrorf(Invalid, "status", "a server licence is not billed, so it is active or cancelled, not %s", l.Status)
	}
	l.Currency = "USD"
	if r.Currency != nil {
		c, err := ParseCurrency(*r.Currency)
		if err != nil {
			return withField(err, "currency")
		}
		l.Currency = c
	}
	return nil
}

func checkPrice(p int64) (int64, error) {
	if p <= 0 || p > maxPriceMinor {
		return 0, FieldErrorf(Invalid, "price_minor", "price_minor must be a whole number of minor units between 1 and %d, not %d", int64(maxPriceMinor), p)
	}
	return p, nil
}

func parseContacts(list []ContactRecord) ([]Contact, error) {
	if len(list) == 0 {
		return nil, FieldErrorf(Invalid, "contacts", "contacts are required: at least a primary billing and a primary technical contact (one person may be both)")
	}
	if len(list) > MaxContactsPerLine {
		return nil, FieldErrorf(Invalid, "contacts", "at most %d contacts per licence, not %d", MaxContactsPerLine, len(list))
	}
	out := make([]Contact, 0, len(list))
	primaries := map[Role][]Email{}
	for i, c := range list {
		field := fmt.Sprintf("contacts[%d]", i)
		email, err := ParseEmail(c.Email)
		if err != nil {
			return nil, withField(err, field+".email")
		}
		role, err := ParseRole(c.Role)
		if err != nil {
			return nil, withField(err, field+".role")
		}
		if hasRow(out, email, role) {
			return nil, FieldErrorf(Invalid, field, "%s is listed twice as %s contact", email, role)
		}
		out = append(out, Contact{Email: email, Role: role, Primary: c.Primary})
		if c.Primary {
			primaries[role] = append(primaries[role], email)
		}
	}
	for _, r := range Roles {
		switch p := primaries[r]; len(p) {
		case 1:
		case 0:
			return nil, FieldErrorf(Invalid, "contacts", "no primary %s contact: mark exactly one %s contact \"primary\": true", r, r)
		default:
			return nil, FieldErrorf(Invalid, "contacts", "%d primary %s contacts (%s): exactly one may be primary", len(p), r, joinEmails(p))
		}
	}
	SortContacts(out)
	return out, nil
}

func parseSiteAdmins(list []string) ([]Email, error) {
	if len(list) > MaxSiteAdminsOfLine {
		return nil, FieldErrorf(Invalid, "site_admins", "at most %d site admins per licence, not %d", MaxSiteAdminsOfLine, len(list))
	}
	out := make([]Email, 0, len(list))
	for i, s := range list {
		field := fmt.Sprintf("site_admins[%d]", i)
		e, err := ParseEmail(s)
		if err != nil {
			return nil, withField(err, field)
		}
		if slices.Contains(out, e) {
			return nil, FieldErrorf(Invalid, field, "%s is listed twice as site admin", e)
		}
		out = append(out, e)
	}
	slices.Sort(out)
	return out, nil
}

func joinEmails(list []Email) string {
	s := make([]string, len(list))
	for i, e := range list {
		s[i] = string(e)
	}
	return strings.Join(s, ", ")
}

// withField names the field an Invalid error from a parser is about.
func withField(err error, field string) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Message: field + ": " + e.Message, Field: field}
	}
	return FieldErrorf(Invalid, field, "%s: %v", field, err)
}

// ParseDate accepts a calendar date as YYYY-MM-DD between the years 2000
// and 2199, surrounding spaces ignored, and returns it at midnight UTC.
func ParseDate(s string) (time.Time, error) {
	t := strings.TrimSpace(s)
	d, err := time.Parse(DateLayout, t)
	if err != nil || d.Year() < 2000 || d.Year() > 2199 {
		return time.Time{}, Errorf(Invalid, "%s is not a date: expected YYYY-MM-DD, e.g. 2027-01-01", quoteInput(t))
	}
	return d, nil
}

// ParseSite accepts a site's host name, e.g. "acme.example.net": DNS labels
// of letters, digits and hyphens, at least two, trimmed and lower-cased.
func ParseSite(s string) (string, error) {
	t := strings.TrimSpace(s)
	h := lowerASCII(t)
	if len(h) > maxSiteLen || !validDomain(h) {
		return "", Errorf(Invalid, "%s is not a site: expected a host name such as acme.example.net", quoteInput(t))
	}
	return h, nil
}

// LicenseDiff lists, by their SPEC §9 names, the fields in which have (a
// stored licence) differs from want (a licence as provisioned): "" for
// none. Account statuses, the card and anything else provisioning does not
// set are not compared.
func LicenseDiff(want, have License) []string {
	var out []string
	add := func(differs bool, field string) {
		if differs {
			out = append(out, field)
		}
	}
	add(want.Product != have.Product, "product")
	add(want.Deployment != have.Deployment, "deployment")
	add(want.Cycle != have.Cycle, "billing_cycle")
	add(want.Site != have.Site, "site")
	add(want.PriceCents != have.PriceCents, "price_minor")
	add(want.Currency != have.Currency, "currency")
	add(!sameDate(want.NextBillingDate, have.NextBillingDate), "next_billing_date")
	add(want.Status != have.Status, "status")
	add(!sameContacts(want.Contacts, have.Contacts), "contacts")
	add(!sameEmails(want.SiteAdmins, have.SiteAdmins), "site_admins")
	return out
}

func sameDate(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.Format(DateLayout) == b.Format(DateLayout)
}

func sameContacts(a, b []Contact) bool {
	key := func(cs []Contact) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = fmt.Sprintf("%s/%s/%t", c.Email, c.Role, c.Primary)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

func sameEmails(a, b []Email) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
