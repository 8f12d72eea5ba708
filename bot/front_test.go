package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/internal/slacktest"
	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/slackout"
)

// The front end as Slack meets it: a fake Slack Web API (views, users,
// response_urls) behind slackout.WebAPI, the HTTP endpoints signed as
// Slack signs them, and operations that remember what was done to them.

const frontTeam = "T0FRONT"

// fakeOps runs operations in memory: started ones wait on their customer
// until cancelled.
type fakeOps struct {
	mu        sync.Mutex
	ops       map[string]*operation.Status
	started   []operation.StartRequest
	cancelled []string
	resent    []string
	order     []string // newest last
}

func newFakeOps() *fakeOps { return &fakeOps{ops: map[string]*operation.Status{}} }

func (f *fakeOps) Start(_ context.Context, req operation.StartRequest) (operation.Started, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var id, summary string
	var waiting []string
	switch req.Kind {
	case operation.KindMove:
		id, summary, waiting = operation.MoveID(req.Move.SEN, req.Move.NewEmail), "Move "+string(req.Move.SEN)+" to "+string(req.Move.NewEmail), []string{"alice@acme.test"}
		req.SEN = req.Move.SEN
	case operation.KindContactAdd:
		id, summary, waiting = operation.ContactAddID(req.SEN, req.Role, req.Email), "Add "+string(req.Email), []string{string(req.Email)}
	case operation.KindContactRemove:
		id, summary = operation.ContactRemoveID(req.SEN, req.Role, req.Email), "Remove "+string(req.Email)
	default:
		id, summary = string(req.Kind)+"/"+string(req.SEN), string(req.Kind)
	}
	if st, ok := f.ops[id]; ok && !st.Done {
		return operation.Started{WorkflowID: id, RunID: "run-1", AlreadyRunning: true}, nil
	}
	f.started = append(f.started, req)
	f.ops[id] = &operation.Status{WorkflowID: id, RunID: "run-1", SEN: string(req.SEN), Summary: summary, StartedBy: "<@" + req.SlackUser + ">",
		Step: "confirm", WaitingOn: waiting, Deadline: time.Date(2026, 12, 21, 19, 22, 0, 0, time.UTC),
		Steps: []operation.Step{{Key: "confirm", Title: "A contact confirms by email", State: operation.Active}, {Key: "add", Title: "Add the new contact", State: operation.Pending}}}
	f.order = append(f.order, id)
	return operation.Started{WorkflowID: id, RunID: "run-1"}, nil
}

func (f *fakeOps) Status(_ context.Context, id string) (operation.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.ops[id]
	if !ok {
		return operation.Status{}, licensing.Errorf(licensing.NotFound, "No operation %s found.", id)
	}
	return *st, nil
}

func (f *fakeOps) Running(_ context.Context, sen licensing.SEN) ([]operation.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []operation.Status
	for _, id := range f.order {
		if st := f.ops[id]; st.SEN == string(sen) && !st.Done {
			out = append(out, *st)
		}
	}
	return out, nil
}

// Cancel asks, as the workflow is told; end finishes the undoing.
func (f *fakeOps) Cancel(_ context.Context, id, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancelled = append(f.cancelled, id)
	f.ops[id].CancelRequestedBy = by
	return nil
}

func (f *fakeOps) end(id string, outcome operation.Outcome, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.ops[id]
	st.Done, st.Outcome, st.Message, st.WaitingOn = true, outcome, msg, nil
	st.Steps[0].State = operation.Failed
	st.Steps[1].State = operation.Skipped
}

func (f *fakeOps) ChargeNow(context.Context, licensing.SEN, string) (string, error) {
	return "INV-1", nil
}

func (f *fakeOps) Resend(_ context.Context, id string, _ licensing.Email, _ string) ([]licensing.Email, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st, ok := f.ops[id]; !ok || st.Done { // as Temporal answers an update to a closed workflow
		return nil, licensing.Errorf(licensing.NotFound, "No running operation %s.", id)
	}
	for _, r := range f.resent {
		if r == id {
			return nil, licensing.Errorf(licensing.FailedPrecondition, "A fresh link went to alice@acme.test at 19:22 UTC; another can be sent from 19:32 UTC.")
		}
	}
	f.resent = append(f.resent, id)
	return []licensing.Email{"alice@acme.test"}, nil
}

