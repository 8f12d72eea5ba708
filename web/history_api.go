package web

import (
	"context"
	"log/slog"
	"net/http"

	"licensedesk/history"
	"licensedesk/licensing"
)

// HistoryReader reads a licence's history a page at a time (postgres.DB).
type HistoryReader interface {
	History(ctx context.Context, sen licensing.SEN, cursor string, limit int) (history.Page, error)
}

// historyPageSize is SPEC §10's page: 50 events.
const historyPageSize = 50

// historyAPI serves GET /api/v1/licenses/{sen}/history?cursor=…: the
// licence's events newest first, 50 a page (SPEC §10).
func historyAPI(h HistoryReader, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sen, err := licensing.ParseSEN(r.PathValue("sen"))
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		page, err := h.History(r.Context(), sen, r.URL.Query().Get("cursor"), historyPageSize)
		if err != nil {
			writeError(w, logger, r, err)
			return
		}
		out := struct {
			Events     []history.Event `json:"events"`
			NextCursor *string         `json:"next_cursor"`
		}{Events: page.Events}
		if out.Events == nil {
			out.Events = []history.Event{}
		}
		if page.NextCursor != "" {
			out.NextCursor = &page.NextCursor
		}
		writeJSON(w, http.StatusOK, out)
	})
}
