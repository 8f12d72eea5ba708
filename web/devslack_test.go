package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"licensedesk/internal/browsertest"
	"licensedesk/mail"
	"licensedesk/postgres"
)

func TestMrkdwn_RendersSlackMarkupSafely(t *testing.T) {
	for in, want := range map[string]string{
		"<https://x.test/wf?a=1&amp;b=2|Open in Temporal>": `<a href="https://x.test/wf?a=1&amp;b=2">Open in Temporal</a>`,
		"*Move SEN-1* for <@U123>":                         `<b>Move SEN-1</b> for <span class="sl-mention">@U123</span>`,
		"a &lt;b&gt; &amp; _c_ ~d~ `e`":                    `a &lt;b&gt; &amp; <i>c</i> <s>d</s> <code>e</code>`,
		"<javascript:alert(1)|click>":                      `javascript:alert(1)|click`,
		"line\nnext":                                       `line<br>next`,
		`<https://x.test/"onmouseover="x|q>`:               `<a href="https://x.test/&#34;onmouseover=&#34;x">q</a>`,
	} {
		if got := mrkdwn(in); got != want {
			t.Errorf("mrkdwn(%q)\n got %s\nwant %s", in, got, want)
		}
	}
}

// TestDevSlack_RendersBlocksAndThreads (defect 9): /dev/slack shows what
// Slack would: sections, fields, context and buttons rendered, links as
// links (no raw <url|label>), readable times, replies under their message.
func TestDevSlack_RendersBlocksAndThreads(t *testing.T) {
	blocks, _ := json.Marshal([]map[string]any{
		{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*Move SEN-1000001 to zoe@new.test*"}},
		{"type": "section", "fields": []map[string]any{{"type": "mrkdwn", "text": "*Step*\n▶ A contact confirms by email"}}},
		{"type": "context", "elements": []map[string]any{{"type": "mrkdwn", "text": "<https://ui.test/wf|Open in Temporal> · started by <@U0TEST>"}}},
		{"type": "actions", "elements": []map[string]any{{"type": "button", "text": map[string]any{"type": "plain_text", "text": "Confirm"}, "style": "primary"}}},
	})
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	msgs := []postgres.KeptSlackMessage{ // newest first, as the store reads them
		{Channel: "C0BILLING", TS: "1764583300.000300", ThreadTS: "1764583200.000100", Text: "Reminder sent to alice@acme.test."},
		{Channel: "C0BILLING", TS: "1764583250.000200", Text: "unrelated <https://x.test|link>"},
		{Channel: "C0BILLING", TS: "1764583200.000100", Text: "fallback", Blocks: blocks, UpdatedAt: &now},
	}
	views := slackThreads(msgs)
	if len(views) != 2 || len(views[1].Replies) != 1 || views[1].At != "1 Dec 2025 10:00:00 UTC" {
		t.Fatalf("threads: %+v", views)
	}
	var buf strings.Builder
	if err := devTemplates.ExecuteTemplate(&buf, "dev_slack.html", page{Title: "Dev Slack", Data: devSlackPage{Threads: views}}); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	for _, want := range []string{"<b>Move SEN-1000001 to zoe@new.test</b>", `<a href="https://ui.test/wf">Open in Temporal</a>`, `@U0TEST`,
		`class="sl-button sl-primary"`, "edited 10:00:00 UTC", "1 reply", "Reminder sent to alice@acme.test.", `<a href="https://x.test">link</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, raw := range []string{"&lt;https://", "|Open in Temporal&gt;", "1764583200"} {
		if strings.Contains(body, raw) {
			t.Errorf("page shows raw %s", raw)
		}
	}
}

type fakeSinks struct {
	mail  []postgres.KeptMail
	msgs  []postgres.KeptSlackMessage
	views []postgres.KeptSlackView
}

func (f fakeSinks) KeptMail(context.Context, int) ([]postgres.KeptMail, error) { return f.mail, nil }
func (f fakeSinks) KeptSlackMessages(context.Context, int) ([]postgres.KeptSlackMessage, error) {
	return f.msgs, nil
}
func (f fakeSinks) KeptSlackViews(context.Context, int) ([]postgres.KeptSlackView, error) {
	return f.views, nil
}

// TestDevMail_ShowsTheHTMLMail (defect 9): /dev/mail shows each mail's HTML
// body as a mail program would, under the site's CSP, in Chromium.
func TestDevMail_ShowsTheHTMLMail(t *testing.T) {
	subject, text, html, err := mail.Render(mail.KindPasswordReset, mail.PasswordReset{URL: "https://desk.test/password/reset/x", Deadline: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	sinks := fakeSinks{mail: []postgres.KeptMail{{ID: 7, To: "bob@acme.test", Subject: subject, Text: text, HTML: html, SentAt: time.Now()}}}
	srv := httptest.NewServer(securityHeaders(Dev(sinks, slog.New(slog.DiscardHandler)), false))
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/dev/mail/7")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("the HTML mail alone: %v %v", res, err)
	}
	res.Body.Close()

	ctx := browsertest.Start(t, 1280, 900)
	browsertest.Step(t, ctx, "open /dev/mail", chromedp.Navigate(srv.URL+"/dev/mail"), chromedp.WaitVisible(chromedp.CSS(`iframe.mail-frame`)))
	browsertest.SaveScreenshot(t, ctx, "dev_mail_1280")
	// The framed mail is laid out (a blocked frame has no height of content).
	if h := browsertest.Box(t, ctx, `iframe.mail-frame`).Height; h < 300 {
		t.Errorf("mail frame is %v px high", h)
	}
	browsertest.Step(t, ctx, "open the HTML mail alone", chromedp.Navigate(srv.URL+"/dev/mail/7"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	if txt := browsertest.Value(t, ctx, "mail text", chromedp.Text(chromedp.CSS(`body`))); !strings.Contains(txt, "reset the password") {
		t.Errorf("the HTML mail alone says %q", txt)
	}
}

// /dev/slack shows the forms and App Home tabs dev kept: a form with its
// title, fields (what they hold, their options ticked or not, hints) and
// buttons; an App Home with whose it is.
func TestDevSlack_RendersFormsAndAppHome(t *testing.T) {
	modal := json.RawMessage(`{"type":"modal","title":{"type":"plain_text","text":"Move a licence"},
		"submit":{"type":"plain_text","text":"Start the move"},"close":{"type":"plain_text","text":"Close"},"blocks":[
		{"type":"input","block_id":"sen","label":{"type":"plain_text","text":"Licence"},"hint":{"type":"plain_text","text":"The licence's SEN."},
		 "element":{"type":"plain_text_input","action_id":"sen","initial_value":"SEN-1000002"}},
		{"type":"input","block_id":"roles","optional":true,"label":{"type":"plain_text","text":"Roles to move"},
		 "element":{"type":"checkboxes","action_id":"roles","options":[{"text":{"type":"plain_text","text":"Billing"},"value":"billing"},
		  {"text":{"type":"plain_text","text":"Technical"},"value":"technical"}],"initial_options":[{"text":{"type":"plain_text","text":"Billing"},"value":"billing"}]}},
		{"type":"input","block_id":"confirm_by","label":{"type":"plain_text","text":"Who confirms"},
		 "element":{"type":"static_select","action_id":"c","placeholder":{"type":"plain_text","text":"The primaries"},"options":[{"text":{"type":"plain_text","text":"dave@globex.test"},"value":"dave@globex.test"}]}}]}`)
	home := json.RawMessage(`{"type":"home","blocks":[{"type":"header","text":{"type":"plain_text","text":"Operations in flight"}},
		{"type":"actions","elements":[{"type":"button","action_id":"confirm:cancel","text":{"type":"plain_text","text":"Cancel…"},"style":"danger",
		 "confirm":{"title":{"type":"plain_text","text":"Cancel the move?"},"text":{"type":"mrkdwn","text":"x"},"confirm":{"type":"plain_text","text":"Cancel the move"}}}]}]}`)
	at := time.Date(2026, 12, 7, 19, 22, 0, 0, time.UTC)
	sinks := fakeSinks{views: []postgres.KeptSlackView{{ViewID: "V00000002", Kind: "home", UserID: "U0SALES", View: home, CreatedAt: at},
		{ViewID: "V00000001", Kind: "modal", View: modal, CreatedAt: at}}}
	srv := httptest.NewServer(securityHeaders(Dev(sinks, slog.New(slog.DiscardHandler)), false))
	t.Cleanup(srv.Close)
	for path, wants := range map[string][]string{
		"/dev/slack": {"Move a licence", `<div class="sl-field">SEN-1000002</div>`, "☑ Billing", "☐ Technical", "(optional)",
			"The primaries", `<span class="sl-button sl-primary">Start the move</span>`, "App Home of", "@U0SALES",
			`title="Asks first: Cancel the move?"`, "No messages yet."},
		"/dev/slack/views/V00000001": {"Move a licence"},
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, res, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range wants {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
		if path != "/dev/slack" && strings.Contains(string(body), "App Home of") {
			t.Errorf("%s shows more than its view", path)
		}
	}
	if res, _ := http.Get(srv.URL + "/dev/slack/views/V404"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown view: %d", res.StatusCode)
	}
}
