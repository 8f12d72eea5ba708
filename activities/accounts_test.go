package activities_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"licensedesk/accounts"
	"licensedesk/accounts/accountstest"
	"licensedesk/activities"
	"licensedesk/licensing"
	"licensedesk/mail"
	"licensedesk/operation"
	"licensedesk/postgres"
	"licensedesk/postgres/postgrestest"
	"licensedesk/workflows"
)

// greylister is an in-process SMTP server that answers 451 to the next
// refuse recipients, as a greylisting server does for a few minutes, and
// then accepts mail and keeps it.
type greylister struct {
	addr   string
	refuse atomic.Int32 // recipients still to refuse; negative: refuse all
	tries  atomic.Int32 // RCPT commands seen

	mu   sync.Mutex
	msgs [][]byte
}

func startGreylister(t *testing.T) *greylister {
	t.Helper()
	g := &greylister{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &greySession{g: g}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return g
}

func (g *greylister) received() [][]byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([][]byte(nil), g.msgs...)
}

type greySession struct{ g *greylister }

func (s *greySession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *greySession) Rcpt(string, *smtp.RcptOptions) error {
	s.g.tries.Add(1)
	if n := s.g.refuse.Load(); n != 0 {
		if n > 0 {
			s.g.refuse.Add(-1)
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted, please try again later"}
	}
	return nil
}
func (s *greySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.g.mu.Lock()
	s.g.msgs = append(s.g.msgs, b)
	s.g.mu.Unlock()
	return nil
}
func (s *greySession) Reset()        {}
func (s *greySession) Logout() error { return nil }

const resetBase = "https://desk.licensedesk.test"

type resetFixture struct {
	db   *postgres.DB
	svc  *accounts.Service
	acts *activities.Activities
	smtp *greylister
}

// newResetFixture is the demo database, the accounts service, and the
// activities mailing through the real SMTP client to a greylister.
func newResetFixture(t *testing.T) *resetFixture {
	t.Helper()
	db, now := postgrestest.NewDemo(t)
	svc, err := accounts.New(db, accountstest.New(db), accounts.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	g := startGreylister(t)
	sender, err := mail.NewSMTP("smtp://"+g.addr, "Licence Desk <desk@licensedesk.test>")
	if err != nil {
		t.Fatal(err)
	}
	sender.Timeout = 5 * time.Second
	acts := &activities.Activities{
		DB: db, Mail: &mail.Outbox{DB: db, SMTP: sender}, PublicBaseURL: resetBase, Clock: now,
		ResetLinks: func(ctx context.Context, email licensing.Email, workflowID, request string) (activities.ResetLink, bool, error) {
			link, ok, err := svc.IssueResetLink(ctx, accounts.ResetRequest{Email: email, Key: request, WorkflowID: workflowID})
			return activities.ResetLink{Path: link.Path, ExpiresAt: link.ExpiresAt, Issue: link.Issue}, ok, err
		},
	}
	return &resetFixture{db: db, svc: svc, acts: acts, smtp: g}
}

// runReset runs the PasswordReset workflow with the real activities, as
// the worker does (retries and their backoff included, the clock skipped).
func (f *resetFixture) runReset(t *testing.T, email licensing.Email) workflows.Result {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(f.acts)
	env.RegisterWorkflow(workflows.PasswordReset)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: operation.PasswordResetID(email)})
	env.ExecuteWorkflow(workflows.PasswordReset, workflows.PasswordInput{Email: email})
	if !env.IsWorkflowCompleted() {
		t.Fatal("PasswordReset did not complete")
	}
	var res workflows.Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatalf("PasswordReset failed: %v", err)
	}
	return res
}

// request sends the reset mail of one more request straight through the
// activity (a new workflow run: a new key).
func (f *resetFixture) request(t *testing.T, email licensing.Email, run string) {
	t.Helper()
	id := operation.PasswordResetID(email)
	if err := f.acts.SendPasswordReset(context.Background(), activities.PasswordResetInput{Email: email, WorkflowID: id, Key: id + "/" + run}); err != nil {
		t.Fatal(err)
	}
}

func (f *resetFixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var resetURL = regexp.MustCompile(regexp.QuoteMeta(resetBase+accounts.ResetPath) + `([A-Za-z0-9_-]{43})`)

// resetToken returns the token of the one reset link in a received mail's
// text part.
func resetToken(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text part with a reset link: %v", err)
		}
		if !strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain") {
			continue
		}
		body, _ := io.ReadAll(part) // quoted-printable is decoded by NextPart
		m := resetURL.FindAllStringSubmatch(string(body), -1)
		if len(m) != 1 {
			t.Fatalf("text part has %d reset links, want 1:\n%s", len(m), body)
		}
		return m[0][1]
	}
}

