package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/internal/slacktest"
	"licensedesk/licensing"
	"licensedesk/operation"
)

const testAppToken = "xapp-1-A0TEST-1-secret"

// startedOps is a Workflows that records starts and, like the workflow
// IDs do, starts each operation once.
type startedOps struct {
	Workflows
	mu      sync.Mutex
	started []operation.StartRequest
	ids     map[string]bool
}

func (o *startedOps) Start(_ context.Context, req operation.StartRequest) (operation.Started, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := string(req.Kind) + "/" + string(req.SEN)
	if req.Kind == operation.KindMove {
		id = operation.MoveID(req.SEN, req.Move.NewEmail)
	}
	if o.ids[id] {
		return operation.Started{WorkflowID: id, RunID: "run-1", AlreadyRunning: true}, nil
	}
	if o.ids == nil {
		o.ids = map[string]bool{}
	}
	o.ids[id] = true
	o.started = append(o.started, req)
	return operation.Started{WorkflowID: id, RunID: "run-1"}, nil
}

// Status says an operation it started is running; others are unknown.
func (o *startedOps) Status(_ context.Context, id string) (operation.Status, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.ids[id] {
		return operation.Status{}, licensing.Errorf(licensing.NotFound, "No operation %s found.", id)
	}
	return operation.Status{WorkflowID: id, Summary: "Operation " + id, Step: "wait",
		Steps: []operation.Step{{Key: "wait", Title: "Wait", State: operation.Active}}}, nil
}

func (o *startedOps) URL(workflowID, runID string) string {
	return "http://temporal.test/" + workflowID
}

func (o *startedOps) starts() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.started)
}

// responseURLs records what is sent to response_urls.
type responseURLs struct {
	mu  sync.Mutex
	got []sentResponse
}

type sentResponse struct {
	url   string
	reply Reply
}

func (r *responseURLs) Respond(_ context.Context, url string, reply Reply) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, sentResponse{url, reply})
	return nil
}

func (r *responseURLs) all() []sentResponse {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentResponse(nil), r.got...)
}

// waitFor returns the first response to url, failing after timeout.
func (r *responseURLs) waitFor(t *testing.T, url string, timeout time.Duration) Reply {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, s := range r.all() {
			if s.url == url {
				return s.reply
			}
		}
	}
	t.Fatalf("nothing sent to %s within %s", url, timeout)
	return Reply{}
}

type socketHarness struct {
	fake      *slacktest.SocketMode
	sm        *SocketMode
	reg       *Registry
	ops       *startedOps
	responses *responseURLs
	logs      *syncBuffer
	next      atomic.Int64
}

type socketSetup struct {
	allow *Allow // nil: everyone may act
	idle  time.Duration
	extra []Command
}

func newSocketHarness(t *testing.T, setup socketSetup) *socketHarness {
	t.Helper()
	h := &socketHarness{fake: slacktest.NewSocketMode(t, testAppToken), ops: &startedOps{}, responses: &responseURLs{}, logs: &syncBuffer{}}
	allow := ParseAllow("", "*")
	if setup.allow != nil {
		allow = *setup.allow
	}
	logger := slog.New(slog.NewTextHandler(h.logs, nil))
	licenses := memLicenses{"SEN-1000001": cloudMonthly(), "SEN-2000001": server()}
	cmds := append([]Command{ShowCommand(licenses, nil, 0)}, OperationCommands(licenses, h.ops)...)
	h.reg = NewRegistry(allow, nil, logger, append(cmds, setup.extra...)...)
	sm, err := NewSocketMode(h.reg, SocketModeOptions{AppToken: testAppToken, APIURL: h.fake.URL(), Respond: h.responses,
		Logger: logger, IdleTimeout: setup.idle})
	if err != nil {
		t.Fatal(err)
	}
	h.sm = sm
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		sm.Wait()
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs)
		}
	})
	if err := sm.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !sm.Connected() || sm.Ready(ctx) != nil {
		t.Fatalf("Start returned without a connection: %v", sm.Ready(ctx))
	}
	h.fake.WaitConnections(t, 1, 5*time.Second)
	return h
}

func (h *socketHarness) envelopeID() string { return fmt.Sprintf("env-%d", h.next.Add(1)) }

