package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"licensedesk/licensing"
	"licensedesk/postgres"
)

var resetRequests atomic.Int64

// resetLink issues the link of a new reset request.
func resetLink(t *testing.T, db *postgres.DB, email licensing.Email, ttl time.Duration) string {
	t.Helper()
	got, err := db.IssueResetLink(context.Background(), postgres.ResetLinkRequest{
		Email: email, Request: fmt.Sprintf("test/%d", resetRequests.Add(1)), TTL: ttl, Since: db.Now().Add(-time.Hour), PerHour: 100,
	})
	if err != nil || got.Outcome != postgres.ResetLinkIssued {
		t.Fatalf("IssueResetLink = %+v, %v", got, err)
	}
	return got.Token
}

func TestResetLinks_SpendOnceAndRevokeSessions(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	alice := account(t, db, "alice@acme.test")
	laptop := newSession(t, db, alice.ID, time.Hour, nil)
	token := resetLink(t, db, "alice@acme.test", time.Hour)

	email, err := db.SpendResetLink(ctx, token, "$argon2id$reset")
	if err != nil || email != "alice@acme.test" {
		t.Fatalf("SpendResetLink = %q, %v", email, err)
	}
	if got := account(t, db, "alice@acme.test").PasswordHash; got != "$argon2id$reset" {
		t.Fatalf("hash = %q", got)
	}
	if live(t, db, laptop) {
		t.Fatal("a session survived the reset")
	}
	if _, err := db.SpendResetLink(ctx, token, "$argon2id$again"); licensing.ErrorCode(err) != licensing.Gone {
		t.Fatalf("second use: %v; want Gone", err)
	}
	if _, err := db.LookupLink(ctx, token); licensing.ErrorCode(err) != licensing.Gone {
		t.Fatalf("lookup after use: %v; want Gone", err)
	}
	if got := account(t, db, "alice@acme.test").PasswordHash; got != "$argon2id$reset" {
		t.Fatalf("second use changed the hash to %q", got)
	}
	var audits int
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'account.password_reset' AND account_id = $1`, alice.ID).Scan(&audits)
	if audits != 1 {
		t.Errorf("audit rows = %d; want 1", audits)
	}
}

func TestResetLinks_RefusedWithTheRightCode(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	expired := resetLink(t, db, "bob@acme.test", time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	promote := newLink(t, db, "promote", "promote/x", time.Hour) // another purpose
	for name, tc := range map[string]struct {
		token string
		want  licensing.Code
	}{
		"unknown":       {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", licensing.NotFound},
		"expired":       {expired, licensing.Gone},
		"other purpose": {promote, licensing.NotFound},
	} {
		if _, err := db.SpendResetLink(ctx, tc.token, "$argon2id$x"); licensing.ErrorCode(err) != tc.want {
			t.Errorf("%s: %v; want %s", name, err, tc.want)
		}
	}
	if h := account(t, db, "bob@acme.test").PasswordHash; h == "$argon2id$x" {
		t.Fatal("a refused link changed the password")
	}
	// A disabled account's link changes nothing and stays unspent.
	token := resetLink(t, db, "carol@acme.test", time.Hour)
	if _, err := db.Pool().Exec(ctx, `UPDATE accounts SET status = 'disabled' WHERE email = 'carol@acme.test'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SpendResetLink(ctx, token, "$argon2id$x"); licensing.ErrorCode(err) != licensing.FailedPrecondition {
		t.Fatalf("disabled account: %v", err)
	}
	if _, err := db.LookupLink(ctx, token); err != nil {
		t.Fatalf("a refused reset spent the link: %v", err)
	}
}

func TestResetLinks_NewerRevokesOlder(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	first := resetLink(t, db, "alice@acme.test", time.Hour)
	other := resetLink(t, db, "bob@acme.test", time.Hour)
	second := resetLink(t, db, "alice@acme.test", time.Hour)
	if _, err := db.LookupLink(ctx, first); licensing.ErrorCode(err) != licensing.Gone {
		t.Fatalf("older link: %v; want Gone", err)
	}
	if _, err := db.LookupLink(ctx, second); err != nil {
		t.Fatalf("newer link: %v", err)
	}
	if _, err := db.LookupLink(ctx, other); err != nil {
		t.Fatalf("another account's link was revoked: %v", err)
	}
	// Spending a link revokes the others of its account.
	third, _, _ := db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposePasswordReset, Email: "alice@acme.test", TTL: time.Hour})
	if _, err := db.SpendResetLink(ctx, third, "$argon2id$x"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LookupLink(ctx, second); licensing.ErrorCode(err) != licensing.Gone {
		t.Fatalf("link left usable after a reset: %v", err)
	}
}

