package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"
)

// commandDeadline leaves Slack's 3-second limit room for the network.
var commandDeadline = 2500 * time.Millisecond // a var so tests need not wait for it

// CommandsHandler serves POST /slack/commands. It expects requests already
// verified by Verifier.Middleware.
func CommandsHandler(reg *Registry, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		// Slack checks the endpoint's certificate with a signed ssl_check
		// ping when the app is configured; it only wants a 200.
		if r.PostForm.Get("ssl_check") == "1" {
			w.WriteHeader(http.StatusOK)
			return
		}
		req := Request{
			UserID:      r.PostForm.Get("user_id"),
			UserName:    r.PostForm.Get("user_name"),
			ChannelID:   r.PostForm.Get("channel_id"),
			TeamID:      r.PostForm.Get("team_id"),
			Text:        r.PostForm.Get("text"),
			ResponseURL: r.PostForm.Get("response_url"),
			TriggerID:   r.PostForm.Get("trigger_id"),
		}
		ctx, cancel := context.WithTimeout(r.Context(), commandDeadline)
		defer cancel()

		// A command that ignores its context must still not make Slack
		// show a timeout: answer at the deadline and let it finish alone.
		done := make(chan Reply, 1)
		go func() { done <- reg.Dispatch(ctx, req) }()
		var reply Reply
		select {
		case reply = <-done:
		case <-ctx.Done():
			logger.Warn("slack command overran its deadline", "user", req.UserID, "command", reg.commandName(req.Text))
			reply = ephemeral("That is taking longer than Slack waits for; please try again in a moment.")
		}
		writeReply(w, reply, logger)
	})
}

// commandName names the subcommand of text for logs, never its arguments.
func (r *Registry) commandName(text string) string {
	tokens := tokenize(text)
	if len(tokens) == 0 {
		return "help"
	}
	if cmd, _, ok := r.lookup(tokens); ok {
		return cmd.Name
	}
	return "unknown"
}

func writeReply(w http.ResponseWriter, reply Reply, logger *slog.Logger) {
	if reply.ResponseType == "" {
		reply.ResponseType = slack.ResponseTypeEphemeral
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(reply); err != nil {
		logger.Error("encoding slack reply", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(buf.Bytes())
}