// Issue 9, item 6: an SMTP server that answers 451 for a while. The mail
// is retried until the server takes it; exactly one mail arrives, its link
// works, and the retries were one request, not four or five of the three
// an hour allows.
func TestSendPasswordReset_GreylistedMailArrivesOnceWithAWorkingLink(t *testing.T) {
	f := newResetFixture(t)
	ctx := context.Background()
	const email = licensing.Email("alice@acme.test")
	f.smtp.refuse.Store(4)

	if res := f.runReset(t, email); res.Outcome != operation.Completed {
		t.Fatalf("result = %+v", res)
	}
	if n := f.smtp.tries.Load(); n != 5 {
		t.Fatalf("the server was tried %d times; want 4 refusals and the delivery", n)
	}
	msgs := f.smtp.received()
	if len(msgs) != 1 {
		t.Fatalf("%d mails arrived; want exactly 1", len(msgs))
	}
	token := resetToken(t, msgs[0])
	if n := f.count(t, `SELECT count(DISTINCT data->>'request') FROM link_tokens WHERE purpose = 'password_reset'`); n != 1 {
		t.Errorf("%d reset requests recorded; want 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM link_tokens WHERE purpose = 'password_reset' AND revoked_at IS NULL AND used_at IS NULL`); n != 1 {
		t.Errorf("%d usable reset links; want the mailed one", n)
	}

	info, err := f.svc.ResetInfo(ctx, token)
	if err != nil || info.Email != email {
		t.Fatalf("the mailed link: %+v, %v", info, err)
	}
	const next = "purple tractor sings at dawn"
	if err := f.svc.CompleteReset(ctx, token, next, next); err != nil {
		t.Fatalf("reset with the mailed link: %v", err)
	}
	if _, err := f.svc.SignIn(ctx, signIn(email, next)); err != nil {
		t.Fatalf("sign in with the new password: %v", err)
	}

	// The five attempts were one request: two more get their mail, and
	// only a fourth request meets the cap of 3 an hour.
	f.request(t, email, "run-2")
	f.request(t, email, "run-3")
	if n := len(f.smtp.received()); n != 3 {
		t.Fatalf("%d mails after two more requests; want 3", n)
	}
	f.request(t, email, "run-4")
	if n := len(f.smtp.received()); n != 3 {
		t.Fatalf("a fourth request in the hour was mailed (%d mails)", n)
	}
}

// A server that never takes the mail: the workflow retries, then gives up
// and still answers as for any request, and the failed attempts did not
// use up the person's requests: once the server is back, they can ask again.
func TestSendPasswordReset_ServerThatNeverAcceptsUsesOneRequest(t *testing.T) {
	f := newResetFixture(t)
	const email = licensing.Email("bob@acme.test")
	f.smtp.refuse.Store(-1)
	if res := f.runReset(t, email); res.Outcome != operation.Completed || res.Message != "Reset request handled." {
		t.Fatalf("result = %+v", res)
	}
	if n := f.smtp.tries.Load(); n < 5 {
		t.Fatalf("tried %d times; want retries", n)
	}
	if n := len(f.smtp.received()); n != 0 {
		t.Fatalf("%d mails arrived from a server that refuses", n)
	}
	f.smtp.refuse.Store(0)
	f.request(t, email, "run-2")
	f.request(t, email, "run-3")
	if n := len(f.smtp.received()); n != 2 {
		t.Fatalf("%d mails for two requests after the outage; want 2", n)
	}
}

// An attempt that sent the mail and then failed (the worker died before
// reporting) is retried; the retry finds the mail recorded and sends
// nothing, so the mailed link keeps working.
func TestSendPasswordReset_RetryAfterASentMailSendsNothing(t *testing.T) {
	f := newResetFixture(t)
	const email = licensing.Email("alice@acme.test")
	for range 3 {
		f.request(t, email, "run-1")
	}
	msgs := f.smtp.received()
	if len(msgs) != 1 {
		t.Fatalf("%d mails for one request run three times; want 1", len(msgs))
	}
	if _, err := f.svc.ResetInfo(context.Background(), resetToken(t, msgs[0])); err != nil {
		t.Fatalf("the mailed link after the retries: %v", err)
	}
}

// The mail of a retry that had to make a new token is a new message: its
// Message-ID differs from the first attempt's, so a mailbox that already
// has the first (sent, but its acceptance never heard of) keeps both.
func TestSendPasswordReset_ANewTokenIsANewMessage(t *testing.T) {
	f := newResetFixture(t)
	ctx := context.Background()
	const email = licensing.Email("alice@acme.test")
	id := operation.PasswordResetID(email)
	in := activities.PasswordResetInput{Email: email, WorkflowID: id, Key: id + "/run-1"}
	if err := f.acts.SendPasswordReset(ctx, in); err != nil {
		t.Fatal(err)
	}
	// As if the first attempt's mail had gone out unrecorded.
	if _, err := f.db.Pool().Exec(ctx, `DELETE FROM sent_mail`); err != nil {
		t.Fatal(err)
	}
	if err := f.acts.SendPasswordReset(ctx, in); err != nil {
		t.Fatal(err)
	}
	msgs := f.smtp.received()
	if len(msgs) != 2 {
		t.Fatalf("%d mails; want 2", len(msgs))
	}
	ids := map[string]bool{}
	for _, raw := range msgs {
		m, err := netmail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		ids[m.Header.Get("Message-Id")] = true
	}
	if len(ids) != 2 {
		t.Errorf("Message-IDs %v; want two different ones", ids)
	}
	if _, err := f.svc.ResetInfo(ctx, resetToken(t, msgs[1])); err != nil {
		t.Fatalf("the second mail's link: %v", err)
	}
	if _, err := f.svc.ResetInfo(ctx, resetToken(t, msgs[0])); licensing.ErrorCode(err) != licensing.Gone {
		t.Fatalf("the first mail's link: %v; want Gone (used or expired)", err)
	}
}

func signIn(email licensing.Email, password string) accounts.SignInRequest {
	return accounts.SignInRequest{Email: string(email), Password: password, ClientAddr: "192.0.2.1"}
}
