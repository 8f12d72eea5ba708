package web_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"licensedesk/accounts"
	"licensedesk/internal/clock/clocktest"
)

// The demo's invoices: SEN-1000001 (alice, bob; carol site admin) has
// three paid ones; SEN-1000003 (gina) an open, past-due one.
// demoInvoices names them as the demo data seeds them on the test's day:
// SEN-1000001's newest paid invoice is this month's (billed on the 1st),
// SEN-1000003's open one fell due three days ago.
func demoInvoices(t *testing.T) (aliceInvoice, ginaOpen string, aliceMonth time.Time) {
	now := clocktest.Now(t)
	aliceMonth = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	due := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -3)
	return "SEN-1000001-" + aliceMonth.Format(time.DateOnly), "SEN-1000003-" + due.Format(time.DateOnly), aliceMonth
}

// TestInvoices_TheLicencesPeopleSeeThem: contacts (primary or not) and
// site admins, signed in, see the invoice page with every fact, and its
// PDF.
func TestInvoices_TheLicencesPeopleSeeThem(t *testing.T) {
	aliceInvoice, ginaOpen, month := demoInvoices(t)
	s := newSite(t, accounts.Options{})
	for _, who := range []string{"alice@acme.test", "bob@acme.test", "carol@acme.test"} {
		c := s.client()
		c.signIn(who, demoPassword)
		p := c.get("/account/invoices/" + aliceInvoice)
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "Invoice "+aliceInvoice, "Paid", "Acme Ltd", "1 Rocket Road", "London EC1A 1AA", "United Kingdom",
			"VAT number: GB123456789", "Jira Software, monthly subscription", month.Format("2 Jan 2006")+" – "+month.AddDate(0, 1, -1).Format("2 Jan 2006"), "Subtotal", "Tax (0 %)", "USD 0.00",
			"Total", "USD 10.00", "Receipt", month.Format("2 Jan 2006")+", 09:00 UTC", "Visa ending 4242", "pi_demo_SEN1000001"+month.Format("20060102"), "Download PDF")
		pdf := c.get("/account/invoices/" + aliceInvoice + "/pdf")
		wantStatus(t, pdf, http.StatusOK)
		if ct := pdf.Header.Get("Content-Type"); ct != "application/pdf" || !strings.HasPrefix(pdf.Body, "%PDF-") {
			t.Errorf("%s: PDF answered %q, %q…", who, ct, pdf.Body[:min(20, len(pdf.Body))])
		}
		if cd := pdf.Header.Get("Content-Disposition"); cd != `inline; filename="invoice-`+aliceInvoice+`.pdf"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		if cc := pdf.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("the PDF may be cached: %q", cc)
		}
		// LICENSEDESK_INVOICE_PDF=dir keeps the demo's PDF to look at
		// (pdftoppm -png dir/SEN-1000001-2026-11-01.pdf page).
		if dir := os.Getenv("LICENSEDESK_INVOICE_PDF"); dir != "" && who == "alice@acme.test" {
			if err := os.WriteFile(filepath.Join(dir, aliceInvoice+".pdf"), []byte(pdf.Body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// gina's open invoice: past due, what is owed, no receipt.
	g := s.client()
	g.signIn("gina@initech.test", demoPassword)
	p := g.get("/account/invoices/" + ginaOpen)
	wantStatus(t, p, http.StatusOK)
	wantText(t, p, "Past due", "Not paid yet", "charging the card on file failed", "Initech", "4120 Freidrich Lane")
	noText(t, p, "Receipt", "Payment reference")
}

// TestInvoices_StrangersGetTheAnswerOfAnInvoiceThatDoesNotExist: every
// stranger case — signed out, a contact of another licence, a site admin
// of another, someone removed from the licence, an unknown number, a
// number of another shape — learns nothing: signed out is sent to sign in
// whatever the number; signed in gets one 404 page, for the page, the PDF
// and a licence's invoices alike.
func TestInvoices_StrangersGetTheAnswerOfAnInvoiceThatDoesNotExist(t *testing.T) {
	aliceInvoice, ginaOpen, _ := demoInvoices(t)
	s := newSite(t, accounts.Options{})
	// bob leaves SEN-1000001: he is a stranger to it from then on.
	if _, err := s.db.Pool().Exec(t.Context(), `DELETE FROM license_contacts c USING accounts a, licenses l
		WHERE a.id = c.account_id AND l.id = c.license_id AND a.email = 'bob@acme.test' AND l.sen = 'SEN-1000001'`); err != nil {
		t.Fatal(err)
	}
	anon := s.client()
	for _, path := range []string{"/account/invoices/" + aliceInvoice, "/account/invoices/SEN-1000001-1999-01-01", "/account/invoices/" + aliceInvoice + "/pdf",
		"/account/licences/SEN-1000001/invoices", "/account/licences/SEN-9999999/invoices"} {
		p := anon.get(path)
		if p.Status != http.StatusSeeOther || p.Location != "/signin?next="+url.QueryEscape(path) {
			t.Errorf("signed out, %s: %d → %q; want 303 to sign in and back", path, p.Status, p.Location)
		}
	}

	var want *page
	for _, who := range []string{"dave@globex.test", "frank@globex.test", "hank@umbrella.test", "bob@acme.test", "alice@acme.test"} {
		c := s.client()
		c.signIn(who, demoPassword)
		paths := []string{"/account/invoices/SEN-1000001-1999-01-01", "/account/invoices/x%27%3Cscript%3E", "/account/invoices/" + ginaOpen + "/pdf"}
		if who != "alice@acme.test" {
			paths = append(paths, "/account/invoices/"+aliceInvoice, "/account/invoices/"+aliceInvoice+"/pdf")
		}
		for _, path := range paths {
			p := c.get(path)
			if p.Status != http.StatusNotFound || !strings.Contains(text(p.Body), "There is no invoice of yours with that number.") {
				t.Errorf("%s, %s: %d %q", who, path, p.Status, text(p.Body))
				continue
			}
			body := strings.ReplaceAll(p.Body, who, "")
			if strings.Contains(body, "SEN-1000001") || strings.Contains(body, "SEN-1000003") || strings.Contains(body, "Acme") {
				t.Errorf("%s, %s: the 404 tells something of the invoice", who, path)
			}
			if want == nil {
				want = &page{Status: p.Status, Body: body}
			} else if stripCSRF(body) != stripCSRF(want.Body) {
				t.Errorf("%s, %s: a different 404 from the others", who, path)
			}
		}
		for _, sen := range []string{"SEN-1000003", "SEN-9999999"} {
			p := c.get("/account/licences/" + sen + "/invoices")
			wantStatus(t, p, http.StatusNotFound)
			wantText(t, p, "That licence isn't one of yours")
		}
	}
}

func stripCSRF(body string) string {
	return csrfField.ReplaceAllString(body, "")
}

// TestInvoices_SignInLeadsBackToTheInvoice: a receipt link from a mail,
// opened signed out, comes back to the receipt after signing in; a next
// that leads off the account pages, or off the site, goes to /account.
func TestInvoices_SignInLeadsBackToTheInvoice(t *testing.T) {
	aliceInvoice, _, _ := demoInvoices(t)
	s := newSite(t, accounts.Options{})
	c := s.client()
	p := c.get("/account/invoices/" + aliceInvoice)
	p = c.follow(p)
	wantText(t, p, "Sign in to see that page")
	p = c.post("/signin", url.Values{"email": {"alice@acme.test"}, "password": {demoPassword}, "next": {"/account/invoices/" + aliceInvoice}})
	if p.Status != http.StatusSeeOther || p.Location != "/account/invoices/"+aliceInvoice {
		t.Fatalf("after sign-in: %d → %q", p.Status, p.Location)
	}
	for _, next := range []string{"https://evil.test/account", "//evil.test/account", "/\\evil.test", "/password/forgot", "javascript:alert(1)", "/accountx"} {
		c := s.client()
		c.get("/signin")
		p := c.post("/signin", url.Values{"email": {"bob@acme.test"}, "password": {demoPassword}, "next": {next}})
		if p.Location != "/account" {
			t.Errorf("next %q led to %q", next, p.Location)
		}
	}
}

// TestInvoices_ListNewestFirstInPages: the licence's invoices page lists
// every invoice newest first, a page at a time; the account page shows the
// newest three and links to it.
func TestInvoices_ListNewestFirstInPages(t *testing.T) {
	aliceInvoice, _, month := demoInvoices(t)
	s := newSite(t, accounts.Options{})
	if _, err := s.db.Pool().Exec(t.Context(), `
		INSERT INTO invoices (license_id, number, period_start, period_end, due_date, amount_cents, currency, status, paid_at)
		SELECT l.id, 'SEN-1000001-' || to_char(d, 'YYYY-MM-DD'), d, d + interval '1 month', d, 1000, 'USD', 'paid', d + interval '9 hours'
		FROM licenses l, generate_series($1::date - interval '35 months', $1::date - interval '12 months', interval '1 month') d WHERE l.sen = 'SEN-1000001'`, month); err != nil {
		t.Fatal(err)
	}
	c := s.client()
	p := c.signIn("alice@acme.test", demoPassword)
	if !strings.Contains(p.Body, `<a href="/account/licences/SEN-1000001/invoices">All invoices of <span class="nowrap">SEN-1000001</span></a>`) {
		t.Error("the account page does not lead to all the invoices")
	}
	if n := strings.Count(p.Body, `class="inv-number"`); n != 3 {
		t.Errorf("the account page lists %d invoices; want the newest 3", n)
	}
	var numbers []string
	path := "/account/licences/SEN-1000001/invoices"
	for range 5 {
		p := c.get(path)
		wantStatus(t, p, http.StatusOK)
		for _, m := range invoiceNumber.FindAllStringSubmatch(p.Body, -1) {
			numbers = append(numbers, m[1])
		}
		next := nextLink.FindStringSubmatch(p.Body)
		if next == nil {
			break
		}
		path = strings.ReplaceAll(next[1], "&amp;", "&")
	}
	if len(numbers) != 27 || numbers[0] != aliceInvoice || numbers[26] != "SEN-1000001-"+month.AddDate(0, -35, 0).Format(time.DateOnly) {
		t.Fatalf("%d invoices listed, from %v", len(numbers), numbers)
	}
	for i := 1; i < len(numbers); i++ {
		if numbers[i] >= numbers[i-1] {
			t.Fatalf("not newest first: %s after %s", numbers[i], numbers[i-1])
		}
	}
	// A cursor that is not ours starts again from the newest.
	p = c.get("/account/licences/SEN-1000001/invoices?cursor=%3Cnot-ours%3E")
	if p.Status != http.StatusSeeOther {
		t.Errorf("a forged cursor: %d", p.Status)
	}
}

var (
	invoiceNumber = regexp.MustCompile(`class="inv-number" href="/account/invoices/[^"]+"><span class="nowrap">([^<]+)</span>`)
	nextLink      = regexp.MustCompile(`<a class="btn btn-primary" href="([^"]+)" rel="next">Older invoices</a>`)
)