func (f *fakeOps) URL(id, _ string) string { return "http://temporal.test/" + id }

func (f *fakeOps) InFlight(_ context.Context, q operation.InFlightQuery) ([]operation.Running, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []operation.Running
	for i := len(f.order) - 1; i >= 0; i-- {
		st := f.ops[f.order[i]]
		if !st.Done && (q.StartedBefore.IsZero() || frontStarted.Before(q.StartedBefore)) {
			out = append(out, operation.Running{WorkflowID: st.WorkflowID, SEN: st.SEN, StartedBy: st.StartedBy, StartedAt: frontStarted})
		}
	}
	return out, nil
}

func (f *fakeOps) starts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.started)
}

// frontStarted is when the fake's operations started: long enough ago to
// be waiting too long.
var frontStarted = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// frontNow is the clock of these tests.
var frontNow = time.Date(2026, 12, 7, 19, 22, 0, 0, time.UTC)

type webPeople struct{ api *slackout.WebAPI }

func (p webPeople) Person(ctx context.Context, id string) (Person, error) {
	u, err := p.api.User(ctx, id)
	return Person{ID: u.ID, DisplayName: u.DisplayName, Guest: u.Guest}, err
}

type front struct {
	slack     *slacktest.Server
	reg       *Registry
	ops       *fakeOps
	srv       *httptest.Server
	responses *responseURLs
	logs      *syncBuffer
	events    *slacktest.Events
}

// newFront serves the real commands: alice's licence SEN-1000001; U1 may
// act, U2 may only read, U3 is a guest.
func newFront(t *testing.T) *front {
	t.Helper()
	f := &front{slack: slacktest.NewServer(t), ops: newFakeOps(), responses: &responseURLs{}, logs: &syncBuffer{}}
	f.slack.Token = "xoxb-test"
	f.slack.SetClock(func() time.Time { return time.Now() })
	for _, u := range []slacktest.User{{ID: "U1", DisplayName: "Sam Sales"}, {ID: "U2", DisplayName: "Rita Reader"}, {ID: "U3", DisplayName: "Gus Guest", Restricted: true}} {
		f.slack.SetUser(u)
	}
	api := slackout.NewWebAPI("xoxb-test", f.slack.URL(), nil)
	logger := slog.New(slog.NewTextHandler(f.logs, nil))
	licenses := memLicenses{"SEN-1000001": cloudMonthly(), "SEN-2000001": server()}
	cmds := append([]Command{ShowCommand(licenses, nil, 0), HistoryCommand(licenses, &pageHistory{}, nil)}, OperationCommands(licenses, f.ops)...)
	f.reg = NewRegistry(ParseAllow("U2,U3", "U1"), nil, logger, cmds...)
	f.reg.Use(Front{Workspace: Workspace{TeamID: frontTeam}, People: NewPeopleCache(webPeople{api}, time.Hour, nil), Views: api,
		Home:        &Home{Ops: f.ops, URL: func(id string) string { return f.ops.URL(id, "") }, Now: func() time.Time { return frontNow }},
		MetadataKey: []byte("form-key"), Now: func() time.Time { return frontNow }})
	v := Verifier{Secret: []byte(testSecret), Logger: logger}
	mux := http.NewServeMux()
	mux.Handle("/slack/commands", v.Middleware(CommandsHandler(f.reg, logger)))
	mux.Handle("/slack/interactions", v.Middleware(InteractionsHandler(f.reg, f.responses, logger)))
	mux.Handle("/slack/events", v.Middleware(EventsHandler(f.reg, logger)))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.events = &slacktest.Events{URL: f.srv.URL + "/slack/events", Secret: testSecret, TeamID: frontTeam}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", f.logs)
		}
	})
	return f
}

