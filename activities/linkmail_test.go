package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"licensedesk/activities"
	"licensedesk/licensing"
)

// The same operation asked a second time is a new run of the same workflow
// ID: its links must be mailed afresh (the first run's were revoked when it
// ended), while a retry of the activity within one run sends nothing more.
func TestSendLinks_ANewRunMailsFreshLinksARetryDoesNot(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	send := func(run string) {
		t.Helper()
		err := f.acts.SendLinks(ctx, activities.SendLinksInput{
			Purpose: licensing.PurposeCardUpdate, To: []licensing.Email{"gina@initech.test"}, SEN: "SEN-1000003",
			WorkflowID: "card/SEN-1000003", MailKey: "card/SEN-1000003/" + run + "/", Deadline: f.acts.Clock.Now().Add(time.Hour),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	mails := func() int {
		return f.count(t, `SELECT count(*) FROM sent_mail WHERE to_addr = 'gina@initech.test' AND subject LIKE '%card%'`)
	}
	links := func() int {
		return f.count(t, `SELECT count(*) FROM link_tokens WHERE workflow_id = 'card/SEN-1000003'`)
	}

	send("run-1")
	send("run-1") // the activity retried
	if mails() != 1 || links() != 1 {
		t.Fatalf("one run: %d mails, %d links; want 1 and 1", mails(), links())
	}
	if _, err := f.db.RevokeLinks(ctx, "card/SEN-1000003"); err != nil { // the first run was cancelled
		t.Fatal(err)
	}
	send("run-2")
	if mails() != 2 || links() != 2 {
		t.Fatalf("second run: %d mails, %d links; want 2 and 2", mails(), links())
	}
	if n := f.count(t, `SELECT count(*) FROM link_tokens WHERE workflow_id = 'card/SEN-1000003' AND revoked_at IS NULL`); n != 1 {
		t.Errorf("usable links = %d; want the second run's one", n)
	}
}

// TestSendLinks_PromotionLinkKnowsItsContext (defect 2): the promotion link
// of a move keeps who asked and when, who confirmed and when, and who is
// demoted, for its page; the confirmation link of a move keeps the card
// that stays on the licence (defect 7).
func TestSendLinks_PromotionLinkKnowsItsContext(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	asked, approved := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	err := f.acts.SendLinks(ctx, activities.SendLinksInput{
		Purpose: licensing.PurposePromote, To: []licensing.Email{"bob@acme.test"}, SEN: "SEN-1000001", WorkflowID: "move/SEN-1000001/bob@acme.test",
		Deadline: f.acts.Clock.Now().Add(time.Hour), Roles: []licensing.Role{licensing.Billing, licensing.Technical},
		NewEmail: "bob@acme.test", FromEmail: "alice@acme.test", MoveRoles: []licensing.Role{licensing.Billing},
		RequestedBy: "<@U1>", RequestedAt: asked, ApprovedBy: "carol@acme.test", ApprovedAt: approved,
	})
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := f.db.Pool().QueryRow(ctx, `SELECT data FROM link_tokens WHERE workflow_id = 'move/SEN-1000001/bob@acme.test'`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"asked_by": "our sales team", "asked_at": "2026-12-01T09:00:00Z", "approved_by": "carol@acme.test",
		"approved_at": "2026-12-02T10:00:00Z", "for_move": true, "from": "alice@acme.test"} {
		if data[k] != want {
			t.Errorf("data[%s] = %v, want %v", k, data[k], want)
		}
	}
	if d, _ := data["demoted"].([]any); len(d) != 1 || d[0] != "alice@acme.test" {
		t.Errorf("demoted = %v, want alice", data["demoted"])
	}
	var text string
	_ = f.db.Pool().QueryRow(ctx, `SELECT text_body FROM sent_mail WHERE to_addr = 'bob@acme.test'`).Scan(&text)
	for _, want := range []string{"Our sales team asked on Tuesday 1 December 2026", "carol@acme.test approved the move on Wednesday 2 December 2026", "Decline"} {
		if !containsText(text, want) {
			t.Errorf("mail lacks %q:\n%s", want, text)
		}
	}

	err = f.acts.SendLinks(ctx, activities.SendLinksInput{
		Purpose: licensing.PurposeConfirmMove, To: []licensing.Email{"alice@acme.test"}, SEN: "SEN-1000001", WorkflowID: "move/SEN-1000001/zoe@new.test",
		Deadline: f.acts.Clock.Now().Add(time.Hour), NewEmail: "zoe@new.test", FromEmail: "alice@acme.test", MoveRoles: []licensing.Role{licensing.Billing}, RequestedBy: "<@U1>",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.Pool().QueryRow(ctx, `SELECT data FROM link_tokens WHERE workflow_id = 'move/SEN-1000001/zoe@new.test'`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	if data["card"] != "Visa ending 4242" || data["new_email"] != "zoe@new.test" {
		t.Errorf("confirm-move data %v", data)
	}
}

func containsText(text, want string) bool {
	return strings.Contains(strings.Join(strings.Fields(text), " "), want)
}