// command sends text as user over the socket and returns the envelope's ID
// and the reply its acknowledgement carried (failing unless it came
// within Slack's 3 seconds).
func (h *socketHarness) command(t *testing.T, user, text string) (string, Reply) {
	t.Helper()
	id := h.envelopeID()
	return id, h.deliver(t, slacktest.SlashCommandEnvelope(id, slack.SlashCommand{UserID: user, ChannelID: "C1", TeamID: "T1",
		Text: text, ResponseURL: "https://hooks.slack.test/commands/" + id, TriggerID: "trigger." + id}))
}

func (h *socketHarness) deliver(t *testing.T, e slacktest.Envelope) Reply {
	t.Helper()
	start := time.Now()
	payload := h.fake.Deliver(t, e, 3*time.Second)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("acknowledged after %s; Slack waits 3 s", took)
	}
	var r Reply
	if string(payload) != "null" {
		if err := json.Unmarshal(payload, &r); err != nil {
			t.Fatalf("ack payload %s: %v", payload, err)
		}
	}
	return r
}

// press presses the Confirm button of prompt as user and returns the
// envelope, whose acknowledgement carries no payload: Slack shows a
// button's reply only from its response_url.
func (h *socketHarness) press(t *testing.T, user string, prompt Reply) slacktest.Envelope {
	t.Helper()
	value, ok := ConfirmValue(prompt)
	if !ok {
		t.Fatalf("no Confirm button in %q", PlainText(prompt))
	}
	id := h.envelopeID()
	e := slacktest.ButtonEnvelope(id, user, "C1", "https://hooks.slack.test/actions/"+id, "confirm", value)
	if r := h.deliver(t, e); r.Text != "" {
		t.Errorf("a button's acknowledgement carried %q", r.Text)
	}
	return e
}

func TestSocketMode_ASlashCommandIsAcknowledgedWithTheReplyHTTPGives(t *testing.T) {
	h := newSocketHarness(t, socketSetup{})
	_, got := h.command(t, "U1", "show sen-1000001")
	for _, want := range []string{"SEN-1000001 · Jira Software", "alice@acme.test (primary)", "bob@acme.test (secondary)"} {
		if !strings.Contains(PlainText(got), want) {
			t.Errorf("reply lacks %q:\n%s", want, PlainText(got))
		}
	}
	if got.ResponseType != slack.ResponseTypeEphemeral {
		t.Errorf("response_type %q; customer data stays ephemeral", got.ResponseType)
	}
	// The HTTP handler answers the same command with the same reply.
	overHTTP := newHarness(t, ParseAllow("", "*")).command(t, "U1", "show sen-1000001")
	a, _ := encodeReply(got)
	b, _ := encodeReply(overHTTP)
	if string(a) != string(b) {
		t.Errorf("Socket Mode and HTTP replies differ:\n%s\n%s", a, b)
	}
}

func TestSocketMode_ConfirmStartsTheOperationOnceWhateverSlackRetries(t *testing.T) {
	h := newSocketHarness(t, socketSetup{})
	_, prompt := h.command(t, "U1", "move SEN-1000001 zed@newco.test")
	if !strings.Contains(PlainText(prompt), "[Start the move] [Don't move]") || h.ops.starts() != 0 {
		t.Fatalf("want a prompt and nothing started; got %d starts and\n%s", h.ops.starts(), PlainText(prompt))
	}

	press := h.press(t, "U1", prompt)
	pressURL := press.Payload.(map[string]any)["response_url"].(string)
	started := h.responses.waitFor(t, pressURL, 3*time.Second)
	if !strings.Contains(started.Text, "Move of SEN-1000001 to zed@newco.test started") || !started.ReplaceOriginal {
		t.Errorf("after Confirm, the response_url got %+v", started)
	}
	if h.ops.starts() != 1 || h.ops.started[0].Move.NewEmail != "zed@newco.test" || h.ops.started[0].SlackUser != "U1" {
		t.Fatalf("starts: %+v", h.ops.started)
	}

	// Slack retries: the same envelope again, and the same click in a new
	// envelope. Each is acknowledged; nothing starts, nothing more is posted.
	again := press
	again.RetryAttempt, again.RetryReason = 1, "timeout"
	h.deliver(t, again)
	resent := press
	resent.EnvelopeID, resent.RetryAttempt = h.envelopeID(), 2
	h.deliver(t, resent)
	if n := len(h.fake.Acks(press.EnvelopeID)); n != 2 {
		t.Errorf("the retried envelope was acknowledged %d times; want 2", n)
	}
	time.Sleep(100 * time.Millisecond) // a stray response_url post would have landed
	if h.ops.starts() != 1 || len(h.responses.all()) != 1 {
		t.Errorf("after retries: %d starts, %d response_url posts; want 1 and 1", h.ops.starts(), len(h.responses.all()))
	}

	// A person pressing Confirm on the prompt once more is a new click: the
	// move is already running, and the reply says so.
	h.press(t, "U1", prompt)
	if got := h.responses.all(); len(got) != 2 || !strings.Contains(got[1].reply.Text, "already running") {
		t.Errorf("second click: %+v", got)
	}
	if h.ops.starts() != 1 {
		t.Errorf("%d starts", h.ops.starts())
	}
}

