package mail_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"licensedesk/mail"
)

// fakeStore is sent_mail in memory.
type fakeStore struct {
	mu      sync.Mutex
	rows    map[string]mail.Message
	failing error // RecordMail fails with it
}

func newFakeStore() *fakeStore { return &fakeStore{rows: map[string]mail.Message{}} }

func (f *fakeStore) RecordMail(_ context.Context, key, to, subject, text, html string, links []string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing != nil {
		return false, f.failing
	}
	if _, ok := f.rows[key]; ok {
		return false, nil
	}
	f.rows[key] = mail.Message{Key: key, To: to, Subject: subject, Text: text, HTML: html, Links: links}
	return true, nil
}

func (f *fakeStore) MailSent(_ context.Context, key string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.rows[key]
	return ok, nil
}

// fakeSender counts sends and fails with err while it is set.
type fakeSender struct {
	sent []mail.Message
	err  error
}

func (f *fakeSender) Send(_ context.Context, m mail.Message) error {
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, m)
	return nil
}

func TestOutbox_SendsOncePerKey(t *testing.T) {
	ctx := context.Background()
	srv := startSMTP(t, serverOpts{})
	store := newFakeStore()
	o := &mail.Outbox{DB: store, SMTP: newSender(t, "smtp://"+srv.addr)}
	m := testMessage(t, "move/SEN-1/new@x.test/confirm/alice@acme.test", "alice@acme.test")
	for range 2 {
		if err := o.Deliver(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.received()); n != 1 {
		t.Errorf("SMTP server got %d messages, want 1", n)
	}
	got, ok := store.rows[m.Key]
	if !ok || got.To != m.To || got.Subject != m.Subject || got.HTML != "" || !slices.Equal(got.Links, []string{}) ||
		strings.Contains(got.Text, "/l/tok") || !strings.Contains(got.Text, mail.LinkRemoved) {
		t.Errorf("recorded %+v; want the mail without its link", got)
	}

	other := m
	other.Key += "/reminder"
	if err := o.Deliver(ctx, other); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.received()); n != 2 {
		t.Errorf("another key: SMTP server got %d messages in all, want 2", n)
	}
}

func TestOutbox_DevKeepsOnly(t *testing.T) {
	store := newFakeStore()
	o := &mail.Outbox{DB: store}
	m := mail.Message{Key: "k", To: "alice@acme.test", Subject: "s", Text: "t"}
	for range 2 {
		if err := o.Deliver(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if len(store.rows) != 1 || store.rows["k"].Links == nil {
		t.Errorf("kept %+v; want one row with links [] (not null)", store.rows)
	}
}

func TestOutbox_FailedSendIsRetried(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	sender := &fakeSender{err: errors.New("451 try later")}
	o := &mail.Outbox{DB: store, SMTP: sender}
	m := mail.Message{Key: "k", To: "alice@acme.test", Subject: "s", Text: "t"}
	if err := o.Deliver(ctx, m); err == nil {
		t.Fatal("no error from a failed send")
	}
	if len(store.rows) != 0 {
		t.Fatal("an unsent mail was recorded")
	}
	sender.err = nil
	if err := o.Deliver(ctx, m); err != nil || len(sender.sent) != 1 || len(store.rows) != 1 {
		t.Fatalf("retry: err %v, sent %d, recorded %d", err, len(sender.sent), len(store.rows))
	}

	// Sent but not recorded: the next Deliver sends again (at least once).
	store.failing = errors.New("database down")
	m2 := mail.Message{Key: "k2", To: "alice@acme.test", Subject: "s", Text: "t"}
	if err := o.Deliver(ctx, m2); err == nil || mail.IsPermanent(err) {
		t.Fatalf("record failure: err = %v; want a temporary error", err)
	}
	store.failing = nil
	if err := o.Deliver(ctx, m2); err != nil || len(sender.sent) != 3 {
		t.Fatalf("after a record failure: err %v, sent %d; want the mail sent again", err, len(sender.sent))
	}
}

func TestOutbox_RefusesMalformed(t *testing.T) {
	sender := &fakeSender{}
	o := &mail.Outbox{DB: newFakeStore(), SMTP: sender}
	for _, m := range []mail.Message{
		{To: "alice@acme.test", Subject: "no key"},
		{Key: "k", Subject: "no recipient"},
		{Key: "k", To: "alice at acme", Subject: "bad recipient"},
	} {
		if err := o.Deliver(context.Background(), m); err == nil || !mail.IsPermanent(err) {
			t.Errorf("%s: err = %v; want a permanent error", m.Subject, err)
		}
	}
	if len(sender.sent) != 0 {
		t.Error("sent a malformed message")
	}
}
