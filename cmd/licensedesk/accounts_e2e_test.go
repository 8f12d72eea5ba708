package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

const demoPassword = "correct horse battery staple"

// browser is one person's cookie jar against the running stack.
type browser struct {
	t    *testing.T
	s    *stack
	http *http.Client
}

func (s *stack) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, s: s, http: &http.Client{Jar: jar}}
}

// open GETs a path (or a full URL) and returns the final page and its path.
func (b *browser) open(target string) (string, string) {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.s.state.HTTPURL + target
	}
	resp, err := b.http.Get(target)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var page bytes.Buffer
	_, _ = page.ReadFrom(resp.Body)
	return page.String(), resp.Request.URL.Path
}

// submit opens the page at path, then posts fields with its CSRF token,
// following redirects; it returns the final page, its path and status.
func (b *browser) submit(path string, fields url.Values) (string, string, int) {
	b.t.Helper()
	page, _ := b.open(path)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no CSRF field on %s:\n%s", path, page)
	}
	form := url.Values{"csrf": {m[1]}}
	for k, v := range fields {
		form[k] = v
	}
	target := path
	if strings.HasPrefix(target, "/") {
		target = b.s.state.HTTPURL + target
	}
	resp, err := b.http.PostForm(target, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return out.String(), resp.Request.URL.Path, resp.StatusCode
}

func (s *stack) signIn(t *testing.T, email, password string) *browser {
	t.Helper()
	b := s.browser(t)
	page, path, _ := b.submit("/signin", url.Values{"email": {email}, "password": {password}})
	if path != "/account" {
		t.Fatalf("sign-in as %s ended on %s:\n%s", email, path, page)
	}
	return b
}

// The account page on the real stack: a contact added and a promotion made
// by signed-in customers run the same workflows as Slack, a card update
// from the account page pays the past-due invoice, and a password reset
// goes through an emailed link, for known and unknown addresses alike.
func TestDev_AccountSelfServiceEndToEnd(t *testing.T) {
	s := startDev(t)
	tc := s.temporalClient(t)

	// Alice adds a billing contact from her account page.
	alice := s.signIn(t, "alice@acme.test", demoPassword)
	page, _, _ := alice.submit("/account", url.Values{"action": {"add_contact"}, "sen": {"SEN-1000001"}, "role": {"billing"}, "email": {"carol.new@acme.test"}})
	if !strings.Contains(page, "carol.new@acme.test is now a billing contact of SEN-1000001") {
		t.Errorf("after adding a contact:\n%s", page)
	}
	s.waitMail(t, "carol.new@acme.test", "SEN-1000001")
	if got := contactsOf(s.license(t, "SEN-1000001")); !strings.Contains(got, "carol.new@acme.test/billing") {
		t.Errorf("contacts after the add: %s", got)
	}
	if ids := listIDs(t, tc, `Operation = "contact-add" AND CustomerEmails = "carol.new@acme.test"`); len(ids) != 1 {
		t.Errorf("contact-add workflows for carol: %v", ids)
	}
	// The same contact again: a clear message, nothing changed.
	page, _, _ = alice.submit("/account", url.Values{"action": {"add_contact"}, "sen": {"SEN-1000001"}, "role": {"billing"}, "email": {"carol.new@acme.test"}})
	if !strings.Contains(page, "already") {
		t.Errorf("adding an existing contact:\n%s", page)
	}
	if got := contactsOf(s.license(t, "SEN-1000001")); strings.Count(got, "carol.new@acme.test/billing") != 1 {
		t.Errorf("contacts after adding carol again: %s", got)
	}

	// Bob, secondary technical contact, makes himself primary.
	bob := s.signIn(t, "bob@acme.test", demoPassword)
	page, _, _ = bob.submit("/account", url.Values{"action": {"promote"}, "sen": {"SEN-1000001"}, "role": {"technical"}})
	if !strings.Contains(page, "Become the primary technical contact?") || !strings.Contains(page, "alice@acme.test") {
		t.Errorf("promoting asks first, naming who is demoted:\n%s", page)
	}
	page, _, _ = bob.submit("/account", url.Values{"action": {"promote"}, "sen": {"SEN-1000001"}, "role": {"technical"}, "confirm": {"yes"}})
	if !strings.Contains(page, "bob@acme.test is now the primary technical contact of SEN-1000001") {
		t.Errorf("after promoting:\n%s", page)
	}
	if got := contactsOf(s.license(t, "SEN-1000001")); !strings.Contains(got, "bob@acme.test/technical*") || strings.Contains(got, "alice@acme.test/technical*") {
		t.Errorf("contacts after the promotion: %s", got)
	}
	s.waitMail(t, "alice@acme.test", "bob@acme.test is now the primary technical contact")
	record(t, tc, "promote-self/SEN-1000001/technical/bob@acme.test", "promote-self-completed")

	// Gina updates the past-due card from her account page: Update card
	// goes straight to the (sandbox's) card page (review #9), the sandbox
	// takes the card, the invoice is paid.
	gina := s.signIn(t, "gina@initech.test", demoPassword)
	page, path, _ := gina.submit("/account", url.Values{"action": {"card"}, "sen": {"SEN-1000003"}})
	if !strings.Contains(path, "/sandbox/checkout/") {
		t.Fatalf("card update from the account page ended on %s, not the card page:\n%s", path, page)
	}
	if _, path, _ = gina.submit(path, url.Values{"card": {"pm_card_visa"}}); path != "/card/saved" {
		t.Errorf("after saving the card: %s", path)
	}
	var l map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if l = s.license(t, "SEN-1000003"); l["status"] == "active" {
			break
		}
	}
	if l["status"] != "active" {
		t.Errorf("SEN-1000003 after the card update from the account page: %v", l["status"])
	}
	if ids := listIDs(t, tc, `Operation = "card" AND CustomerEmails = "gina@initech.test"`); !slices.Contains(ids, "card/SEN-1000003/gina@initech.test") {
		t.Errorf("card workflows for gina: %v", ids)
	}
	record(t, tc, "card/SEN-1000003/gina@initech.test", "card-update-from-account-completed")

	// Reset: the same answer for an account and for nobody.
	anon := s.browser(t)
	known, _, _ := anon.submit("/password/forgot", url.Values{"email": {"bob@acme.test"}})
	unknown, _, _ := anon.submit("/password/forgot", url.Values{"email": {"nobody@acme.test"}})
	if strings.ReplaceAll(known, "bob@acme.test", "X") != strings.ReplaceAll(unknown, "nobody@acme.test", "X") {
		t.Errorf("reset answers differ:\n%s\n---\n%s", known, unknown)
	}
	m := s.waitMail(t, "bob@acme.test", "Reset your Licence Desk password")

	link := m.Links[0]
	link = s.state.HTTPURL + link[strings.Index(link, "/password/reset/"):]
	const newPassword = "a long new passphrase for bob"
	page, _, code := anon.submit(link, url.Values{"password": {newPassword}, "password_confirm": {newPassword}})
	if code != http.StatusOK || !strings.Contains(strings.ToLower(page), "sign in") {
		t.Errorf("reset form answered %d:\n%s", code, page)
	}
	s.waitMail(t, "bob@acme.test", "password was changed")
	record(t, tc, "password-reset/bob@acme.test", "password-reset-sent")
	if ids := listIDs(t, tc, `Operation = "password-changed" AND CustomerEmails = "bob@acme.test"`); len(ids) == 1 {
		record(t, tc, ids[0], "password-changed-sent")
	} else {
		t.Errorf("password-changed workflows for bob: %v", ids)
	}
	// Bob's session ended with the reset; the old password no longer works.
	if _, path := bob.open("/account"); path != "/signin" {
		t.Errorf("bob's session after the reset: %s", path)
	}
	if page, path, _ := s.browser(t).submit("/signin", url.Values{"email": {"bob@acme.test"}, "password": {demoPassword}}); path == "/account" || !strings.Contains(page, "don&#39;t match an account") {
		t.Errorf("the old password: ended on %s\n%s", path, page)
	}
	s.signIn(t, "bob@acme.test", newPassword)
	// The link is single use.
	if page, _ := anon.open(link); !strings.Contains(page, "already been used") {
		t.Errorf("a used reset link:\n%s", page)
	}
	// Nobody was mailed for the unknown address, and ops see both requests.
	_, body := s.get(t, "/dev/mail.json", "")
	if strings.Contains(string(body), "nobody@acme.test") {
		t.Error("a mail went to an address without an account")
	}
	for _, id := range []string{"password-reset/bob@acme.test", "password-reset/nobody@acme.test"} {
		if ids := listIDs(t, tc, `Operation = "password-reset"`); !slices.Contains(ids, id) {
			t.Errorf("%s not in the Temporal UI's list: %v", id, ids)
		}
	}
}