func TestSocketMode_ARetriedCommandRunsOnceAndIsAnsweredAgain(t *testing.T) {
	var runs atomic.Int64
	count := Command{Name: "count", Summary: "Counts its runs.", Class: Read, MaxArgs: 0,
		Run: func(context.Context, Request) (Reply, error) {
			return ephemeral(fmt.Sprintf("run %d", runs.Add(1))), nil
		}}
	h := newSocketHarness(t, socketSetup{extra: []Command{count}})
	first := slacktest.SlashCommandEnvelope("env-count", slack.SlashCommand{UserID: "U1", Text: "count", TriggerID: "trigger.count"})
	if r := h.deliver(t, first); r.Text != "run 1" {
		t.Fatalf("first: %q", r.Text)
	}
	retried := first
	retried.RetryAttempt, retried.RetryReason = 1, "timeout"
	newEnvelope := first
	newEnvelope.EnvelopeID, newEnvelope.RetryAttempt = "env-count-2", 1
	for _, e := range []slacktest.Envelope{retried, newEnvelope} {
		if r := h.deliver(t, e); r.Text != "run 1" {
			t.Errorf("retry %s (attempt %d): %q; want the first answer again", e.EnvelopeID, e.RetryAttempt, r.Text)
		}
	}
	if _, r := h.command(t, "U1", "count"); r.Text != "run 2" {
		t.Errorf("a new command: %q", r.Text)
	}
}

// TestSocketMode_ReconnectsAndTheNextCommandIsAnswered drops the connection
// three ways and measures the time from the drop to the next command's
// answer (sent at the drop; Slack keeps it for the next connection). The
// idle timeout is 1 s; LICENSEDESK_SOCKET_IDLE=30s measures the default.
func TestSocketMode_ReconnectsAndTheNextCommandIsAnswered(t *testing.T) {
	idle := time.Second
	if v := os.Getenv("LICENSEDESK_SOCKET_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("LICENSEDESK_SOCKET_IDLE: %v", err)
		}
		idle = d
	}
	for _, tc := range []struct {
		name string
		drop func(*slacktest.SocketMode, testing.TB)
	}{
		{"disconnect envelope", (*slacktest.SocketMode).Disconnect},
		{"socket closed", (*slacktest.SocketMode).Drop},
		{"socket silent (no ping, no frame)", (*slacktest.SocketMode).GoSilent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSocketHarness(t, socketSetup{idle: idle})
			for round := 1; round <= 2; round++ {
				start := time.Now()
				tc.drop(h.fake, t)
				id := h.envelopeID()
				payload := h.fake.Deliver(t, slacktest.SlashCommandEnvelope(id, slack.SlashCommand{UserID: "U1", Text: "show SEN-2000001"}), idle+5*time.Second)
				took := time.Since(start)
				if !strings.Contains(string(payload), "Bitbucket Data Center") {
					t.Fatalf("after the drop: %s", payload)
				}
				if h.fake.Connections() != round+1 || h.sm.Reconnects() != int64(round) || !h.sm.Connected() {
					t.Errorf("connections %d, reconnects %d, connected %v; want %d, %d, true", h.fake.Connections(), h.sm.Reconnects(), h.sm.Connected(), round+1, round)
				}
				t.Logf("%s, round %d: drop → next command answered in %s (idle timeout %s)", tc.name, round, took.Round(10*time.Microsecond), idle)
			}
		})
	}
}

