package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
)

// Dev mode's Slack views (slackout.DevViews): the forms and App Home tabs
// the bot would have opened or published, shown at /dev/slack.

// KeepSlackView stores a view and returns its ID (V and the row id): a
// home view replaces userID's, a modal with viewID replaces that modal
// (NotFound when there is none, as Slack's not_found), any other modal is
// new.
func (db *DB) KeepSlackView(ctx context.Context, kind, userID, viewID string, view []byte) (string, error) {
	var id string
	var err error
	switch {
	case kind == "home":
		err = db.pool.QueryRow(ctx, `
			WITH next AS (SELECT nextval(pg_get_serial_sequence('dev_slack_views', 'id')) AS id)
			INSERT INTO dev_slack_views (id, view_id, kind, user_id, view)
			OVERRIDING SYSTEM VALUE
			SELECT next.id, 'V' || lpad(next.id::text, 8, '0'), 'home', $1, $2::jsonb FROM next
			ON CONFLICT (user_id) WHERE kind = 'home' DO UPDATE SET view = excluded.view, updated_at = now()
			RETURNING view_id`, userID, string(view)).Scan(&id)
	case viewID != "":
		err = db.pool.QueryRow(ctx, `
			UPDATE dev_slack_views SET view = $2::jsonb, updated_at = now()
			WHERE view_id = $1 AND kind = 'modal' RETURNING view_id`, viewID, string(view)).Scan(&id)
		if err == pgx.ErrNoRows {
			return "", licensing.Errorf(licensing.NotFound, "No Slack view %s.", viewID)
		}
	default:
		err = db.pool.QueryRow(ctx, `
			WITH next AS (SELECT nextval(pg_get_serial_sequence('dev_slack_views', 'id')) AS id)
			INSERT INTO dev_slack_views (id, view_id, kind, user_id, view)
			OVERRIDING SYSTEM VALUE
			SELECT next.id, 'V' || lpad(next.id::text, 8, '0'), 'modal', $1, $2::jsonb FROM next
			RETURNING view_id`, userID, string(view)).Scan(&id)
	}
	return id, err
}

// KeptSlackView is a view as /dev/slack/views.json shows it.
type KeptSlackView struct {
	ViewID    string          `json:"view_id"`
	Kind      string          `json:"kind"` // modal or home
	UserID    string          `json:"user_id,omitempty"`
	View      json.RawMessage `json:"view"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt *time.Time      `json:"updated_at"`
}

// KeptSlackViews returns the newest limit views, the last changed first.
func (db *DB) KeptSlackViews(ctx context.Context, limit int) ([]KeptSlackView, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT view_id, kind, user_id, view, created_at, updated_at
		FROM dev_slack_views ORDER BY coalesce(updated_at, created_at) DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (KeptSlackView, error) {
		var v KeptSlackView
		err := row.Scan(&v.ViewID, &v.Kind, &v.UserID, &v.View, &v.CreatedAt, &v.UpdatedAt)
		return v, err
	})
}