// command sends text as user from team with a fresh trigger; the reply is
// nil when the answer was empty (a form opened).
func (f *front) command(t *testing.T, user, team, text string) *Reply {
	t.Helper()
	return f.commandWith(t, user, team, text, f.slack.Trigger())
}

func (f *front) commandWith(t *testing.T, user, team, text, trigger string) *Reply {
	t.Helper()
	body := url.Values{"command": {"/license"}, "text": {text}, "user_id": {user}, "team_id": {team}, "channel_id": {"C1"},
		"response_url": {f.slack.ResponseURL()}, "trigger_id": {trigger}}.Encode()
	ts, sig := Sign([]byte(testSecret), time.Now(), []byte(body))
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/slack/commands", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	return decodeAnswer(t, req)
}

// interact posts an interaction payload and returns the raw answer.
func (f *front) interact(t *testing.T, payload map[string]any) []byte {
	t.Helper()
	resp, err := http.DefaultClient.Do(slacktest.SignedForm(t, f.srv.URL+"/slack/interactions", testSecret, payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("interaction: %d %s", resp.StatusCode, b)
	}
	return b
}

// press presses b (from a message) as user and returns the reply sent to
// its response_url.
func (f *front) press(t *testing.T, user string, b *slack.ButtonBlockElement) Reply {
	t.Helper()
	rurl := f.slack.ResponseURL()
	f.interact(t, slacktest.Press(user, frontTeam, "C1", rurl, f.slack.Trigger(), b.ActionID, b.Value))
	return f.responses.waitFor(t, rurl, 3*time.Second)
}

func decodeAnswer(t *testing.T, req *http.Request) *Reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var r Reply
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return &r
}

func button(t *testing.T, r Reply, label string) *slack.ButtonBlockElement {
	t.Helper()
	for _, b := range Buttons(r) {
		if b.Text.Text == label {
			return b
		}
	}
	for _, blk := range r.Blocks {
		if s, ok := blk.(*slack.SectionBlock); ok && s.Accessory != nil && s.Accessory.ButtonElement != nil && s.Accessory.ButtonElement.Text.Text == label {
			return s.Accessory.ButtonElement
		}
	}
	t.Fatalf("no [%s] in\n%s", label, PlainText(r))
	return nil
}

func labels(r Reply) []string {
	var out []string
	for _, b := range Buttons(r) {
		out = append(out, b.Text.Text)
	}
	return out
}

// TestPrompts_ButtonsSayTheAction (review #4): the yes and no of every
// prompt name what they do; the no button does nothing and says which
// choice that was.
func TestPrompts_ButtonsSayTheAction(t *testing.T) {
	f := newFront(t)
	for text, want := range map[string][]string{
		"move SEN-1000001 zed@newco.test":                    {"Start the move", "Don't move"},
		"contact remove SEN-1000001 technical bob@acme.test": {"Remove bob@acme.test", "Keep"},
	} {
		r := f.command(t, "U1", frontTeam, text)
		if got := labels(*r); !slices.Equal(got, want) {
			t.Errorf("%q: buttons %v, want %v", text, got, want)
		}
	}
	move := f.command(t, "U1", frontTeam, "move SEN-1000001 zed@newco.test")
	kept := f.press(t, "U1", button(t, *move, "Don't move"))
	if kept.Text != "You chose “Don't move”: nothing was changed." || !kept.ReplaceOriginal || f.ops.starts() != 0 {
		t.Errorf("Don't move: %+v, %d starts", kept, f.ops.starts())
	}
	started := f.press(t, "U1", button(t, *move, "Start the move"))
	if !strings.Contains(started.Text, "Move of SEN-1000001 to zed@newco.test started") || f.ops.starts() != 1 {
		t.Fatalf("Start the move: %+v", started)
	}
	if f.ops.started[0].SlackUserName != "Sam Sales" {
		t.Errorf("the operation does not carry who asked by name: %+v", f.ops.started[0])
	}
	cancel := f.command(t, "U1", frontTeam, "cancel move/SEN-1000001/zed@newco.test")
	if got := labels(*cancel); !slices.Equal(got, []string{"Cancel the move", "Keep it running"}) {
		t.Errorf("cancel prompt: %v", got)
	}
}

