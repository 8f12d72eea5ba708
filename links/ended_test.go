package links_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"licensedesk/accounts"
	"licensedesk/licensing"
	"licensedesk/postgres"
	"licensedesk/web"
)

// signedIn is a SessionReader where the cookie "session=<email>" is that
// person's session.
type signedIn struct{}

func (signedIn) Session(_ context.Context, cookie string) (accounts.AccountDetails, error) {
	if !strings.Contains(cookie, "@") {
		return accounts.AccountDetails{}, licensing.Errorf(licensing.NotFound, "no session")
	}
	return accounts.AccountDetails{Email: licensing.Email(cookie)}, nil
}

func (f *fixture) getAs(token, email string) response {
	r := httptest.NewRequest("GET", "/l/"+token, nil)
	if email != "" {
		r.AddCookie(&http.Cookie{Name: "session", Value: email})
	}
	w := httptest.NewRecorder()
	web.LinkPages(f.svc, slog.New(slog.NewTextHandler(io.Discard, nil)), web.WithSessions(signedIn{}, false)).ServeHTTP(w, r)
	return response{status: w.Code, body: text(w.Body.String())}
}

func text(html string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("<", " <", ">", "> ").Replace(html)), " ")
}

// TestLinks_EndedLinksSayHowAndWhenAndWhatToDo (defect 5): a used, an
// expired and a withdrawn link each get their own 410 page with the date
// and what to do; only the recipient, signed in, reads what they did.
func TestLinks_EndedLinksSayHowAndWhenAndWhatToDo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mk := func(purpose licensing.LinkPurpose, wf string, ttl time.Duration, data map[string]any) string {
		tok, _, err := f.db.CreateLink(ctx, postgres.NewLink{Purpose: purpose, Email: "alice@acme.test", SEN: "SEN-1000001", WorkflowID: wf, TTL: ttl, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	used := mk(licensing.PurposeConfirmMove, "move/SEN-1000001/zoe@new.test", time.Hour, map[string]any{"new_email": "zoe@new.test"})
	if _, err := f.db.SpendLink(ctx, postgres.TokenHash(used), licensing.PurposeConfirmMove, "move/SEN-1000001/zoe@new.test", licensing.Actor{Kind: "link"}, "confirm_move.approve", ""); err != nil {
		t.Fatal(err)
	}
	expired := mk(licensing.PurposePromote, "promote/SEN-1000001/alice@acme.test", time.Millisecond, nil)
	withdrawn := mk(licensing.PurposeCardUpdate, "card/SEN-1000001", time.Hour, nil)
	if _, err := f.db.RevokeLinks(ctx, "card/SEN-1000001"); err != nil {
		t.Fatal(err)
	}
	// Review #13: a withdrawn link says why, when the reason was kept.
	replaced := mk(licensing.PurposeConfirmRequest, "verify/SEN-1000001/eve@acme.test", time.Hour, map[string]any{"requester": "eve@acme.test"})
	if _, err := f.db.RevokePersonLinks(ctx, "verify/SEN-1000001/eve@acme.test", "alice@acme.test", licensing.PurposeConfirmRequest); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)

	done := "You confirmed moving SEN-1000001 to zoe@new.test on "
	for _, tc := range []struct {
		name, token, as string
		want, not       []string
	}{
		// Review #13: anyone holding the link sees the licence and what the
		// link was for, which its mail said; not whom it named or what was done.
		{"used, a stranger", used, "", []string{"You have already used this link", "This link was to confirm a move of SEN-1000001", "It was used on",
			"Nothing more is needed from you", `href="/signin"`}, []string{done, "zoe@new.test", "Jira Software"}},
		{"used, someone else signed in", used, "mallory@evil.test", []string{"You have already used this link"}, []string{done, "Jira Software"}},
		{"used, its recipient", used, "alice@acme.test", []string{"You have already used this link", done, "· Jira Software", `href="/account"`}, nil},
		{"expired", expired, "", []string{"This link has expired", "It expired on", "you can make yourself its primary contact from your account page"}, nil},
		{"withdrawn", withdrawn, "", []string{"This link no longer works", "It was withdrawn on", "what it was for has ended", "Update card"}, nil},
		{"replaced", replaced, "", []string{"This link no longer works", "It was withdrawn on", "a newer link replaced it", "the most recent email"}, []string{"eve@acme.test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.getAs(tc.token, tc.as)
			if r.status != http.StatusGone {
				t.Fatalf("status %d, want 410:\n%s", r.status, r.body)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("page lacks %q:\n%s", w, r.body)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(r.body, n) {
					t.Errorf("page reveals %q:\n%s", n, r.body)
				}
			}
			if !strings.Contains(r.body, `href="/"`) {
				t.Error("no link home")
			}
		})
	}
}

// TestAccountSetup_ResultLeadsToSignIn (defect 4): after choosing a
// password the page names the licence and has a Sign in button.
func TestAccountSetup_ResultLeadsToSignIn(t *testing.T) {
	f := newFixture(t)
	token := f.setupLink(t, "dana@new.test")
	res := f.post(token, setupForm("Dana Doe"))
	if res.status != http.StatusOK || !strings.Contains(res.body, "Your account is ready") || !strings.Contains(res.body, `href="/signin">Sign in</a>`) ||
		!strings.Contains(res.body, "SEN-1000001") || !strings.Contains(res.body, "What happens next") {
		t.Fatalf("%d:\n%s", res.status, res.body)
	}
}
