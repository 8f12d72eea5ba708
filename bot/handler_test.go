package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
)

const testSecret = "test-signing-secret"

// memLicenses is an in-memory LicenseReader.
type memLicenses map[licensing.SEN]licensing.License

func (m memLicenses) License(_ context.Context, sen licensing.SEN) (licensing.License, error) {
	l, ok := m[sen]
	if !ok {
		return licensing.License{}, licensing.Errorf(licensing.NotFound, "No licence %s found.", sen)
	}
	return l, nil
}

// syncBuffer collects logs written from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	srv  *httptest.Server
	now  time.Time
	logs *syncBuffer
}

// contactAddCommand stands in for the real act command: it validates like
// the real one will and echoes what it understood.
func contactAddCommand() Command {
	return Command{
		Name: "contact add", Args: "<SEN> <billing|technical> <email>",
		Summary: "Add a contact.", Class: Act, MinArgs: 3, MaxArgs: 3,
		Run: func(ctx context.Context, req Request) (Reply, error) {
			sen, err := licensing.ParseSEN(req.Args[0])
			if err != nil {
				return Reply{}, err
			}
			role, err := licensing.ParseRole(req.Args[1])
			if err != nil {
				return Reply{}, err
			}
			email, err := licensing.ParseEmail(req.Args[2])
			if err != nil {
				return Reply{}, err
			}
			return ephemeral("would add " + string(email) + " as " + string(role) + " contact of " + string(sen)), nil
		},
	}
}

func contactRemoveCommand() Command {
	return Command{
		Name: "contact remove", Args: "<SEN> <billing|technical> <email>",
		Summary: "Remove a secondary contact.", Class: Act, Destructive: true, MinArgs: 3, MaxArgs: 3,
		Verbs:   func(req Request) (string, string) { return "Remove " + req.Args[2], "Keep" },
		Run:     func(context.Context, Request) (Reply, error) { return ephemeral("remove?"), nil },
		Confirm: func(context.Context, Request) (Reply, error) { return ephemeral("removed"), nil },
	}
}