func TestSocketMode_ReadyIsFalseWhileTheSocketIsDown(t *testing.T) {
	h := newSocketHarness(t, socketSetup{idle: 300 * time.Millisecond})
	h.fake.SetUnavailable(true) // Slack is down: no new connection for now
	h.fake.GoSilent(t)
	for deadline := time.Now().Add(3 * time.Second); h.sm.Ready(context.Background()) == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Ready never reported the silent socket")
		}
	}
	if err := h.sm.Ready(context.Background()); !strings.Contains(err.Error(), "disconnected") || h.sm.Connected() {
		t.Errorf("Ready: %v", err)
	}
	h.fake.SetUnavailable(false)
	h.fake.WaitConnections(t, 2, 10*time.Second)
	for deadline := time.Now().Add(2 * time.Second); h.sm.Ready(context.Background()) != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not ready after reconnecting: %v", h.sm.Ready(context.Background()))
		}
	}
}

func TestSocketMode_BadEnvelopesGetAClearReplyAndChangeNothing(t *testing.T) {
	onlyU1 := ParseAllow("U1", "U1")
	h := newSocketHarness(t, socketSetup{allow: &onlyU1})

	// Not JSON at all: nothing to acknowledge, and the connection goes on.
	h.fake.SendRaw([]byte("this is not json"))

	for name, tc := range map[string]struct {
		frame string
		want  string
	}{
		"malformed payload": {`{"type":"slash_commands","envelope_id":"bad-1","accepts_response_payload":true,"payload":"not an object"}`, "couldn't read that request"},
		"malformed button":  {`{"type":"interactive","envelope_id":"bad-2","accepts_response_payload":true,"payload":{"type":"block_actions","actions":7}}`, "couldn't read that request"},
		"unknown type":      {`{"type":"frobnicate","envelope_id":"bad-3","accepts_response_payload":true,"payload":{}}`, "don't handle Slack requests of type “frobnicate”"},
	} {
		id := strings.Split(strings.Split(tc.frame, `"envelope_id":"`)[1], `"`)[0]
		h.fake.SendRaw([]byte(tc.frame))
		var r Reply
		if err := json.Unmarshal(h.fake.Ack(t, id, 3*time.Second), &r); err != nil || !strings.Contains(r.Text, tc.want) || !strings.Contains(r.Text, "nothing was done") {
			t.Errorf("%s: ack %+v (%v); want %q and that nothing was done", name, r, err, tc.want)
		}
	}

	_, r := h.command(t, "U1", "show SEN-1000001 "+strings.Repeat("x", maxEnvelopeBytes))
	if !strings.Contains(r.Text, "too large") || !strings.Contains(r.Text, "nothing was done") {
		t.Errorf("too large: %q", r.Text)
	}

	// Someone outside the allow-lists: refused, whether typing or pressing.
	_, r = h.command(t, "U2", "show SEN-1000001")
	if !strings.Contains(r.Text, "not allowed to run `/license show`") || strings.Contains(PlainText(r), "alice") {
		t.Errorf("outsider's command: %q", r.Text)
	}
	_, prompt := h.command(t, "U1", "move SEN-1000001 zed@newco.test")
	press := h.press(t, "U2", prompt)
	if got := h.responses.waitFor(t, press.Payload.(map[string]any)["response_url"].(string), 3*time.Second); !strings.Contains(got.Text, "not allowed to run `/license move`") {
		t.Errorf("outsider's Confirm: %q", got.Text)
	}

	if h.ops.starts() != 0 {
		t.Errorf("started %+v", h.ops.started)
	}
	if _, r := h.command(t, "U1", "show SEN-2000001"); !strings.Contains(PlainText(r), "Bitbucket") || h.fake.Connections() != 1 {
		t.Errorf("after the bad input, on %d connections: %q", h.fake.Connections(), PlainText(r))
	}
	if !strings.Contains(h.logs.String(), "unreadable frame ignored") || !strings.Contains(h.logs.String(), "envelope of an unknown type refused") {
		t.Errorf("bad input not logged:\n%s", h.logs)
	}
}

