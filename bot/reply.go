package bot

import (
	"encoding/json"
	"strings"

	"github.com/slack-go/slack"
)

// Reply is the answer to a slash command or a button, in the shape Slack
// expects (response_type, text, blocks).
type Reply struct {
	ResponseType string        `json:"response_type"` // slack.ResponseTypeEphemeral or slack.ResponseTypeInChannel
	Text         string        `json:"text"`          // fallback for notifications and clients without blocks
	Blocks       []slack.Block `json:"blocks,omitempty"`
	// ReplaceOriginal makes the reply replace the message that held the
	// pressed button, when it goes to a response_url.
	ReplaceOriginal bool `json:"replace_original,omitempty"`
	// Final marks a destructive command's reply that needs no buttons
	// (the operation already runs); never sent.
	Final bool `json:"-"`
	// Silent is no answer at all: a form opened instead (an empty
	// acknowledgement, which Slack shows as nothing).
	Silent bool `json:"-"`
}

// UnmarshalJSON lets clients (the licensedesk slack CLI, tests) read replies
// back: Block Kit blocks need slack.Blocks to pick their concrete types.
func (r *Reply) UnmarshalJSON(data []byte) error {
	var wire struct {
		ResponseType    string       `json:"response_type"`
		Text            string       `json:"text"`
		Blocks          slack.Blocks `json:"blocks"`
		ReplaceOriginal bool         `json:"replace_original"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	*r = Reply{ResponseType: wire.ResponseType, Text: wire.Text, Blocks: wire.Blocks.BlockSet, ReplaceOriginal: wire.ReplaceOriginal}
	return nil
}

// ephemeral is a text-only reply only the asker sees; text is mrkdwn.
func ephemeral(text string) Reply {
	return Reply{ResponseType: slack.ResponseTypeEphemeral, Text: text}
}

// PlainText renders a reply for a terminal: header, section text, fields as
// "Label: value" lines, context lines and buttons, blocks separated by blank
// lines; the fallback text when there are no blocks.
func PlainText(r Reply) string {
	if len(r.Blocks) == 0 {
		return strings.TrimRight(plainMrkdwn(r.Text), "\n") + "\n"
	}
	var parts []string
	for _, b := range r.Blocks {
		if s := plainBlock(b); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n") + "\n"
}

func plainBlock(b slack.Block) string {
	switch b := b.(type) {
	case *slack.HeaderBlock:
		return plainObject(b.Text)
	case *slack.SectionBlock:
		var lines []string
		if s := plainObject(b.Text); s != "" {
			lines = append(lines, s)
		}
		for _, f := range b.Fields {
			lines = append(lines, plainField(f))
		}
		return strings.Join(lines, "\n")
	case *slack.ContextBlock:
		var texts []string
		for _, e := range b.ContextElements.Elements {
			if t, ok := e.(*slack.TextBlockObject); ok {
				texts = append(texts, plainObject(t))
			}
		}
		return strings.Join(texts, " ")
	case *slack.ActionBlock:
		if b.Elements == nil {
			return ""
		}
		var buttons []string
		for _, e := range b.Elements.ElementSet {
			if btn, ok := e.(*slack.ButtonBlockElement); ok {
				buttons = append(buttons, "["+plainObject(btn.Text)+"]")
			}
		}
		return strings.Join(buttons, " ")
	case *slack.DividerBlock:
		return "---"
	}
	return ""
}

func plainObject(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	if t.Type == slack.MarkdownType {
		return plainMrkdwn(t.Text)
	}
	return t.Text
}

// plainField turns the "*Label*\nvalue" convention of our fields into
// "Label: value".
func plainField(t *slack.TextBlockObject) string {
	if t == nil {
		return ""
	}
	if t.Type == slack.MarkdownType {
		if label, value, ok := strings.Cut(t.Text, "\n"); ok && bold.MatchString(label) && bold.FindString(label) == label {
			return plainMrkdwn(label) + ": " + strings.ReplaceAll(plainMrkdwn(value), "\n", ", ")
		}
	}
	return plainObject(t)
}
