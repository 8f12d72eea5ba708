package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"licensedesk/payments/sandbox"
	"licensedesk/postgres"
)

var sbNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func sbCount(t *testing.T, db *postgres.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSandbox_EnsureCustomerOncePerSEN(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	st := sandbox.NewPGStore(db.Pool())
	var wg sync.WaitGroup
	got := make([]sandbox.CustomerRecord, 20)
	for i := range got {
		wg.Go(func() {
			c, err := st.SandboxEnsureCustomer(ctx, sandbox.CustomerRecord{
				ID: fmt.Sprintf("cus_sb_%02d", i), SEN: "SEN-1000001", Email: "alice@acme.test", CreatedAt: sbNow,
			})
			if err != nil {
				t.Error(err)
			}
			got[i] = c
		})
	}
	wg.Wait()
	for _, c := range got {
		if c.ID != got[0].ID || c.SEN != "SEN-1000001" || c.Email != "alice@acme.test" {
			t.Fatalf("customers %+v", got)
		}
	}
	if n := sbCount(t, db, `SELECT count(*) FROM sandbox_customers`); n != 1 {
		t.Fatalf("%d rows", n)
	}
	if err := st.SandboxSetDefault(ctx, got[0].ID, "pm_sb_1"); err != nil {
		t.Fatal(err)
	}
	again, err := st.SandboxEnsureCustomer(ctx, sandbox.CustomerRecord{ID: "cus_sb_new", SEN: "SEN-1000001", CreatedAt: sbNow})
	if err != nil || again.ID != got[0].ID || again.DefaultPaymentMethod != "pm_sb_1" {
		t.Fatalf("again = %+v, %v", again, err)
	}
	// A customer the sandbox never made (the demo's) is no error.
	if err := st.SandboxSetDefault(ctx, "cus_demo_SEN-1000003", "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
}

func TestSandbox_RecordChargeOnceByKey(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	st := sandbox.NewPGStore(db.Pool())
	first := sandbox.ChargeRecord{ID: "pi_sb_1", IdempotencyKey: "SEN-1000003-2026-11-20/2", CustomerID: "cus_demo_SEN-1000003",
		PaymentMethod: "pm_card_chargeDeclined", AmountCents: 1000, Currency: "usd", Metadata: map[string]string{"invoice": "SEN-1000003-2026-11-20"},
		Status: sandbox.ChargeDeclined, DeclineCode: "generic_decline", Message: "Your card was declined.", CreatedAt: sbNow}
	got, err := st.SandboxRecordCharge(ctx, first)
	if err != nil || got.ID != "pi_sb_1" || got.DeclineCode != "generic_decline" || got.Metadata["invoice"] != "SEN-1000003-2026-11-20" {
		t.Fatalf("first = %+v, %v", got, err)
	}
	// A second call under the same key, even claiming success, gets the
	// first result back and stores nothing.
	second := first
	second.ID, second.Status, second.DeclineCode, second.Message = "pi_sb_2", sandbox.ChargeSucceeded, "", ""
	got, err = st.SandboxRecordCharge(ctx, second)
	if err != nil || got.ID != "pi_sb_1" || got.Status != sandbox.ChargeDeclined {
		t.Fatalf("second = %+v, %v", got, err)
	}

	key := "SEN-1000001-2026-12-01/1"
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Go(func() {
			c, err := st.SandboxRecordCharge(ctx, sandbox.ChargeRecord{ID: fmt.Sprintf("pi_sb_c%02d", i), IdempotencyKey: key,
				CustomerID: "cus_1", PaymentMethod: "pm_card_visa", AmountCents: 1000, Currency: "usd", Status: sandbox.ChargeSucceeded, CreatedAt: sbNow})
			if err != nil {
				t.Error(err)
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids %v", ids)
		}
	}
	if n := sbCount(t, db, `SELECT count(*) FROM sandbox_charges`); n != 2 {
		t.Fatalf("%d rows; want 2", n)
	}
	// The table refuses a success with a decline code, and a bad currency.
	bad := sandbox.ChargeRecord{ID: "pi_sb_bad", IdempotencyKey: "bad/1", CustomerID: "c", PaymentMethod: "p", AmountCents: 1,
		Currency: "usd", Status: sandbox.ChargeSucceeded, DeclineCode: "generic_decline", CreatedAt: sbNow}
	if _, err := st.SandboxRecordCharge(ctx, bad); err == nil {
		t.Error("stored a success with a decline code")
	}
	bad.DeclineCode, bad.Currency = "", "USD"
	if _, err := st.SandboxRecordCharge(ctx, bad); err == nil {
		t.Error("stored an upper-case currency")
	}
}

func sbSession(id, key string, expires time.Time) sandbox.SessionRecord {
	return sandbox.SessionRecord{ID: id, CustomerID: "cus_demo_SEN-1000003", SEN: "SEN-1000003", Reference: "wf|1",
		SuccessURL: "https://app.test/ok", CancelURL: "https://app.test/no", Status: sandbox.SessionOpen,
		CSRFToken: "0123456789abcdef0123456789abcdef0123456789a", SetupIntentID: "seti_sb_" + id, IdempotencyKey: key,
		CreatedAt: sbNow, ExpiresAt: expires}
}

func sbCard(id string) sandbox.PaymentMethodRecord {
	return sandbox.PaymentMethodRecord{ID: id, CustomerID: "cus_demo_SEN-1000003", TestCard: "pm_card_visa", Brand: "visa",
		Last4: "4242", ExpMonth: 12, ExpYear: 2030, CreatedAt: sbNow}
}

func TestSandbox_Sessions(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	st := sandbox.NewPGStore(db.Pool())
	later := sbNow.Add(24 * time.Hour)

	s, err := st.SandboxCreateSession(ctx, sbSession("cs_sb_1", "key/1", later))
	if err != nil || s.ID != "cs_sb_1" || s.Status != sandbox.SessionOpen || !s.ExpiresAt.Equal(later) || s.IdempotencyKey != "key/1" {
		t.Fatalf("create = %+v, %v", s, err)
	}
	if dup, err := st.SandboxCreateSession(ctx, sbSession("cs_sb_2", "key/1", later)); err != nil || dup.ID != "cs_sb_1" {
		t.Fatalf("same key = %+v, %v", dup, err)
	}
	if _, err := st.SandboxCreateSession(ctx, sbSession("cs_sb_3", "", later)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SandboxCreateSession(ctx, sbSession("cs_sb_4", "", later)); err != nil {
		t.Fatal("two sessions without a key:", err)
	}
	if _, err := st.SandboxSession(ctx, "cs_sb_nope"); !errors.Is(err, sandbox.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}

	done, err := st.SandboxCompleteSession(ctx, "cs_sb_1", sbCard("pm_sb_1"), "evt_1", []byte(`{"id":"evt_1"}`), sbNow.Add(time.Minute))
	if err != nil || done.Status != sandbox.SessionComplete || done.PaymentMethod != "pm_sb_1" || done.EventID != "evt_1" ||
		string(done.EventPayload) != `{"id":"evt_1"}` || !done.CompletedAt.Equal(sbNow.Add(time.Minute)) {
		t.Fatalf("complete = %+v, %v", done, err)
	}
	pm, err := st.SandboxPaymentMethod(ctx, "pm_sb_1")
	if err != nil || pm.ID != "pm_sb_1" || pm.CustomerID != "cus_demo_SEN-1000003" || pm.TestCard != "pm_card_visa" ||
		pm.Brand != "visa" || pm.Last4 != "4242" || pm.ExpMonth != 12 || pm.ExpYear != 2030 || !pm.CreatedAt.Equal(sbNow) {
		t.Fatalf("card = %+v, %v", pm, err)
	}
	if _, err := st.SandboxPaymentMethod(ctx, "pm_sb_nope"); !errors.Is(err, sandbox.ErrNotFound) {
		t.Fatalf("unknown card: %v", err)
	}
	// Completing again keeps the first card and event.
	again, err := st.SandboxCompleteSession(ctx, "cs_sb_1", sbCard("pm_sb_2"), "evt_2", []byte(`{"id":"evt_2"}`), sbNow.Add(2*time.Minute))
	if err != nil || again.PaymentMethod != "pm_sb_1" || again.EventID != "evt_1" {
		t.Fatalf("again = %+v, %v", again, err)
	}

	// Ten submissions of one page at once: one card, one event.
	var wg sync.WaitGroup
	pms := make([]string, 10)
	for i := range pms {
		wg.Go(func() {
			s, err := st.SandboxCompleteSession(ctx, "cs_sb_3", sbCard(fmt.Sprintf("pm_sb_r%02d", i)), fmt.Sprintf("evt_r%02d", i), []byte(`{}`), sbNow)
			if err != nil {
				t.Error(err)
			}
			pms[i] = s.PaymentMethod
		})
	}
	wg.Wait()
	for _, p := range pms {
		if p != pms[0] || p == "" {
			t.Fatalf("payment methods %v", pms)
		}
	}
	if n := sbCount(t, db, `SELECT count(*) FROM sandbox_payment_methods`); n != 2 {
		t.Fatalf("%d cards; want 2", n)
	}

	// Past its expiry: refused, and marked expired.
	if _, err := st.SandboxCompleteSession(ctx, "cs_sb_4", sbCard("pm_sb_x"), "evt_x", []byte(`{}`), later); !errors.Is(err, sandbox.ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	if s, _ := st.SandboxSession(ctx, "cs_sb_4"); s.Status != sandbox.SessionExpired || s.PaymentMethod != "" {
		t.Fatalf("expired session %+v", s)
	}
	if _, err := st.SandboxCompleteSession(ctx, "cs_sb_4", sbCard("pm_sb_x"), "evt_x", []byte(`{}`), sbNow); !errors.Is(err, sandbox.ErrExpired) {
		t.Fatalf("expired, clock back: %v", err)
	}
	if _, err := st.SandboxCompleteSession(ctx, "cs_sb_nope", sbCard("pm_sb_y"), "evt_y", []byte(`{}`), sbNow); !errors.Is(err, sandbox.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if n := sbCount(t, db, `SELECT count(*) FROM sandbox_payment_methods`); n != 2 {
		t.Fatalf("%d cards after refusals; want 2", n)
	}
}