func newHarness(t *testing.T, allow Allow, extra ...Command) *harness {
	t.Helper()
	h := &harness{now: time.Unix(1_767_225_600, 0), logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(h.logs, nil))
	cmds := append([]Command{
		ShowCommand(memLicenses{"SEN-1000001": cloudMonthly(), "SEN-2000001": server()}, nil, 0),
		contactAddCommand(),
		contactRemoveCommand(),
	}, extra...)
	reg := NewRegistry(allow, nil, logger, cmds...)
	v := Verifier{Secret: []byte(testSecret), Now: func() time.Time { return h.now }, Logger: logger}

	mux := http.NewServeMux()
	mux.Handle("/slack/commands", v.Middleware(CommandsHandler(reg, logger)))
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// post sends text as user, signed the way Slack signs it, and returns the
// HTTP response with its body.
func (h *harness) post(t *testing.T, user, text string) (*http.Response, []byte) {
	t.Helper()
	form := url.Values{
		"command": {"/license"}, "text": {text}, "user_id": {user}, "user_name": {"someone"},
		"channel_id": {"C1"}, "team_id": {"T1"}, "response_url": {"https://hooks.slack.test/commands/1"},
		"trigger_id": {"trig.1"},
	}
	body := form.Encode()
	ts, sig := Sign([]byte(testSecret), h.now, []byte(body))
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/slack/commands", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp, buf.Bytes()
}

// command posts text and decodes the reply, failing unless it is a 200 JSON
// answer.
func (h *harness) command(t *testing.T, user, text string) Reply {
	t.Helper()
	resp, body := h.post(t, user, text)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var reply Reply
	if err := json.Unmarshal(body, &reply); err != nil {
		t.Fatalf("reply is not JSON: %v\n%s", err, body)
	}
	return reply
}

var everyone = ParseAllow("*", "*")

func TestCommands_ShowRendersTheLicence(t *testing.T) {
	h := newHarness(t, everyone)
	resp, body := h.post(t, "U1", "show sen-1000001")
	var wire map[string]json.RawMessage
	if err := json.Unmarshal(body, &wire); err != nil {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	for _, key := range []string{"response_type", "text", "blocks"} {
		if _, ok := wire[key]; !ok {
			t.Errorf("reply has no %q: %s", key, body)
		}
	}

	reply := h.command(t, "U1", "SHOW  sen-1000001 ")
	if reply.ResponseType != slack.ResponseTypeEphemeral {
		t.Errorf("response_type = %q", reply.ResponseType)
	}
	if len(reply.Blocks) != len(LicenseBlocks(cloudMonthly(), nil, showNow))+1 {
		t.Errorf("got %d blocks", len(reply.Blocks))
	}
	text := PlainText(reply)
	for _, want := range []string{"SEN-1000001 · Jira Software", "Price: USD 10.00 per month", "Card: visa •••• 4242, exp 12/2030"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
}

// wantEphemeral fails unless reply is ephemeral and its terminal text has
// every one of wants.
func wantEphemeral(t *testing.T, reply Reply, wants ...string) {
	t.Helper()
	if reply.ResponseType != slack.ResponseTypeEphemeral {
		t.Errorf("response_type = %q, want ephemeral", reply.ResponseType)
	}
	text := PlainText(reply)
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
}

func TestCommands_BadInputGetsTheUsageLine(t *testing.T) {
	h := newHarness(t, everyone)
	tests := []struct {
		name, text string
		wants      []string
	}{
		{"SEN too short", "show SEN-12", []string{`"SEN-12" is not a SEN`, "Usage: /license show <SEN>"}},
		{"missing argument", "show", []string{"/license show needs more arguments", "Usage: /license show <SEN>"}},
		{"extra argument", "show SEN-1000001 SEN-2000001", []string{"/license show got more arguments than it takes", "Usage: /license show <SEN>"}},
		{"unknown subcommand", "frobnicate SEN-1000001", []string{"I don't know /license frobnicate", "/license show <SEN>", "/license help [subcommand]"}},
		{"unknown subcommand of a group", "contact list SEN-1000001", []string{"I don't know /license contact list", "/license contact add <SEN> <billing|technical> <email>", "/license contact remove"}},
		{"group without its subcommand", "contact", []string{"/license contact needs a subcommand", "/license contact add <SEN> <billing|technical> <email>"}},
		{"bad role", "contact add SEN-1000001 sales a@b.test", []string{"Usage: /license contact add <SEN> <billing|technical> <email>"}},
		{"bad email", "contact add SEN-1000001 billing not-an-email", []string{"Usage: /license contact add"}},
		{"help for nothing", "help frobnicate", []string{"There is no subcommand frobnicate.", "Usage: /license help [subcommand]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantEphemeral(t, h.command(t, "U1", tt.text), tt.wants...)
		})
	}
}

func TestCommands_UnknownLicenceSaysSo(t *testing.T) {
	h := newHarness(t, everyone)
	reply := h.command(t, "U1", "show SEN-9999999")
	wantEphemeral(t, reply, "No licence SEN-9999999 found.")
	if strings.Contains(PlainText(reply), "Usage") {
		t.Errorf("a well-formed SEN that is unknown is not a usage error:\n%s", PlainText(reply))
	}
}

func TestCommands_RefusesUsersNotAllowed(t *testing.T) {
	h := newHarness(t, ParseAllow("U_READER", "U_ACTOR"))

	wantEphemeral(t, h.command(t, "U_STRANGER", "show SEN-1000001"),
		"You are not allowed to run /license show: it needs read permission. Ask the admin who runs licensedesk to grant it.")
	wantEphemeral(t, h.command(t, "U_READER", "contact add SEN-1000001 billing <mailto:secret@acme.test|secret@acme.test>"),
		"You are not allowed to run /license contact add: it needs act permission. Ask the admin who runs licensedesk to grant it.")
	wantEphemeral(t, h.command(t, "U_READER", "show SEN-1000001"), "SEN-1000001 · Jira Software")
	wantEphemeral(t, h.command(t, "U_ACTOR", "show SEN-1000001"), "SEN-1000001 · Jira Software")

	logs := h.logs.String()
	for _, want := range []string{"user=U_STRANGER command=show", "user=U_READER command=\"contact add\""} {
		if !strings.Contains(logs, want) {
			t.Errorf("refusal not logged as %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "secret@acme.test") {
		t.Errorf("logs carry the command's arguments:\n%s", logs)
	}
}

func TestCommands_UnwrapsSlackMailtoLinks(t *testing.T) {
	h := newHarness(t, everyone)
	reply := h.command(t, "U1", "contact add SEN-1000001 technical <mailto:New.Person@Acme.test|New.Person@Acme.test>")
	wantEphemeral(t, reply, "would add new.person@acme.test as technical contact of SEN-1000001")
}

func TestCommands_HelpListsEveryRegisteredCommand(t *testing.T) {
	h := newHarness(t, everyone)
	for _, text := range []string{"help", ""} {
		text := PlainText(h.command(t, "U1", text))
		for _, c := range []Command{ShowCommand(nil, nil, 0), contactAddCommand(), contactRemoveCommand(), {Name: "help", Args: "[subcommand]"}} {
			if !strings.Contains(text, c.Usage()) {
				t.Errorf("help lacks %q:\n%s", c.Usage(), text)
			}
		}
		if !strings.Contains(text, "Remove a secondary contact. (asks for confirmation)") {
			t.Errorf("help does not flag the destructive command:\n%s", text)
		}
	}

	wantEphemeral(t, h.command(t, "U1", "help contact add"),
		"/license contact add <SEN> <billing|technical> <email>", "Add a contact.", "Needs act permission.")
	group := PlainText(h.command(t, "U1", "help contact"))
	if !strings.Contains(group, "/license contact add") || !strings.Contains(group, "/license contact remove") || strings.Contains(group, "/license show") {
		t.Errorf("help contact should list exactly the contact commands:\n%s", group)
	}
}

func TestCommands_FailuresAreExplainedWithoutInternals(t *testing.T) {
	h := newHarness(t, everyone,
		Command{Name: "boom", Summary: "Fails.", Class: Read, Run: func(context.Context, Request) (Reply, error) {
			return Reply{}, errors.New("pq: connection refused to 10.0.0.7")
		}},
		Command{Name: "panic", Summary: "Panics.", Class: Read, Run: func(context.Context, Request) (Reply, error) {
			panic("nil map")
		}},
		Command{Name: "busy", Summary: "Conflicts.", Class: Act, Run: func(context.Context, Request) (Reply, error) {
			return Reply{}, licensing.Errorf(licensing.Conflict, "A move of SEN-1000001 is already running.")
		}},
	)
	for _, text := range []string{"boom", "panic"} {
		reply := h.command(t, "U1", text)
		wantEphemeral(t, reply, licensing.ErrorMessage(errors.New("")))
		if strings.Contains(PlainText(reply), "10.0.0.7") || strings.Contains(PlainText(reply), "nil map") {
			t.Errorf("internals shown to the user: %s", PlainText(reply))
		}
	}
	if logs := h.logs.String(); !strings.Contains(logs, "10.0.0.7") || !strings.Contains(logs, "nil map") {
		t.Errorf("internal failures not logged:\n%s", logs)
	}
	reply := h.command(t, "U1", "busy")
	wantEphemeral(t, reply, "A move of SEN-1000001 is already running.")
	if strings.Contains(PlainText(reply), "Usage") {
		t.Errorf("a conflict is not a usage error: %s", PlainText(reply))
	}
}

func TestCommands_AnswersWithinTheDeadline(t *testing.T) {
	defer func(d time.Duration) { commandDeadline = d }(commandDeadline)
	commandDeadline = 50 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	h := newHarness(t, everyone,
		Command{Name: "slow", Summary: "Ignores its context.", Class: Read, Run: func(context.Context, Request) (Reply, error) {
			<-release
			return ephemeral("late"), nil
		}},
		Command{Name: "polite", Summary: "Honours its context.", Class: Read, Run: func(ctx context.Context, _ Request) (Reply, error) {
			<-ctx.Done()
			return Reply{}, ctx.Err()
		}},
	)
	for _, text := range []string{"slow", "polite"} {
		start := time.Now()
		reply := h.command(t, "U1", text)
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("%s: answered after %v", text, elapsed)
		}
		wantEphemeral(t, reply, "longer than Slack waits for")
	}
}

func TestCommands_UnsignedRequestIs401(t *testing.T) {
	h := newHarness(t, everyone)
	resp, err := http.PostForm(h.srv.URL+"/slack/commands", url.Values{"text": {"show SEN-1000001"}, "user_id": {"U1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401", resp.StatusCode)
	}
}

func TestCommandsHandler_OnlyPost(t *testing.T) {
	reg := NewRegistry(everyone, nil, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	CommandsHandler(reg, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/slack/commands", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
		t.Fatalf("status %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestNewRegistry_RejectsMalformedCommands(t *testing.T) {
	noop := func(context.Context, Request) (Reply, error) { return Reply{}, nil }
	tests := map[string][]Command{
		"no class":          {{Name: "x", Run: noop}},
		"no run":            {{Name: "x", Class: Read}},
		"no name":           {{Class: Read, Run: noop}},
		"duplicate":         {{Name: "x", Class: Read, Run: noop}, {Name: "X", Class: Act, Run: noop}},
		"help redefined":    {{Name: "help", Class: Read, Run: noop}},
		"max below min":     {{Name: "x", Class: Read, Run: noop, MinArgs: 2, MaxArgs: 1}},
		"negative min args": {{Name: "x", Class: Read, Run: noop, MinArgs: -1}},
	}
	for name, cmds := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("NewRegistry accepted it")
				}
			}()
			NewRegistry(everyone, nil, slog.New(slog.DiscardHandler), cmds...)
		})
	}
}
