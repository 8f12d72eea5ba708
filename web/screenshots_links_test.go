package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"licensedesk/internal/browsertest"
	"licensedesk/licensing"
	"licensedesk/links"
)

// Screenshots of every customer page at 375 and 1280 px, by one command:
//
//	LICENSEDESK_SCREENSHOTS=docs/screenshots go run ./cmd/withpostgres -- go test ./web -run Screenshots
//
// (this test: the emailed links' pages and what follows them; the account
// pages are TestScreenshots_AccountPages). Without the variable it still
// runs every check: no page overflows, is unstyled, has a control too small
// to tap, or loses its primary action.

const (
	tokCardPastDue  = "tokCardPastDue0123456789abcdefghijklmnopqrst"
	tokCardAccount  = "tokCardAccount0123456789abcdefghijklmnopqrst"
	tokEndedUsed    = "tokEndedUsed0123456789abcdefghijklmnopqrstuv"
	tokEndedExpired = "tokEndedExpired0123456789abcdefghijklmnopqrs"
	tokEndedRevoked = "tokEndedRevoked0123456789abcdefghijklmnopqrs"
)

// screenshotLinks is the fake with a link of every kind the pages show, and
// the results pressing their buttons gives.
func screenshotLinks() *fakeLinks {
	f := newFakeLinks()
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	due := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	overdue := licensing.Overdue{SEN: "SEN-1000003", Product: "Jira Service Management", Status: licensing.PastDue, Invoice: "SEN-1000003-2026-11-20",
		AmountCents: 1000, Currency: "USD", DueDate: due, FailedAt: due, DeclineCode: "generic_decline"}.WithSuspension(15 * 24 * time.Hour)
	f.views[tokCardPastDue] = links.View{Purpose: licensing.PurposeCardUpdate, Email: "gina@initech.test", SEN: "SEN-1000003", Product: "Jira Service Management",
		Summary:   []string{"SEN-1000003 (Jira Service Management) is past due: the outstanding USD 10.00 is charged as soon as you save the new card."},
		ExpiresAt: at.AddDate(0, 0, 7), Overdue: &overdue}
	f.views[tokCardAccount] = links.View{Purpose: licensing.PurposeCardUpdate, Email: "alice@acme.test", SEN: "SEN-1000001", Product: "Jira Software",
		Summary:   []string{"The new card is charged on the next billing date of SEN-1000001 (Jira Software), 1 January 2027."},
		ExpiresAt: at.Add(24 * time.Hour), Origin: "account"}
	f.errs[tokEndedUsed] = &links.Ended{How: "used", At: at, Purpose: licensing.PurposeConfirmMove, Email: "alice@acme.test", SEN: "SEN-1000001",
		Product: "Jira Software", Done: "You confirmed moving SEN-1000001 to zoe@new.test on 1 Dec 2026."}
	f.errs[tokEndedExpired] = &links.Ended{How: "expired", At: at, Purpose: licensing.PurposePromote, Email: "bob@acme.test", SEN: "SEN-1000001"}
	f.errs[tokEndedRevoked] = &links.Ended{How: "withdrawn", At: at, Purpose: licensing.PurposeCardUpdate, Email: "gina@initech.test", SEN: "SEN-1000003"}
	lic := func(r links.Result) links.Result { r.SEN, r.Product = "SEN-1000001", "Jira Software"; return r }
	f.results = map[string]links.Result{
		tokConfirmMove + "/approve": lic(links.Result{Title: "You confirmed moving SEN-1000001 to zoe@new.test",
			Message: "Thank you. SEN-1000001 (Jira Software) now moves to zoe@new.test.",
			Next: []string{"zoe@new.test gets an email to set up their account if they need one and to make themselves the primary billing and technical contact; they have until 15 Dec 2026.",
				"alice@acme.test is then removed from the licence.", "We'll email you when the move is done, or if it is called off."},
			Actions: []links.Step{links.ToAccount}}),
		tokConfirmMove + "/decline": lic(links.Result{Title: "You declined moving SEN-1000001",
			Message: "Nothing changed: SEN-1000001 keeps its contacts, and the move's links no longer work.",
			Next:    []string{"We have told our sales team. If it was a mistake, ask them to start the move again."}, Actions: []links.Step{links.ToAccount}}),
		tokComplete: lic(links.Result{Title: "Your account is ready", Message: "You can now sign in with dana@new.test and the password you chose.",
			Next: []string{"Your account page shows SEN-1000001 (Jira Software) and its contacts; you can make yourself its primary contact there."}, Actions: []links.Step{links.ToSignIn}}),
		tokPromote + "/accept": lic(links.Result{Title: "You are now the primary billing and technical contact of SEN-1000001",
			Message: "alice@acme.test became a secondary contact; we've emailed them.", Actions: []links.Step{links.ToAccount}}),
		tokPromotePending + "/decline": {SEN: "SEN-1000002", Product: "Confluence", Title: "You declined to take over SEN-1000002",
			Message: "The move of SEN-1000002 to you is called off. Nothing changed: erin@globex.test stays the primary contact, and we've told them and our sales team.",
			Next:    []string{"If you change your mind, ask our sales team to start the move again."}, Actions: []links.Step{links.ToHome}},
		tokCardPastDue: {RedirectURL: links.CardSavedPath, ReturnRef: "ref-of-the-card-link"},
	}
	return f
}