// TestRepeat_SaysAlreadyRunningAtOnce (review #26): the same destructive
// command sent again while its operation runs says so before any prompt.
func TestRepeat_SaysAlreadyRunningAtOnce(t *testing.T) {
	f := newFront(t)
	first := f.command(t, "U1", frontTeam, "move SEN-1000001 zed@newco.test")
	f.press(t, "U1", button(t, *first, "Start the move"))
	again := f.command(t, "U1", frontTeam, "move SEN-1000001 zed@newco.test")
	text := PlainText(*again)
	if !strings.Contains(text, "already running (at: A contact confirms by email)") || strings.Contains(text, "Start the move") {
		t.Errorf("the second move:\n%s", text)
	}
	if got := labels(*again); !slices.Equal(got, []string{"Resend link", "Cancel…", "Show licence"}) {
		t.Errorf("buttons of the second move: %v", got)
	}
	if f.ops.starts() != 1 {
		t.Errorf("%d starts", f.ops.starts())
	}
}

// TestNextSteps_ButtonsGoThroughTheRegistry (review #5): status carries
// Resend link, Cancel… (with Block Kit's confirm dialog) and Show licence;
// each press is checked like the typed command; pressed twice, or after
// the end, it says what happened.
func TestNextSteps_ButtonsGoThroughTheRegistry(t *testing.T) {
	f := newFront(t)
	prompt := f.command(t, "U1", frontTeam, "move SEN-1000001 zed@newco.test")
	f.press(t, "U1", button(t, *prompt, "Start the move"))
	id := "move/SEN-1000001/zed@newco.test"
	status := f.command(t, "U2", frontTeam, "status "+id)
	if got := labels(*status); !slices.Equal(got, []string{"Resend link", "Cancel…", "Show licence"}) {
		t.Fatalf("status buttons: %v", got)
	}
	cancelBtn := button(t, *status, "Cancel…")
	if c := cancelBtn.Confirm; c == nil || c.Confirm.Text != "Cancel the move" || c.Deny.Text != "Keep it running" || c.Style != slack.StyleDanger {
		t.Errorf("Cancel… asks with %+v", cancelBtn.Confirm)
	}

	// Show licence is read class: a reader may; Resend and Cancel act.
	if show := f.press(t, "U2", button(t, *status, "Show licence")); !strings.Contains(PlainText(show), "SEN-1000001 · Jira Software") || show.ReplaceOriginal {
		t.Errorf("Show licence: %+v", show)
	}
	for _, label := range []string{"Resend link", "Cancel…"} {
		if r := f.press(t, "U2", button(t, *status, label)); !strings.Contains(r.Text, "needs act permission") {
			t.Errorf("%s pressed by a reader: %q", label, r.Text)
		}
	}
	if r := f.press(t, "U3", button(t, *status, "Show licence")); !strings.Contains(r.Text, "Guests of the workspace") {
		t.Errorf("Show licence pressed by a guest: %q", r.Text)
	}
	if len(f.ops.cancelled) != 0 || len(f.ops.resent) != 0 {
		t.Fatalf("refused presses acted: %v %v", f.ops.cancelled, f.ops.resent)
	}

	// Resend twice: the second says when the first went.
	if r := f.press(t, "U1", button(t, *status, "Resend link")); !strings.Contains(r.Text, "A fresh link went to alice@acme.test") {
		t.Errorf("Resend link: %q", r.Text)
	}
	if r := f.press(t, "U1", button(t, *status, "Resend link")); !strings.Contains(r.Text, "another can be sent from 19:32 UTC") {
		t.Errorf("Resend link again: %q", r.Text)
	}
	// Cancel, then Cancel again while it undoes, then after the end.
	if r := f.press(t, "U1", cancelBtn); !strings.Contains(r.Text, "Cancelling “Move SEN-1000001 to zed@newco.test”") || r.ReplaceOriginal {
		t.Errorf("Cancel: %+v", r)
	}
	if r := f.press(t, "U1", cancelBtn); !strings.Contains(r.Text, "<@U1> already asked to cancel") {
		t.Errorf("Cancel again: %q", r.Text)
	}
	f.ops.end(id, operation.Cancelled, "Cancelled by <@U1>.")
	for _, label := range []string{"Cancel…", "Resend link"} {
		if r := f.press(t, "U1", button(t, *status, label)); r.Text != "“Move SEN-1000001 to zed@newco.test” has already ended: cancelled. Cancelled by <@U1>." {
			t.Errorf("%s after the end: %q", label, r.Text)
		}
	}
	if len(f.ops.cancelled) != 1 || len(f.ops.resent) != 1 {
		t.Errorf("cancelled %v, resent %v; want each once", f.ops.cancelled, f.ops.resent)
	}
}

