package postgres_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"licensedesk/licensing"
	"licensedesk/slackout"
)

var slackTS = regexp.MustCompile(`^\d{10}\.\d{6}$`)

func TestDevSink_KeepsPostsAndUpdatesNewestFirst(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	sink := slackout.NewDevSink(db)
	progress := slackout.Message{Channel: "C0ALERTS", Text: "Moving SEN-1000001…",
		Blocks: []slack.Block{slack.NewDividerBlock()}}
	ts, err := sink.Post(ctx, progress)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := sink.Post(ctx, slackout.Message{Channel: "C0ALERTS", ThreadTS: ts, Text: "details"})
	if err != nil {
		t.Fatal(err)
	}
	if !slackTS.MatchString(ts) || !slackTS.MatchString(reply) || ts == reply {
		t.Fatalf("ts = %q, %q; want distinct Slack-shaped values", ts, reply)
	}
	if err := sink.Update(ctx, "C0ALERTS", ts, slackout.Message{Text: "Moved SEN-1000001"}); err != nil {
		t.Fatal(err)
	}
	if err := sink.Respond(ctx, "http://127.0.0.1:8080/dev/slack/response", slackout.Message{Text: "Started."}); err != nil {
		t.Fatal(err)
	}

	kept, err := db.KeptSlackMessages(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 3 {
		t.Fatalf("kept %d messages: %+v", len(kept), kept)
	}
	if m := kept[0]; m.Channel != slackout.ResponseURLChannel || m.Text != "Started." || m.UpdatedAt != nil {
		t.Errorf("newest = %+v", m)
	}
	if m := kept[1]; m.TS != reply || m.ThreadTS != ts || m.Text != "details" || string(m.Blocks) != "[]" {
		t.Errorf("reply = %+v", m)
	}
	if m := kept[2]; m.TS != ts || m.ThreadTS != "" || m.Text != "Moved SEN-1000001" || string(m.Blocks) != "[]" || m.UpdatedAt == nil {
		t.Errorf("updated progress message = %+v", m)
	}
}

func TestDevSink_KeepsBlocksAsJSON(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	_, err := slackout.NewDevSink(db).Post(ctx, slackout.Message{Channel: "C0ALERTS", Text: "fallback",
		Blocks: []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*bold*", false, false), nil, nil)}})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := db.KeptSlackMessages(ctx, 1)
	if err != nil || len(kept) != 1 || !strings.Contains(string(kept[0].Blocks), `"text": "*bold*"`) {
		t.Fatalf("kept = %+v, %v", kept, err)
	}
}

func TestDevSink_UpdateOfUnknownMessageFailsLikeSlack(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	if err := db.UpdateSlackMessage(ctx, "C0ALERTS", "1700000000.000001", "x", nil); licensing.ErrorCode(err) != licensing.NotFound {
		t.Fatalf("db err = %v; want NotFound", err)
	}
	ts, err := db.KeepSlackMessage(ctx, "C0ALERTS", "", "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = slackout.NewDevSink(db).Update(ctx, "C0OTHER", ts, slackout.Message{Text: "y"})
	if !slackout.IsPermanent(err) || !strings.Contains(err.Error(), "message_not_found") {
		t.Fatalf("sink err = %v; want permanent message_not_found", err)
	}
}
