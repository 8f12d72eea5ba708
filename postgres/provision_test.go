package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"licensedesk/licensing"
	"licensedesk/postgres"
)

var api = licensing.Actor{Kind: "api", ID: "api"}

// specLine is SPEC §9's example; line builds variations of it.
func line(sen string, edits ...func(*licensing.LicenseRecord)) string {
	str := func(s string) *string { return &s }
	price := int64(1000)
	rec := licensing.LicenseRecord{
		SEN: str(sen), Product: str("Jira Software"), Deployment: str("cloud"), BillingCycle: str("monthly"),
		Site: str("acme.example.net"), PriceMinor: &price, Currency: str("USD"), NextBillingDate: str("2027-01-01"),
		Status: str("active"),
		Contacts: []licensing.ContactRecord{
			{Email: "a@acme.test", Role: "billing", Primary: true},
			{Email: "a@acme.test", Role: "technical", Primary: true},
			{Email: "b@acme.test", Role: "technical"},
		},
		SiteAdmins: []string{"c@acme.test"},
	}
	for _, e := range edits {
		e(&rec)
	}
	b, err := jsonMarshal(rec)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func newLicence(t *testing.T, s string) licensing.NewLicense {
	t.Helper()
	n, _, err := licensing.DecodeLicense([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// importLines imports text lines as the API does.
func importLines(t *testing.T, db *postgres.DB, opt postgres.ImportOptions, lines ...string) postgres.ImportSummary {
	t.Helper()
	i := 0
	next := func() (postgres.ImportLine, error) {
		if i == len(lines) {
			return postgres.ImportLine{}, io.EOF
		}
		i++
		n, sen, err := licensing.DecodeLicense([]byte(lines[i-1]))
		return postgres.ImportLine{Line: i, SEN: sen, License: n, Err: err}, nil
	}
	sum, err := db.Import(context.Background(), next, api, opt)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func auditCount(t *testing.T, db *postgres.DB, action string) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = $1 AND actor_kind = 'api' AND actor = 'api'`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestProvisionLicense_CreatesOnceThenRefusesAnotherBody(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	n := newLicence(t, line("SEN-3000001"))
	p, err := db.ProvisionLicense(ctx, n, api)
	if err != nil || !p.Created {
		t.Fatalf("create = %+v, %v", p, err)
	}
	if d := licensing.LicenseDiff(n.License, p.License); d != nil {
		t.Errorf("stored licence differs in %v", d)
	}
	for _, c := range p.License.Contacts {
		if c.AccountStatus != licensing.AccountPending {
			t.Errorf("%s is %s; want a pending account", c.Email, c.AccountStatus)
		}
	}
	if st, _ := db.AccountStatus(ctx, "c@acme.test"); st != licensing.AccountPending {
		t.Errorf("site admin account is %q; want pending", st)
	}
	if got := auditCount(t, db, "license.create"); got != 1 {
		t.Errorf("%d creation audit rows; want 1", got)
	}

	again, err := db.ProvisionLicense(ctx, n, api)
	if err != nil || again.Created {
		t.Fatalf("same body again = %+v, %v; want unchanged", again, err)
	}
	if got := auditCount(t, db, "license.create"); got != 1 {
		t.Errorf("the same body again was audited (%d rows)", got)
	}

	other := newLicence(t, line("SEN-3000001", func(r *licensing.LicenseRecord) { *r.PriceMinor = 2000 }))
	_, err = db.ProvisionLicense(ctx, other, api)
	if licensing.ErrorCode(err) != licensing.Conflict || licensing.ErrorField(err) != "price_minor" {
		t.Fatalf("another body = %v (field %q); want Conflict on price_minor", err, licensing.ErrorField(err))
	}
	if l, _ := db.License(ctx, "SEN-3000001"); l.PriceCents != 1000 {
		t.Errorf("price after a refused body = %d", l.PriceCents)
	}
}

func TestProvisionLicense_InvitesThePendingPeopleWhenAsked(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	// alice@acme.test has an active account already; only the others are invited.
	n := newLicence(t, line("SEN-3000002", func(r *licensing.LicenseRecord) {
		r.Invite = true
		r.Contacts[0].Email = "alice@acme.test"
	}))
	p, err := db.ProvisionLicense(ctx, n, api)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(p.Invite)
	want := fmt.Sprint([]postgres.Invitation{
		{SEN: "SEN-3000002", Email: "a@acme.test", Roles: []licensing.Role{licensing.Technical}},
		{SEN: "SEN-3000002", Email: "b@acme.test", Roles: []licensing.Role{licensing.Technical}},
		{SEN: "SEN-3000002", Email: "c@acme.test"},
	})
	if got != want {
		t.Errorf("invite = %s\nwant     %s", got, want)
	}
	// The same body again asks again (starting an invitation is idempotent).
	if again, err := db.ProvisionLicense(ctx, n, api); err != nil || fmt.Sprint(again.Invite) != want {
		t.Errorf("again: invite = %v, %v", again.Invite, err)
	}
	n.Invite = false
	if again, _ := db.ProvisionLicense(ctx, n, api); len(again.Invite) != 0 {
		t.Errorf("without invite: %v", again.Invite)
	}
}

func TestImport_ABadLineNeverStopsTheGoodOnes(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	before, _ := db.License(ctx, "SEN-1000001")
	lines := []string{
		line("SEN-3000001"),
		`{"sen": "SEN-3000002", "product": `, // malformed
		line("SEN-3000003", func(r *licensing.LicenseRecord) { r.Contacts[0].Primary = false }), // no primary billing
		line("SEN-3000001", func(r *licensing.LicenseRecord) { *r.Product = "Confluence" }),     // SEN twice
		line("SEN-1000001"), // exists (demo) and differs
		line("SEN-3000004", func(r *licensing.LicenseRecord) { r.Deployment = nil }),
		line("SEN-3000005", func(r *licensing.LicenseRecord) { *r.Currency = "ABC" }),
		line("SEN-3000006"),
	}
	sum := importLines(t, db, postgres.ImportOptions{BatchSize: 3}, lines...)
	if sum.Created != 2 || sum.Updated != 0 || sum.Unchanged != 0 || len(sum.Rejected) != 6 {
		t.Fatalf("summary = %+v", sum)
	}
	var rejected []int
	for _, r := range sum.Rejected {
		rejected = append(rejected, r.Line)
		if r.Error == "" {
			t.Errorf("line %d rejected without a reason", r.Line)
		}
	}
	if !slices.Equal(rejected, []int{2, 3, 4, 5, 6, 7}) {
		t.Errorf("rejected lines %v", rejected)
	}
	if r := sum.Rejected[2]; r.SEN != "SEN-3000001" || !strings.Contains(r.Error, "line 1") {
		t.Errorf("duplicate SEN: %+v", r)
	}
	if r := sum.Rejected[3]; !strings.Contains(r.Error, "update") {
		t.Errorf("a differing licence: %+v", r)
	}
	if after, _ := db.License(ctx, "SEN-1000001"); !reflect.DeepEqual(before, after) {
		t.Error("a rejected line changed a licence")
	}
	for _, sen := range []licensing.SEN{"SEN-3000002", "SEN-3000003", "SEN-3000004", "SEN-3000005"} {
		if _, err := db.License(ctx, sen); licensing.ErrorCode(err) != licensing.NotFound {
			t.Errorf("%s: %v; a rejected line left something", sen, err)
		}
	}

	// The same file again changes nothing (and its bad lines are refused again).
	again := importLines(t, db, postgres.ImportOptions{BatchSize: 3}, lines...)
	if again.Created != 0 || again.Unchanged != 2 || len(again.Rejected) != 6 {
		t.Errorf("second import = %+v", again)
	}
	if got := auditCount(t, db, "license.create"); got != 2 {
		t.Errorf("%d creation audit rows; want 2", got)
	}
}

func TestImport_UpdateRewritesContactsAndRevokesWhatNoLongerHolds(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	link := func(purpose licensing.LinkPurpose, email licensing.Email) int64 {
		token, _, err := db.CreateLink(ctx, postgres.NewLink{Purpose: purpose, Email: email, SEN: "SEN-1000001", WorkflowID: "card/SEN-1000001", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		k, err := db.LookupLink(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		return k.ID
	}
	bobCard, carolCard, aliceCard := link(licensing.PurposeCardUpdate, "bob@acme.test"), link(licensing.PurposeCardUpdate, "carol@acme.test"), link(licensing.PurposeCardUpdate, "alice@acme.test")
	bobPromote := link(licensing.PurposePromote, "bob@acme.test")

	// SEN-1000001 becomes annual; bob leaves, dan becomes primary technical,
	// alice stays primary billing; carol stays site admin.
	changed := `{"sen": "SEN-1000001", "product": "Jira Software", "deployment": "cloud", "billing_cycle": "annual",
	 "site": "acme.example.net", "price_minor": 10000, "currency": "USD", "next_billing_date": "2027-01-01",
	 "contacts": [{"email": "alice@acme.test", "role": "billing", "primary": true},
	              {"email": "dan@acme.test", "role": "technical", "primary": true},
	              {"email": "alice@acme.test", "role": "technical", "primary": false}],
	 "site_admins": ["carol@acme.test"]}`
	if sum := importLines(t, db, postgres.ImportOptions{}, changed); len(sum.Rejected) != 1 || sum.Updated != 0 {
		t.Fatalf("without update = %+v", sum)
	}
	sum := importLines(t, db, postgres.ImportOptions{Update: true}, changed)
	if sum.Updated != 1 || len(sum.Rejected) != 0 {
		t.Fatalf("with update = %+v", sum)
	}
	l, _ := db.License(ctx, "SEN-1000001")
	if d := licensing.LicenseDiff(newLicence(t, changed).License, l); d != nil {
		t.Errorf("after the update the licence differs in %v", d)
	}
	if err := licensing.CheckContacts(l.Contacts); err != nil {
		t.Error(err)
	}
	revoked := func(id int64) bool {
		var r bool
		_ = db.Pool().QueryRow(ctx, `SELECT revoked_at IS NOT NULL FROM link_tokens WHERE id = $1`, id).Scan(&r)
		return r
	}
	for name, tc := range map[string]struct {
		id   int64
		want bool
	}{
		"bob's card link (gone)":                       {bobCard, true},
		"bob's promotion (gone)":                       {bobPromote, true},
		"alice's card link (annual: site admins only)": {aliceCard, true},
		"carol's card link (site admin of an annual)":  {carolCard, false},
	} {
		if got := revoked(tc.id); got != tc.want {
			t.Errorf("%s revoked = %v; want %v", name, got, tc.want)
		}
	}
	if got := auditCount(t, db, "license.update"); got != 1 {
		t.Errorf("%d update audit rows; want 1", got)
	}
	if again := importLines(t, db, postgres.ImportOptions{Update: true}, changed); again.Unchanged != 1 {
		t.Errorf("the same update again = %+v", again)
	}
}

// A line the database refuses for a reason no check here foresaw is
// rejected alone; the rest of its batch is written.
func TestImport_TheDatabaseRefusingALineRejectsOnlyThatLine(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	if _, err := db.Pool().Exec(ctx, `
		CREATE FUNCTION refuse_3000003() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.sen = 'SEN-3000003' THEN RAISE EXCEPTION 'no' USING ERRCODE = 'check_violation', CONSTRAINT = 'test_refusal'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_3000003 BEFORE INSERT ON licenses FOR EACH ROW EXECUTE FUNCTION refuse_3000003();`); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := 1; i <= 7; i++ {
		lines = append(lines, line(fmt.Sprintf("SEN-300000%d", i)))
	}
	sum := importLines(t, db, postgres.ImportOptions{BatchSize: 10}, lines...)
	if sum.Created != 6 || len(sum.Rejected) != 1 || sum.Rejected[0].Line != 3 || !strings.Contains(sum.Rejected[0].Error, "test_refusal") {
		t.Fatalf("summary = %+v", sum)
	}
	var contacts int
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM license_contacts c JOIN licenses l ON l.id = c.license_id WHERE l.sen LIKE 'SEN-30000%'`).Scan(&contacts)
	if contacts != 18 {
		t.Errorf("%d contact rows; want 3 for each of 6 licences", contacts)
	}
}

// Two workers creating licences that share new people at once: every
// person gets one account and nothing deadlocks.
func TestImport_ConcurrentBatchesShareNewAccounts(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	var lines []string
	for i := range 200 {
		lines = append(lines, line(fmt.Sprintf("SEN-40%05d", i), func(r *licensing.LicenseRecord) {
			r.Contacts[0].Email = fmt.Sprintf("p%d@shared.test", i%7)
			r.Contacts[1].Email = fmt.Sprintf("p%d@shared.test", (i+3)%7)
			r.Contacts[2].Email = fmt.Sprintf("p%d@shared.test", (i+5)%7)
			r.SiteAdmins = []string{fmt.Sprintf("p%d@shared.test", (i+1)%7)}
		}))
	}
	sum := importLines(t, db, postgres.ImportOptions{BatchSize: 5, Workers: 4}, lines...)
	if sum.Created != 200 || len(sum.Rejected) != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	var accounts int
	_ = db.Pool().QueryRow(ctx, `SELECT count(*) FROM accounts WHERE email LIKE '%@shared.test'`).Scan(&accounts)
	if accounts != 7 {
		t.Errorf("%d accounts; want 7", accounts)
	}
}

func TestImport_ServerLicencesAndAnEmptyImport(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	if sum := importLines(t, db, postgres.ImportOptions{}); sum.Created+sum.Updated+sum.Unchanged+len(sum.Rejected) != 0 || sum.Rejected == nil {
		t.Errorf("empty import = %+v", sum)
	}
	server := `{"sen": "SEN-3000009", "product": "Bamboo", "deployment": "server",
	 "contacts": [{"email": "h@umbrella.test", "role": "billing", "primary": true}, {"email": "h@umbrella.test", "role": "technical", "primary": true}]}`
	if sum := importLines(t, db, postgres.ImportOptions{}, server); sum.Created != 1 {
		t.Fatalf("server = %+v", sum)
	}
	l, err := db.License(ctx, "SEN-3000009")
	if err != nil || l.Deployment != licensing.Server || l.Cycle != "" || !l.NextBillingDate.IsZero() {
		t.Errorf("server licence = %+v, %v", l, err)
	}
}

func TestPatchLicense(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	cardLink := func(sen licensing.SEN, email licensing.Email) int64 {
		token, _, err := db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposeCardUpdate, Email: email, SEN: sen, WorkflowID: "card/" + string(sen), TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		k, _ := db.LookupLink(ctx, token)
		return k.ID
	}
	open := func(id int64) bool {
		var revoked bool
		_ = db.Pool().QueryRow(ctx, `SELECT revoked_at IS NOT NULL FROM link_tokens WHERE id = $1`, id).Scan(&revoked)
		return !revoked
	}
	decode := func(body string) licensing.LicensePatch {
		p, err := licensing.DecodePatch([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	bob, carol := cardLink("SEN-1000001", "bob@acme.test"), cardLink("SEN-1000001", "carol@acme.test")

	l, err := db.PatchLicense(ctx, "SEN-1000001", decode(`{"next_billing_date": "2027-02-01", "price_minor": 1200}`), api)
	if err != nil || l.PriceCents != 1200 || l.NextBillingDate.Format(licensing.DateLayout) != "2027-02-01" {
		t.Fatalf("renewal = %+v, %v", l, err)
	}
	if !open(bob) || !open(carol) {
		t.Error("a renewal revoked card links")
	}
	// Monthly to annual: only site admins may update the card now.
	if _, err := db.PatchLicense(ctx, "SEN-1000001", decode(`{"billing_cycle": "annual"}`), api); err != nil {
		t.Fatal(err)
	}
	if open(bob) || !open(carol) {
		t.Errorf("after the cycle change: bob's link open %v (want false), carol's %v (want true)", open(bob), open(carol))
	}
	if got := auditCount(t, db, "license.update"); got != 2 {
		t.Errorf("%d update audit rows; want 2", got)
	}
	// The same values again: no change, no audit.
	if _, err := db.PatchLicense(ctx, "SEN-1000001", decode(`{"billing_cycle": "annual"}`), api); err != nil || auditCount(t, db, "license.update") != 2 {
		t.Errorf("a patch that changes nothing: %v, %d audit rows", err, auditCount(t, db, "license.update"))
	}
	// Cancelling ends every card link.
	if l, err := db.PatchLicense(ctx, "SEN-1000001", decode(`{"status": "cancelled"}`), api); err != nil || l.Status != licensing.Cancelled || open(carol) {
		t.Errorf("cancel = %v, %v; carol's link open %v", l.Status, err, open(carol))
	}
	if l, err := db.PatchLicense(ctx, "SEN-1000001", decode(`{"status": "active"}`), api); err != nil || l.Status != licensing.Active {
		t.Errorf("resume = %v, %v", l.Status, err)
	}

	// A past-due licence keeps its cycle; nothing is stored.
	before, _ := db.License(ctx, "SEN-1000003")
	if _, err := db.PatchLicense(ctx, "SEN-1000003", decode(`{"billing_cycle": "annual", "price_minor": 5}`), api); licensing.ErrorCode(err) != licensing.Conflict {
		t.Errorf("cycle change of a past-due licence = %v; want Conflict", err)
	}
	if after, _ := db.License(ctx, "SEN-1000003"); !reflect.DeepEqual(before, after) {
		t.Error("a refused patch changed the licence")
	}
	if _, err := db.PatchLicense(ctx, "SEN-2000001", decode(`{"billing_cycle": "monthly"}`), api); licensing.ErrorField(err) != "billing_cycle" {
		t.Errorf("a cycle for a server licence = %v", err)
	}
	if _, err := db.PatchLicense(ctx, "SEN-9999999", decode(`{"status": "cancelled"}`), api); licensing.ErrorCode(err) != licensing.NotFound {
		t.Errorf("unknown SEN = %v", err)
	}
}

func TestSiteAdmins_AddAndRemove(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	l, err := db.AddSiteAdmin(ctx, "SEN-1000002", "new.admin@globex.test", api)
	if err != nil || !slices.Contains(l.SiteAdmins, "new.admin@globex.test") {
		t.Fatalf("add = %v, %v", l.SiteAdmins, err)
	}
	if st, _ := db.AccountStatus(ctx, "new.admin@globex.test"); st != licensing.AccountPending {
		t.Errorf("new site admin's account is %q", st)
	}
	if _, err := db.AddSiteAdmin(ctx, "SEN-1000002", "new.admin@globex.test", api); err != nil || auditCount(t, db, "site_admin.add") != 1 {
		t.Errorf("adding again: %v, %d audit rows", err, auditCount(t, db, "site_admin.add"))
	}
	// frank is a site admin of the annual SEN-1000002 and nothing else there:
	// removing him revokes his card link.
	token, _, err := db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposeCardUpdate, Email: "frank@globex.test", SEN: "SEN-1000002", WorkflowID: "card/SEN-1000002", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if l, err := db.RemoveSiteAdmin(ctx, "SEN-1000002", "frank@globex.test", api); err != nil || slices.Contains(l.SiteAdmins, "frank@globex.test") {
		t.Fatalf("remove = %v, %v", l.SiteAdmins, err)
	}
	if _, err := db.LookupLink(ctx, token); licensing.ErrorCode(err) != licensing.Gone {
		t.Errorf("frank's card link after his removal: %v; want Gone", err)
	}
	if _, err := db.RemoveSiteAdmin(ctx, "SEN-1000002", "frank@globex.test", api); err != nil || auditCount(t, db, "site_admin.remove") != 1 {
		t.Errorf("removing again: %v, %d audit rows", err, auditCount(t, db, "site_admin.remove"))
	}
	if _, err := db.AddSiteAdmin(ctx, "SEN-2000001", "x@umbrella.test", api); licensing.ErrorCode(err) != licensing.Conflict {
		t.Errorf("a site admin for a server licence = %v; want Conflict", err)
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
