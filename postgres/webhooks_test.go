package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"licensedesk/licensing"
	"licensedesk/postgres"
	"licensedesk/webhooks"
)

// newEndpoint stores an endpoint subscribed to events (all when none).
func newEndpoint(t *testing.T, db *postgres.DB, events ...webhooks.EventType) webhooks.Endpoint {
	t.Helper()
	if len(events) == 0 {
		events = webhooks.EventTypes
	}
	ep, err := db.CreateWebhookEndpoint(context.Background(), webhooks.NewEndpointID(),
		webhooks.NewEndpoint{URL: "https://hooks.example.com/x", Events: events}, webhooks.NewSecret())
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

type recordedEvent struct {
	ID        int64
	Type      string
	Payload   map[string]any
	Endpoints int
}

// eventsSince returns the events recorded after history record after.
func eventsSince(t *testing.T, db *postgres.DB, after int64) []recordedEvent {
	t.Helper()
	rows, err := db.Pool().Query(context.Background(), `
		SELECT v.id, v.type, v.payload, (SELECT count(*) FROM webhook_deliveries d WHERE d.event_id = v.id)
		FROM webhook_events v WHERE v.id > $1 ORDER BY v.id`, after)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []recordedEvent
	for rows.Next() {
		var e recordedEvent
		if err := rows.Scan(&e.ID, &e.Type, &e.Payload, &e.Endpoints); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func lastAudit(t *testing.T, db *postgres.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Pool().QueryRow(context.Background(), `SELECT coalesce(max(id), 0) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// viewOf is the licence as the API's view shows its people and card.
func viewOf(t *testing.T, db *postgres.DB, sen licensing.SEN) map[string]any {
	t.Helper()
	l, err := db.License(context.Background(), sen)
	if err != nil {
		t.Fatal(err)
	}
	admins := make([]string, 0)
	for _, a := range l.SiteAdmins {
		admins = append(admins, string(a))
	}
	var v map[string]any
	b, _ := json.Marshal(map[string]any{"sen": l.SEN, "status": l.Status, "contacts": l.Contacts, "site_admins": admins, "payment_method": l.PaymentMethod})
	_ = json.Unmarshal(b, &v)
	return v
}

// TestWebhookEvents_EveryChangeRecordsItsEvent makes each change through
// the code paths that make it in production and finds its event, with the
// licence (or invoice) as the change left it, the actor, and nothing
// secret.
func TestWebhookEvents_EveryChangeRecordsItsEvent(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	newEndpoint(t, db)
	newEndpoint(t, db, webhooks.InvoicePaid) // a second endpoint, for one type only
	slack := licensing.Actor{Kind: "slack", ID: "U0SALES", WorkflowID: "contact-add/SEN-1000001/billing/zed@acme.test"}
	steps := []struct {
		want webhooks.EventType
		sen  licensing.SEN
		do   func() error
	}{
		{webhooks.LicenseCreated, "SEN-3000001", func() error { _, err := db.ProvisionLicense(ctx, newLicence(t, line("SEN-3000001")), api); return err }},
		{webhooks.LicenseUpdated, "SEN-3000001", func() error {
			_, err := db.PatchLicense(ctx, "SEN-3000001", patch(t, `{"price_minor": 1200}`), api)
			return err
		}},
		{webhooks.LicenseCancelled, "SEN-3000001", func() error {
			_, err := db.PatchLicense(ctx, "SEN-3000001", patch(t, `{"status": "cancelled"}`), api)
			return err
		}},
		{webhooks.LicenseReactivated, "SEN-3000001", func() error {
			_, err := db.PatchLicense(ctx, "SEN-3000001", patch(t, `{"status": "active"}`), api)
			return err
		}},
		{webhooks.SiteAdminAdded, "SEN-3000001", func() error { _, err := db.AddSiteAdmin(ctx, "SEN-3000001", "d@acme.test", api); return err }},
		{webhooks.SiteAdminRemoved, "SEN-3000001", func() error { _, err := db.RemoveSiteAdmin(ctx, "SEN-3000001", "d@acme.test", api); return err }},
		{webhooks.ContactAdded, "SEN-1000001", func() error {
			_, err := db.EnsureContact(ctx, "SEN-1000001", licensing.Billing, "zed@acme.test", slack)
			return err
		}},
		{webhooks.ContactRemoved, "SEN-1000001", func() error {
			_, err := db.RemoveContact(ctx, "SEN-1000001", licensing.Billing, "zed@acme.test", slack)
			return err
		}},
		{webhooks.ContactPromoted, "SEN-1000001", func() error {
			_, _, err := db.PromoteContact(ctx, "SEN-1000001", licensing.Technical, "bob@acme.test",
				licensing.Actor{Kind: "account", ID: "bob@acme.test", Run: "run-1"})
			return err
		}},
		{webhooks.LicenseMoved, "SEN-1000001", func() error {
			return db.RecordMove(ctx, licensing.Actor{Kind: "slack", ID: "U0SALES", WorkflowID: "move/SEN-1000001/bob@acme.test"}, "SEN-1000001", "alice@acme.test", "bob@acme.test", true)
		}},
		{webhooks.InvoiceCreated, "SEN-1000001", func() error {
			_, err := db.CreateInvoice(ctx, "SEN-1000001", mustNextBilling(t, db, "SEN-1000001"))
			return err
		}},
		{webhooks.InvoiceFailed, "SEN-1000003", func() error { return charge(t, db, "SEN-1000003", 1, false) }},
		{webhooks.InvoiceActionRequired, "SEN-1000003", func() error {
			// The bank asks the cardholder to confirm the charge: it waits, open.
			inv, err := db.OpenInvoice(ctx, "SEN-1000003")
			if err != nil {
				return err
			}
			key := fmt.Sprintf("%s/%d", inv.Number, 150)
			if _, _, err := db.BeginAttempt(ctx, inv.Number, 150, key, "pm_card_authenticationRequired"); err != nil {
				return err
			}
			_, err = db.FinishAttempt(ctx, key, postgres.AttemptResult{Status: "failed", DeclineCode: postgres.AuthenticationRequired,
				ProviderRef: "pi_sca", Error: "The bank wants the cardholder to confirm this payment."})
			return err
		}},
		{webhooks.LicenseSuspended, "SEN-1000003", func() error {
			inv, _ := db.OpenInvoice(ctx, "SEN-1000003")
			_, err := db.Suspend(ctx, "SEN-1000003", inv.Number)
			return err
		}},
		{webhooks.InvoicePaid, "SEN-1000003", func() error { return charge(t, db, "SEN-1000003", 2, true) }},
	}
	seen := map[webhooks.EventType]bool{}
	for _, s := range steps {
		before := lastAudit(t, db)
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.want, err)
		}
		got := eventsSince(t, db, before)
		if len(got) == 0 || got[0].Type != string(s.want) {
			t.Fatalf("after the %s change: events %+v", s.want, got)
		}
		e := got[0]
		seen[s.want] = true
		if e.Payload["id"] != webhooks.EventID(e.ID) || e.Payload["type"] != string(s.want) || e.Payload["created_at"] == "" {
			t.Errorf("%s envelope: %v", s.want, e.Payload)
		}
		data, _ := e.Payload["data"].(map[string]any)
		if s.want == webhooks.InvoiceCreated || s.want == webhooks.InvoicePaid || s.want == webhooks.InvoiceFailed || s.want == webhooks.InvoiceActionRequired {
			if data["sen"] != string(s.sen) || data["number"] == nil || data["amount_minor"] == nil {
				t.Errorf("%s data is not the invoice: %v", s.want, data)
			}
			if s.want == webhooks.InvoicePaid && (data["status"] != "paid" || data["paid_at"] == nil) {
				t.Errorf("invoice.paid shows the invoice before it was paid: %v", data)
			}
		} else {
			want := viewOf(t, db, s.sen)
			for _, k := range []string{"sen", "status", "contacts", "site_admins", "payment_method"} {
				if !reflect.DeepEqual(data[k], want[k]) {
					t.Errorf("%s data[%s] = %v; the licence after the change has %v", s.want, k, data[k], want[k])
				}
			}
		}
		actor, _ := e.Payload["actor"].(map[string]any)
		if actor["via"] == nil || actor["id"] == nil {
			t.Errorf("%s actor: %v", s.want, actor)
		}
		wantEndpoints := 1
		if s.want == webhooks.InvoicePaid {
			wantEndpoints = 2
		}
		if e.Endpoints != wantEndpoints {
			t.Errorf("%s queued for %d endpoints; want %d", s.want, e.Endpoints, wantEndpoints)
		}
		raw, _ := json.Marshal(e.Payload)
		for _, secret := range []string{`"run"`, "link_id", "password", "token", "pm_card"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("%s payload carries %s: %s", s.want, secret, raw)
			}
		}
	}
	if len(seen) != len(steps) {
		t.Errorf("event types seen: %v", seen)
	}
}

func patch(t *testing.T, body string) licensing.LicensePatch {
	t.Helper()
	p, err := licensing.DecodePatch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustNextBilling(t *testing.T, db *postgres.DB, sen licensing.SEN) time.Time {
	t.Helper()
	d, _, err := db.NextBillingDate(context.Background(), sen)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// charge records a charge attempt on the licence's open invoice.
func charge(t *testing.T, db *postgres.DB, sen licensing.SEN, attempt int, ok bool) error {
	t.Helper()
	ctx := context.Background()
	inv, err := db.OpenInvoice(ctx, sen)
	if err != nil {
		return err
	}
	key := inv.Number + "/test/" + time.Now().Format("150405.000000")
	if _, _, err := db.BeginAttempt(ctx, inv.Number, 100+attempt, key, "pm_card_visa"); err != nil {
		return err
	}
	r := postgres.AttemptResult{Status: "succeeded", ProviderRef: "pi_test"}
	if !ok {
		r = postgres.AttemptResult{Status: "failed", DeclineCode: "generic_decline", Error: "Your card was declined."}
	}
	_, err = db.FinishAttempt(ctx, key, r)
	return err
}

// TestWebhookEvents_TypesMatchTheDomainList: the database's mapping of
// history actions names exactly webhooks.EventTypes.
func TestWebhookEvents_TypesMatchTheDomainList(t *testing.T) {
	db := newDB(t)
	rows, err := db.Pool().Query(context.Background(), `
		SELECT DISTINCT webhook_event_type(a, d::jsonb, s) FROM unnest(ARRAY['license.create', 'license.update', 'license.past_due',
			'license.suspended', 'license.reactivated', 'license.move', 'contact.add', 'contact.remove', 'contact.promote',
			'site_admin.add', 'site_admin.remove', 'card.update', 'invoice.create', 'invoice.paid', 'charge.failed',
			'invoice.payment_action_required', 'link.resend', 'move.request', 'license.billing_address']) a,
		unnest(ARRAY['{}', '{"status": {"from": "active", "to": "cancelled"}}']) d, unnest(ARRAY['active', 'cancelled', 'suspended']) s
		WHERE webhook_event_type(a, d::jsonb, s) IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		got = append(got, s)
	}
	var want []string
	for _, e := range webhooks.EventTypes {
		want = append(want, string(e))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("database types %v\n domain types %v", got, want)
	}
}

// TestWebhookEvents_NothingWithoutACommitOrASubscriber: a rolled-back
// change leaves no event; a type nobody subscribes to is not recorded.
func TestWebhookEvents_NothingWithoutACommitOrASubscriber(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	before := lastAudit(t, db)
	if _, err := db.PatchLicense(ctx, "SEN-1000001", patch(t, `{"price_minor": 1500}`), api); err != nil {
		t.Fatal(err)
	}
	if got := eventsSince(t, db, before); len(got) != 0 {
		t.Errorf("events recorded with no endpoint: %+v", got)
	}
	newEndpoint(t, db, webhooks.InvoicePaid)
	before = lastAudit(t, db)
	if _, err := db.PatchLicense(ctx, "SEN-1000001", patch(t, `{"price_minor": 1600}`), api); err != nil {
		t.Fatal(err)
	}
	if got := eventsSince(t, db, before); len(got) != 0 {
		t.Errorf("license.updated recorded for an endpoint that only wants invoice.paid: %+v", got)
	}
	newEndpoint(t, db)
	tx, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (actor_kind, actor, action, license_id, detail)
		SELECT 'api', 'api', 'license.update', id, '{"price_minor": {"from": 1, "to": 2}}' FROM licenses WHERE sen = 'SEN-1000001'`); err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback(ctx)
	if got := eventsSince(t, db, before); len(got) != 0 {
		t.Errorf("a rolled-back change left events: %+v", got)
	}
}

// TestWebhookDeliveries_PerLicenceOrderAndRetries: a batch takes events in
// order; a licence whose event waits for a retry holds its later events
// back while the others flow; a delivered event leaves the backlog.
func TestWebhookDeliveries_PerLicenceOrderAndRetries(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	ep := newEndpoint(t, db, webhooks.LicenseUpdated)
	for i, sen := range []licensing.SEN{"SEN-1000001", "SEN-1000002", "SEN-1000001"} {
		if _, err := db.PatchLicense(ctx, sen, patch(t, fmt.Sprintf(`{"price_minor": %d}`, 2000+i*100)), api); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	due, err := db.DueWebhookDeliveries(ctx, ep.ID, now, 10)
	if err != nil || len(due) != 3 {
		t.Fatalf("due = %d, %v; want all 3", len(due), err)
	}
	first, second, third := due[0], due[1], due[2]
	if !(first.EventID < second.EventID && second.EventID < third.EventID) || first.LicenseID != third.LicenseID {
		t.Fatalf("not in event order: %+v", due)
	}
	// The first licence's first event fails: its second waits behind it.
	if err := db.RecordWebhookAttempts(ctx, ep.ID, []postgres.DeliveryResult{
		{EventID: first.EventID, Attempt: 1, At: now, StatusCode: 500, Error: "HTTP 500", NextAt: now.Add(time.Minute)},
		{EventID: second.EventID, Attempt: 1, At: now, StatusCode: 204, Delivered: true},
	}); err != nil {
		t.Fatal(err)
	}
	due, _ = db.DueWebhookDeliveries(ctx, ep.ID, now.Add(30*time.Second), 10)
	if len(due) != 0 {
		t.Errorf("while the first licence's event waits for its retry, due = %+v; want none", due)
	}
	b, _ := db.WebhookBacklog(ctx, ep.ID)
	if b.Pending != 2 || !b.NextDue.Equal(now.Add(time.Minute)) || !b.OldestFailure.Equal(now) {
		t.Errorf("backlog = %+v", b)
	}
	due, _ = db.DueWebhookDeliveries(ctx, ep.ID, now.Add(time.Minute), 10)
	if len(due) != 2 || due[0].EventID != first.EventID || due[0].Attempts != 1 || due[1].EventID != third.EventID {
		t.Errorf("after the retry time, due = %+v; want the first then the third", due)
	}
	attempts, next, err := db.WebhookAttempts(ctx, ep.ID, "", 1)
	if err != nil || len(attempts) != 1 || next == "" || attempts[0].EventID != webhooks.EventID(second.EventID) || *attempts[0].StatusCode != 204 {
		t.Fatalf("log page = %+v, %q, %v", attempts, next, err)
	}
	older, _, _ := db.WebhookAttempts(ctx, ep.ID, next, 10)
	if len(older) != 1 || older[0].Delivered || older[0].Error != "HTTP 500" {
		t.Errorf("older page = %+v", older)
	}
	// Retrying the delivered one queues it again.
	id, _ := webhooks.ParseDeliveryID(attempts[0].ID)
	if ev, err := db.RetryWebhookDelivery(ctx, ep.ID, id); err != nil || ev != webhooks.EventID(second.EventID) {
		t.Errorf("retry = %s, %v", ev, err)
	}
	if b, _ := db.WebhookBacklog(ctx, ep.ID); b.Pending != 3 || !b.NextDue.Equal(now.Add(time.Minute)) {
		t.Errorf("after the retry, backlog = %+v", b)
	}
}

// TestDeleteWebhookEndpoint_WithABacklog refuses, naming the field and
// the count, and deletes nothing; with drop_backlog it says what it
// dropped.
func TestDeleteWebhookEndpoint_WithABacklog(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	ep := newEndpoint(t, db, webhooks.LicenseUpdated)
	for _, p := range []string{`{"price_minor": 1100}`, `{"price_minor": 1200}`} {
		if _, err := db.PatchLicense(ctx, "SEN-1000001", patch(t, p), api); err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.DeleteWebhookEndpoint(ctx, ep.ID, false)
	if licensing.ErrorField(err) != "drop_backlog" || !strings.Contains(licensing.ErrorMessage(err), "2 events") {
		t.Fatalf("delete with a backlog = %v (field %q)", err, licensing.ErrorField(err))
	}
	if _, err := db.WebhookEndpoint(ctx, ep.ID); err != nil {
		t.Fatalf("the refused delete deleted: %v", err)
	}
	dropped, err := db.DeleteWebhookEndpoint(ctx, ep.ID, true)
	if err != nil || dropped != 2 {
		t.Fatalf("delete = %d, %v", dropped, err)
	}
	if _, err := db.WebhookEndpoint(ctx, ep.ID); licensing.ErrorCode(err) != licensing.NotFound {
		t.Errorf("after delete: %v", err)
	}
}
