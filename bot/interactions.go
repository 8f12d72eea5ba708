package bot

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/slack-go/slack"
)

// Responder sends a reply to a Slack response_url (replacing the message
// that held the pressed button when the reply says ReplaceOriginal).
type Responder interface {
	Respond(ctx context.Context, responseURL string, reply Reply) error
}

// InteractionsHandler serves POST /slack/interactions: buttons (on
// confirmation prompts, next steps, the App Home) and forms. It is wrapped
// by Verifier.Middleware at route setup. A button's reply goes to the
// response_url (Slack ignores the body of this response) and, for local
// clients such as `licensedesk slack --yes`, in the body too; a form's
// answer (its response_action) is the body.
func InteractionsHandler(reg *Registry, respond Responder, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
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
		ans, ok := reg.answerInteraction(r.Context(), cb)
		if !ok {
			w.WriteHeader(http.StatusOK) // nothing of ours; acknowledge
			return
		}
		if ans.respond != nil {
			respondLater(r.Context(), respond, ans.url, *ans.respond, logger)
		}
		writeBody(w, ans.body, logger)
	})
}