// TestShow_CarriesItsNextSteps: show has Move…, Add contact…, Send card
// links and History; a server licence, whose card nobody updates, no card
// button.
func TestShow_CarriesItsNextSteps(t *testing.T) {
	f := newFront(t)
	if got := labels(*f.command(t, "U2", frontTeam, "show SEN-1000001")); !slices.Equal(got, []string{"Move…", "Add contact…", "Send card links", "History"}) {
		t.Errorf("cloud: %v", got)
	}
	if got := labels(*f.command(t, "U2", frontTeam, "show SEN-2000001")); !slices.Equal(got, []string{"Move…", "Add contact…", "History"}) {
		t.Errorf("server: %v", got)
	}
}

// TestWorkspace_OthersAreRefusedAndLogged: a command, a button, a form and
// an event from another workspace change nothing, over HTTP.
func TestWorkspace_OthersAreRefusedAndLogged(t *testing.T) {
	f := newFront(t)
	r := f.command(t, "U1", "T0OTHER", "move SEN-1000001 zed@newco.test")
	if r == nil || r.Text != "This app serves one workspace only, so nothing was done." {
		t.Errorf("command from another workspace: %+v", r)
	}
	value := slackout.Invocation{Cmd: "move", Args: []string{"SEN-1000001", "zed@newco.test"}}.Value()
	body := f.interact(t, slacktest.Press("U1", "T0OTHER", "C1", f.slack.ResponseURL(), f.slack.Trigger(), "confirm", value))
	if !strings.Contains(string(body), "one workspace only") {
		t.Errorf("button from another workspace: %s", body)
	}
	d := f.events.DeliverOuter(t, slacktest.EventCallback("T0OTHER", "Ev1", slacktest.AppHomeOpened("U1")))
	time.Sleep(100 * time.Millisecond)
	if !d.OK() || len(f.slack.Views()) != 0 {
		t.Errorf("event from another workspace: %+v, %d views", d, len(f.slack.Views()))
	}
	if f.ops.starts() != 0 || len(f.responses.all()) != 0 {
		t.Errorf("%d starts, %d responses", f.ops.starts(), len(f.responses.all()))
	}
	if n := strings.Count(f.logs.String(), "slack request from another workspace refused"); n != 3 {
		t.Errorf("%d refusals logged, want 3:\n%s", n, f.logs)
	}
}

// openForm types /license <cmd> and returns the modal Slack holds.
func (f *front) openForm(t *testing.T, text string) slacktest.View {
	t.Helper()
	before := len(f.slack.Views())
	if r := f.command(t, "U1", frontTeam, text); r != nil {
		t.Fatalf("%q answered %q instead of opening a form", text, PlainText(*r))
	}
	views := f.slack.Views()
	if len(views) != before+1 || views[len(views)-1].Type != "modal" {
		t.Fatalf("views after %q: %+v", text, views)
	}
	return views[len(views)-1]
}

