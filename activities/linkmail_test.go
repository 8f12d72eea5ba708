package activities_test

import (
	"context"
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
			WorkflowID: "card/SEN-1000003", MailKey: "card/SEN-1000003/" + run + "/", Deadline: time.Now().Add(time.Hour),
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
