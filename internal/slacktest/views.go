package slacktest

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// Views (views.open, views.update, views.publish) and people (users.info),
// with Slack's documented behaviour: a trigger_id is issued with each
// command and click, opens one view, and only within 3 seconds; views keep
// Block Kit's limits (100 blocks, a title of 24 characters, 3,000 of
// private_metadata, 250 kB in all); views.update honours its hash.

// triggerLife is how long Slack accepts a trigger_id.
const triggerLife = 3 * time.Second

// View is a view as the fake holds it.
type View struct {
	ID     string
	Type   string // modal or home
	UserID string // home views: whose
	JSON   json.RawMessage
	Hash   string
	// Trigger is the trigger_id that opened a modal.
	Trigger string
}

// User is a person users.info knows.
type User struct {
	ID, Name, DisplayName, RealName, TeamID string
	Restricted, UltraRestricted, Deleted    bool
}

// viewState is the fake's views, triggers and people; Server.mu guards it.
type viewState struct {
	triggers  map[string]time.Time // issued at
	exchanged map[string]bool
	views     []*View
	users     map[string]User
	homeOff   bool
	now       func() time.Time
	next      int
}

func (v *viewState) init() {
	if v.triggers == nil {
		v.triggers, v.exchanged, v.users = map[string]time.Time{}, map[string]bool{}, map[string]User{}
	}
}

func (v *viewState) clock() time.Time {
	if v.now != nil {
		return v.now()
	}
	return time.Now()
}

// Trigger issues a trigger_id, as Slack puts one in each command and click.
func (s *Server) Trigger() string { return s.TriggerIssuedAt(time.Time{}) }

// TriggerIssuedAt issues a trigger_id as if at t (zero: now); one issued
// more than 3 seconds ago has expired.
func (s *Server) TriggerIssuedAt(t time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.init()
	if t.IsZero() {
		t = s.v.clock()
	}
	s.v.next++
	id := fmt.Sprintf("%d.%d.fake%06x", t.Unix(), s.v.next, s.v.next)
	s.v.triggers[id] = t
	return id
}

// SetClock sets the clock triggers and hashes read (nil: the real one).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.now = now
}

// SetUser makes users.info know u.
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.init()
	s.v.users[u.ID] = u
}

// DisableHome makes views.publish answer not_enabled, as for an app whose
// Home tab is off.
func (s *Server) DisableHome() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v.homeOff = true
}

// Views returns the views opened and published so far, oldest first.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, len(s.v.views))
	for i, v := range s.v.views {
		out[i] = *v
	}
	return out
}

// Home returns userID's published App Home.
func (s *Server) Home(userID string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.v.views, func(v *View) bool { return v.Type == "home" && v.UserID == userID })
	if i < 0 {
		return View{}, false
	}
	return *s.v.views[i], true
}

// serveViews answers the methods of this file; false for any other.
func (s *Server) serveViews(method string, p params) (map[string]any, bool) {
	s.v.init()
	switch method {
	case "views.open":
		return s.viewsOpen(p), true
	case "views.update":
		return s.viewsUpdate(p), true
	case "views.publish":
		return s.viewsPublish(p), true
	case "users.info":
		return s.usersInfo(p), true
	}
	return nil, false
}

func (s *Server) viewsOpen(p params) map[string]any {
	trigger := p.str("trigger_id")
	issued, ok := s.v.triggers[trigger]
	switch {
	case trigger == "" || !ok:
		return fail("invalid_trigger_id")
	case s.v.exchanged[trigger]:
		return fail("exchanged_trigger_id")
	case s.v.clock().Sub(issued) > triggerLife:
		return fail("expired_trigger_id")
	}
	raw, msg := checkView(p.raw("view"), "modal")
	if msg != "" {
		return invalid(msg)
	}
	s.v.exchanged[trigger] = true
	v := s.newView("modal", "", raw)
	v.Trigger = trigger
	return viewAnswer(v)
}

func (s *Server) viewsUpdate(p params) map[string]any {
	id, ext := p.str("view_id"), p.str("external_id")
	if id == "" && ext == "" {
		return invalid("[ERROR] view_id or external_id is required")
	}
	i := slices.IndexFunc(s.v.views, func(v *View) bool { return v.Type == "modal" && v.ID == id })
	if i < 0 {
		return fail("not_found")
	}
	if h := p.str("hash"); h != "" && h != s.v.views[i].Hash {
		return fail("hash_conflict")
	}
	raw, msg := checkView(p.raw("view"), "modal")
	if msg != "" {
		return invalid(msg)
	}
	v := s.v.views[i]
	v.JSON, v.Hash = raw, s.hash()
	s.notify()
	return viewAnswer(v)
}

func (s *Server) viewsPublish(p params) map[string]any {
	user := p.str("user_id")
	if user == "" {
		return invalid("[ERROR] invalid `user_id`")
	}
	if s.v.homeOff {
		return fail("not_enabled")
	}
	raw, msg := checkView(p.raw("view"), "home")
	if msg != "" {
		return invalid(msg)
	}
	i := slices.IndexFunc(s.v.views, func(v *View) bool { return v.Type == "home" && v.UserID == user })
	if i < 0 {
		return viewAnswer(s.newView("home", user, raw))
	}
	if h := p.str("hash"); h != "" && h != s.v.views[i].Hash {
		return fail("hash_conflict")
	}
	v := s.v.views[i]
	v.JSON, v.Hash = raw, s.hash()
	s.notify()
	return viewAnswer(v)
}

