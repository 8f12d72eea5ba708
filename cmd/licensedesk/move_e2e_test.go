package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"licensedesk/bot"
	"licensedesk/payloadcodec"
	"licensedesk/temporalclient"
)

// keptMail is one entry of /dev/mail.json.
type keptMail struct {
	ID      int64    `json:"id"`
	To      string   `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	Links   []string `json:"links"`
}

// waitMail polls /dev/mail.json for a mail to someone whose subject
// contains want, and returns it.
func (s *stack) waitMail(t *testing.T, to, want string) keptMail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		_, body := s.get(t, "/dev/mail.json", "")
		var mails []keptMail
		if err := json.Unmarshal(body, &mails); err != nil {
			t.Fatalf("dev mail: %v: %s", err, body)
		}
		for _, m := range mails {
			if m.To == to && strings.Contains(m.Subject, want) {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no mail to %s about %q within 30 s", to, want)
	return keptMail{}
}

// slack sends a signed command and decodes the reply.
func (s *stack) slack(t *testing.T, text string) bot.Reply {
	t.Helper()
	code, body := s.command(t, s.state.SlackSigningSecret, text, time.Now())
	if code != http.StatusOK {
		t.Fatalf("%q: status %d %s", text, code, body)
	}
	var r bot.Reply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// press posts a signed interaction pressing the Confirm button of reply.
func (s *stack) press(t *testing.T, reply bot.Reply) bot.Reply {
	t.Helper()
	value, ok := bot.ConfirmValue(reply)
	if !ok {
		raw, _ := json.Marshal(reply.Blocks)
		t.Fatalf("no Confirm button in %s", raw)
	}
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]string{"id": "U0TEST"}, "channel": map[string]string{"id": "C0TEST"},
		"response_url": s.state.HTTPURL + "/dev/slack/response",
		"actions":      []map[string]string{{"type": "button", "block_id": "confirm", "action_id": "confirm", "value": value}},
	})
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	req, _ := http.NewRequest(http.MethodPost, s.state.HTTPURL+"/slack/interactions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ts, sig := bot.Sign([]byte(s.state.SlackSigningSecret), time.Now(), body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	code, resp := do(t, req)
	if code != http.StatusOK {
		t.Fatalf("interaction: %d %s", code, resp)
	}
	var r bot.Reply
	if err := json.Unmarshal(resp, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// follow opens an emailed link like a browser (GET, which must change
// nothing), then submits its form with the CSRF token and extra fields.
func follow(t *testing.T, link string, fields url.Values) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page := new(bytes.Buffer)
	_, _ = page.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", link, resp.StatusCode, page)
	}
	m := csrfField.FindStringSubmatch(page.String())
	if m == nil {
		t.Fatalf("no CSRF field on the page:\n%s", page)
	}
	form := url.Values{"csrf": {m[1]}}
	for k, v := range fields {
		form[k] = v
	}
	resp, err = c.PostForm(link, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := new(bytes.Buffer)
	_, _ = out.ReadFrom(resp.Body)
	return resp.StatusCode, out.String()
}

func (s *stack) license(t *testing.T, sen string) map[string]any {
	t.Helper()
	code, body := s.get(t, "/api/v1/licenses/"+sen, s.state.AdminAPIToken)
	if code != 200 {
		t.Fatalf("API: %d %s", code, body)
	}
	var l map[string]any
	_ = json.Unmarshal(body, &l)
	return l
}

func contactsOf(l map[string]any) string {
	var parts []string
	for _, c := range l["contacts"].([]any) {
		m := c.(map[string]any)
		p := fmt.Sprintf("%s/%s", m["email"], m["role"])
		if m["primary"] == true {
			p += "*"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

func TestDev_MoveLicenseEndToEnd(t *testing.T) {
	s := startDev(t)
	const newEmail = "new.owner@acme.test"

	// Bad input is refused before anything starts.
	for text, want := range map[string]string{
		"move SEN-1000001 bob@acme.test --roles technical":           "already a technical contact",
		"move SEN-1000001 x@acme.test --from nobody@acme.test":       "nobody@acme.test",
		"move SEN-1000001 x@acme.test --confirm-by nobody@acme.test": "nobody@acme.test",
		"move SEN-1000001 alice@acme.test":                           "same",
		"move SEN-1000001 not-an-email":                              `"not-an-email" is not an email address`,
		"move SEN-12 x@acme.test":                                    `"SEN-12" is not a SEN`,
		"move SEN-1000001 x@acme.test --roles sales":                 "sales",
		"move SEN-1000001 x@acme.test --bogus":                       "Unknown option",
	} {
		if got := bot.PlainText(s.slack(t, text)); !strings.Contains(got, want) || strings.Contains(got, "Confirm") {
			t.Errorf("%q → %q; want a refusal mentioning %q", text, got, want)
		}
	}

	// Sales asks; a confirmation with buttons comes first.
	prompt := s.slack(t, "move SEN-1000001 "+newEmail)
	if !strings.Contains(bot.PlainText(prompt), "[Start the move]") {
		t.Fatalf("no confirmation prompt: %s", bot.PlainText(prompt))
	}
	started := bot.PlainText(s.press(t, prompt))
	if !strings.Contains(started, "started") {
		t.Fatalf("after Confirm: %s", started)
	}
	// The same command again says at once that the move runs (no prompt).
	if again := bot.PlainText(s.slack(t, "move SEN-1000001 "+newEmail)); !strings.Contains(again, "already running") || strings.Contains(again, "[Start the move]") {
		t.Errorf("second start: %s", again)
	}

	// alice confirms by link.
	confirm := s.waitMail(t, "alice@acme.test", "Please confirm moving SEN-1000001")
	if len(confirm.Links) != 1 {
		t.Fatalf("confirmation mail links = %v", confirm.Links)
	}
	if code, page := follow(t, confirm.Links[0], url.Values{"decision": {"approve"}}); code != 200 || !strings.Contains(page, "You confirmed moving SEN-1000001 to "+newEmail) {
		t.Fatalf("approve: %d\n%s", code, page)
	}
	// A second click on the used link is refused.
	if code, _ := s.getURL(t, confirm.Links[0]); code != http.StatusGone {
		t.Errorf("used link: %d; want 410", code)
	}

	// The new person sets up their account and promotes themselves.
	promote := s.waitMail(t, newEmail, "Set up your account and take over SEN-1000001")
	code, page := follow(t, promote.Links[0], url.Values{"display_name": {"New Owner"},
		"password": {"a long enough passphrase here"}, "password_confirm": {"a long enough passphrase here"}})
	if code != 200 || !strings.Contains(page, "primary") {
		t.Fatalf("promote: %d\n%s", code, page)
	}

	// The move finishes: new primary in both roles, alice gone, bob stays.
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = contactsOf(s.license(t, "SEN-1000001")); got == "bob@acme.test/technical new.owner@acme.test/billing* new.owner@acme.test/technical*" ||
			got == "new.owner@acme.test/billing* new.owner@acme.test/technical* bob@acme.test/technical" {
			break
		}
	}
	if !strings.Contains(got, "new.owner@acme.test/billing*") || !strings.Contains(got, "new.owner@acme.test/technical*") || strings.Contains(got, "alice") {
		t.Fatalf("contacts after the move: %s", got)
	}
	s.waitMail(t, "alice@acme.test", "has moved to")
	s.waitMail(t, newEmail, "has moved to")

	var status string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if status = bot.PlainText(s.slack(t, "status move/SEN-1000001/"+newEmail)); strings.Contains(status, "completed") {
			break
		}
	}
	if !strings.Contains(status, "completed") || !strings.Contains(status, "new.owner@acme.test moved") && !strings.Contains(status, "moved to new.owner@acme.test") {
		t.Errorf("status: %s", status)
	}

	// Ops find it in Temporal by licence and by customer email.
	tc := s.temporalClient(t)
	for _, q := range []string{`LicenseSEN = "SEN-1000001"`, `CustomerEmails = "new.owner@acme.test"`, `Operation = "move"`} {
		var n int
		for deadline := time.Now().Add(10 * time.Second); n == 0 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			resp, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: q})
			if err != nil {
				t.Fatalf("visibility %s: %v", q, err)
			}
			n = len(resp.Executions)
		}
		if n == 0 {
			t.Errorf("visibility %s: no workflow found", q)
		}
	}

	recordHistory(t, tc, "move/SEN-1000001/"+newEmail, "move-completed")

	// One progress message, updated as steps completed, with details in its thread.
	_, body := s.get(t, "/dev/slack.json", "")
	var msgs []struct {
		Channel   string     `json:"channel"`
		ThreadTS  string     `json:"thread_ts"`
		Text      string     `json:"text"`
		UpdatedAt *time.Time `json:"updated_at"`
	}
	_ = json.Unmarshal(body, &msgs)
	var progress, thread int
	for _, m := range msgs {
		if m.Channel == "C0TEST" && m.ThreadTS == "" && strings.HasPrefix(m.Text, "Move SEN-1000001 to "+newEmail) {
			progress++
			if m.UpdatedAt == nil || !strings.Contains(m.Text, "completed") {
				t.Errorf("progress message not updated to the end: %+v", m)
			}
		}
		if m.ThreadTS != "" {
			thread++
		}
	}
	if progress != 1 || thread < 3 {
		t.Errorf("progress messages %d (want 1), thread notes %d (want several)", progress, thread)
	}

	// The history names, in order, the Slack user who asked (command and
	// Confirm), alice who approved by link, the Slack user's move adding
	// the new owner, the new owner promoting themselves, and the removal.
	hist := bot.PlainText(s.slack(t, "history SEN-1000001"))
	var order []int
	for _, want := range []string{
		"@U0TEST asked to move SEN-1000001 to " + newEmail + " (Slack)",
		"alice@acme.test approved moving SEN-1000001 to " + newEmail + " (emailed link)",
		"@U0TEST added " + newEmail + " as billing and technical contact (Slack)",
		newEmail + " became the primary billing and technical contact (alice@acme.test is now secondary) (emailed link)",
		"@U0TEST removed alice@acme.test as billing and technical contact (Slack)",
	} {
		i := strings.Index(hist, want)
		if i < 0 {
			t.Errorf("history lacks %q:\n%s", want, hist)
		}
		order = append(order, i)
	}
	if !sortedDesc(order) {
		t.Errorf("history not newest first in that order: %v\n%s", order, hist)
	}
	code, body = s.get(t, "/api/v1/licenses/SEN-1000001/history", s.state.AdminAPIToken)
	if code != http.StatusOK || !strings.Contains(string(body), `"via":"link","id":"alice@acme.test","email":"alice@acme.test"`) {
		t.Errorf("history API: %d %s", code, body)
	}
	if strings.Contains(string(body), "/l/") {
		t.Errorf("the history holds a link: %s", body)
	}
}

// sortedDesc reports whether positions decrease: newest first, so the
// first event of the story is found last.
func sortedDesc(pos []int) bool {
	for i := 1; i < len(pos); i++ {
		if pos[i] >= pos[i-1] {
			return false
		}
	}
	return true
}

func (s *stack) temporalAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", s.temporalPort)
}

// codecKeys are the keys dev encrypts payloads with: the environment's, or
// the ones it generated into its data dir.
func (s *stack) codecKeys() string {
	if k := s.env["TEMPORAL_CODEC_KEYS"]; k != "" {
		return k
	}
	return s.state.TemporalCodecKeys
}

// temporalClient is ops' view of the stack's Temporal server, dialled as
// the binary dials, with its payload codec (so results and queries read as
// the binary wrote them), and closed when the test ends.
func (s *stack) temporalClient(t *testing.T) client.Client {
	t.Helper()
	codec, err := payloadcodec.ParseKeys(s.codecKeys())
	if err != nil {
		t.Fatal(err)
	}
	opts, err := temporalclient.ClientOptions(temporalclient.DialOptions{Address: s.temporalAddr(t), Namespace: "default",
		Codec: codec, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := client.Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	return tc
}

func (s *stack) getURL(t *testing.T, u string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return do(t, req)
}
