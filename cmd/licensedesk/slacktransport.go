package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"licensedesk/bot"
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
	cmds := append([]bot.Command{bot.ShowCommand(s.db, s.db, s.ops.Policy.SuspendAfter, bot.WithBilling(s.db, s.taxes)), bot.FindCommand(finder{s.db}), bot.HistoryCommand(s.db, s.db)}, bot.OperationCommands(s.db, s.ops)...)
	// A response_url is its own credential: replies reach Slack even
	// without a bot token.
	out := s.slack
	if out == nil {
		out = slackout.NewWebAPI("", s.cfg.SlackAPIURL, nil)
	}
	registry := bot.NewRegistry(allow, groups, s.logger, cmds...)
	registry.SetClock(s.clock)
	s.slackBot = &slackBot{
		registry:  registry,
		responder: slackResponder{out},
		verifier:  bot.Verifier{Secret: []byte(s.cfg.SlackSigningSecret), Now: time.Now, MaxAge: 5 * time.Minute, Logger: s.logger}, //clock:wall Slack's timestamps are real time
	}
	return s.slackBot
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
