package bot

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/internal/slacktest"
)

// The same front end over Socket Mode: events_api envelopes publish the
// App Home, a form's submission is answered in its acknowledgement, and
// another workspace is refused there too.
func TestSocketMode_EventsFormsAndWorkspaceTakeTheOnePath(t *testing.T) {
	f := newFront(t)
	sock := slacktest.NewSocketMode(t, testAppToken)
	sm, err := NewSocketMode(f.reg, SocketModeOptions{AppToken: testAppToken, APIURL: sock.URL(), Respond: f.responses,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); sm.Wait() })
	if err := sm.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sock.WaitConnections(t, 1, 5*time.Second)

	// app_home_opened, twice (Slack's retry): published once.
	outer := slacktest.EventCallback(frontTeam, "EvSock1", slacktest.AppHomeOpened("U1"))
	for i, id := range []string{"e1", "e2"} {
		e := slacktest.EventsAPIEnvelope(id, outer)
		e.RetryAttempt = i
		if ack := sock.Deliver(t, e, 3*time.Second); string(ack) != "null" {
			t.Errorf("event acknowledged with %s", ack)
		}
	}
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, ok := f.slack.Home("U1"); ok {
			break
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(f.slack.Views()); n != 1 {
		t.Fatalf("%d views after the event and its retry, want the App Home once", n)
	}

	// A form opened over the socket, submitted with a bad email: the
	// acknowledgement carries the inline error, then a good one starts it.
	trigger := f.slack.Trigger()
	ack := sock.Deliver(t, slacktest.SlashCommandEnvelope("c1", slack.SlashCommand{UserID: "U1", TeamID: frontTeam, ChannelID: "C1",
		Text: "contact add SEN-1000001", TriggerID: trigger, ResponseURL: f.slack.ResponseURL()}), 3*time.Second)
	if string(ack) != "null" {
		t.Fatalf("the command that opens a form acknowledged with %s", ack)
	}
	views := f.slack.Views()
	form := views[len(views)-1]
	state := slacktest.FormState{fieldSEN: {"sen": slacktest.Typed("SEN-1000001")}, fieldRole: {"role": slacktest.Picked("radio_buttons", "billing")},
		fieldEmail: {fieldEmail: slacktest.Typed("nina@")}}
	ack = sock.Deliver(t, slacktest.InteractiveEnvelope("s1", slacktest.Submission("U1", frontTeam, form.Payload(), state)), 3*time.Second)
	var answer map[string]any
	_ = json.Unmarshal(ack, &answer)
	if answer["response_action"] != "errors" || !strings.Contains(mustString(answer["errors"]), fieldEmail) {
		t.Errorf("bad email over the socket: %s", ack)
	}
	state[fieldEmail] = map[string]any{fieldEmail: slacktest.Typed("nina@acme.test")}
	ack = sock.Deliver(t, slacktest.InteractiveEnvelope("s2", slacktest.Submission("U1", frontTeam, form.Payload(), state)), 3*time.Second)
	if !strings.Contains(string(ack), "Adding nina@acme.test as billing contact of SEN-1000001 started") || f.ops.starts() != 1 {
		t.Errorf("good submission over the socket: %s", ack)
	}

	// Another workspace: refused in the acknowledgement, nothing started.
	ack = sock.Deliver(t, slacktest.SlashCommandEnvelope("c2", slack.SlashCommand{UserID: "U1", TeamID: "T0OTHER", ChannelID: "C1",
		Text: "contact add SEN-1000001 billing eve@acme.test", TriggerID: f.slack.Trigger()}), 3*time.Second)
	if !strings.Contains(string(ack), "one workspace only") || f.ops.starts() != 1 {
		t.Errorf("another workspace over the socket: %s", ack)
	}
}
