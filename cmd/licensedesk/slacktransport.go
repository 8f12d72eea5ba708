package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"licensedesk/bot"
	"licensedesk/internal/clock"
	"licensedesk/licensing"
	"licensedesk/postgres"
	"licensedesk/slackout"
)

// socketIdleTimeout is how long a Socket Mode connection may stay silent
// before it is taken for dead; a var so tests need not wait 30 s.
var socketIdleTimeout = bot.DefaultIdleTimeout

// slackBot is the inbound Slack front end: one registry (parsing,
// permissions, confirmations) and one responder, served over HTTP and,
// with SLACK_APP_TOKEN, over Socket Mode.
type slackBot struct {
	registry  *bot.Registry
	responder bot.Responder
	verifier  bot.Verifier
}

// inboundSlack builds the front end once; both transports share it.
func (s *services) inboundSlack() *slackBot {
	if s.slackBot != nil {
		return s.slackBot
	}
	allow := bot.ParseAllow(s.cfg.SlackAllowRead, s.cfg.SlackAllowAct)
	var groups bot.GroupMembers
	if api, ok := s.slack.(*slackout.WebAPI); ok {
		groups = bot.NewGroupCache(api.UserGroups(), 5*time.Minute)
	}
	workflowURL := func(id string) string { return s.ops.URL(id, "") }
	cmds := append([]bot.Command{bot.ShowCommand(s.db, s.db, s.ops.Policy.SuspendAfter, bot.WithBilling(s.db, s.taxes)), bot.FindCommand(finder{s.db}),
		bot.HistoryCommand(s.db, s.db, workflowURL)}, bot.OperationCommands(s.db, s.ops)...)
	// A response_url is its own credential: replies reach Slack even
	// without a bot token.
	out := s.slack
	if out == nil {
		out = slackout.NewWebAPI("", s.cfg.SlackAPIURL, nil)
	}
	registry := bot.NewRegistry(allow, groups, s.logger, cmds...)
	registry.SetClock(s.clock)
	registry.Use(s.slackFront(workflowURL))
	s.slackBot = &slackBot{
		registry:  registry,
		responder: slackResponder{out},
		verifier:  bot.Verifier{Secret: []byte(s.cfg.SlackSigningSecret), Now: time.Now, MaxAge: 5 * time.Minute, Logger: s.logger}, //clock:wall Slack's timestamps are real time
	}
	return s.slackBot
}

// slackFront is what the bot answers through besides replies: the one
// workspace it serves, users.info for names and guests, and views (forms,
// the App Home) through Slack, or kept for /dev/slack in dev.
func (s *services) slackFront(workflowURL func(string) string) bot.Front {
	f := bot.Front{
		Workspace:   bot.Workspace{TeamID: s.cfg.SlackTeamID, EnterpriseID: s.cfg.SlackEnterpriseID},
		MetadataKey: formKey(s.cfg.SlackSigningSecret), Now: s.clock,
	}
	if f.Workspace == (bot.Workspace{}) && !s.dev {
		s.logger.Warn("SLACK_TEAM_ID is not set: Slack requests from any workspace the app is installed in are served")
	}
	switch out := s.slack.(type) {
	case *slackout.WebAPI:
		f.People = bot.NewPeopleCache(slackPeople{out}, time.Hour, nil)
		f.Views = out
	case *slackout.DevSink:
		f.Views = slackout.NewDevViews(s.db)
	}
	if f.Views != nil {
		f.Home = &bot.Home{Ops: s.ops, Digest: unpaidDigest{db: s.db}, URL: workflowURL, Now: s.clock}
	}
	return f
}

// formKey signs what a form carries between its opening and its
// submission, derived from the signing secret so every server agrees.
func formKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("licensedesk slack form metadata"))
	return m.Sum(nil)
}

// slackPeople is users.info, as the bot asks it.
type slackPeople struct{ api *slackout.WebAPI }

func (p slackPeople) Person(ctx context.Context, userID string) (bot.Person, error) {
	u, err := p.api.User(ctx, userID)
	return bot.Person{ID: u.ID, DisplayName: u.DisplayName, Guest: u.Guest}, err
}

// unpaidDigest is the App Home's billing section until a digest of each
// billing sweep exists: the unpaid licences as they stand now.
type unpaidDigest struct {
	db  *postgres.DB
	now clock.Clock
}

func (d unpaidDigest) LatestDigest(ctx context.Context, _ time.Time) (*bot.BillingDigest, error) {
	u, err := d.db.UnpaidLicences(ctx, 8)
	if err != nil {
		return nil, err
	}
	out := &bot.BillingDigest{At: d.now.Now(), Summary: fmt.Sprintf("%s past due, %s suspended.",
		count(u.PastDue, "licence"), count(u.Suspended, "licence"))}
	if u.PastDue+u.Suspended == 0 {
		out.Summary = "Every licence is paid up."
	}
	for _, l := range u.Oldest {
		out.Items = append(out.Items, bot.DigestItem{SEN: l.SEN, Text: fmt.Sprintf("%s: invoice %s, %s, due %s",
			strings.ReplaceAll(string(l.Status), "_", " "), l.Invoice, licensing.FormatMoney(l.AmountCents, l.Currency), licensing.ShortDate(l.DueDate))})
	}
	return out, nil
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// startSlack opens Socket Mode when SLACK_APP_TOKEN is set (before the
// handler is built, so /readyz checks the socket) and logs which transports
// serve Slack. A token Slack refuses stops the process at start with one
// line (exit 2), like a missing setting: Socket Mode is for a server Slack
// cannot reach over HTTP, so serving HTTP alone would leave the bot deaf
// while looking healthy. A Slack that cannot be reached is not a refusal:
// HTTP serves, /readyz says the socket is down, and it keeps trying.
func (s *services) startSlack(ctx context.Context) error {
	if s.cfg.SlackAppToken == "" {
		s.logger.Info("slack transport", "transport", "http")
		return nil
	}
	slackBot := s.inboundSlack()
	sm, err := bot.NewSocketMode(slackBot.registry, bot.SocketModeOptions{AppToken: s.cfg.SlackAppToken, APIURL: s.cfg.SlackAPIURL,
		Respond: slackBot.responder, Logger: s.logger, IdleTimeout: socketIdleTimeout})
	if err != nil {
		return usageError{err.Error()}
	}
	ctx, cancel := context.WithCancel(ctx)
	if err := sm.Start(ctx); err != nil {
		cancel()
		return usageError{err.Error()}
	}
	s.socket = sm
	s.stopSocket = func() { cancel(); sm.Wait() }
	s.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "licensedesk_slack_socket_reconnects_total", Help: "Socket Mode reconnections."},
			func() float64 { return float64(sm.Reconnects()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "licensedesk_slack_socket_connected", Help: "1 while the Socket Mode connection is up."},
			func() float64 {
				if sm.Connected() {
					return 1
				}
				return 0
			}),
	)
	s.logger.Info("slack transport", "transport", "socket mode + http", "connected", sm.Connected())
	return nil
}

// slackResponder sends replies to response_urls through the outgoing Slack client.
type slackResponder struct{ p slackout.Poster }

func (r slackResponder) Respond(ctx context.Context, url string, reply bot.Reply) error {
	return r.p.Respond(ctx, url, slackout.Message{Text: reply.Text, Blocks: reply.Blocks, ReplaceOriginal: reply.ReplaceOriginal})
}