// screenshotSessions signs in whoever the "session" cookie names, which
// /test/signin/{email} sets.
func screenshotServer(t *testing.T, f *fakeLinks) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/", New(Deps{Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Links: f, Sessions: fakeSessions{}}))
	mux.HandleFunc("/test/signin/{email}", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: r.PathValue("email"), Path: "/"})
		_, _ = w.Write([]byte("signed in"))
	})
	mux.HandleFunc("/test/signout", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "", Path: "/", MaxAge: -1})
		_, _ = w.Write([]byte("signed out"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestScreenshots_LinkPages(t *testing.T) {
	for _, width := range []int64{browsertest.PhoneWidth, browsertest.DesktopWidth} {
		t.Run(strconv.Itoa(int(width)), func(t *testing.T) {
			f := screenshotLinks()
			srv := screenshotServer(t, f)
			b := browsertest.NewPage(t, srv.URL, width, "")
			shot := func(name, action string) { b.CheckWithAction(name+"-"+strconv.Itoa(int(width)), action) }

			// Every link's page, then what its button leads to.
			b.Open("/l/"+tokConfirmMove, 200)
			shot("link-confirm-move", "button[value=approve]")
			b.Click("button[value=approve]", 200)
			b.WantText("h1", "You confirmed moving SEN-1000001 to zoe@new.test")
			shot("result-move-confirmed", "")
			b.Open("/l/"+tokConfirmMove, 200)
			b.Click("button[value=decline]", 200)
			shot("result-move-declined", "")

			b.Open("/l/"+tokConfirmRequest, 200)
			shot("link-confirm-request", "button[value=approve]")

			b.Open("/l/"+tokComplete, 200)
			shot("link-account-setup", "")
			b.Step("fill in", chromedp.SendKeys(chromedp.ID("display_name"), "Dana Scully"),
				chromedp.SendKeys(chromedp.ID("password"), "purple tractor sings at dawn"),
				chromedp.SendKeys(chromedp.ID("password_confirm"), "purple tractor sings at dawn"))
			b.Click("button[type=submit]", 200)
			b.WantText(".actions", "Sign in")
			shot("result-account-ready", `a.btn-primary[href="/signin"]`)

			b.Open("/l/"+tokPromote, 200)
			shot("link-promote-offer", "")
			b.Click("button[value=accept]", 200)
			shot("result-promoted", "")

			b.Open("/l/"+tokPromotePending, 200)
			b.WantText("main", "What the primary contact does")
			b.WantText("main", "frank@globex.test approved the move")
			shot("link-promote-move", "button[value=accept]")
			b.Click("button[value=decline]", 200) // formnovalidate: the empty account fields do not hold it up
			b.WantText("h1", "You declined to take over SEN-1000002")
			shot("result-promotion-declined", "")

			// Opened without a card behind it, /card/saved says the result comes by mail.
			b.Open(links.CardSavedPath, 200)
			b.WantText("main", "If you saved a card")
			shot("card-saved-opened-directly", "")

			// The card page of a past-due licence opens with the banner.
			b.Open("/l/"+tokCardPastDue, 200)
			b.WantText(".banner", "Payment of USD 10.00 for SEN-1000003 failed on 20 Nov 2026: card declined.")
			if top := browsertest.Box(t, b.Ctx, ".banner").Top; top > browsertest.Box(t, b.Ctx, "h1").Top {
				t.Errorf("the banner is below the title")
			}
			shot("link-card-past-due", "")
			b.Click("button[type=submit]", 200) // to the provider, back at /card/saved
			b.WantPath(links.CardSavedPath)
			b.WantText("h1", "the invoice is paid")
			shot("card-saved", "")
			b.Open(links.CardCancelledPath, 200)
			shot("card-cancelled", "")

			// Ended links: told apart, what to do, a way home.
			b.Open("/l/"+tokEndedUsed, 410)
			b.NoText("main", "You confirmed moving")
			shot("link-used", "")
			b.Open("/l/"+tokEndedExpired, 410)
			shot("link-expired", "")
			b.Open("/l/"+tokEndedRevoked, 410)
			shot("link-withdrawn", "")
			b.Open("/l/"+tokUnknown, 404)
			shot("link-unknown", ".btn-secondary")
			b.Open("/no/such/page", 404)
			shot("page-not-found", ".btn-secondary")

			// Signed in: the card page made on the account page stays in it,
			// and a used link tells its recipient what they did.
			b.Open("/test/signin/alice@acme.test", 200)
			b.Open("/l/"+tokCardAccount, 200)
			b.WantText("header", "alice@acme.test")
			b.NoText("main", "This link was emailed")
			shot("link-card-from-account", "")
			b.Open("/l/"+tokEndedUsed, 410)
			b.WantText("main", "You confirmed moving SEN-1000001 to zoe@new.test on 1 Dec 2026.")
			shot("link-used-by-its-recipient", "")
		})
	}
}
