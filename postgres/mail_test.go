package postgres_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"licensedesk/internal/pgtest"
	"licensedesk/mail"
	"licensedesk/postgres"
)

// mailDB is an empty migrated database (no demo data: sent_mail stands alone).
func mailDB(t *testing.T) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func TestRecordMail_OncePerKey(t *testing.T) {
	ctx := context.Background()
	db := mailDB(t)
	const key = "move/SEN-1000001/new@x.test/confirm/alice@acme.test"
	if sent, err := db.MailSent(ctx, key); err != nil || sent {
		t.Fatalf("MailSent before = %v, %v", sent, err)
	}
	ins, err := db.RecordMail(ctx, key, "alice@acme.test", "Subject", "text", "<p>html</p>", []string{"https://desk.example/l/a"})
	if err != nil || !ins {
		t.Fatalf("first RecordMail = %v, %v", ins, err)
	}
	ins, err = db.RecordMail(ctx, key, "other@acme.test", "Other", "other", "", nil)
	if err != nil || ins {
		t.Fatalf("second RecordMail = %v, %v; want false, nil", ins, err)
	}
	if sent, err := db.MailSent(ctx, key); err != nil || !sent {
		t.Fatalf("MailSent after = %v, %v", sent, err)
	}
	if ins, err := db.RecordMail(ctx, "k2", "bob@acme.test", "No links", "t", "", nil); err != nil || !ins {
		t.Fatalf("RecordMail without links = %v, %v", ins, err)
	}

	kept, err := db.KeptMail(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || kept[0].To != "bob@acme.test" || !slices.Equal(kept[0].Links, []string{}) {
		t.Fatalf("kept %+v", kept)
	}
	first := kept[1]
	if first.To != "alice@acme.test" || first.Subject != "Subject" || first.Text != "text" || first.HTML != "<p>html</p>" ||
		!slices.Equal(first.Links, []string{"https://desk.example/l/a"}) || first.SentAt.IsZero() {
		t.Errorf("first mail kept as %+v", first)
	}
}

func TestRecordMail_ConcurrentSameKeyStoresOne(t *testing.T) {
	ctx := context.Background()
	db := mailDB(t)
	var wg sync.WaitGroup
	inserted := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			ins, err := db.RecordMail(ctx, "same", "alice@acme.test", "s", "t", "", nil)
			if err != nil {
				t.Error(err)
			}
			inserted <- ins
		})
	}
	wg.Wait()
	close(inserted)
	n := 0
	for ins := range inserted {
		if ins {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d inserts reported, want 1", n)
	}
}

// The outbox on the real database: one mail per key, kept for /dev/mail.
func TestOutbox_WithDB(t *testing.T) {
	ctx := context.Background()
	db := mailDB(t)
	o := &mail.Outbox{DB: db}
	subject, text, html, err := mail.Render(mail.KindMoveCompleted, mail.MoveCompleted{SEN: "SEN-1000001", NewEmail: "new@x.test"})
	if err != nil {
		t.Fatal(err)
	}
	m := mail.Message{Key: "move/1/completed/new@x.test", To: "new@x.test", Subject: subject, Text: text, HTML: html}
	for range 2 {
		if err := o.Deliver(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	kept, err := db.KeptMail(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].Subject != subject || kept[0].HTML != html {
		t.Errorf("kept %+v; want the one mail", kept)
	}
}
