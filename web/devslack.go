package web

import (
	"encoding/json"
	"html"
	"html/template"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"licensedesk/postgres"
)

// /dev/slack shows kept messages roughly as Slack would: Block Kit
// sections, fields, context and buttons rendered, mrkdwn links and
// emphasis applied, times readable, and thread replies under their parent.

// slackView is one message as /dev/slack shows it.
type slackView struct {
	Channel string
	At      string // when it was posted, from its ts
	Updated string // when it was last edited; empty if never
	Body    template.HTML
	Replies []slackView
}

// slackThreads orders messages as a channel shows them: newest thread
// first, each followed by its replies, oldest first.
func slackThreads(msgs []postgres.KeptSlackMessage) []slackView {
	var tops []slackView
	index := map[string]int{}
	// msgs are newest first; parents come after their replies.
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		v := slackView{Channel: m.Channel, At: slackTime(m.TS), Body: slackBody(m.Blocks, m.Text)}
		if m.UpdatedAt != nil {
			v.Updated = m.UpdatedAt.UTC().Format("15:04:05 UTC")
		}
		if p, ok := index[m.ThreadTS]; ok && m.ThreadTS != "" && m.ThreadTS != m.TS {
			tops[p].Replies = append(tops[p].Replies, v)
			continue
		}
		index[m.TS] = len(tops)
		tops = append(tops, v)
	}
	slices.Reverse(tops)
	return tops
}

