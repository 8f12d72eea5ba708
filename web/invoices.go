package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"

	"licensedesk/accounts"
	"licensedesk/internal/clock"
	"licensedesk/invoicepdf"
	"licensedesk/licensing"
)

// Invoices on the account side (issue 20): a licence's invoices, each
// invoice's page, and its PDF. Only the licence's contacts and site
// admins, signed in, see them. Someone who is not signed in is sent to
// sign in whatever the address (so nothing is learnt from the answer);
// anyone else signed in gets the same 404 for an invoice that is not
// theirs as for one that does not exist.

// licencePathPrefix starts the pages of one licence.
const licencePathPrefix = "/account/licences/"

// InvoicePath is where an invoice's page is (the mails link there).
func InvoicePath(number string) string { return licensing.InvoicePath(number) }

// InvoicePDFPath is where an invoice's PDF is.
func InvoicePDFPath(number string) string { return InvoicePath(number) + "/pdf" }

// LicenceInvoicesPath is where a licence's invoices are listed.
func LicenceInvoicesPath(sen licensing.SEN) string {
	return licencePathPrefix + url.PathEscape(string(sen)) + "/invoices"
}

// WithInvoicing sets who issues the invoices (VENDOR_*), printed on every
// invoice page and PDF.
func WithInvoicing(v licensing.Vendor) Option {
	return func(p *pageSettings) { p.vendor = v }
}

// invoiceView is an invoice as its page and lists show it.
type invoiceView struct {
	licensing.Invoice
	State   licensing.InvoiceStatus
	Amount  string
	Path    string
	PDFPath string
}

func invoiceViewOf(inv licensing.Invoice, now clock.Clock) invoiceView {
	return invoiceView{Invoice: inv, State: inv.Status(now.Now()), Amount: licensing.FormatMoney(inv.AmountCents, inv.Currency),
		Path: InvoicePath(inv.Number), PDFPath: InvoicePDFPath(inv.Number)}
}

func invoiceViews(list []licensing.Invoice, now clock.Clock) []invoiceView {
	out := make([]invoiceView, len(list))
	for i, inv := range list {
		out[i] = invoiceViewOf(inv, now)
	}
	return out
}

// money formats an amount in an invoice's currency.
func money(cents int64, currency string) string { return licensing.FormatMoney(cents, currency) }

// signedInOrSignIn returns the signed-in account, or sends the visitor to
// sign in and come back here.
func (h *accountPages) signedInOrSignIn(w http.ResponseWriter, r *http.Request) (accounts.AccountDetails, bool) {
	acc, _, ok := h.signedIn(w, r)
	if !ok {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	}
	return acc, ok
}

// invoicePage is GET /account/invoices/{number}.
func (h *accountPages) invoicePage(w http.ResponseWriter, r *http.Request) {
	acc, ok := h.signedInOrSignIn(w, r)
	if !ok {
		return
	}
	inv, err := h.svc.Invoice(r.Context(), acc.Email, r.PathValue("number"))
	if err != nil {
		h.invoiceFailed(w, r, acc, err)
		return
	}
	v := invoiceViewOf(inv, h.clock)
	p := acctPage{Title: "Invoice " + inv.Number, Account: &acc, Wide: true, Invoice: &v, Vendor: h.vendor,
		Back: LicenceInvoicesPath(inv.SEN)}
	p.CSRF = csrfToken(w, r)
	h.render(w, r, http.StatusOK, "account_invoice.html", p)
}

// invoicePDF is GET /account/invoices/{number}/pdf.
func (h *accountPages) invoicePDF(w http.ResponseWriter, r *http.Request) {
	acc, ok := h.signedInOrSignIn(w, r)
	if !ok {
		return
	}
	inv, err := h.svc.Invoice(r.Context(), acc.Email, r.PathValue("number"))
	if err != nil {
		h.invoiceFailed(w, r, acc, err)
		return
	}
	var b bytes.Buffer
	if err := invoicepdf.Render(&b, invoicepdf.Document{Invoice: inv, Vendor: h.vendor, Brand: h.brand, Today: h.clock.Now()}); err != nil {
		h.failPage(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+pdfName(inv.Number)+`"`)
	w.Header().Set("Content-Length", itoa(b.Len()))
	_, _ = w.Write(b.Bytes())
}

// pdfName is the file name a browser saves the PDF as: the invoice number
// with anything but letters, digits and dashes left out.
func pdfName(number string) string {
	clean := strings.Map(func(r rune) rune {
		if r == '-' || ('0' <= r && r <= '9') || ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z') {
			return r
		}
		return -1
	}, number)
	return "invoice-" + clean + ".pdf"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// licenceInvoices is GET /account/licences/{sen}/invoices?cursor=…: every
// invoice of one of the person's licences, newest first, a page at a time.
func (h *accountPages) licenceInvoices(w http.ResponseWriter, r *http.Request) {
	acc, ok := h.signedInOrSignIn(w, r)
	if !ok {
		return
	}
	cursor := r.URL.Query().Get("cursor")
	li, err := h.svc.LicenceInvoices(r.Context(), acc.Email, r.PathValue("sen"), cursor)
	if err != nil {
		if licensing.ErrorCode(err) == licensing.Invalid && licensing.ErrorField(err) == "cursor" {
			http.Redirect(w, r, LicenceInvoicesPath(licensing.SEN(strings.ToUpper(r.PathValue("sen")))), http.StatusSeeOther)
			return
		}
		h.failPage(w, r, err)
		return
	}
	p := acctPage{Title: "Invoices of " + string(li.License.SEN), Account: &acc, Wide: true,
		InvoiceList: &invoiceList{License: li.License, Invoices: invoiceViews(li.Invoices, h.clock), First: cursor == ""}}
	if li.NextCursor != "" {
		p.InvoiceList.Next = LicenceInvoicesPath(li.License.SEN) + "?cursor=" + url.QueryEscape(li.NextCursor)
	}
	p.CSRF = csrfToken(w, r)
	h.render(w, r, http.StatusOK, "account_invoices.html", p)
}

// invoiceList is the invoices page of one licence.
type invoiceList struct {
	License  licensing.License
	Invoices []invoiceView
	Next     string // the next page's address; "" on the last
	First    bool
}

// invoiceFailed answers an invoice that is not the person's, or does not
// exist, with one 404 page.
func (h *accountPages) invoiceFailed(w http.ResponseWriter, r *http.Request, acc accounts.AccountDetails, err error) {
	if licensing.ErrorCode(err) != licensing.NotFound {
		h.failPage(w, r, err)
		return
	}
	p := acctPage{Title: "Invoice not found", Account: &acc, Message: licensing.ErrorMessage(licensing.ErrNoSuchInvoice),
		Detail: "Your account page lists the invoices of each of your licences.", Back: "/account", BackText: "Back to your account"}
	p.CSRF = csrfToken(w, r)
	h.render(w, r, http.StatusNotFound, "account_error.html", p)
}

// safeNext is where to go after signing in: a path of the account pages
// given as ?next=, or /account. Anything else (another site, a
// protocol-relative //host, a path outside the account pages) is ignored.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/account"
	}
	if u.Path != "/account" && !strings.HasPrefix(u.Path, "/account/") {
		return "/account"
	}
	return u.RequestURI()
}
