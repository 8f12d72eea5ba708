package mail_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"licensedesk/mail"
	"licensedesk/pacing"
)

func (s *smtpServer) nextThrottle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.throttle) == 0 {
		return 0
	}
	code := s.throttle[0]
	s.throttle = s.throttle[1:]
	return code
}

// A relay that answers "slow down" (421, 451, 454) gets the mail again
// after a pause, and receives it once; an answer that is not throttling
// comes back at once.
func TestPaced_ThrottlingAnswersAreRetriedWithBackoff(t *testing.T) {
	srv := startSMTP(t, serverOpts{})
	srv.mu.Lock()
	srv.throttle = []int{421, 451, 454}
	srv.mu.Unlock()
	sender := mail.Paced(newSender(t, "smtp://"+srv.addr), &pacing.Pacer{Store: pacing.NewMemoryStore(), Key: "smtp", Limit: pacing.PerSecond(100)})
	start := time.Now()
	if err := sender.Send(context.Background(), testMessage(t, "k/throttled", "alice@acme.test")); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.received()); got != 1 {
		t.Fatalf("received %d copies; want 1", got)
	}
	if took := time.Since(start); took < 7*time.Second { // 1 + 2 + 4 s of backoff
		t.Errorf("three throttling answers were retried within %v; want the backoff", took)
	}
	err := sender.Send(context.Background(), testMessage(t, "k/nobody", "nobody@acme.test"))
	if err == nil || !mail.IsPermanent(err) || mail.Throttled(err) {
		t.Errorf("a 550 for the recipient: %v; want it permanent and not retried", err)
	}
}

// A relay that keeps throttling past the tries, or past the context's
// time, leaves the error temporary: the activity retries later.
func TestPaced_GivesUpTemporarilyWhenTimeRunsOut(t *testing.T) {
	srv := startSMTP(t, serverOpts{})
	srv.mu.Lock()
	srv.throttle = []int{451, 451, 451, 451, 451, 451}
	srv.mu.Unlock()
	sender := mail.Paced(newSender(t, "smtp://"+srv.addr), &pacing.Pacer{Store: pacing.NewMemoryStore(), Key: "smtp", Limit: pacing.PerSecond(100)})
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	err := sender.Send(ctx, testMessage(t, "k/greylisted", "alice@acme.test"))
	if err == nil || mail.IsPermanent(err) || mail.SMTPCode(err) != 451 {
		t.Fatalf("err = %v; want the temporary 451", err)
	}
	if len(srv.received()) != 0 {
		t.Error("a throttled mail was received")
	}
}

// SMTP_RATE paces sends shared by every sender of the key.
func TestPaced_SendRate(t *testing.T) {
	srv := startSMTP(t, serverOpts{})
	store := pacing.NewMemoryStore()
	limit := pacing.PerSecond(5)
	a := mail.Paced(newSender(t, "smtp://"+srv.addr), &pacing.Pacer{Store: store, Key: "smtp", Limit: limit})
	b := mail.Paced(newSender(t, "smtp://"+srv.addr), &pacing.Pacer{Store: store, Key: "smtp", Limit: limit})
	start := time.Now()
	for i := range 6 {
		s := a
		if i%2 == 1 {
			s = b
		}
		if err := s.Send(context.Background(), testMessage(t, fmt.Sprint("k/rate/", i), "alice@acme.test")); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 950*time.Millisecond {
		t.Errorf("6 mails at 5 a second took %v", took)
	}
}
