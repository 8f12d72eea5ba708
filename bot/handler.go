package bot

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/slack-go/slack"
)

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
		sc, err := slack.SlashCommandParse(r)
		if err != nil {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		// Slack checks the endpoint's certificate with a signed ssl_check
		// ping when the app is configured; it only wants a 200.
		if r.PostForm.Get("ssl_check") == "1" {
			w.WriteHeader(http.StatusOK)
			return
		}
		writeReply(w, reg.answerCommand(r.Context(), sc), logger)
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
	if reply.Silent {
		w.WriteHeader(http.StatusOK) // a form opened instead: Slack shows nothing
		return
	}
	b, err := encodeReply(reply)
	if err != nil {
		logger.Error("encoding slack reply", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// writeBody writes an interaction's answer: a reply, a form's
// response_action, or nothing.
func writeBody(w http.ResponseWriter, body any, logger *slog.Logger) {
	switch b := body.(type) {
	case nil:
		w.WriteHeader(http.StatusOK)
	case Reply:
		writeReply(w, b, logger)
	default:
		out, err := json.Marshal(b)
		if err != nil {
			logger.Error("encoding slack answer", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	}
}

// encodeReply is a reply as Slack receives it, over either transport.
func encodeReply(reply Reply) ([]byte, error) {
	if reply.ResponseType == "" {
		reply.ResponseType = slack.ResponseTypeEphemeral
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(reply); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