func TestSocketMode_AReplyTooLargeForAnAcknowledgementGoesToTheResponseURL(t *testing.T) {
	long := strings.Repeat("licence ", 3000) // 24 KB: over the 20 KiB Slack accepts in an acknowledgement
	big := Command{Name: "big", Summary: "A long answer.", Class: Read, MaxArgs: 0,
		Run: func(context.Context, Request) (Reply, error) { return ephemeral(long), nil }}
	h := newSocketHarness(t, socketSetup{extra: []Command{big}})
	id, r := h.command(t, "U1", "big")
	if r.Text != "" {
		t.Errorf("the acknowledgement carried %d bytes", len(r.Text))
	}
	got := h.responses.waitFor(t, "https://hooks.slack.test/commands/"+id, 3*time.Second)
	if got.Text != long || got.ReplaceOriginal {
		t.Errorf("response_url got %d bytes, replace_original %v", len(got.Text), got.ReplaceOriginal)
	}

	// Without a response_url there is nowhere else: a short note instead.
	payload := h.fake.Deliver(t, slacktest.SlashCommandEnvelope("env-big", slack.SlashCommand{UserID: "U1", Text: "big"}), 3*time.Second)
	if !strings.Contains(string(payload), "too long to show here") {
		t.Errorf("without a response_url: %.200s", payload)
	}
}

func TestSocketMode_ATokenSlackRefusesStopsStartWithOneReason(t *testing.T) {
	fake := slacktest.NewSocketMode(t, testAppToken)
	reg := NewRegistry(ParseAllow("*", "*"), nil, nil)
	logs := &syncBuffer{}
	sm, err := NewSocketMode(reg, SocketModeOptions{AppToken: "xapp-1-A0TEST-1-revoked", APIURL: fake.URL(), Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = sm.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Slack refused SLACK_APP_TOKEN (invalid_auth)") || !strings.Contains(err.Error(), "connections:write") {
		t.Fatalf("Start: %v", err)
	}
	sm.Wait() // stopped: nothing retries behind the caller's back
	if took := time.Since(start); took > 5*time.Second || fake.Opens() != 1 || sm.Connected() {
		t.Errorf("took %s, %d opens, connected %v", took, fake.Opens(), sm.Connected())
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the refusal was logged as well as returned:\n%s", logs)
	}

	for _, token := range []string{"", "xoxb-a-bot-token"} {
		if _, err := NewSocketMode(reg, SocketModeOptions{AppToken: token}); err == nil || !strings.Contains(err.Error(), "not an app-level token (xapp-…)") {
			t.Errorf("token %q: %v", token, err)
		}
	}
}

// A Slack that cannot be reached at start is not a refusal: Start returns,
// HTTP can serve, and the connection comes once Slack answers.
func TestSocketMode_AnUnreachableSlackAtStartIsRetried(t *testing.T) {
	reg := NewRegistry(ParseAllow("*", "*"), nil, nil, ShowCommand(memLicenses{"SEN-2000001": server()}, nil, 0))
	sm, err := NewSocketMode(reg, SocketModeOptions{AppToken: testAppToken, APIURL: "http://127.0.0.1:1/", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); sm.Wait() }()
	if err := sm.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := sm.Ready(ctx); err == nil || !strings.Contains(err.Error(), "not connected yet") {
		t.Errorf("Ready: %v", err)
	}
}

// A Slack that does not answer at all holds the start up for startWait at
// most.
func TestSocketMode_ASlackThatDoesNotAnswerHoldsStartUpBriefly(t *testing.T) {
	defer func(d time.Duration) { startWait = d }(startWait)
	startWait = 200 * time.Millisecond
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	reg := NewRegistry(ParseAllow("*", "*"), nil, nil)
	sm, err := NewSocketMode(reg, SocketModeOptions{AppToken: testAppToken, APIURL: srv.URL, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); sm.Wait() }()
	start := time.Now()
	if err := sm.Start(ctx); err != nil || time.Since(start) > 2*time.Second || sm.Connected() {
		t.Errorf("Start: %v after %s, connected %v", err, time.Since(start), sm.Connected())
	}
}

func TestEnvelopeLog_ForgetsAfterItsTime(t *testing.T) {
	l := newEnvelopeLog(time.Minute)
	t0 := time.Now()
	h, first := l.claim(t0, "envelope a", "trigger x")
	if !first {
		t.Fatal("new envelope not first")
	}
	h.finish(Reply{Text: "done"})
	if got, first := l.claim(t0.Add(30*time.Second), "envelope b", "trigger x"); first || got.wait(context.Background()).(Reply).Text != "done" {
		t.Error("same trigger in a new envelope not recognised")
	}
	if _, first := l.claim(t0.Add(2*time.Minute), "envelope a"); !first {
		t.Error("remembered past its time")
	}
	if len(l.byKey) != 1 || len(l.order) != 1 {
		t.Errorf("kept %d keys, %d in order", len(l.byKey), len(l.order))
	}
}