func (f *front) submit(t *testing.T, user string, v slacktest.View, state slacktest.FormState) map[string]any {
	t.Helper()
	var answer map[string]any
	if err := json.Unmarshal(f.interact(t, slacktest.Submission(user, frontTeam, v.Payload(), state)), &answer); err != nil {
		t.Fatal(err)
	}
	return answer
}

func moveState(sen, email string) slacktest.FormState {
	return slacktest.FormState{fieldSEN: {"sen": slacktest.Typed(sen)}, fieldNewEmail: {fieldNewEmail: slacktest.Typed(email)}}
}

// TestMoveForm_OpensFillsAndStarts (§2): /license move without arguments
// opens the form; Enter in the SEN offers that licence's people to confirm;
// a good submission starts the move through the same path as typing it.
func TestMoveForm_OpensFillsAndStarts(t *testing.T) {
	f := newFront(t)
	v := f.openForm(t, "move")
	golden(t, "form_move_empty.golden.json", indent(t, v.JSON))
	// Enter in the SEN field: views.update with the licence's people.
	state := moveState("SEN-1000001", "")
	f.interact(t, slacktest.Dispatched("U1", frontTeam, v.Payload(), fieldSEN, "sen", state))
	v = f.slack.Views()[0]
	golden(t, "form_move.golden.json", indent(t, v.JSON))
	if !strings.Contains(string(v.JSON), `"confirm_by_select"`) || !strings.Contains(string(v.JSON), "carol@acme.test (site admin)") {
		t.Fatalf("the form offers nobody to confirm:\n%s", v.JSON)
	}
	state = moveState("SEN-1000001", "zed@newco.test")
	state[fieldRoles] = map[string]any{"roles": slacktest.Ticked("billing")}
	state[fieldKeepOld] = map[string]any{"keep_old": slacktest.Ticked("keep")}
	state[fieldConfirmBy] = map[string]any{"confirm_by_select": slacktest.Picked("static_select", "carol@acme.test")}
	answer := f.submit(t, "U1", v, state)
	if answer["response_action"] != "update" || !strings.Contains(mustString(answer), "Move of SEN-1000001 to zed@newco.test started") {
		t.Fatalf("submission: %v", answer)
	}
	got := f.ops.started[0]
	if got.Move.NewEmail != "zed@newco.test" || !slices.Equal(got.Move.Roles, []licensing.Role{licensing.Billing}) || !got.Move.KeepOld ||
		got.Move.ConfirmBy != "carol@acme.test" || got.Channel != "C1" || got.SlackUser != "U1" || got.SlackUserName != "Sam Sales" {
		t.Errorf("started %+v", got)
	}
	// From a licence's Move… button, the form opens for that licence.
	show := f.command(t, "U1", frontTeam, "show SEN-1000001")
	f.interact(t, slacktest.Press("U1", frontTeam, "C1", f.slack.ResponseURL(), f.slack.Trigger(), button(t, *show, "Move…").ActionID, button(t, *show, "Move…").Value))
	views := f.slack.Views()
	if last := views[len(views)-1]; !strings.Contains(string(last.JSON), `"initial_value":"SEN-1000001"`) {
		t.Errorf("Move… opened %s", last.JSON)
	}
}

