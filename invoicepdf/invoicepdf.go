// Package invoicepdf draws an invoice (and, once it is paid, its receipt)
// as a PDF, in Go: A4, text that can be selected and searched, with the
// Go fonts embedded so every name, in any Latin, Greek or Cyrillic
// script, prints as typed.
//
// Why go-pdf/fpdf (codeberg.org/go-pdf/fpdf): pure Go with no
// dependencies of its own, the maintained continuation of gofpdf (the most
// used PDF writer in Go), and it embeds subsets of TrueType fonts for
// UTF-8 text. A headless browser would print our HTML page instead, but it
// is a second program to ship, patch and keep running in production, for
// one page of text in a fixed layout. pdfcpu edits existing PDFs rather
// than drawing new ones; go-pdfium wraps a C library.
package invoicepdf

import (
	"fmt"
	"io"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"licensedesk/licensing"
)

// Document is everything an invoice's PDF shows.
type Document struct {
	Invoice licensing.Invoice
	Vendor  licensing.Vendor
	Brand   licensing.Brand // the product name and support contact, in the footer
	Today   time.Time       // decides "past due"; from the caller's clock
}

// Layout, in millimetres on A4.
const (
	margin   = 18.0
	pageW    = 210.0
	contentW = pageW - 2*margin
	lineH    = 5.2
)

// Render writes doc as a PDF to w.
func Render(w io.Writer, doc Document) error {
	inv := doc.Invoice
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	// The same invoice makes the same file: its dates are the invoice's.
	pdf.SetCreationDate(inv.IssuedAt)
	pdf.SetModificationDate(inv.IssuedAt)
	pdf.SetCatalogSort(true)
	pdf.SetTitle(title(inv)+" "+inv.Number, true)
	pdf.SetAuthor(doc.Vendor.LegalName, true)
	pdf.SetCreator(doc.Brand.OrDefault().Name, true)
	pdf.SetLang("en")
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin+8)
	pdf.SetFooterFunc(func() { footer(pdf, doc) })
	pdf.AddPage()

	heading(pdf, doc)
	parties(pdf, doc)
	lines(pdf, inv)
	outcome(pdf, doc)
	return pdf.Output(w)
}

// title is what the document is: a receipt once paid.
func title(inv licensing.Invoice) string {
	if inv.Stored == "paid" {
		return "Invoice and receipt"
	}
	return "Invoice"
}

func heading(pdf *fpdf.Fpdf, doc Document) {
	inv := doc.Invoice
	pdf.SetTextColor(23, 43, 77)
	pdf.SetFont("go", "B", 18)
	pdf.CellFormat(contentW/2, 9, doc.Vendor.LegalName, "", 0, "L", false, 0, "")
	pdf.SetFont("go", "B", 14)
	pdf.CellFormat(contentW/2, 9, title(inv), "", 1, "R", false, 0, "")
	pdf.SetFont("go", "", 10)
	pdf.SetTextColor(94, 108, 132)
	pdf.CellFormat(contentW, lineH, inv.Number, "", 1, "R", false, 0, "")
	pdf.Ln(4)
	pdf.SetDrawColor(223, 225, 230)
	pdf.Line(margin, pdf.GetY(), pageW-margin, pdf.GetY())
	pdf.Ln(5)
}

// parties: who issues it and its facts on the left, who pays on the right.
func parties(pdf *fpdf.Fpdf, doc Document) {
	inv := doc.Invoice
	top := pdf.GetY()
	col := contentW/2 - 4

	block(pdf, margin, col, "From", append(append([]string{doc.Vendor.LegalName}, doc.Vendor.Address...), taxLine(doc.Vendor.TaxID, "Tax ID")...))
	facts := [][2]string{
		{"Invoice number", inv.Number},
		{"Issued", licensing.ShortDate(inv.IssuedAt)},
		{"Due", licensing.ShortDate(inv.DueDate)},
		{"Licence", string(inv.SEN)},
		{"Status", inv.Status(doc.Today).Words()},
	}
	pdf.Ln(3)
	for _, f := range facts {
		pdf.SetX(margin)
		pdf.SetFont("go", "", 9.5)
		pdf.SetTextColor(94, 108, 132)
		pdf.CellFormat(32, lineH, f[0], "", 0, "L", false, 0, "")
		pdf.SetTextColor(23, 43, 77)
		pdf.CellFormat(col-32, lineH, f[1], "", 1, "L", false, 0, "")
	}
	leftEnd := pdf.GetY()

	pdf.SetXY(margin+contentW/2+4, top)
	billTo := inv.BillTo.Printed()
	if len(billTo) == 0 {
		billTo = []string{"No billing address was given for this licence."}
	}
	taxName := "Tax ID"
	if inv.BillTo.Country != "" {
		taxName = strings.ToUpper(licensing.TaxIDName(inv.BillTo.Country)[:1]) + licensing.TaxIDName(inv.BillTo.Country)[1:]
	}
	block(pdf, margin+contentW/2+4, col, "Bill to", append(billTo, taxLine(inv.BillTo.TaxID, taxName)...))
	pdf.SetY(max(leftEnd, pdf.GetY()) + 6)
}

func taxLine(id, name string) []string {
	if id == "" {
		return nil
	}
	return []string{name + ": " + id}
}

