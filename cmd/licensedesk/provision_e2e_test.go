package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"licensedesk/bot"
	"licensedesk/operation"
)

// A licence provisioned with "invite": true on the real stack: each
// pending person gets the account-setup mail from the worker (the Invite
// operation), the link sets the account up, the same body again invites
// nobody twice; then `licensedesk import` loads a generated file into the
// running server and /license find shows the new licences.
func TestDev_ProvisioningInvitesAndImports(t *testing.T) {
	s := startDev(t)
	body := `{"sen": "SEN-3000001", "product": "Jira Software", "deployment": "cloud", "billing_cycle": "monthly",
	 "site": "newco.example.net", "price_minor": 1000, "currency": "USD", "next_billing_date": "2027-01-01",
	 "contacts": [{"email": "owner@newco.test", "role": "billing", "primary": true},
	              {"email": "owner@newco.test", "role": "technical", "primary": true}],
	 "site_admins": ["admin@newco.test"], "invite": true}`
	post := func() int {
		req, _ := http.NewRequest("POST", s.state.HTTPURL+"/api/v1/licenses", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.state.AdminAPIToken)
		code, resp := do(t, req)
		if code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("POST: %d %s", code, resp)
		}
		return code
	}
	if code := post(); code != http.StatusCreated {
		t.Fatalf("first POST: %d; want 201", code)
	}
	invitation := s.waitMail(t, "owner@newco.test", "complete your account")
	if !strings.Contains(invitation.Text, "billing and technical contact") || len(invitation.Links) == 0 {
		t.Fatalf("invitation: %+v", invitation)
	}
	admin := s.waitMail(t, "admin@newco.test", "complete your account")
	if !strings.Contains(admin.Text, "as a site admin") {
		t.Errorf("the site admin's invitation: %s", admin.Text)
	}
	if code, page := follow(t, invitation.Links[0], url.Values{"display_name": {"New Owner"},
		"password": {"a long enough passphrase here"}, "password_confirm": {"a long enough passphrase here"}}); code != 200 || !strings.Contains(page, "Your account is ready") {
		t.Fatalf("account setup: %d %s", code, page)
	}

	// The same body again: 200, and nobody is mailed twice.
	if code := post(); code != http.StatusOK {
		t.Fatalf("second POST: %d; want 200", code)
	}
	time.Sleep(2 * time.Second)
	_, raw := s.get(t, "/dev/mail.json", "")
	var mails []keptMail
	_ = json.Unmarshal(raw, &mails)
	n := 0
	for _, m := range mails {
		if m.To == "admin@newco.test" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d invitations to the site admin; want 1", n)
	}
	recordHistory(t, s.temporalClient(t), operation.InviteID("SEN-3000001", "owner@newco.test"), "invite-completed")

	// licensedesk import, with the URL and token from the data dir.
	code, book, stderr := runCLI(t, nil, "gen", "--licenses", "60", "--seed", "3")
	if code != 0 {
		t.Fatalf("gen: %s", stderr)
	}
	file := filepath.Join(s.dir, "book.ndjson")
	if err := os.WriteFile(file, []byte(book), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, nil, "import", "--data-dir", s.dir, file)
	if code != 0 || !strings.Contains(out, "created 60, updated 0, unchanged 0, rejected 0") {
		t.Fatalf("import: %d\n%s\n%s", code, out, stderr)
	}
	reply := bot.PlainText(s.slack(t, "find owner@newco.test"))
	if !strings.Contains(reply, "SEN-3000001") || !strings.Contains(reply, "primary billing, primary technical") {
		t.Errorf("find:\n%s", reply)
	}
	if reply := bot.PlainText(s.slack(t, "find heavy.holder@reseller.test")); !strings.Contains(reply, "Licences of heavy.holder@reseller.test (30)") {
		t.Errorf("find the imported reseller:\n%s", reply)
	}
}