func mustString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func indent(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// TestForms_BadInputIsAnsweredInline (bad input): every field at fault gets
// its message next to it, and nothing starts.
func TestForms_BadInputIsAnsweredInline(t *testing.T) {
	f := newFront(t)
	v := f.openForm(t, "move SEN-1000001")
	for _, tc := range []struct {
		name  string
		state slacktest.FormState
		want  map[string]string
	}{
		{"bad SEN and email", moveState("SEN-12", "not-an-email"), map[string]string{fieldSEN: "is not a SEN", fieldNewEmail: "not-an-email"}},
		{"unknown licence", moveState("SEN-9999999", "zed@newco.test"), map[string]string{fieldSEN: "No licence SEN-9999999"}},
		{"the same address", moveState("SEN-1000001", "alice@acme.test"), map[string]string{fieldNewEmail: "same address"}},
		{"role not held", func() slacktest.FormState {
			s := moveState("SEN-1000001", "zed@newco.test")
			s[fieldRoles] = map[string]any{"roles": slacktest.Ticked("billing")}
			s[fieldConfirmBy] = map[string]any{"confirm_by_select": slacktest.Picked("static_select", "nobody@else.test")}
			return s
		}(), map[string]string{fieldConfirmBy: "nobody@else.test"}},
	} {
		answer := f.submit(t, "U1", v, tc.state)
		errs, _ := answer["errors"].(map[string]any)
		if answer["response_action"] != "errors" || len(errs) != len(tc.want) {
			t.Errorf("%s: %v", tc.name, answer)
			continue
		}
		for field, want := range tc.want {
			if msg, _ := errs[field].(string); !strings.Contains(msg, want) {
				t.Errorf("%s: %s says %q, want %q", tc.name, field, msg, want)
			}
		}
	}
	c := f.openForm(t, "contact add")
	golden(t, "form_contact_add.golden.json", indent(t, c.JSON))
	answer := f.submit(t, "U1", c, slacktest.FormState{fieldSEN: {"sen": slacktest.Typed("SEN-1000001")},
		fieldRole: {"role": slacktest.Picked("radio_buttons", "billing")}, fieldEmail: {fieldEmail: slacktest.Typed("alice@acme.test")}})
	if errs, _ := answer["errors"].(map[string]any); answer["response_action"] != "errors" || !strings.Contains(mustString(errs[fieldEmail]), "alice@acme.test") {
		t.Errorf("contact add of a contact: %v", answer)
	}
	if f.ops.starts() != 0 {
		t.Errorf("%d starts after bad input", f.ops.starts())
	}
}

// TestForms_ForgedOrForeignSubmissionsChangeNothing (bad input): a form
// submitted by someone it was not opened for, with its metadata changed,
// of a form we never open, or by someone outside the act class.
func TestForms_ForgedOrForeignSubmissionsChangeNothing(t *testing.T) {
	f := newFront(t)
	v := f.openForm(t, "move SEN-1000001")
	good := moveState("SEN-1000001", "zed@newco.test")
	if a := f.submit(t, "U2", v, good); !strings.Contains(mustString(a), "not opened for you") {
		t.Errorf("submitted by another user: %v", a)
	}
	forged := v
	p := v.Payload()
	p["private_metadata"] = `{"u":"U1","c":"C0ELSEWHERE","m":"x"}`
	forged.JSON, _ = json.Marshal(p)
	if a := f.submit(t, "U1", forged, good); !strings.Contains(mustString(a), "not opened for you") {
		t.Errorf("tampered metadata: %v", a)
	}
	unknown := v
	p = v.Payload()
	p["callback_id"] = "charge"
	unknown.JSON, _ = json.Marshal(p)
	if a := f.submit(t, "U1", unknown, good); !strings.Contains(mustString(a), "don't know this form") {
		t.Errorf("unknown form: %v", a)
	}
	// A reader given the form (its metadata made for them) is still refused.
	reader := v
	p = v.Payload()
	p["private_metadata"] = f.reg.signMeta("move", "U2", "C1")
	reader.JSON, _ = json.Marshal(p)
	if a := f.submit(t, "U2", reader, good); !strings.Contains(mustString(a), "needs act permission") {
		t.Errorf("a reader's submission: %v", a)
	}
	if f.ops.starts() != 0 {
		t.Errorf("%d starts", f.ops.starts())
	}
	if n := strings.Count(f.logs.String(), "slack form refused"); n != 3 {
		t.Errorf("%d forged forms logged, want 3", n)
	}
}

// TestForms_AStaleTriggerSaysSo (bad input): Slack opens a form only within
// 3 seconds of the click; past that, the reply says so and how to go on.
func TestForms_AStaleTriggerSaysSo(t *testing.T) {
	f := newFront(t)
	r := f.commandWith(t, "U1", frontTeam, "move", f.slack.TriggerIssuedAt(time.Now().Add(-4*time.Second)))
	if r == nil || !strings.Contains(r.Text, "3 seconds") || !strings.Contains(r.Text, "/license move &lt;SEN&gt;") {
		t.Errorf("stale trigger: %+v", r)
	}
	if len(f.slack.Views()) != 0 {
		t.Errorf("views: %+v", f.slack.Views())
	}
}

// TestHome_PublishedOnAppHomeOpened (§3): the event over HTTP (after the
// url_verification handshake) publishes the person's App Home: their
// operations first, those waiting over 3 days, each with its buttons.
func TestHome_PublishedOnAppHomeOpened(t *testing.T) {
	f := newFront(t)
	f.events.Verify(t)
	for _, text := range []string{"move SEN-1000001 zed@newco.test", "contact remove SEN-1000001 technical bob@acme.test"} {
		f.press(t, "U1", button(t, *f.command(t, "U1", frontTeam, text), labels(*f.command(t, "U1", frontTeam, text))[0]))
	}
	f.ops.mu.Lock()
	f.ops.ops["move/SEN-1000001/zed@newco.test"].StartedBy = "<@U9>" // someone else's
	f.ops.mu.Unlock()
	if d := f.events.Deliver(t, slacktest.AppHomeOpened("U1")); d.Attempts != 1 {
		t.Fatalf("delivery: %+v", d)
	}
	var home slacktest.View
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var ok bool
		if home, ok = f.slack.Home("U1"); ok {
			break
		}
	}
	if home.ID == "" {
		t.Fatal("no App Home published")
	}
	golden(t, "home.golden.json", indent(t, home.JSON))
	text := string(home.JSON)
	if strings.Index(text, "Remove bob@acme.test") > strings.Index(text, "Move SEN-1000001") || !strings.Contains(text, "*Yours*") {
		t.Errorf("the person's operations are not first:\n%s", text)
	}
	// A button on the App Home answers in a small modal and refreshes it.
	f.interact(t, slacktest.PressOnHome("U1", frontTeam, home.ID, f.slack.Trigger(), "run:show", slackout.Invocation{Cmd: "show", Args: []string{"SEN-1000001"}}.Value()))
	views := f.slack.Views()
	if last := views[len(views)-1]; last.Type != "modal" || !strings.Contains(string(last.JSON), "SEN-1000001 · Jira Software") {
		t.Errorf("the answer on the App Home: %+v", last)
	}
}

