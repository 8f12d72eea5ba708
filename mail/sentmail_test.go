package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"licensedesk/internal/pgtest"
	"licensedesk/mail"
	"licensedesk/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// sentMailDB is an empty migrated database, where the Outbox records mail.
func sentMailDB(t *testing.T) *postgres.DB {
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

// sentMailRows returns every sent_mail row, each as the JSON of all its
// columns, so nothing is left unchecked.
func sentMailRows(t *testing.T, db *postgres.DB) []string {
	t.Helper()
	rows, err := db.Pool().Query(context.Background(), `SELECT to_jsonb(s)::text FROM sent_mail s ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// resetMail is a password-reset mail carrying a live token.
func resetMail(t *testing.T, key, token string) mail.Message {
	t.Helper()
	link := "https://desk.example/password/reset/" + token
	subject, text, html, err := mail.Render(mail.KindPasswordReset, mail.PasswordReset{Name: "Bob", URL: link, Deadline: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// A second URL the message does not declare as a link must not slip through either.
	text += "\nOr paste https://desk.example/l/" + token + "x into your browser.\n"
	return mail.Message{Key: key, To: "bob@acme.test", Subject: subject, Text: text, HTML: html}.WithLinks(link)
}

func TestOutbox_WithSMTPStoresNoLink(t *testing.T) {
	ctx := context.Background()
	db := sentMailDB(t)
	srv := startSMTP(t, serverOpts{})
	o := &mail.Outbox{DB: db, SMTP: newSender(t, "smtp://"+srv.addr)}
	const token = "dG9rZW4tdGhhdC1yZXNldHMtYm9icy1wYXNzd29yZC0x"
	m := resetMail(t, "password-reset/bob@acme.test/1", token)
	if err := o.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	// Bob got his link...
	got := srv.received()
	if len(got) != 1 || !strings.Contains(parse(t, got[0].data).text, token) {
		t.Fatalf("the SMTP server got %d messages, without the link", len(got))
	}
	// ...and the database keeps that the mail went out, not the link.
	rows := sentMailRows(t, db)
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	row := rows[0]
	for _, secret := range []string{token, "desk.example", "/password/reset/", "/l/"} {
		if strings.Contains(row, secret) {
			t.Errorf("sent_mail keeps %q:\n%s", secret, row)
		}
	}
	for _, kept := range []string{`"message_key": "password-reset/bob@acme.test/1"`, `"to_addr": "bob@acme.test"`,
		`"subject": "Reset your Licence Desk password"`, `"links": []`, `"html_body": ""`, mail.LinkRemoved, "Hi Bob,", `"sent_at"`} {
		if !strings.Contains(row, kept) {
			t.Errorf("sent_mail lacks %s:\n%s", kept, row)
		}
	}
	// Still once per key.
	if err := o.Deliver(ctx, m); err != nil || len(srv.received()) != 1 {
		t.Fatalf("second Deliver: %v, %d messages", err, len(srv.received()))
	}
}

func TestOutbox_WithoutSMTPKeepsTheWholeMailForDevMail(t *testing.T) {
	ctx := context.Background()
	db := sentMailDB(t)
	o := &mail.Outbox{DB: db}
	const token = "ZGV2LWtlZXBzLXRoZS1saW5rLWZvci1kZXYtbWFpbC0x"
	m := resetMail(t, "password-reset/bob@acme.test/1", token)
	if err := o.Deliver(ctx, m); err != nil {
		t.Fatal(err)
	}
	kept, err := db.KeptMail(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].Text != m.Text || kept[0].HTML != m.HTML || len(kept[0].Links) != 1 || kept[0].Links[0] != m.Links[0] {
		t.Fatalf("kept %+v; want the whole mail with its link", kept)
	}
}
