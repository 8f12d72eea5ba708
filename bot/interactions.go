package bot

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"
)

// Responder sends a reply to a Slack response_url (replacing the message
// that held the pressed button).
type Responder interface {
	Respond(ctx context.Context, responseURL string, reply Reply) error
}

// InteractionsHandler serves POST /slack/interactions: Confirm and Cancel
// buttons on confirmation prompts. It is wrapped by Verifier.Middleware at
// route setup. The reply goes to the response_url (Slack ignores the body of
// this response) and, for local clients such as `licensedesk slack --yes`,
// in the body too.
func InteractionsHandler(reg *Registry, respond Responder, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(r.FormValue("payload")), &cb); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 {
			w.WriteHeader(http.StatusOK) // nothing of ours; acknowledge
			return
		}
		action := cb.ActionCallback.BlockActions[0]
		ctx, cancel := context.WithTimeout(r.Context(), 2500*time.Millisecond)
		defer cancel()
		reply := reg.Confirmed(ctx, cb.User.ID, action.ActionID, action.Value, Request{
			UserID: cb.User.ID, UserName: cb.User.Name, ChannelID: cb.Channel.ID, TeamID: cb.Team.ID, ResponseURL: cb.ResponseURL,
		})
		if cb.ResponseURL != "" && respond != nil {
			// Detached: the reply must reach Slack even though this request ends now.
			go func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
				defer cancel()
				if err := respond.Respond(rctx, cb.ResponseURL, reply); err != nil {
					logger.Warn("slack response_url failed", "err", err)
				}
			}()
		}
		writeReply(w, reply, logger)
	})
}