// TestEvents_RetriesRunOnce: Slack retries an event it thinks was lost;
// it is handled once.
func TestEvents_RetriesRunOnce(t *testing.T) {
	f := newFront(t)
	outer := slacktest.EventCallback(frontTeam, "EvSame", slacktest.AppHomeOpened("U1"))
	f.events.DeliverOuter(t, outer)
	f.events.DeliverOuter(t, outer)
	time.Sleep(200 * time.Millisecond)
	if n := len(f.slack.Views()); n != 1 {
		t.Errorf("%d views for one event", n)
	}
	if !strings.Contains(f.logs.String(), "slack event seen before") {
		t.Error("the retry is not logged")
	}
}

// Every view the bot builds passes Slack's limits (the fake checks them);
// a long list still fits the App Home's 100 blocks.
func TestHome_ManyOperationsFitSlacksLimits(t *testing.T) {
	f := newFront(t)
	for i := 0; i < 60; i++ {
		email := licensing.Email("p" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "@" + "n" + string(rune('a'+i/26)) + ".test")
		_, _ = f.ops.Start(context.Background(), operation.StartRequest{Kind: operation.KindContactAdd, SEN: "SEN-1000001", Role: licensing.Billing, Email: email, SlackUser: "U1"})
	}
	f.reg.publishHome(context.Background(), "U1")
	home, ok := f.slack.Home("U1")
	if !ok {
		t.Fatalf("not published:\n%s", f.logs)
	}
	var v struct{ Blocks []json.RawMessage }
	_ = json.Unmarshal(home.JSON, &v)
	if len(v.Blocks) > 100 || !strings.Contains(string(home.JSON), "more in flight") {
		t.Errorf("%d blocks", len(v.Blocks))
	}
}
