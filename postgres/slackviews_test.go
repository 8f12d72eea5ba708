package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"licensedesk/internal/clock/clocktest"
	"licensedesk/licensing"
	"licensedesk/slackout"
)

// Dev keeps the forms and App Home tabs it would have shown: a form is
// updated in place, each person has one App Home, the newest come first.
func TestDevViews_KeepsFormsAndOneHomePerPerson(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	views := slackout.NewDevViews(db)
	title := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	id, err := views.OpenView(ctx, "local.1", slack.ModalViewRequest{Type: slack.VTModal, Title: title("Move a licence")})
	if err != nil || !strings.HasPrefix(id, "V") {
		t.Fatalf("open: %q %v", id, err)
	}
	if err := views.UpdateView(ctx, id, "", slack.ModalViewRequest{Type: slack.VTModal, Title: title("Moved")}); err != nil {
		t.Fatal(err)
	}
	if err := views.UpdateView(ctx, "V404", "", slack.ModalViewRequest{Type: slack.VTModal}); licensing.ErrorCode(err) != licensing.NotFound {
		t.Errorf("unknown view: %v", err)
	}
	for _, text := range []string{"first", "second"} {
		home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)}}}
		if err := views.PublishHome(ctx, "U1", home); err != nil {
			t.Fatal(err)
		}
	}
	kept, err := db.KeptSlackViews(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || kept[0].Kind != "home" || kept[0].UserID != "U1" || !strings.Contains(string(kept[0].View), "second") ||
		kept[1].ViewID != id || !strings.Contains(string(kept[1].View), "Moved") || kept[1].UpdatedAt == nil {
		t.Errorf("kept: %+v", kept)
	}
}

// The App Home's billing section counts and lists the unpaid licences.
func TestUnpaidLicences_CountsAndListsTheOldestFirst(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	if _, err := db.SeedDemo(ctx, clocktest.Now(t)); err != nil {
		t.Fatal(err)
	}
	u, err := db.UnpaidLicences(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if u.PastDue != 1 || u.Suspended != 0 || len(u.Oldest) != 1 || u.Oldest[0].SEN != "SEN-1000003" || u.Oldest[0].Invoice == "" {
		t.Errorf("unpaid: %+v", u)
	}
}