// record waits for a workflow to finish, then records its history (when
// RECORD_HISTORIES is set).
func record(t *testing.T, tc client.Client, workflowID, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tc.GetWorkflow(ctx, workflowID, "").Get(ctx, nil); err != nil {
		t.Fatalf("%s: %v", workflowID, err)
	}
	recordHistory(t, tc, workflowID, name)
}

// A reset request takes as long for an account as for nobody on the real
// stack (real Temporal, real PostgreSQL): the answer goes out once the
// PasswordReset workflow has started, before anyone looks the email up.
// Each request comes from its own address (TRUST_PROXY), so per-address
// throttling does not kick in, and the whole test stays under the 60
// requests a minute every address together may make (52 here).
func TestDev_ResetTimingDoesNotRevealAccounts(t *testing.T) {
	s := startDevWith(t, map[string]string{"TRUST_PROXY": "true"})
	b := s.browser(t)
	page, _ := b.open("/password/forgot")
	csrf := csrfField.FindStringSubmatch(page)[1]
	n := 0
	post := func(email string) string {
		n++
		body := strings.NewReader(url.Values{"csrf": {csrf}, "email": {email}}.Encode())
		req, _ := http.NewRequest(http.MethodPost, s.state.HTTPURL+"/password/forgot", body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.%d.%d", n/250, n%250+1))
		resp, err := b.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		_, _ = out.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("reset for %s: %d\n%s", email, resp.StatusCode, out.String())
		}
		return strings.ReplaceAll(out.String(), email, "EMAIL")
	}
	if post("bob@acme.test") != post("nobody@acme.test") {
		t.Error("the answers differ")
	}
	const rounds = 25
	var known, unknown durations
	for i := range rounds {
		// Alternate, so drift in the machine's load hits both alike.
		known = append(known, measure(1, func() { post("bob@acme.test") })...)
		unknown = append(unknown, measure(1, func() { post(fmt.Sprintf("nobody%d@acme.test", i)) })...)
	}
	slices.Sort(known)
	slices.Sort(unknown)
	t.Logf("POST /password/forgot on the real stack, %d each: existing account p50 %v p90 %v; unknown email p50 %v p90 %v",
		rounds, known.p(50), known.p(90), unknown.p(50), unknown.p(90))
}