func (s *Server) usersInfo(p params) map[string]any {
	u, ok := s.v.users[p.str("user")]
	if !ok {
		return fail("user_not_found")
	}
	return map[string]any{"ok": true, "user": map[string]any{
		"id": u.ID, "team_id": u.TeamID, "name": u.Name, "real_name": u.RealName, "deleted": u.Deleted,
		"is_restricted": u.Restricted, "is_ultra_restricted": u.UltraRestricted, "is_bot": false,
		"profile": map[string]any{"display_name": u.DisplayName, "real_name": u.RealName},
	}}
}

// newView records a view; s.mu is held.
func (s *Server) newView(kind, user string, raw json.RawMessage) *View {
	s.v.next++
	v := &View{ID: fmt.Sprintf("V%08d", s.v.next), Type: kind, UserID: user, JSON: raw, Hash: s.hash()}
	s.v.views = append(s.v.views, v)
	s.notify()
	return v
}

func (s *Server) hash() string {
	s.v.next++
	return fmt.Sprintf("%d.%08x", s.v.clock().Unix(), s.v.next)
}

func viewAnswer(v *View) map[string]any {
	var view map[string]any
	_ = json.Unmarshal(v.JSON, &view)
	view["id"], view["hash"], view["type"] = v.ID, v.Hash, v.Type
	return map[string]any{"ok": true, "view": view}
}

// invalid is Slack's answer to a view it cannot take.
func invalid(msg string) map[string]any {
	return map[string]any{"ok": false, "error": "invalid_arguments", "response_metadata": map[string]any{"messages": []string{msg}}}
}

// checkView applies a view's limits for its surface; it returns the view
// as JSON, or what is wrong with it.
func checkView(raw json.RawMessage, kind string) (json.RawMessage, string) {
	if len(raw) == 0 {
		return nil, "[ERROR] missing required field: view"
	}
	if len(raw) > maxViewBytes {
		return nil, "view_too_large"
	}
	var v struct {
		Type            string          `json:"type"`
		Title           *textObj        `json:"title"`
		Submit          *textObj        `json:"submit"`
		Close           *textObj        `json:"close"`
		Blocks          json.RawMessage `json:"blocks"`
		PrivateMetadata string          `json:"private_metadata"`
		CallbackID      string          `json:"callback_id"`
		ExternalID      string          `json:"external_id"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, "[ERROR] view must be a JSON object"
	}
	if v.Type != kind {
		return nil, fmt.Sprintf("[ERROR] must be %q [json-pointer:/view/type]", kind)
	}
	var blocks []json.RawMessage
	if json.Unmarshal(v.Blocks, &blocks) != nil {
		return nil, "[ERROR] missing required field: blocks [json-pointer:/view/blocks]"
	}
	switch {
	case len(blocks) > maxViewBlocks:
		return nil, "[ERROR] must provide at most 100 items [json-pointer:/view/blocks]"
	case utf8.RuneCountInString(v.PrivateMetadata) > maxPrivateMetadata:
		return nil, tooLong("/view/private_metadata", maxPrivateMetadata)
	case utf8.RuneCountInString(v.CallbackID) > maxCallbackID:
		return nil, tooLong("/view/callback_id", maxCallbackID)
	case utf8.RuneCountInString(v.ExternalID) > 255:
		return nil, tooLong("/view/external_id", 255)
	}
	if kind == "modal" {
		if msg := checkModalChrome(v.Title, v.Submit, v.Close, blocks); msg != "" {
			return nil, msg
		}
	}
	return raw, checkBlocks(v.Blocks, surface(kind), "/view/blocks")
}

func checkModalChrome(title, submit, close *textObj, blocks []json.RawMessage) string {
	if title == nil {
		return "[ERROR] missing required field: title [json-pointer:/view/title]"
	}
	for name, t := range map[string]*textObj{"title": title, "submit": submit, "close": close} {
		if t == nil {
			continue
		}
		if t.Type != "plain_text" {
			return fmt.Sprintf("[ERROR] must be a plain_text object [json-pointer:/view/%s]", name)
		}
		if msg := textLimit(t, maxViewTitle, "/view/"+name); msg != "" {
			return msg
		}
	}
	if submit == nil {
		for _, b := range blocks {
			var head struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(b, &head) == nil && head.Type == "input" {
				return "[ERROR] submit is required when an input block is within the blocks array [json-pointer:/view/submit]"
			}
		}
	}
	return ""
}

// Payload is the view as Slack sends it back in interactions: as opened,
// with its id and hash.
func (v View) Payload() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(v.JSON, &m)
	if m == nil {
		m = map[string]any{}
	}
	m["id"], m["hash"], m["type"] = v.ID, v.Hash, v.Type
	return m
}
