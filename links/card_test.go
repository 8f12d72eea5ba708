package links_test

import (
	"context"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"licensedesk/internal/pgtest"
	"licensedesk/licensing"
	"licensedesk/links"
	"licensedesk/payments/sandbox"
	"licensedesk/postgres"
)

// TestCardLink_TokenStaysOutOfTheProvidersURLs follows an update-card
// link to the payment provider (the sandbox, on a real database): the card
// session it opens carries no token in its return URLs, which the provider
// keeps and shows.
func TestCardLink_TokenStaysOutOfTheProvidersURLs(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if _, err := db.SeedDemo(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	const base = "https://desk.example"
	sb, err := sandbox.New(sandbox.Config{Store: sandbox.NewPGStore(db.Pool()), BaseURL: base, WebhookSecret: "whsec_test"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := db.CreateLink(ctx, postgres.NewLink{Purpose: licensing.PurposeCardUpdate, Email: "gina@initech.test",
		SEN: "SEN-1000003", WorkflowID: "card/SEN-1000003", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	svc := &links.Service{DB: db, Payments: sb, PublicBaseURL: base}
	res, err := svc.Act(ctx, token, links.Action{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(res.RedirectURL)
	if err != nil || !strings.HasPrefix(res.RedirectURL, base+"/sandbox/checkout/") {
		t.Fatalf("redirect to %q (%v); want the sandbox's card page", res.RedirectURL, err)
	}
	sess, err := sandbox.NewPGStore(db.Pool()).SandboxSession(ctx, path.Base(u.Path))
	if err != nil {
		t.Fatal(err)
	}
	if sess.CancelURL != base+links.CardCancelledPath || sess.SuccessURL != base+links.CardSavedPath {
		t.Errorf("return URLs %q and %q; want %s and %s", sess.CancelURL, sess.SuccessURL, links.CardCancelledPath, links.CardSavedPath)
	}
	for _, u := range []string{sess.CancelURL, sess.SuccessURL, sess.Reference} {
		if strings.Contains(u, token) {
			t.Errorf("the provider keeps the link's token in %q", u)
		}
	}
}
