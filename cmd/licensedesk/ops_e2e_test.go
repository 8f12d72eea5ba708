package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"licensedesk/bot"
)

// rebase points an emailed link at the server as it runs now: after a
// restart on port 0 the port differs (in normal use PUBLIC_BASE_URL is fixed).
func (s *stack) rebase(link string) string {
	i := strings.Index(link, "/l/")
	return s.state.HTTPURL + link[i:]
}

// waitStatus polls /license status until the operation's text has want.
func (s *stack) waitStatus(t *testing.T, id, want string) string {
	t.Helper()
	var got string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = bot.PlainText(s.slack(t, "status "+id)); strings.Contains(got, want) {
			return got
		}
	}
	t.Fatalf("status of %s never said %q:\n%s", id, want, got)
	return ""
}

func TestDev_OperationsEndToEnd(t *testing.T) {
	s := startDev(t)
	tc := s.temporalClient(t)

	t.Run("verify: a primary contact declines", func(t *testing.T) {
		if got := bot.PlainText(s.slack(t, "verify SEN-1000002 caller@globex.test")); !strings.Contains(got, "started") {
			t.Fatalf("verify: %s", got)
		}
		s.waitMail(t, "dave@globex.test", "Please confirm a request about SEN-1000002")
		m := s.waitMail(t, "erin@globex.test", "Please confirm a request about SEN-1000002")
		if code, page := follow(t, s.rebase(m.Links[0]), url.Values{"decision": {"decline"}}); code != 200 || !strings.Contains(page, "You declined caller@globex.test&#39;s request about SEN-1000002") {
			t.Fatalf("decline: %d %s", code, page)
		}
		s.waitStatus(t, "verify/SEN-1000002/caller@globex.test", "declined")
		recordHistory(t, tc, "verify/SEN-1000002/caller@globex.test", "verify-declined")
	})

	t.Run("contact add: a new person sets up an account and promotes themselves", func(t *testing.T) {
		for text, want := range map[string]string{
			"contact add SEN-1000002 technical erin@globex.test": "already a technical contact",
			"contact add SEN-1000002 sales x@globex.test":        "Usage:",
			"contact add SEN-9999999 technical x@globex.test":    "No licence SEN-9999999 found.",
		} {
			if got := bot.PlainText(s.slack(t, text)); !strings.Contains(got, want) {
				t.Errorf("%q → %s; want %q", text, got, want)
			}
		}
		if got := bot.PlainText(s.slack(t, "contact add SEN-1000002 technical newtech@globex.test --offer-primary")); !strings.Contains(got, "started") || !strings.Contains(got, "offer to make themselves the primary technical contact") {
			t.Fatalf("contact add: %s", got)
		}
		// Review #12: with an offer, one mail and one page: it sets up the
		// pending account and makes them primary in one form.
		offer := s.waitMail(t, "newtech@globex.test", "You were added to SEN-1000002: set up your account and become its primary technical contact")
		if n := len(s.mails(t, "newtech@globex.test", "complete your account")); n != 0 {
			t.Errorf("%d separate account set-up mails beside the offer; want none", n)
		}
		code, page := follow(t, s.rebase(offer.Links[0]), url.Values{"display_name": {"New Tech"},
			"password": {"short"}, "password_confirm": {"short"}, "decision": {"accept"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, "15") {
			t.Errorf("short password: %d; want 422 naming the rule", code)
		}
		code, page = follow(t, s.rebase(offer.Links[0]), url.Values{"display_name": {"New Tech"},
			"password": {"orbit lantern quietly folds"}, "password_confirm": {"orbit lantern quietly folds"}, "decision": {"accept"}})
		if code != 200 || !strings.Contains(page, "Your account is set up") || !strings.Contains(page, "primary") {
			t.Fatalf("set up and promote: %d %s", code, page)
		}
		s.waitMail(t, "erin@globex.test", "newtech@globex.test is now the primary technical contact")
		if got := contactsOf(s.license(t, "SEN-1000002")); got != "dave@globex.test/billing* newtech@globex.test/technical* erin@globex.test/technical" {
			t.Errorf("contacts = %s", got)
		}
		recordHistory(t, tc, "contact-add/SEN-1000002/technical/newtech@globex.test", "contact-add")
		s.waitStatus(t, "promote/SEN-1000002/newtech@globex.test", "completed")
		recordHistory(t, tc, "promote/SEN-1000002/newtech@globex.test", "promote-completed")
	})

	t.Run("contact remove: refuses a primary, removes a secondary after confirmation", func(t *testing.T) {
		if got := bot.PlainText(s.slack(t, "contact remove SEN-1000002 billing dave@globex.test")); !strings.Contains(got, "last billing contact") || strings.Contains(got, "[Remove dave@globex.test]") {
			t.Errorf("removing the only billing contact: %s", got)
		}
		if got := bot.PlainText(s.slack(t, "contact remove SEN-1000002 technical newtech@globex.test")); !strings.Contains(got, "primary technical contact") {
			t.Errorf("removing a primary: %s", got)
		}
		prompt := s.slack(t, "contact remove SEN-1000002 technical erin@globex.test")
		if got := bot.PlainText(s.press(t, prompt)); !strings.Contains(got, "started") {
			t.Fatalf("remove: %s", got)
		}
		s.waitMail(t, "erin@globex.test", "no longer a technical contact")
		if got := contactsOf(s.license(t, "SEN-1000002")); got != "dave@globex.test/billing* newtech@globex.test/technical*" {
			t.Errorf("contacts = %s", got)
		}
		recordHistory(t, tc, "contact-remove/SEN-1000002/technical/erin@globex.test", "contact-remove")
	})

	t.Run("cancel: a move waiting for confirmation ends and its links die", func(t *testing.T) {
		id := "move/SEN-1000002/cancel.me@globex.test"
		s.press(t, s.slack(t, "move SEN-1000002 cancel.me@globex.test --from dave@globex.test"))
		m := s.waitMail(t, "dave@globex.test", "Please confirm moving SEN-1000002")
		if got := bot.PlainText(s.slack(t, "cancel move/SEN-9999999/x@y.test")); !strings.Contains(got, "No operation") {
			t.Errorf("cancel unknown: %s", got)
		}
		if got := bot.PlainText(s.press(t, s.slack(t, "cancel "+id))); !strings.Contains(got, "Cancelling") {
			t.Fatalf("cancel: %s", got)
		}
		s.waitStatus(t, id, "cancelled")
		if code, _ := s.getURL(t, s.rebase(m.Links[0])); code != http.StatusGone {
			t.Errorf("link of a cancelled move: %d; want 410", code)
		}
		recordHistory(t, tc, id, "move-cancelled")
	})

	t.Run("a move survives a restart of everything while it waits", func(t *testing.T) {
		id := "move/SEN-2000001/new@umbrella.test"
		s.press(t, s.slack(t, "move SEN-2000001 new@umbrella.test --roles billing --from hank@umbrella.test"))
		m := s.waitMail(t, "hank@umbrella.test", "Please confirm moving SEN-2000001")

		s.stop(t) // Ctrl-C: PostgreSQL, Temporal, worker and server all stop
		s.start(t)

		s.waitStatus(t, "SEN-2000001", "waiting on hank@umbrella.test")
		if code, page := follow(t, s.rebase(m.Links[0]), url.Values{"decision": {"approve"}}); code != 200 {
			t.Fatalf("approve after restart: %d %s", code, page)
		}
		p := s.waitMail(t, "new@umbrella.test", "Set up your account and take over SEN-2000001")
		if code, page := follow(t, s.rebase(p.Links[0]), url.Values{"display_name": {"New Hank"},
			"password": {"granite meadow whistles softly"}, "password_confirm": {"granite meadow whistles softly"}}); code != 200 {
			t.Fatalf("promote: %d %s", code, page)
		}
		s.waitStatus(t, id, "completed")
		if got := contactsOf(s.license(t, "SEN-2000001")); got != "new@umbrella.test/billing* ivan@umbrella.test/technical*" {
			t.Errorf("contacts = %s", got)
		}
	})
}
