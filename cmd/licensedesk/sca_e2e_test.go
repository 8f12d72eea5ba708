package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"licensedesk/bot"
)

// TestDev_BankAuthenticationPaysTheSameCharge is the SCA story on dev with
// the sandbox: gina saves pm_card_authenticationRequired for past-due
// SEN-1000003; the charge waits for her bank instead of failing; her mail's
// link leads to the bank's check of that same charge; Complete (twice)
// pays the invoice once and the licence is active again.
func TestDev_BankAuthenticationPaysTheSameCharge(t *testing.T) {
	s := startDev(t)
	if got := bot.PlainText(s.slack(t, "card SEN-1000003")); !strings.Contains(got, "Links go to gina@initech.test.") {
		t.Fatalf("card: %s", got)
	}
	m := s.waitMail(t, "gina@initech.test", "Update the card for SEN-1000003")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post := func(u string, form url.Values) (*http.Response, string) {
		t.Helper()
		resp, err := c.PostForm(u, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	link := s.rebase(m.Links[0])
	resp, _ := post(link, url.Values{"csrf": {csrfField.FindStringSubmatch(get(t, c, link))[1]}})
	checkout := resp.Request.URL.String()
	page := get(t, c, checkout)
	if !strings.Contains(page, "pm_card_authenticationRequired") {
		t.Fatalf("the card page offers no card needing authentication:\n%s", page)
	}
	post(checkout, url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]}, "card": {"pm_card_authenticationRequired"}})

	// The charge waits for the cardholder: a mail with her own link.
	m = s.waitMail(t, "gina@initech.test", "Confirm your payment for SEN-1000003 with your bank")
	if len(m.Links) != 2 || !strings.Contains(m.Text, "3-D Secure") {
		t.Fatalf("mail: %v\n%s", m.Links, m.Text)
	}
	if l := s.license(t, "SEN-1000003"); l["status"] != "past_due" {
		t.Fatalf("licence while the bank waits: %v", l["status"])
	}
	confirm := s.rebase(m.Links[0])
	page = get(t, c, confirm)
	resp, page = post(confirm, url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]}})
	bank := resp.Request.URL.String()
	if !strings.Contains(bank, "/sandbox/authenticate/pi_sb_") || !strings.Contains(page, "Complete") {
		t.Fatalf("not sent to the bank's page: %s\n%s", bank, page)
	}
	csrf := csrfField.FindStringSubmatch(page)[1]
	resp, page = post(bank, url.Values{"csrf": {csrf}, "outcome": {"complete"}})
	if !strings.HasSuffix(resp.Request.URL.Path, "/payment/confirmed") {
		t.Fatalf("after the bank: %s\n%s", resp.Request.URL, page)
	}
	post(bank, url.Values{"csrf": {csrf}, "outcome": {"complete"}}) // pressed twice

	var l map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if l = s.license(t, "SEN-1000003"); l["status"] == "active" {
			break
		}
	}
	if l["status"] != "active" {
		t.Fatalf("licence after the bank confirmed: %v", l["status"])
	}
	s.waitMail(t, "gina@initech.test", "Payment received for SEN-1000003")
	if got := get(t, c, s.state.HTTPURL+"/payment/confirmed"); !strings.Contains(got, "the payment went through") {
		t.Errorf("the return page after the payment:\n%s", got)
	}
	if code, _ := s.getURL(t, confirm); code != http.StatusGone {
		t.Errorf("the confirm link after the payment: %d; want 410", code)
	}
	tc := s.temporalClient(t) // with dev's codec, as every other e2e client
	ids := listIDs(t, tc, `LicenseSEN = "SEN-1000003" AND Operation = "invoice"`)
	if len(ids) != 1 {
		t.Fatalf("collections of SEN-1000003: %v", ids)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st := bot.PlainText(s.slack(t, "status "+ids[0])); strings.Contains(st, "completed") {
			break
		}
	}
	if st := bot.PlainText(s.slack(t, "status "+ids[0])); !strings.Contains(st, "confirmed attempt") {
		t.Errorf("status: %s", st)
	}
	recordHistory(t, tc, ids[0], "collect-paid-after-bank-authentication")
}
