package slacktest

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Block Kit's documented limits, checked on every message and view the
// fake receives, so a block Slack would refuse fails here too. Slack
// answers a view that breaks them with invalid_arguments and a message
// naming the place ([ERROR] … [json-pointer:/view/…]); messages get
// invalid_blocks.

// Slack's limits for views.
const (
	maxViewBlocks      = 100
	maxViewTitle       = 24 // title, submit and close
	maxPrivateMetadata = 3000
	maxCallbackID      = 255
	maxViewBytes       = 250 << 10
)

// surface is where blocks are shown: some blocks and limits differ.
type surface string

const (
	surfaceMessage surface = "message"
	surfaceModal   surface = "modal"
	surfaceHome    surface = "home"
)

// textObj is a composition text object.
type textObj struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type option struct {
	Text        *textObj `json:"text"`
	Value       string   `json:"value"`
	Description *textObj `json:"description"`
}

type confirmObj struct {
	Title   *textObj `json:"title"`
	Text    *textObj `json:"text"`
	Confirm *textObj `json:"confirm"`
	Deny    *textObj `json:"deny"`
}

// element is an interactive element or a context element.
type element struct {
	Type      string      `json:"type"`
	Text      any         `json:"text"` // a text object on buttons, a string on context text
	ActionID  string      `json:"action_id"`
	Value     string      `json:"value"`
	URL       string      `json:"url"`
	Confirm   *confirmObj `json:"confirm"`
	Options   []option    `json:"options"`
	MaxLength int         `json:"max_length"`
	Initial   string      `json:"initial_value"`
}

type block struct {
	Type      string            `json:"type"`
	BlockID   string            `json:"block_id"`
	Text      *textObj          `json:"text"`
	Fields    []textObj         `json:"fields"`
	Elements  []json.RawMessage `json:"elements"`
	Accessory *element          `json:"accessory"`
	Label     *textObj          `json:"label"`
	Hint      *textObj          `json:"hint"`
	Element   *element          `json:"element"`
}

// checkBlocks applies Block Kit's limits to blocks shown on s; it returns
// what Slack would say is wrong, or "".
func checkBlocks(raw json.RawMessage, s surface, at string) string {
	var blocks []json.RawMessage
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return fmt.Sprintf("[ERROR] must be an array of blocks [json-pointer:%s]", at)
	}
	ids := map[string]bool{}
	for i, rb := range blocks {
		var b block
		if err := json.Unmarshal(rb, &b); err != nil {
			return fmt.Sprintf("[ERROR] invalid block [json-pointer:%s/%d]", at, i)
		}
		p := fmt.Sprintf("%s/%d", at, i)
		if b.BlockID != "" {
			if ids[b.BlockID] {
				return fmt.Sprintf("[ERROR] duplicate block_id %q [json-pointer:%s/block_id]", b.BlockID, p)
			}
			ids[b.BlockID] = true
		}
		if msg := checkBlock(b, s, p); msg != "" {
			return msg
		}
	}
	return ""
}

func checkBlock(b block, s surface, p string) string {
	if utf8.RuneCountInString(b.BlockID) > 255 {
		return tooLong(p+"/block_id", 255)
	}
	switch b.Type {
	case "header":
		if b.Text == nil || b.Text.Type != "plain_text" {
			return fmt.Sprintf("[ERROR] must be a plain_text object [json-pointer:%s/text]", p)
		}
		return textLimit(b.Text, 150, p+"/text")
	case "section":
		if b.Text == nil && len(b.Fields) == 0 {
			return fmt.Sprintf("[ERROR] must provide text or fields [json-pointer:%s]", p)
		}
		if msg := textLimit(b.Text, 3000, p+"/text"); msg != "" {
			return msg
		}
		if len(b.Fields) > 10 {
			return fmt.Sprintf("[ERROR] must provide at most 10 items [json-pointer:%s/fields]", p)
		}
		for i := range b.Fields {
			if msg := textLimit(&b.Fields[i], 2000, fmt.Sprintf("%s/fields/%d", p, i)); msg != "" {
				return msg
			}
		}
		if b.Accessory != nil {
			return checkElement(*b.Accessory, p+"/accessory")
		}
	case "actions":
		if len(b.Elements) == 0 || len(b.Elements) > 25 {
			return fmt.Sprintf("[ERROR] must provide 1 to 25 elements [json-pointer:%s/elements]", p)
		}
		return checkElements(b.Elements, p)
	case "context":
		if len(b.Elements) == 0 || len(b.Elements) > 10 {
			return fmt.Sprintf("[ERROR] must provide 1 to 10 elements [json-pointer:%s/elements]", p)
		}
		for i, re := range b.Elements {
			var t textObj
			if json.Unmarshal(re, &t) == nil && (t.Type == "mrkdwn" || t.Type == "plain_text") {
				if msg := textLimit(&t, 3000, fmt.Sprintf("%s/elements/%d", p, i)); msg != "" {
					return msg
				}
			}
		}
	case "input":
		if b.Label == nil || b.Element == nil {
			return fmt.Sprintf("[ERROR] must provide label and element [json-pointer:%s]", p)
		}
		if msg := textLimit(b.Label, 2000, p+"/label"); msg != "" {
			return msg
		}
		if msg := textLimit(b.Hint, 2000, p+"/hint"); msg != "" {
			return msg
		}
		return checkElement(*b.Element, p+"/element")
	case "divider", "image", "rich_text", "video", "file":
	default:
		return fmt.Sprintf("[ERROR] unknown block type %q [json-pointer:%s/type]", b.Type, p)
	}
	return ""
}

