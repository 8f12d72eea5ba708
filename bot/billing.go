package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
)

// What a licence pays, for /license show (issue 20): the same facts the
// customer's account page and GET /api/v1/licenses/{sen}/invoices give,
// so sales and the customer read one story.

// BillingReader reads a licence's billing address and its invoices
// (postgres.DB).
type BillingReader interface {
	BillingAddress(ctx context.Context, sen licensing.SEN) (licensing.BillingAddress, error)
	LicenseInvoices(ctx context.Context, sen licensing.SEN, cursor string, limit int) (licensing.InvoicePage, error)
}

// ShowOption adds to what /license show says.
type ShowOption func(*showSettings)

type showSettings struct {
	billing BillingReader
	taxes   licensing.TaxRules
}

// WithBilling makes /license show say what a cloud licence pays: the next
// bill (with INVOICE_TAXES' tax for its country), the billing address and
// the newest invoices. What is past due is decided by the request's time.
func WithBilling(b BillingReader, taxes licensing.TaxRules) ShowOption {
	return func(s *showSettings) { s.billing, s.taxes = b, taxes }
}

// showInvoices is how many invoices /license show lists.
const showInvoices = 3

// Billing is what /license show adds about a cloud licence's billing.
type Billing struct {
	Address  licensing.BillingAddress
	NextBill *licensing.NextBill
	Invoices []licensing.Invoice
	More     bool // older invoices exist
}

func (s showSettings) billingOf(ctx context.Context, l licensing.License) (*Billing, error) {
	if s.billing == nil || l.Deployment != licensing.Cloud {
		return nil, nil
	}
	addr, err := s.billing.BillingAddress(ctx, l.SEN)
	if err != nil {
		return nil, err
	}
	page, err := s.billing.LicenseInvoices(ctx, l.SEN, "", showInvoices)
	if err != nil {
		return nil, err
	}
	return &Billing{Address: addr, NextBill: licensing.NextBillOf(l, addr, s.taxes), Invoices: page.Invoices, More: page.NextCursor != ""}, nil
}

// BillingBlocks renders Billing: the next bill, who is billed, and the
// newest invoices with their status, each a line.
func BillingBlocks(l licensing.License, b *Billing, now time.Time) []slack.Block {
	if b == nil {
		return nil
	}
	var facts []*slack.TextBlockObject
	if n := b.NextBill; n != nil {
		s := n.Amount() + " on " + n.Date.Format("2006-01-02")
		if n.Tax.Name != "" {
			s += fmt.Sprintf(" (%s %s included)", n.Tax.Name, n.Tax.Rate())
		}
		facts = append(facts, field("Next bill", escape(s)))
	}
	addr := "none given"
	if p := b.Address.Printed(); len(p) > 0 {
		addr = escape(strings.Join(p, ", "))
		if b.Address.Legacy() {
			addr += " _(free text from before; no country)_"
		}
	}
	if b.Address.TaxID != "" {
		addr += "\n" + escape(licensing.TaxIDName(b.Address.Country)+" "+b.Address.TaxID)
	}
	facts = append(facts, field("Billed to", addr))
	blocks := []slack.Block{slack.NewSectionBlock(nil, facts, nil)}
	lines := []string{"*Invoices*"}
	for _, inv := range b.Invoices {
		line := fmt.Sprintf("`%s` · %s · %s · %s", inv.Number, inv.Period(), licensing.FormatMoney(inv.AmountCents, inv.Currency), strings.ToLower(inv.Status(now).Words()))
		if r := inv.Receipt; r != nil && inv.Stored == "paid" {
			line += " " + licensing.ShortDate(r.PaidAt)
			if r.Card != "" {
				line += ", " + r.Card
			}
		}
		lines = append(lines, escape(line))
	}
	if len(b.Invoices) == 0 {
		lines = append(lines, "none yet")
	}
	if b.More {
		lines = append(lines, escape("Older: GET /api/v1/licenses/"+string(l.SEN)+"/invoices"))
	}
	return append(blocks, mrkdwnSection(strings.Join(lines, "\n")))
}
