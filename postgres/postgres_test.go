package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"licensedesk/internal/clock/clocktest"
	"licensedesk/internal/pgtest"
	"licensedesk/licensing"
	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newDB returns a migrated database with the demo data loaded.
func newDB(t *testing.T) *postgres.DB {
	t.Helper()
	db, _ := postgrestest.NewDemo(t)
	return db
}

func firstOfNextMonth(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}

var system = licensing.Actor{Kind: "system", ID: "test"}

func TestMigrate_IsIdempotent(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	from, to, err := postgres.Migrate(ctx, url)
	if err != nil || from != 0 || to < 1 {
		t.Fatalf("first migrate: %d→%d, %v", from, to, err)
	}
	from2, to2, err := postgres.Migrate(ctx, url)
	if err != nil || from2 != to || to2 != to {
		t.Fatalf("second migrate: %d→%d, %v; want %d→%d", from2, to2, err, to, to)
	}
}

func TestSeedDemo_LoadsSpecDataOnce(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	again, err := db.SeedDemo(ctx, db.Now())
	if err != nil || again {
		t.Fatalf("second seed = %v, %v; want false, nil", again, err)
	}
	l, err := db.License(ctx, "SEN-1000001")
	if err != nil {
		t.Fatal(err)
	}
	want := []licensing.Contact{
		{Email: "alice@acme.test", Role: licensing.Billing, Primary: true, AccountStatus: licensing.AccountActive},
		{Email: "alice@acme.test", Role: licensing.Technical, Primary: true, AccountStatus: licensing.AccountActive},
		{Email: "bob@acme.test", Role: licensing.Technical, Primary: false, AccountStatus: licensing.AccountActive},
	}
	if fmt.Sprint(l.Contacts) != fmt.Sprint(want) {
		t.Errorf("contacts = %v\nwant %v", l.Contacts, want)
	}
	if l.Cycle != licensing.Monthly || l.Status != licensing.Active || l.Site != "acme.example.net" ||
		l.PriceCents != 1000 || !l.NextBillingDate.Equal(firstOfNextMonth(clocktest.Now(t))) {
		t.Errorf("licence fields = %+v", l)
	}
	if len(l.SiteAdmins) != 1 || l.SiteAdmins[0] != "carol@acme.test" {
		t.Errorf("site admins = %v", l.SiteAdmins)
	}
	if l.PaymentMethod == nil || l.PaymentMethod.Last4 != "4242" {
		t.Errorf("card = %+v", l.PaymentMethod)
	}
	past, err := db.License(ctx, "SEN-1000003")
	if err != nil || past.Status != licensing.PastDue || past.PaymentMethod.Last4 != "0002" {
		t.Errorf("SEN-1000003 = %+v, %v", past, err)
	}
	server, err := db.License(ctx, "SEN-2000001")
	if err != nil || server.Deployment != licensing.Server || server.Cycle != "" || !server.NextBillingDate.IsZero() || server.PaymentMethod != nil {
		t.Errorf("SEN-2000001 = %+v, %v", server, err)
	}
	var openInvoices int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM invoices WHERE status = 'open'`).Scan(&openInvoices); err != nil || openInvoices != 1 {
		t.Errorf("open invoices = %d, %v; want 1", openInvoices, err)
	}
}

func TestLicense_UnknownIsNotFound(t *testing.T) {
	_, err := newDB(t).License(context.Background(), "SEN-9999999")
	if licensing.ErrorCode(err) != licensing.NotFound {
		t.Fatalf("err = %v; want NotFound", err)
	}
}

// licenseID returns the internal id of a demo licence.
func licenseID(t *testing.T, db *postgres.DB, sen string) int64 {
	t.Helper()
	var id int64
	if err := db.Pool().QueryRow(context.Background(), `SELECT id FROM licenses WHERE sen = $1`, sen).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// constraint returns the violated constraint's name, or "" for no violation.
func constraint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	if err != nil {
		return "unexpected: " + err.Error()
	}
	return ""
}

// TestContacts_PromotionWorksInEitherOrder is why the one-primary rule is a
// deferred exclusion constraint and not a partial unique index: a promotion
// may set the new primary before demoting the old one, or the other way.
func TestContacts_PromotionWorksInEitherOrder(t *testing.T) {
	ctx := context.Background()
	setNewFirst := []string{
		`UPDATE license_contacts c SET is_primary = true FROM accounts a WHERE a.id = c.account_id AND a.email = 'bob@acme.test' AND c.role = 'technical' AND c.license_id = $1`,
		`UPDATE license_contacts c SET is_primary = false FROM accounts a WHERE a.id = c.account_id AND a.email = 'alice@acme.test' AND c.role = 'technical' AND c.license_id = $1`,
	}
	for name, stmts := range map[string][]string{
		"new primary first": setNewFirst,
		"old demoted first": {setNewFirst[1], setNewFirst[0]},
	} {
		t.Run(name, func(t *testing.T) {
			db := newDB(t)
			id := licenseID(t, db, "SEN-1000001")
			err := pgx.BeginFunc(ctx, db.Pool(), func(tx pgx.Tx) error {
				for _, s := range stmts {
					if _, err := tx.Exec(ctx, s, id); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("promotion failed: %v", err)
			}
			l, _ := db.License(ctx, "SEN-1000001")
			if err := licensing.CheckContacts(l.Contacts); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestContacts_DatabaseRefusesBrokenInvariants(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, sql, constraint string
	}{
		{"two primaries at commit",
			`UPDATE license_contacts c SET is_primary = true FROM accounts a WHERE a.id = c.account_id AND a.email = 'bob@acme.test' AND c.license_id = $1`,
			"one_primary_per_role"},
		{"no primary at commit",
			`UPDATE license_contacts SET is_primary = false WHERE role = 'technical' AND license_id = $1`,
			"primary_contact_required"},
		{"deleting a primary",
			`DELETE FROM license_contacts c USING accounts a WHERE a.id = c.account_id AND a.email = 'alice@acme.test' AND c.role = 'billing' AND c.license_id = $1`,
			"primary_contact_not_removable"},
		{"a second row for the same account and role",
			`INSERT INTO license_contacts (license_id, account_id, role) SELECT $1, id, 'technical' FROM accounts WHERE email = 'bob@acme.test'`,
			"license_contacts_pkey"},
		{"a licence with no contacts",
			`INSERT INTO licenses (sen, product, deployment) VALUES ('SEN-3000001', 'Bamboo', 'server') RETURNING $1::bigint`,
			"primary_contact_required"},
		{"a mixed-case duplicate account",
			`INSERT INTO accounts (email) SELECT 'Alice@acme.test' WHERE $1::bigint > 0`,
			"accounts_email_check"},
		{"a malformed SEN",
			`INSERT INTO licenses (sen, product, deployment) VALUES ('SEN-12', 'Bamboo', 'server') RETURNING $1::bigint`,
			"licenses_sen_check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newDB(t)
			id := licenseID(t, db, "SEN-1000001")
			before, _ := db.License(ctx, "SEN-1000001")
			err := pgx.BeginFunc(ctx, db.Pool(), func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, tt.sql, id)
				return err
			})
			if got := constraint(err); got != tt.constraint {
				t.Fatalf("violated %q; want %q", got, tt.constraint)
			}
			after, _ := db.License(ctx, "SEN-1000001")
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("licence changed:\n%v\n%v", before, after)
			}
		})
	}
}

func TestContacts_AddPromoteRemove(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	sen := licensing.SEN("SEN-1000001")
	res, err := db.EnsureContact(ctx, sen, licensing.Billing, "new@acme.test", system)
	if err != nil || !res.Added || !res.AccountCreated {
		t.Fatalf("add = %+v, %v", res, err)
	}
	again, err := db.EnsureContact(ctx, sen, licensing.Billing, "new@acme.test", system)
	if err != nil || again.Added {
		t.Fatalf("second add = %+v, %v; want no change", again, err)
	}
	if _, err := db.RemoveContact(ctx, sen, licensing.Billing, "alice@acme.test", system); licensing.ErrorCode(err) != licensing.FailedPrecondition {
		t.Fatalf("removing the primary: %v; want FailedPrecondition", err)
	}
	if _, ok, err := db.PromoteContact(ctx, sen, licensing.Billing, "new@acme.test", system); err != nil || !ok {
		t.Fatalf("promote = %v, %v", ok, err)
	}
	if _, ok, err := db.PromoteContact(ctx, sen, licensing.Billing, "new@acme.test", system); err != nil || ok {
		t.Fatalf("second promote = %v, %v; want no change", ok, err)
	}
	if ok, err := db.RemoveContact(ctx, sen, licensing.Billing, "alice@acme.test", system); err != nil || !ok {
		t.Fatalf("remove old primary = %v, %v", ok, err)
	}
	l, _ := db.License(ctx, sen)
	if err := licensing.CheckContacts(l.Contacts); err != nil {
		t.Fatal(err)
	}
	var audits int
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&audits)
	if audits != 3 {
		t.Errorf("audit rows = %d; want 3 (add, promote, remove)", audits)
	}
	if _, _, err := db.PromoteContact(ctx, sen, licensing.Billing, "nobody@acme.test", system); licensing.ErrorCode(err) != licensing.NotFound {
		t.Errorf("promoting a stranger: %v; want NotFound", err)
	}
}

// A promotion retried after it committed (its result lost on the way back
// to the workflow) reports the same promotion and former primary, so the
// former primary is still told; another run finds nothing to do.
func TestContacts_PromoteRetriedInTheSameRunReportsTheFormerPrimary(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	sen := licensing.SEN("SEN-1000001")
	by := licensing.Actor{Kind: "account", ID: "bob@acme.test", WorkflowID: "promote-self/SEN-1000001/technical/bob@acme.test", Run: "run-1"}
	for i := range 2 {
		former, ok, err := db.PromoteContact(ctx, sen, licensing.Technical, "bob@acme.test", by)
		if err != nil || !ok || former != "alice@acme.test" {
			t.Fatalf("attempt %d: former %q, promoted %v, %v; want alice@acme.test, true", i+1, former, ok, err)
		}
	}
	by.Run = "run-2"
	if former, ok, err := db.PromoteContact(ctx, sen, licensing.Technical, "bob@acme.test", by); err != nil || ok || former != "" {
		t.Fatalf("another run: former %q, promoted %v, %v; want no change", former, ok, err)
	}
	var n int
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'contact.promote'`).Scan(&n)
	if n != 1 {
		t.Errorf("promotion audit rows = %d; want 1", n)
	}
}