func checkElements(raw []json.RawMessage, p string) string {
	ids := map[string]bool{}
	for i, re := range raw {
		var e element
		if err := json.Unmarshal(re, &e); err != nil {
			return fmt.Sprintf("[ERROR] invalid element [json-pointer:%s/elements/%d]", p, i)
		}
		if e.ActionID != "" {
			if ids[e.ActionID] {
				return fmt.Sprintf("[ERROR] duplicate action_id %q [json-pointer:%s/elements/%d/action_id]", e.ActionID, p, i)
			}
			ids[e.ActionID] = true
		}
		if msg := checkElement(e, fmt.Sprintf("%s/elements/%d", p, i)); msg != "" {
			return msg
		}
	}
	return ""
}

func checkElement(e element, p string) string {
	if utf8.RuneCountInString(e.ActionID) > 255 {
		return tooLong(p+"/action_id", 255)
	}
	switch e.Type {
	case "button":
		t, ok := asText(e.Text)
		if !ok || t.Type != "plain_text" {
			return fmt.Sprintf("[ERROR] must be a plain_text object [json-pointer:%s/text]", p)
		}
		if msg := textLimit(t, 75, p+"/text"); msg != "" {
			return msg
		}
		if utf8.RuneCountInString(e.Value) > 2000 {
			return tooLong(p+"/value", 2000)
		}
		if utf8.RuneCountInString(e.URL) > 3000 {
			return tooLong(p+"/url", 3000)
		}
	case "static_select":
		if len(e.Options) == 0 || len(e.Options) > 100 {
			return fmt.Sprintf("[ERROR] must provide 1 to 100 options [json-pointer:%s/options]", p)
		}
	case "checkboxes", "radio_buttons":
		if len(e.Options) == 0 || len(e.Options) > 10 {
			return fmt.Sprintf("[ERROR] must provide 1 to 10 options [json-pointer:%s/options]", p)
		}
	case "plain_text_input":
		if e.MaxLength > 3000 {
			return fmt.Sprintf("[ERROR] must be at most 3000 [json-pointer:%s/max_length]", p)
		}
		if e.MaxLength > 0 && utf8.RuneCountInString(e.Initial) > e.MaxLength {
			return tooLong(p+"/initial_value", e.MaxLength)
		}
	}
	for i, o := range e.Options {
		if msg := textLimit(o.Text, 75, fmt.Sprintf("%s/options/%d/text", p, i)); msg != "" {
			return msg
		}
		if utf8.RuneCountInString(o.Value) > 150 {
			return tooLong(fmt.Sprintf("%s/options/%d/value", p, i), 150)
		}
		if msg := textLimit(o.Description, 75, fmt.Sprintf("%s/options/%d/description", p, i)); msg != "" {
			return msg
		}
	}
	if c := e.Confirm; c != nil {
		for _, f := range []struct {
			t    *textObj
			max  int
			name string
		}{{c.Title, 100, "title"}, {c.Text, 300, "text"}, {c.Confirm, 30, "confirm"}, {c.Deny, 30, "deny"}} {
			if f.t == nil && f.name != "deny" {
				return fmt.Sprintf("[ERROR] must provide %s [json-pointer:%s/confirm/%s]", f.name, p, f.name)
			}
			if msg := textLimit(f.t, f.max, p+"/confirm/"+f.name); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func asText(v any) (*textObj, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	var t textObj
	if json.Unmarshal(b, &t) != nil || t.Type == "" {
		return nil, false
	}
	return &t, true
}

func textLimit(t *textObj, max int, p string) string {
	if t == nil {
		return ""
	}
	if t.Type != "plain_text" && t.Type != "mrkdwn" {
		return fmt.Sprintf("[ERROR] must be plain_text or mrkdwn [json-pointer:%s/type]", p)
	}
	if t.Text == "" {
		return fmt.Sprintf("[ERROR] must be at least 1 character [json-pointer:%s/text]", p)
	}
	if utf8.RuneCountInString(t.Text) > max {
		return tooLong(p+"/text", max)
	}
	return ""
}

func tooLong(p string, max int) string {
	return fmt.Sprintf("[ERROR] must be less than %d characters [json-pointer:%s]", max+1, p)
}
