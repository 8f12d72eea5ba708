package bot

import (
	"context"
	"time"

	"github.com/slack-go/slack"

	"licensedesk/internal/clock"
)

// Workspace is the one Slack workspace, and on Enterprise Grid the one
// organisation, the bot serves (SLACK_TEAM_ID, SLACK_ENTERPRISE_ID). A
// command, button, form or event from anywhere else is refused and
// logged before anything reads it, over HTTP and Socket Mode alike: the
// app's signing secret is the same for every workspace it is installed in.
// An empty field admits any.
type Workspace struct {
	TeamID, EnterpriseID string
}

func (w Workspace) admits(team, enterprise string) bool {
	return (w.TeamID == "" || team == w.TeamID) && (w.EnterpriseID == "" || enterprise == w.EnterpriseID)
}

// Front is what the registry answers through besides replies.
type Front struct {
	Workspace Workspace
	// People finds display names (mails name the salesperson who asked)
	// and guests, who are refused; wrap it in a PeopleCache. nil: unknown.
	People People
	// Views opens forms and publishes the App Home; nil: neither.
	Views Views
	// Home is the App Home tab; nil: none.
	Home *Home
	// MetadataKey signs what a form carries between its opening and its
	// submission; nil: unsigned (tests).
	MetadataKey []byte
	Now         clock.Clock
}

// Use sets what the registry answers through; call it before serving.
func (r *Registry) Use(f Front) {
	r.workspace, r.people, r.views, r.home, r.metaKey = f.Workspace, f.People, f.Views, f.Home, f.MetadataKey
	if f.Now != nil {
		r.clock = f.Now
	}
	if r.events == nil {
		r.events = newEnvelopeLog(seenFor)
	}
}

// fromOurWorkspace refuses, and logs, what comes from another workspace.
func (r *Registry) fromOurWorkspace(kind, team, enterprise, user string) (Reply, bool) {
	if r.workspace.admits(team, enterprise) {
		return Reply{}, true
	}
	r.logger.Warn("slack request from another workspace refused", "kind", kind, "team", team, "enterprise", enterprise, "user", user,
		"want_team", r.workspace.TeamID, "want_enterprise", r.workspace.EnterpriseID)
	return ephemeral("This app serves one workspace only, so nothing was done."), false
}

// Person is what the bot knows of a Slack user.
type Person struct {
	ID, DisplayName string
	Guest           bool // a multi- or single-channel guest
}

// People looks Slack users up (users.info).
type People interface {
	Person(ctx context.Context, userID string) (Person, error)
}

// peopleWait bounds a users.info look-up inside Slack's 3 seconds; without
// an answer the asker is unknown, not refused.
const peopleWait = 800 * time.Millisecond

// person looks userID up, briefly; ok is false when nobody answered.
func (r *Registry) person(ctx context.Context, userID string) (Person, bool) {
	if r.people == nil || userID == "" {
		return Person{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, peopleWait)
	defer cancel()
	p, err := r.people.Person(ctx, userID)
	if err != nil {
		r.logger.Warn("slack users.info failed", "user", userID, "err", err)
		return Person{}, false
	}
	return p, true
}

// withDisplayName fills the asker's display name for commands that act:
// the operation carries it, so mails can name who asked.
func (r *Registry) withDisplayName(ctx context.Context, req Request, cmd Command) Request {
	if cmd.Class != Act || req.UserDisplayName != "" {
		return req
	}
	if p, ok := r.person(ctx, req.UserID); ok {
		req.UserDisplayName = p.DisplayName
	}
	return req
}

// requestFrom is the Request of a button press or a form submission.
func requestFrom(cb slack.InteractionCallback) Request {
	team := cb.Team.ID
	if team == "" {
		team = cb.View.TeamID
	}
	return Request{UserID: cb.User.ID, UserName: cb.User.Name, ChannelID: cb.Channel.ID, TeamID: team,
		EnterpriseID: cb.Enterprise.ID, ResponseURL: cb.ResponseURL, TriggerID: cb.TriggerID}
}