// TestContacts_ConcurrentPromotionsAndRemovalsKeepInvariants fires 50
// promotions and removals at one licence at once: each gets an answer and
// the licence ends with exactly one primary per role.
func TestContacts_ConcurrentPromotionsAndRemovalsKeepInvariants(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	sen := licensing.SEN("SEN-1000001")
	const n = 50
	emails := make([]licensing.Email, n)
	for i := range emails {
		emails[i] = licensing.Email(fmt.Sprintf("tech%02d@acme.test", i))
		if _, err := db.EnsureContact(ctx, sen, licensing.Technical, emails[i], system); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		answers = map[string]int{}
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			var err error
			if i%2 == 0 {
				_, _, err = db.PromoteContact(ctx, sen, licensing.Technical, emails[i], system)
			} else {
				// Remove the one promoted just before: it may or may not be primary by now.
				_, err = db.RemoveContact(ctx, sen, licensing.Technical, emails[i-1], system)
			}
			mu.Lock()
			answers[string(licensing.ErrorCode(err))+fmt.Sprint(err == nil)]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	total := 0
	for k, v := range answers {
		total += v
		// Success; a removal that found its target primary; or a promotion
		// whose contact was removed first.
		if k != "internaltrue" && k != string(licensing.FailedPrecondition)+"false" && k != string(licensing.NotFound)+"false" {
			t.Errorf("unexpected answer %s ×%d", k, v)
		}
	}
	if total != n {
		t.Fatalf("%d answers for %d requests", total, n)
	}
	l, err := db.License(ctx, sen)
	if err != nil {
		t.Fatal(err)
	}
	if err := licensing.CheckContacts(l.Contacts); err != nil {
		t.Fatal(err)
	}
	t.Logf("answers: %v", answers)
}
