package licensing

import (
	"encoding/json"
	"strings"
	"time"
)

// Renewing or changing a licence (PATCH /api/v1/licenses/{sen}, SPEC §9).

// optional is a JSON field that may be absent, null or a value.
type optional[T any] struct {
	Set   bool // present, maybe null
	Null  bool
	Value T
}

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// patchRecord is a PATCH body on the wire: only these fields may change.
type patchRecord struct {
	NextBillingDate optional[string] `json:"next_billing_date"`
	PriceMinor      optional[int64]  `json:"price_minor"`
	Currency        optional[string] `json:"currency"`
	BillingCycle    optional[string] `json:"billing_cycle"`
	Status          optional[string] `json:"status"`
}

// LicensePatch is a checked change to a licence's billing fields; nil
// fields stay as they are.
type LicensePatch struct {
	NextBillingDate *time.Time
	PriceMinor      *int64
	Currency        *string
	Cycle           *Cycle
	Status          *Status
}

// notPatchable answers a PATCH that names a field only provisioning or
// another route sets.
var notPatchable = map[string]string{
	"sen":         "the SEN names the licence and never changes",
	"product":     "the product of a licence does not change; provision a new licence",
	"deployment":  "the deployment of a licence does not change; provision a new licence",
	"site":        "the site of a licence does not change; provision a new licence",
	"contacts":    "contacts change only when the licence is created or imported (a PATCH never leaves a licence without a primary contact); afterwards through their own operations (Slack, the account page)",
	"site_admins": "site admins change through PUT and DELETE /api/v1/licenses/{sen}/site-admins/{email}",
	"invite":      "invitations are sent when a licence is created",
}

// DecodePatch reads a PATCH body: any of next_billing_date, price_minor,
// currency, billing_cycle and status, at least one. Status may only be set
// to active or cancelled (past_due and suspended are billing's to set).
// Whether the change suits the licence is ApplyPatch's to say.
func DecodePatch(data []byte) (LicensePatch, error) {
	var r patchRecord
	if err := decodeStrict(data, &r, "a change"); err != nil {
		if f := ErrorField(err); notPatchable[f] != "" && strings.HasPrefix(ErrorMessage(err), "unknown field") {
			return LicensePatch{}, FieldErrorf(Invalid, f, "%s can't be changed with PATCH: %s", f, notPatchable[f])
		}
		return LicensePatch{}, err
	}
	var p LicensePatch
	null := func(field string) error {
		return FieldErrorf(Invalid, field, "%s can't be null; leave it out to keep it", field)
	}
	if f := r.NextBillingDate; f.Set {
		if f.Null {
			return p, null("next_billing_date")
		}
		d, err := ParseDate(f.Value)
		if err != nil {
			return p, withField(err, "next_billing_date")
		}
		p.NextBillingDate = &d
	}
	if f := r.PriceMinor; f.Set {
		if f.Null {
			return p, null("price_minor")
		}
		v, err := checkPrice(f.Value)
		if err != nil {
			return p, err
		}
		p.PriceMinor = &v
	}
	if f := r.Currency; f.Set {
		if f.Null {
			return p, null("currency")
		}
		c, err := ParseCurrency(f.Value)
		if err != nil {
			return p, withField(err, "currency")
		}
		p.Currency = &c
	}
	if f := r.BillingCycle; f.Set {
		if f.Null {
			return p, null("billing_cycle")
		}
		c, err := ParseCycle(f.Value)
		if err != nil {
			return p, withField(err, "billing_cycle")
		}
		p.Cycle = &c
	}
	if f := r.Status; f.Set {
		if f.Null {
			return p, null("status")
		}
		s, err := ParseStatus(f.Value)
		if err != nil {
			return p, withField(err, "status")
		}
		if s != Active && s != Cancelled {
			return p, FieldErrorf(Invalid, "status", "status can be set to active or cancelled; %s is set by billing", s)
		}
		p.Status = &s
	}
	if p == (LicensePatch{}) {
		return p, Errorf(Invalid, "nothing to change: give one or more of next_billing_date, price_minor, currency, billing_cycle, status")
	}
	return p, nil
}

// Change is one field a patch changed, for the history.
type Change struct {
	Field    string
	Old, New any
}

// ApplyPatch returns l with p applied and what changed (nothing when p
// repeats what l holds), or why p does not suit l:
//   - a server licence is not billed: no date, price, currency or cycle (Invalid);
//   - the cycle of a past-due or suspended licence does not change until
//     its invoice is paid (Conflict): the invoice was made for the old cycle;
//   - cancelled ends billing and active resumes it, but a past-due or
//     suspended licence becomes active only by being paid (Conflict).
func ApplyPatch(l License, p LicensePatch) (License, []Change, error) {
	if l.Deployment == Server {
		for _, f := range []struct {
			name string
			set  bool
		}{{"next_billing_date", p.NextBillingDate != nil}, {"price_minor", p.PriceMinor != nil},
			{"currency", p.Currency != nil}, {"billing_cycle", p.Cycle != nil}} {
			if f.set {
				return l, nil, FieldErrorf(Invalid, f.name, "%s is a server licence, which is not billed, so it has no %s", l.SEN, f.name)
			}
		}
	}
	out := l
	var changes []Change
	if p.Cycle != nil && *p.Cycle != l.Cycle {
		if l.Status == PastDue || l.Status == Suspended {
			return l, nil, FieldErrorf(Conflict, "billing_cycle", "%s is %s: its billing cycle can change once the open invoice is paid (or after cancelling)", l.SEN, strings.ReplaceAll(string(l.Status), "_", " "))
		}
		changes = append(changes, Change{"billing_cycle", l.Cycle, *p.Cycle})
		out.Cycle = *p.Cycle
	}
	if p.Status != nil && *p.Status != l.Status {
		if *p.Status == Active && l.Status != Cancelled {
			return l, nil, FieldErrorf(Conflict, "status", "%s is %s: it becomes active when its open invoice is paid", l.SEN, strings.ReplaceAll(string(l.Status), "_", " "))
		}
		changes = append(changes, Change{"status", l.Status, *p.Status})
		out.Status = *p.Status
	}
	if p.NextBillingDate != nil && !sameDate(*p.NextBillingDate, l.NextBillingDate) {
		changes = append(changes, Change{"next_billing_date", l.NextBillingDate.Format(DateLayout), p.NextBillingDate.Format(DateLayout)})
		out.NextBillingDate = *p.NextBillingDate
	}
	if p.PriceMinor != nil && *p.PriceMinor != l.PriceCents {
		changes = append(changes, Change{"price_minor", l.PriceCents, *p.PriceMinor})
		out.PriceCents = *p.PriceMinor
	}
	if p.Currency != nil && *p.Currency != l.Currency {
		changes = append(changes, Change{"currency", l.Currency, *p.Currency})
		out.Currency = *p.Currency
	}
	return out, changes, nil
}
