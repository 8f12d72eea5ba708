package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"licensedesk/internal/clock"
	"licensedesk/licensing"
)

// InvoiceReader reads a licence's invoices a page at a time (postgres.DB).
type InvoiceReader interface {
	LicenseInvoices(ctx context.Context, sen licensing.SEN, cursor string, limit int) (licensing.InvoicePage, error)
}

// invoicePageSize is a page of GET …/invoices, like the history's.
const invoicePageSize = 50

// invoiceJSON is one invoice as the API gives it to sales: the facts the
// customer's invoice page shows.
type invoiceJSON struct {
	Number        string                   `json:"number"`
	SEN           string                   `json:"sen"`
	PeriodStart   string                   `json:"period_start"`
	PeriodEnd     string                   `json:"period_end"` // the last day billed
	DueDate       string                   `json:"due_date"`
	IssuedAt      time.Time                `json:"issued_at"`
	SubtotalMinor int64                    `json:"subtotal_minor"`
	Taxes         []licensing.TaxLine      `json:"taxes"`
	AmountMinor   int64                    `json:"amount_minor"`
	Currency      string                   `json:"currency"`
	Status        licensing.InvoiceStatus  `json:"status"`
	FailedCharges int                      `json:"failed_charges"`
	PaidAt        *time.Time               `json:"paid_at"`
	Card          *string                  `json:"card"`
	ProviderRef   *string                  `json:"provider_ref"`
	BillTo        licensing.BillingAddress `json:"bill_to"`
}

func toInvoiceJSON(inv licensing.Invoice, now time.Time) invoiceJSON {
	out := invoiceJSON{Number: inv.Number, SEN: string(inv.SEN), PeriodStart: inv.PeriodStart.Format("2006-01-02"),
		PeriodEnd: inv.PeriodEnd.AddDate(0, 0, -1).Format("2006-01-02"), DueDate: inv.DueDate.Format("2006-01-02"), IssuedAt: inv.IssuedAt.UTC(),
		SubtotalMinor: inv.SubtotalCents(), Taxes: inv.TaxLines(), AmountMinor: inv.AmountCents, Currency: inv.Currency,
		Status: inv.Status(now), FailedCharges: inv.Failed, BillTo: inv.BillTo}
	if out.BillTo.Lines == nil {
		out.BillTo.Lines = []string{}
	}
	if r := inv.Receipt; r != nil && inv.Stored == "paid" {
		at := r.PaidAt.UTC()
		out.PaidAt = &at
		if r.Card != "" {
			out.Card = &r.Card
		}
		if r.ProviderRef != "" {
			out.ProviderRef = &r.ProviderRef
		}
	}
	return out
}

// invoicesAPI serves GET /api/v1/licenses/{sen}/invoices?cursor=…: the
// licence's invoices, newest first, 50 a page, with what the customer's
// invoice page says of each.
func invoicesAPI(inv InvoiceReader, now clock.Clock, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sen, err := licensing.ParseSEN(r.PathValue("sen"))
		if err != nil {
			writeError(w, logger, r, licensing.FieldErrorf(licensing.Invalid, "sen", "%s", licensing.ErrorMessage(err)))
			return
		}
		page, err := inv.LicenseInvoices(r.Context(), sen, r.URL.Query().Get("cursor"), invoicePageSize)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		out := struct {
			Invoices   []invoiceJSON `json:"invoices"`
			NextCursor *string       `json:"next_cursor"`
		}{Invoices: make([]invoiceJSON, 0, len(page.Invoices))}
		at := now.Now()
		for _, i := range page.Invoices {
			out.Invoices = append(out.Invoices, toInvoiceJSON(i, at))
		}
		if page.NextCursor != "" {
			out.NextCursor = &page.NextCursor
		}
		writeJSON(w, http.StatusOK, out)
	})
}
