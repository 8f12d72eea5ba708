package slackout

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/slack-go/slack"
)

// Views (modals and the App Home) and people (users.info), through the
// Web API, and kept by DevSink in dev.

// OpenView opens a modal with views.open. It is not retried: the
// trigger_id it needs is valid for 3 seconds, less than any rate limit's
// Retry-After.
func (w *WebAPI) OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) (string, error) {
	resp, err := w.client.OpenViewContext(ctx, triggerID, view)
	if err != nil {
		w.failed("views.open")
		return "", fmt.Errorf("slack views.open: %w", err)
	}
	return resp.ID, nil
}

// UpdateView replaces an open modal with views.update.
func (w *WebAPI) UpdateView(ctx context.Context, viewID, hash string, view slack.ModalViewRequest) error {
	err := retryRateLimited(ctx, w.limited("views.update", ""), func() error {
		_, err := w.client.UpdateViewContext(ctx, view, "", hash, viewID)
		return err
	})
	if err != nil {
		w.failed("views.update")
		return fmt.Errorf("slack views.update: %w", err)
	}
	return nil
}

// PublishHome sets a person's App Home tab with views.publish.
func (w *WebAPI) PublishHome(ctx context.Context, userID string, view slack.HomeTabViewRequest) error {
	err := retryRateLimited(ctx, w.limited("views.publish", ""), func() error {
		_, err := w.client.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: userID, View: view})
		return err
	})
	if err != nil {
		w.failed("views.publish")
		return fmt.Errorf("slack views.publish: %w", err)
	}
	return nil
}

// SlackUser is what users.info says of a person that the bot uses.
type SlackUser struct {
	ID, DisplayName string
	Guest           bool // restricted (multi-channel) or ultra-restricted (single-channel) guest
}

// User looks a person up with users.info. The display name is the one
// they chose, else their full name, else their handle.
func (w *WebAPI) User(ctx context.Context, userID string) (SlackUser, error) {
	var u *slack.User
	err := retryRateLimited(ctx, w.limited("users.info", ""), func() (err error) {
		u, err = w.client.GetUserInfoContext(ctx, userID)
		return err
	})
	if err != nil {
		w.failed("users.info")
		return SlackUser{}, fmt.Errorf("slack users.info %s: %w", userID, err)
	}
	name := u.Profile.DisplayName
	for _, n := range []string{u.Profile.RealName, u.RealName, u.Name} {
		if name == "" {
			name = n
		}
	}
	return SlackUser{ID: u.ID, DisplayName: name, Guest: u.IsRestricted || u.IsUltraRestricted}, nil
}

// DevViewStore keeps dev mode's views; *postgres.DB implements it.
type DevViewStore interface {
	// KeepSlackView stores a view (kind "modal" or "home") for a user and
	// returns its ID; a modal with viewID replaces that modal, a home view
	// replaces the user's home.
	KeepSlackView(ctx context.Context, kind, userID, viewID string, view []byte) (string, error)
}

// DevViews keeps views in the database for /dev/slack instead of opening
// them, so a reviewer can see (and screenshot) the forms and App Home.
type DevViews struct{ store DevViewStore }

// NewDevViews returns DevViews keeping views in store.
func NewDevViews(store DevViewStore) *DevViews { return &DevViews{store: store} }

// OpenView keeps the modal; dev has no trigger to expire.
func (d *DevViews) OpenView(ctx context.Context, _ string, view slack.ModalViewRequest) (string, error) {
	b, err := json.Marshal(view)
	if err != nil {
		return "", err
	}
	return d.store.KeepSlackView(ctx, "modal", "", "", b)
}

// UpdateView replaces the kept modal viewID.
func (d *DevViews) UpdateView(ctx context.Context, viewID, _ string, view slack.ModalViewRequest) error {
	b, err := json.Marshal(view)
	if err != nil {
		return err
	}
	_, err = d.store.KeepSlackView(ctx, "modal", "", viewID, b)
	return err
}

// PublishHome keeps userID's App Home.
func (d *DevViews) PublishHome(ctx context.Context, userID string, view slack.HomeTabViewRequest) error {
	b, err := json.Marshal(view)
	if err != nil {
		return err
	}
	_, err = d.store.KeepSlackView(ctx, "home", userID, "", b)
	return err
}
