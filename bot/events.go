package bot

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"context"
)

// The Events API: Slack tells the app what happened (app_home_opened),
// over HTTP (POST /slack/events, signed like every request) and inside
// Socket Mode's events_api envelopes. Both decode the same outer payload
// and take the one path below. Slack wants a 200 within 3 seconds and
// retries otherwise; the work (publishing a view) happens after it.

// eventEnvelope is the outer Events API payload.
type eventEnvelope struct {
	Type         string          `json:"type"` // url_verification, event_callback, app_rate_limited
	Challenge    string          `json:"challenge"`
	TeamID       string          `json:"team_id"`
	EnterpriseID string          `json:"enterprise_id"`
	EventID      string          `json:"event_id"`
	Event        json.RawMessage `json:"event"`
}

type innerEvent struct {
	Type string `json:"type"`
	User string `json:"user"`
	Tab  string `json:"tab"`
}

// EventsHandler serves POST /slack/events: the url_verification handshake
// Slack makes when the Request URL is set, and event callbacks. It
// expects requests already verified by Verifier.Middleware.
func EventsHandler(reg *Registry, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(r.Body)
		var e eventEnvelope
		if err != nil || json.Unmarshal(body, &e) != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		if e.Type == "url_verification" {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"challenge": e.Challenge})
			return
		}
		reg.answerEvent(r.Context(), e, r.Header.Get("X-Slack-Retry-Num"))
		w.WriteHeader(http.StatusOK)
	})
}

// answerEvent handles an event once, whatever Slack retries; it returns
// at once and does the work later.
func (r *Registry) answerEvent(ctx context.Context, e eventEnvelope, retry string) {
	if e.Type != "event_callback" {
		r.logger.Info("slack event ignored", "type", truncate(e.Type, maxEcho))
		return
	}
	var in innerEvent
	_ = json.Unmarshal(e.Event, &in)
	if _, ok := r.fromOurWorkspace("event", e.TeamID, e.EnterpriseID, in.User); !ok {
		return
	}
	if e.EventID != "" {
		h, first := r.events.claim(r.clock.Now(), "event "+e.EventID)
		if !first {
			r.logger.Info("slack event seen before, not handled again", "event_id", e.EventID, "retry", retry)
			return
		}
		h.finish(nil)
	}
	switch in.Type {
	case "app_home_opened":
		if in.Tab != "home" || r.home == nil || r.views == nil || in.User == "" {
			return
		}
		later(ctx, func(ctx context.Context) { r.publishHome(ctx, in.User) })
	default:
		r.logger.Debug("slack event ignored", "type", truncate(in.Type, maxEcho))
	}
}