// slackTime reads a Slack ts ("1700000000.000100", seconds since 1970).
func slackTime(ts string) string {
	sec, _, _ := strings.Cut(ts, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n <= 0 {
		return ts
	}
	return time.Unix(n, 0).UTC().Format("2 Jan 2006 15:04:05 UTC")
}

// block is the part of Block Kit /dev/slack renders.
type block struct {
	Type      string    `json:"type"`
	Text      *textObj  `json:"text"`
	Fields    []textObj `json:"fields"`
	Elements  []element `json:"elements"`
	Accessory *element  `json:"accessory"`
	// Input blocks (forms).
	Label    *textObj `json:"label"`
	Hint     *textObj `json:"hint"`
	Element  *element `json:"element"`
	Optional bool     `json:"optional"`
}

type textObj struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type element struct {
	Type  string   `json:"type"`
	Text  *textObj `json:"text"` // buttons
	URL   string   `json:"url"`
	Style string   `json:"style"`
	// Context elements are text objects themselves.
	TextValue string `json:"-"`
	// Form elements.
	Placeholder    *textObj    `json:"placeholder"`
	InitialValue   string      `json:"initial_value"`
	Options        []optionObj `json:"options"`
	InitialOption  *optionObj  `json:"initial_option"`
	InitialOptions []optionObj `json:"initial_options"`
	Confirm        *struct {
		Title *textObj `json:"title"`
	} `json:"confirm"`
}

type optionObj struct {
	Text        textObj  `json:"text"`
	Value       string   `json:"value"`
	Description *textObj `json:"description"`
}

func (e *element) UnmarshalJSON(b []byte) error {
	var raw struct {
		Type           string          `json:"type"`
		Text           json.RawMessage `json:"text"`
		URL            string          `json:"url"`
		Style          string          `json:"style"`
		Placeholder    *textObj        `json:"placeholder"`
		InitialValue   string          `json:"initial_value"`
		Options        []optionObj     `json:"options"`
		InitialOption  *optionObj      `json:"initial_option"`
		InitialOptions []optionObj     `json:"initial_options"`
		Confirm        *struct {
			Title *textObj `json:"title"`
		} `json:"confirm"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	e.Type, e.URL, e.Style = raw.Type, raw.URL, raw.Style
	e.Placeholder, e.InitialValue, e.Options, e.InitialOption, e.InitialOptions, e.Confirm =
		raw.Placeholder, raw.InitialValue, raw.Options, raw.InitialOption, raw.InitialOptions, raw.Confirm
	if raw.Type == "mrkdwn" || raw.Type == "plain_text" {
		var s string
		_ = json.Unmarshal(raw.Text, &s)
		e.TextValue = s
		return nil
	}
	if len(raw.Text) > 0 {
		var t textObj
		if json.Unmarshal(raw.Text, &t) == nil {
			e.Text = &t
		}
	}
	return nil
}

// slackBody renders a message's blocks, or its text when it has none.
func slackBody(raw json.RawMessage, fallback string) template.HTML {
	var blocks []block
	if len(raw) == 0 || json.Unmarshal(raw, &blocks) != nil || len(blocks) == 0 {
		return template.HTML(`<div class="sl-section">` + mrkdwn(fallback) + `</div>`)
	}
	var b strings.Builder
	for _, bl := range blocks {
		switch bl.Type {
		case "header":
			if bl.Text != nil {
				b.WriteString(`<div class="sl-header">` + html.EscapeString(bl.Text.Text) + `</div>`)
			}
		case "section":
			b.WriteString(`<div class="sl-section">`)
			if bl.Text != nil {
				b.WriteString(`<div>` + textHTML(*bl.Text) + `</div>`)
			}
			if len(bl.Fields) > 0 {
				b.WriteString(`<div class="sl-fields">`)
				for _, f := range bl.Fields {
					b.WriteString(`<div>` + textHTML(f) + `</div>`)
				}
				b.WriteString(`</div>`)
			}
			if bl.Accessory != nil && bl.Accessory.Type == "button" {
				b.WriteString(buttonHTML(*bl.Accessory))
			}
			b.WriteString(`</div>`)
		case "context":
			b.WriteString(`<div class="sl-context">`)
			for i, e := range bl.Elements {
				if i > 0 {
					b.WriteString(" · ")
				}
				if e.Type == "mrkdwn" {
					b.WriteString(mrkdwn(e.TextValue))
				} else {
					b.WriteString(html.EscapeString(e.TextValue))
				}
			}
			b.WriteString(`</div>`)
		case "actions":
			b.WriteString(`<div class="sl-actions">`)
			for _, e := range bl.Elements {
				if e.Type == "button" {
					b.WriteString(buttonHTML(e))
				}
			}
			b.WriteString(`</div>`)
		case "divider":
			b.WriteString(`<hr class="sl-divider">`)
		case "input":
			b.WriteString(inputHTML(bl))
		default:
			b.WriteString(`<div class="sl-context">[` + html.EscapeString(bl.Type) + ` block]</div>`)
		}
	}
	return template.HTML(b.String())
}

func textHTML(t textObj) string {
	if t.Type == "plain_text" {
		return strings.ReplaceAll(html.EscapeString(t.Text), "\n", "<br>")
	}
	return mrkdwn(t.Text)
}

func buttonHTML(e element) string {
	label := ""
	if e.Text != nil {
		label = html.EscapeString(e.Text.Text)
	}
	class := "sl-button"
	if e.Style == "primary" || e.Style == "danger" {
		class += " sl-" + e.Style
	}
	if u := safeURL(e.URL); u != "" {
		return `<a class="` + class + `" href="` + html.EscapeString(u) + `">` + label + `</a>`
	}
	title := ""
	if e.Confirm != nil && e.Confirm.Title != nil {
		title = ` title="Asks first: ` + html.EscapeString(e.Confirm.Title.Text) + `"`
	}
	return `<span class="` + class + `"` + title + `>` + label + `</span>`
}

// inputHTML renders a form's field as Slack draws it: its label, the
// field with what it holds, and its hint.
func inputHTML(bl block) string {
	var b strings.Builder
	b.WriteString(`<div class="sl-input">`)
	if bl.Label != nil {
		b.WriteString(`<div class="sl-label">` + html.EscapeString(bl.Label.Text))
		if bl.Optional {
			b.WriteString(` <span class="sl-optional">(optional)</span>`)
		}
		b.WriteString(`</div>`)
	}
	if e := bl.Element; e != nil {
		b.WriteString(fieldHTML(*e))
	}
	if bl.Hint != nil {
		b.WriteString(`<div class="sl-hint">` + html.EscapeString(bl.Hint.Text) + `</div>`)
	}
	b.WriteString(`</div>`)
	return b.String()
}

func fieldHTML(e element) string {
	placeholder := ""
	if e.Placeholder != nil {
		placeholder = e.Placeholder.Text
	}
	switch e.Type {
	case "plain_text_input":
		if e.InitialValue != "" {
			return `<div class="sl-field">` + html.EscapeString(e.InitialValue) + `</div>`
		}
		return `<div class="sl-field sl-placeholder">` + html.EscapeString(placeholder) + `</div>`
	case "static_select":
		if e.InitialOption != nil {
			return `<div class="sl-field sl-select">` + html.EscapeString(e.InitialOption.Text.Text) + `</div>`
		}
		return `<div class="sl-field sl-select sl-placeholder">` + html.EscapeString(placeholder) + `</div>`
	case "checkboxes", "radio_buttons":
		var b strings.Builder
		for _, o := range e.Options {
			on := e.InitialOption != nil && e.InitialOption.Value == o.Value
			for _, io := range e.InitialOptions {
				on = on || io.Value == o.Value
			}
			mark := map[bool]string{true: "☑", false: "☐"}[on]
			if e.Type == "radio_buttons" {
				mark = map[bool]string{true: "◉", false: "○"}[on]
			}
			b.WriteString(`<div class="sl-option">` + mark + " " + html.EscapeString(o.Text.Text))
			if o.Description != nil {
				b.WriteString(`<div class="sl-hint">` + html.EscapeString(o.Description.Text) + `</div>`)
			}
			b.WriteString(`</div>`)
		}
		return b.String()
	}
	return `<div class="sl-field">[` + html.EscapeString(e.Type) + `]</div>`
}

// viewCard is a kept view as /dev/slack shows it.
type viewCard struct {
	ID, Kind, User string
	Title          string // modals
	Submit, Close  string
	At             string
	Body           template.HTML
}

// viewCards renders kept views: each person's App Home, and the forms.
func viewCards(views []postgres.KeptSlackView) []viewCard {
	out := make([]viewCard, 0, len(views))
	for _, v := range views {
		var head struct {
			Title, Submit, Close *textObj
			Blocks               json.RawMessage `json:"blocks"`
		}
		_ = json.Unmarshal(v.View, &head)
		at := v.CreatedAt
		if v.UpdatedAt != nil {
			at = *v.UpdatedAt
		}
		c := viewCard{ID: v.ViewID, Kind: v.Kind, User: v.UserID, At: at.UTC().Format("2 Jan 2006 15:04:05 UTC"), Body: slackBody(head.Blocks, "")}
		for dst, t := range map[*string]*textObj{&c.Title: head.Title, &c.Submit: head.Submit, &c.Close: head.Close} {
			if t != nil {
				*dst = t.Text
			}
		}
		out = append(out, c)
	}
	return out
}

var (
	slackAngle  = regexp.MustCompile(`<([^<>]*)>`)
	slackBold   = regexp.MustCompile(`(^|[\s(])\*([^*\n]+)\*`)
	slackItalic = regexp.MustCompile(`(^|[\s(])_([^_\n]+)_`)
	slackStrike = regexp.MustCompile(`(^|[\s(])~([^~\n]+)~`)
	slackCode   = regexp.MustCompile("`([^`\n]+)`")
)

// mrkdwn renders Slack's markup as HTML: <url|label> links, <@U1>
// mentions, *bold*, _italic_, ~strike~, `code` and line breaks. Everything
// else is text, escaped.
func mrkdwn(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range slackAngle.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(inline(s[last:m[0]]))
		b.WriteString(angle(s[m[2]:m[3]]))
		last = m[1]
	}
	b.WriteString(inline(s[last:]))
	return strings.ReplaceAll(b.String(), "\n", "<br>")
}

// inline is text between Slack's <...>: its &amp; &lt; &gt; are Slack's
// escapes; emphasis applies.
func inline(s string) string {
	s = html.EscapeString(slackUnescape(s))
	s = slackCode.ReplaceAllString(s, "<code>$1</code>")
	s = slackBold.ReplaceAllString(s, "$1<b>$2</b>")
	s = slackItalic.ReplaceAllString(s, "$1<i>$2</i>")
	return slackStrike.ReplaceAllString(s, "$1<s>$2</s>")
}

func angle(inner string) string {
	target, label, hasLabel := strings.Cut(inner, "|")
	switch {
	case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
		return `<span class="sl-mention">` + html.EscapeString("@"+strings.TrimLeft(target, "@#")) + `</span>`
	case strings.HasPrefix(target, "!"):
		if hasLabel {
			return html.EscapeString(slackUnescape(label))
		}
		return `<span class="sl-mention">@` + html.EscapeString(strings.TrimPrefix(target, "!")) + `</span>`
	}
	if !hasLabel {
		label = target
	}
	u := safeURL(slackUnescape(target))
	if u == "" {
		return html.EscapeString(slackUnescape(inner))
	}
	return `<a href="` + html.EscapeString(u) + `">` + html.EscapeString(slackUnescape(label)) + `</a>`
}

func slackUnescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// safeURL keeps http(s) and mailto: links, nothing else.
func safeURL(u string) string {
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "mailto:") {
		return u
	}
	return ""
}
