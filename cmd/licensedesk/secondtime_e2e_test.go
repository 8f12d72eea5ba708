package main

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"licensedesk/bot"
)

// mails lists the kept mails to someone whose subject contains want,
// newest first.
func (s *stack) mails(t *testing.T, to, want string) []keptMail {
	t.Helper()
	_, body := s.get(t, "/dev/mail.json", "")
	var all, out []keptMail
	if err := json.Unmarshal(body, &all); err != nil {
		t.Fatalf("dev mail: %v: %s", err, body)
	}
	for _, m := range all {
		if m.To == to && strings.Contains(m.Subject, want) {
			out = append(out, m)
		}
	}
	return out
}

// waitMails waits until n mails to someone match want and returns them,
// newest first.
func (s *stack) waitMails(t *testing.T, to, want string, n int) []keptMail {
	t.Helper()
	var got []keptMail
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = s.mails(t, to, want); len(got) >= n {
			return got
		}
	}
	t.Fatalf("%d mails to %s about %q within 30 s; want %d", len(got), to, want, n)
	return nil
}

// payInSandbox follows an update-card link to the sandbox's card page and
// saves the test card pm there, as a person would.
func (s *stack) payInSandbox(t *testing.T, link, pm string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := get(t, c, link)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("card link page:\n%s", page)
	}
	resp, err := c.PostForm(link, url.Values{"csrf": {m[1]}})
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
	if csrf == nil {
		t.Fatalf("card page:\n%s", page)
	}
	resp, err = c.PostForm(checkout, url.Values{"csrf": {csrf[1]}, "card": {pm}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// TestDev_TheSecondTime runs operations again after they ended (completed,
// cancelled, declined) and after the person they wait on left, on the
// real stack: every new run mails fresh links that work, old links do
// not, and billing neither hides its status nor can be cancelled.
func TestDev_TheSecondTime(t *testing.T) {
	s := startDev(t)

	t.Run("a card update asked again after a cancel mails fresh links", func(t *testing.T) {
		const id = "card/SEN-1000001"
		if got := bot.PlainText(s.slack(t, "card SEN-1000001")); !strings.Contains(got, "started") {
			t.Fatalf("card: %s", got)
		}
		first := s.waitMails(t, "bob@acme.test", "Update the card for SEN-1000001", 1)
		if got := bot.PlainText(s.press(t, s.slack(t, "cancel "+id))); !strings.Contains(got, "Cancelling") {
			t.Fatalf("cancel: %s", got)
		}
		s.waitStatus(t, id, "cancelled")
		if got := bot.PlainText(s.slack(t, "card SEN-1000001")); !strings.Contains(got, "started") {
			t.Fatalf("card again: %s", got)
		}
		for _, to := range []string{"alice@acme.test", "bob@acme.test", "carol@acme.test"} {
			s.waitMails(t, to, "Update the card for SEN-1000001", 2)
		}
		second := s.mails(t, "bob@acme.test", "Update the card for SEN-1000001")[0]
		if code, _ := s.getURL(t, s.rebase(first[0].Links[0])); code != http.StatusGone {
			t.Errorf("the cancelled run's link: %d; want 410", code)
		}
		if code, _ := s.getURL(t, s.rebase(second.Links[0])); code != http.StatusOK {
			t.Errorf("the new run's link: %d; want 200", code)
		}
		s.press(t, s.slack(t, "cancel "+id))
		s.waitStatus(t, id, "cancelled")
	})

	t.Run("a verification asked again after it completed mails again", func(t *testing.T) {
		const id = "verify/SEN-1000002/caller@globex.test"
		s.slack(t, "verify SEN-1000002 caller@globex.test")
		m := s.waitMails(t, "dave@globex.test", "Please confirm a request about SEN-1000002", 1)[0]
		if code, page := follow(t, s.rebase(m.Links[0]), url.Values{"decision": {"approve"}}); code != 200 {
			t.Fatalf("approve: %d %s", code, page)
		}
		s.waitStatus(t, id, "completed")
		s.slack(t, "verify SEN-1000002 caller@globex.test")
		again := s.waitMails(t, "dave@globex.test", "Please confirm a request about SEN-1000002", 2)[0]
		if code, _ := s.getURL(t, s.rebase(again.Links[0])); code != http.StatusOK {
			t.Errorf("the second verification's link: %d; want 200", code)
		}
		s.press(t, s.slack(t, "cancel "+id))
		s.waitStatus(t, id, "cancelled")
	})

	t.Run("resend mails a fresh working link, the old one dies, and it is refused with the reason", func(t *testing.T) {
		const id = "verify/SEN-1000002/resend.me@globex.test"
		const subject = "Please confirm a request about SEN-1000002"
		before := len(s.mails(t, "dave@globex.test", subject))
		s.slack(t, "verify SEN-1000002 resend.me@globex.test")
		old := s.waitMails(t, "dave@globex.test", subject, before+1)[0]
		s.waitStatus(t, id, "waiting on")
		for text, want := range map[string]string{
			"resend " + id + " nobody@globex.test":  "does not wait on nobody@globex.test",
			"resend move/SEN-1000002/nobody@x.test": "No running operation",
			"resend SEN-1000002":                    "neither a SEN nor an operation id",
			"resend " + id + " not-an-email":        "Usage:",
		} {
			if got := bot.PlainText(s.slack(t, text)); !strings.Contains(got, want) {
				t.Errorf("%q → %s; want %q", text, got, want)
			}
		}
		if got := bot.PlainText(s.slack(t, "resend "+id+" dave@globex.test")); !strings.Contains(got, "A fresh link went to dave@globex.test") {
			t.Fatalf("resend: %s", got)
		}
		fresh := s.waitMails(t, "dave@globex.test", subject, before+2)[0]
		if code, _ := s.getURL(t, s.rebase(old.Links[0])); code != http.StatusGone {
			t.Errorf("the link before the resend: %d; want 410", code)
		}
		if got := bot.PlainText(s.slack(t, "resend "+id+" dave@globex.test")); !strings.Contains(got, "another can be sent from") {
			t.Errorf("a second resend at once: %s", got)
		}
		if code, _ := follow(t, s.rebase(fresh.Links[0]), url.Values{"decision": {"approve"}}); code != http.StatusOK {
			t.Errorf("the fresh link: %d", code)
		}
		s.waitStatus(t, id, "completed")
		if got := bot.PlainText(s.slack(t, "resend "+id)); !strings.Contains(got, "No running operation") && !strings.Contains(got, "has already ended") {
			t.Errorf("resend after the end: %s", got)
		}
		if hist := bot.PlainText(s.slack(t, "history SEN-1000002")); !strings.Contains(hist, "@U0TEST had a fresh link mailed to dave@globex.test (Slack)") {
			t.Errorf("history lacks the resend:\n%s", hist)
		}
	})

	t.Run("a confirmer removed meanwhile cannot approve and the move ends; a move declined and asked again mails again", func(t *testing.T) {
		const id = "move/SEN-1000001/zed@newco.test"
		s.press(t, s.slack(t, "move SEN-1000001 zed@newco.test --confirm-by bob@acme.test"))
		bob := s.waitMails(t, "bob@acme.test", "Please confirm moving SEN-1000001", 1)[0]
		s.press(t, s.slack(t, "contact remove SEN-1000001 technical bob@acme.test"))
		s.waitMail(t, "bob@acme.test", "no longer a technical contact")
		if code, page := s.getURL(t, s.rebase(bob.Links[0])); code != http.StatusGone {
			t.Errorf("bob's link after his removal: %d; want 410\n%s", code, page)
		}
		// The move, told he left, ends at once instead of waiting 14 days
		// for someone who can no longer answer.
		if got := s.waitStatus(t, id, "failed"); !strings.Contains(got, "bob@acme.test, asked to confirm, no longer belongs to SEN-1000001; nothing was changed") {
			t.Errorf("the move after its confirmer left: %s", got)
		}
		if l := contactsOf(s.license(t, "SEN-1000001")); strings.Contains(l, "zed@newco.test") {
			t.Errorf("the ended move changed the contacts: %s", l)
		}

		s.press(t, s.slack(t, "move SEN-1000001 zed@newco.test"))
		m := s.waitMails(t, "alice@acme.test", "Please confirm moving SEN-1000001", 1)[0]
		if code, _ := follow(t, s.rebase(m.Links[0]), url.Values{"decision": {"decline"}}); code != 200 {
			t.Fatalf("decline: %d", code)
		}
		s.waitStatus(t, id, "declined")
		s.press(t, s.slack(t, "move SEN-1000001 zed@newco.test"))
		again := s.waitMails(t, "alice@acme.test", "Please confirm moving SEN-1000001", 2)[0]
		if code, _ := s.getURL(t, s.rebase(again.Links[0])); code != http.StatusOK {
			t.Errorf("the new move's link: %d; want 200", code)
		}
		s.press(t, s.slack(t, "cancel "+id))
		s.waitStatus(t, id, "cancelled")
	})

	t.Run("the billing sweep answers status and cannot be cancelled", func(t *testing.T) {
		tc := s.temporalClient(t)
		var sweeps []string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && len(sweeps) == 0; time.Sleep(200 * time.Millisecond) {
			sweeps = listIDs(t, tc, `Operation = "billing" AND WorkflowType = "BillingSweep"`)
		}
		if len(sweeps) == 0 {
			t.Fatal("no billing sweep ran when dev started")
		}
		got := s.waitStatus(t, sweeps[0], "completed")
		if !strings.Contains(got, "Billing sweep") || !strings.Contains(got, "collections started") {
			t.Errorf("status of %s: %s", sweeps[0], got)
		}
		recordHistory(t, tc, sweeps[0], "billing-sweep-completed")
		for _, id := range []string{sweeps[0], "billing/SEN-1000001"} {
			if got := bot.PlainText(s.slack(t, "cancel "+id)); !strings.Contains(got, "cancel the licence") || strings.Contains(got, "[Cancel the") {
				t.Errorf("cancel %s: %s", id, got)
			}
		}
	})

	t.Run("a new card that declines: the failure mail has its own button, Slack says it failed", func(t *testing.T) {
		s.slack(t, "card SEN-1000003")
		m := s.waitMails(t, "gina@initech.test", "Update the card for SEN-1000003", 1)[0]
		s.payInSandbox(t, s.rebase(m.Links[0]), "pm_card_chargeDeclined")
		failed := s.waitMails(t, "gina@initech.test", "Payment for SEN-1000003 failed", 1)[0]
		if len(failed.Links) != 1 || strings.Contains(failed.Text, "separate email") {
			t.Fatalf("the failure mail carries no update-card button: %+v", failed)
		}
		st := s.waitStatus(t, "card/SEN-1000003", "failed")
		if !strings.Contains(st, "failed") || strings.Contains(st, "being charged now") {
			t.Errorf("card status: %s", st)
		}
		s.payInSandbox(t, s.rebase(failed.Links[0]), "pm_card_visa")
		s.waitMails(t, "gina@initech.test", "Payment received for SEN-1000003", 1)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && s.license(t, "SEN-1000003")["status"] != "active"; time.Sleep(200 * time.Millisecond) {
		}
		if l := s.license(t, "SEN-1000003"); l["status"] != "active" {
			t.Errorf("SEN-1000003 after paying from the failure mail: %v", l)
		}
		tc := s.temporalClient(t)
		recordHistory(t, tc, "card/SEN-1000003", "card-update-charge-declined")
		if ids := listIDs(t, tc, `LicenseSEN = "SEN-1000003" AND Operation = "invoice"`); len(ids) == 1 {
			s.waitStatus(t, ids[0], "completed")
			recordHistory(t, tc, ids[0], "collect-paid-through-its-failure-mail")
		} else {
			t.Errorf("collections of SEN-1000003: %v", ids)
		}
	})
}