// The cap counts requests; pending, disabled and unknown accounts get no
// link; concurrent requests are counted exactly and leave one usable link.
func TestResetLinks_IssueCountsRequests(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	req := func(email licensing.Email, request string) postgres.IssuedResetLink {
		t.Helper()
		got, err := db.IssueResetLink(ctx, postgres.ResetLinkRequest{
			Email: email, Request: request, TTL: time.Hour, Since: db.Now().Add(-time.Hour), PerHour: 3,
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE accounts SET status = 'disabled' WHERE email = 'carol@acme.test'`); err != nil {
		t.Fatal(err)
	}
	for _, email := range []licensing.Email{"nobody@acme.test", "carol@acme.test"} {
		if got := req(email, "r"); got.Outcome != postgres.ResetNoAccount || got.Token != "" {
			t.Errorf("%s: %+v; want no account", email, got)
		}
	}
	for range 5 {
		if got := req("alice@acme.test", "r1"); got.Outcome != postgres.ResetLinkIssued {
			t.Fatalf("retry of r1: %+v", got)
		}
	}
	if n, err := db.ResetLinkIssue(ctx, "alice@acme.test", "r1"); err != nil || n != 5 {
		t.Fatalf("ResetLinkIssue(r1) = %d, %v; want 5", n, err)
	}
	if n, err := db.ResetLinkIssue(ctx, "alice@acme.test", "r9"); err != nil || n != 0 {
		t.Fatalf("ResetLinkIssue(unknown request) = %d, %v; want 0", n, err)
	}

	var wg sync.WaitGroup
	outcomes := make([]postgres.ResetLinkOutcome, 6)
	for i := range outcomes {
		wg.Go(func() { outcomes[i] = req("bob@acme.test", fmt.Sprintf("b%d", i)).Outcome })
	}
	wg.Wait()
	issued := 0
	for _, o := range outcomes {
		if o == postgres.ResetLinkIssued {
			issued++
		} else if o != postgres.ResetTooMany {
			t.Errorf("outcome %v", o)
		}
	}
	var usable int
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM link_tokens t JOIN accounts a ON a.id = t.account_id
		WHERE a.email = 'bob@acme.test' AND t.purpose = 'password_reset' AND t.revoked_at IS NULL`).Scan(&usable)
	if issued != 3 || usable != 1 {
		t.Fatalf("6 concurrent requests: %d issued, %d usable links; want 3 and 1", issued, usable)
	}
}

func TestResetLinks_ConcurrentSpendsSucceedOnce(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	token := resetLink(t, db, "alice@acme.test", time.Hour)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for range 20 {
		wg.Go(func() {
			if _, err := db.SpendResetLink(ctx, token, "$argon2id$x"); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d of 20 concurrent spends succeeded; want 1", ok)
	}
}

func TestAccounts_ProfileAndLicences(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	alice := account(t, db, "alice@acme.test")
	p := postgres.Profile{DisplayName: "Alice A.", Phone: "+1 555 0100", Company: "Acme Inc.", Address: "1 Road\nTown"}
	if err := db.UpdateProfile(ctx, alice.ID, p); err != nil {
		t.Fatal(err)
	}
	got := account(t, db, "alice@acme.test")
	if got.DisplayName != p.DisplayName || got.Phone != p.Phone || got.Company != p.Company || got.Address != p.Address {
		t.Fatalf("profile = %+v", got)
	}
	if err := db.UpdateProfile(ctx, alice.ID, postgres.Profile{DisplayName: string(make([]byte, 201))}); err == nil {
		t.Fatal("the database took a 201-character display name")
	}

	for email, want := range map[licensing.Email][]licensing.SEN{
		"alice@acme.test":   {"SEN-1000001"},
		"carol@acme.test":   {"SEN-1000001"}, // site admin only
		"gina@initech.test": {"SEN-1000003"},
		"frank@globex.test": {"SEN-1000002"},
	} {
		list, err := db.AccountLicenses(ctx, account(t, db, email).ID)
		if err != nil || len(list) != len(want) {
			t.Fatalf("%s: %d licences, %v", email, len(list), err)
		}
		for i := range want {
			if list[i].License.SEN != want[i] || len(list[i].License.Contacts) == 0 {
				t.Errorf("%s: licence %d = %+v", email, i, list[i].License)
			}
		}
	}
}

func TestAccounts_OnlySiteAdminsChangeTheBillingAddress(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	addr := licensing.BillingAddress{Name: "Acme", Lines: []string{"1 Road"}, City: "London", Postcode: "EC1A 1AA", Country: "GB", TaxID: "GB123456789"}
	if err := db.UpdateBillingAddress(ctx, "SEN-1000001", addr, "alice@acme.test"); licensing.ErrorCode(err) != licensing.Forbidden {
		t.Fatalf("a contact who is not a site admin: %v; want Forbidden", err)
	}
	if err := db.UpdateBillingAddress(ctx, "SEN-9999999", addr, "carol@acme.test"); licensing.ErrorCode(err) != licensing.NotFound {
		t.Fatalf("unknown licence: %v; want NotFound", err)
	}
	if err := db.UpdateBillingAddress(ctx, "SEN-1000001", addr, "carol@acme.test"); err != nil {
		t.Fatal(err)
	}
	list, _ := db.AccountLicenses(ctx, account(t, db, "carol@acme.test").ID)
	if got, _ := db.BillingAddress(ctx, "SEN-1000001"); len(list) != 1 || !reflect.DeepEqual(list[0].BillingAddress, addr) || !reflect.DeepEqual(got, addr) {
		t.Fatalf("billing address = %+v", list)
	}
}

func TestAccounts_RelatedToLicense(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	for _, tc := range []struct {
		sen   licensing.SEN
		email licensing.Email
		want  bool
	}{
		{"SEN-1000001", "alice@acme.test", true},   // primary contact
		{"SEN-1000001", "Bob@Acme.test", true},     // secondary contact, any case
		{"SEN-1000001", "carol@acme.test", true},   // site admin only
		{"SEN-1000002", "alice@acme.test", false},  // a stranger's licence
		{"SEN-9999999", "alice@acme.test", false},  // no such licence
		{"SEN-1000001", "nobody@acme.test", false}, // no such account
	} {
		if got, err := db.RelatedToLicense(ctx, tc.sen, tc.email); err != nil || got != tc.want {
			t.Errorf("RelatedToLicense(%s, %s) = %v, %v; want %v", tc.sen, tc.email, got, err, tc.want)
		}
	}
}
