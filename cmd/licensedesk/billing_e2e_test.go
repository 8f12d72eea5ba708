package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"licensedesk/bot"
)

// TestDev_CardUpdatePaysThePastDueInvoice is the SEN-1000003 story:
// /license card → gina's emailed link → the sandbox's card page →
// pm_card_visa → the open invoice is paid, the licence is active, and Slack
// and email say so.
func TestDev_CardUpdatePaysThePastDueInvoice(t *testing.T) {
	s := startDev(t)

	for text, want := range map[string]string{
		"charge SEN-1000001": "SEN-1000001 is active: there is nothing to charge now.",
		"card SEN-2000001":   "server",
		"card SEN-12":        `"SEN-12" is not a SEN`,
	} {
		if got := bot.PlainText(s.slack(t, text)); !strings.Contains(got, want) {
			t.Errorf("%q → %s; want %q", text, got, want)
		}
	}
	// Annual licence: links go to the site admin only.
	if got := bot.PlainText(s.slack(t, "card SEN-1000002")); !strings.Contains(got, "Links go to frank@globex.test.") {
		t.Errorf("annual card update: %s", got)
	}

	if got := bot.PlainText(s.slack(t, "card SEN-1000003")); !strings.Contains(got, "Links go to gina@initech.test.") {
		t.Fatalf("card: %s", got)
	}
	m := s.waitMail(t, "gina@initech.test", "Update the card for SEN-1000003")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	link := s.rebase(m.Links[0])
	page := get(t, c, link)
	if !strings.Contains(page, "past due") {
		t.Errorf("the link page does not say the invoice is charged at once:\n%s", page)
	}
	// Continue to the provider's card page (the sandbox, in dev).
	resp, err := c.PostForm(link, url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	checkout := resp.Request.URL.String()
	if !strings.Contains(checkout, "/sandbox/checkout/") {
		t.Fatalf("not sent to the card page: %s", checkout)
	}
	page = get(t, c, checkout)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil || !strings.Contains(page, "pm_card_visa") {
		t.Fatalf("card page:\n%s", page)
	}
	resp, err = c.PostForm(checkout, url.Values{"csrf": {csrf[1]}, "card": {"pm_card_visa"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasSuffix(resp.Request.URL.Path, "/card/saved") {
		t.Errorf("after saving the card: %s", resp.Request.URL)
	}

	var l map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if l = s.license(t, "SEN-1000003"); l["status"] == "active" {
			break
		}
	}
	if l["status"] != "active" {
		t.Fatalf("licence after the card update: %v", l)
	}
	if pm := l["payment_method"].(map[string]any); pm["last4"] != "4242" {
		t.Errorf("card = %v; want the new visa 4242", pm)
	}
	s.waitMail(t, "gina@initech.test", "Payment received for SEN-1000003")
	s.waitMail(t, "gina@initech.test", "The card for SEN-1000003 was updated")
	// No Slack message per invoice (issue 18): billing runs' digests say
	// it; the licence's history has the payment.
	_, body := s.get(t, "/dev/slack.json", "")
	if strings.Contains(string(body), "paid invoice") {
		t.Errorf("a Slack alert for one invoice's payment in %s", body)
	}
	if got := bot.PlainText(s.slack(t, "history SEN-1000003")); !strings.Contains(got, "recorded the payment of invoice SEN-1000003") {
		t.Errorf("the history does not have the payment: %s", got)
	}
	tc := s.temporalClient(t)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st := bot.PlainText(s.slack(t, "status card/SEN-1000003")); strings.Contains(st, "completed") {
			break
		}
	}
	recordHistory(t, tc, "card/SEN-1000003", "card-update-completed")
	if ids := listIDs(t, tc, `LicenseSEN = "SEN-1000003" AND Operation = "invoice"`); len(ids) == 1 {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if st := bot.PlainText(s.slack(t, "status "+ids[0])); strings.Contains(st, "completed") {
				break
			}
		}
		recordHistory(t, tc, ids[0], "collect-paid-after-card-update")
	} else {
		t.Errorf("collection workflows for SEN-1000003: %v; want one", ids)
	}
	// The used link cannot be used again.
	if code, _ := s.getURL(t, link); code != http.StatusGone {
		t.Errorf("used card link: %d; want 410", code)
	}
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, b.String())
	}
	return b.String()
}

func listIDs(t *testing.T, tc client.Client, query string) []string {
	t.Helper()
	resp, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range resp.Executions {
		ids = append(ids, e.Execution.WorkflowId)
	}
	return ids
}