// block is a small heading and its lines, at x, w wide.
func block(pdf *fpdf.Fpdf, x, w float64, label string, text []string) {
	pdf.SetX(x)
	pdf.SetFont("go", "B", 9)
	pdf.SetTextColor(94, 108, 132)
	pdf.CellFormat(w, lineH, strings.ToUpper(label), "", 1, "L", false, 0, "")
	pdf.SetFont("go", "", 10)
	pdf.SetTextColor(23, 43, 77)
	for _, t := range text {
		pdf.SetX(x)
		pdf.MultiCell(w, lineH, t, "", "L", false)
	}
}

// lines is the table: what is billed, the subtotal, each tax and the total.
func lines(pdf *fpdf.Fpdf, inv licensing.Invoice) {
	money := func(c int64) string { return licensing.FormatMoney(c, inv.Currency) }
	descW, periodW := contentW-40-55, 55.0
	pdf.SetFillColor(244, 245, 247)
	pdf.SetFont("go", "B", 9.5)
	pdf.SetTextColor(23, 43, 77)
	pdf.CellFormat(descW, 8, "  Description", "B", 0, "L", true, 0, "")
	pdf.CellFormat(periodW, 8, "Period", "B", 0, "L", true, 0, "")
	pdf.CellFormat(40, 8, "Amount  ", "B", 1, "R", true, 0, "")
	pdf.SetFont("go", "", 10)
	y := pdf.GetY() + 1.5
	pdf.SetXY(margin, y)
	pdf.MultiCell(descW, lineH+0.6, "  "+inv.Description()+"\n  Licence "+string(inv.SEN), "", "L", false)
	end := pdf.GetY()
	pdf.SetXY(margin+descW, y)
	pdf.CellFormat(periodW, lineH+0.6, inv.Period(), "", 0, "L", false, 0, "")
	pdf.CellFormat(40, lineH+0.6, money(inv.SubtotalCents())+"  ", "", 1, "R", false, 0, "")
	pdf.SetY(end + 2)
	pdf.Line(margin, pdf.GetY(), pageW-margin, pdf.GetY())
	pdf.Ln(2)

	total := func(label, value string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont("go", style, 10)
		pdf.SetX(margin + descW)
		pdf.CellFormat(periodW, lineH+1, label, "", 0, "L", false, 0, "")
		pdf.CellFormat(40, lineH+1, value+"  ", "", 1, "R", false, 0, "")
	}
	total("Subtotal", money(inv.SubtotalCents()), false)
	for _, t := range inv.TaxLines() {
		total(fmt.Sprintf("%s (%s)", t.Name, t.Rate()), money(t.AmountCents), false)
	}
	pdf.SetX(margin + descW)
	pdf.Line(margin+descW, pdf.GetY()+0.5, pageW-margin, pdf.GetY()+0.5)
	pdf.Ln(1.5)
	total("Total "+strings.ToUpper(inv.Currency), money(inv.AmountCents), true)
	pdf.Ln(6)
}

// outcome says whether it is paid (the receipt: when, which card, the
// provider's reference) or what is still owed.
func outcome(pdf *fpdf.Fpdf, doc Document) {
	inv := doc.Invoice
	var head string
	var text []string
	switch st := inv.Status(doc.Today); st {
	case licensing.InvoicePaid:
		head = "Paid — receipt"
		r := inv.Receipt
		text = append(text, "Paid on "+r.PaidAt.UTC().Format("2 Jan 2006 at 15:04 UTC")+".")
		if r.Card != "" {
			text = append(text, "Charged to "+r.Card+".")
		}
		if r.ProviderRef != "" {
			text = append(text, "Payment reference: "+r.ProviderRef)
		}
	case licensing.InvoiceVoid:
		head = "Void"
		text = []string{"This invoice was cancelled; nothing is owed for it."}
	case licensing.InvoicePastDue:
		head = "Past due"
		text = []string{fmt.Sprintf("%s was due on %s and is not paid yet. It is charged to the card on file; a new card saved from the account page is charged at once.",
			licensing.FormatMoney(inv.AmountCents, inv.Currency), licensing.ShortDate(inv.DueDate))}
	default:
		head = "Open"
		text = []string{fmt.Sprintf("%s is charged to the card on file on %s.", licensing.FormatMoney(inv.AmountCents, inv.Currency), licensing.ShortDate(inv.DueDate))}
	}
	pdf.SetFillColor(244, 245, 247)
	pdf.SetFont("go", "B", 10.5)
	pdf.CellFormat(contentW, 8, "  "+head, "", 1, "L", true, 0, "")
	pdf.SetFont("go", "", 10)
	for _, t := range text {
		pdf.MultiCell(contentW, lineH+0.4, "  "+t, "", "L", true)
	}
}

func footer(pdf *fpdf.Fpdf, doc Document) {
	b := doc.Brand.OrDefault()
	pdf.SetY(-margin - 2)
	pdf.SetFont("go", "", 8.5)
	pdf.SetTextColor(107, 119, 140)
	contact := "Questions? Contact our sales team, giving the SEN of your licence."
	switch {
	case b.SupportEmail != "":
		contact = "Questions? Write to " + b.SupportEmail + ", giving the invoice number."
	case b.SupportURL != "":
		contact = "Questions? See " + b.SupportURL + "."
	}
	pdf.CellFormat(contentW, 4, contact, "", 1, "L", false, 0, "")
	pdf.CellFormat(contentW, 4, fmt.Sprintf("%s · %s · page %d", doc.Vendor.LegalName, doc.Invoice.Number, pdf.PageNo()), "", 0, "L", false, 0, "")
}
