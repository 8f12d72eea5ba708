package web

import (
	"context"

	"licensedesk/links"
)

// LinkService looks links up and acts on them. Errors are *licensing.Error:
// NotFound (unknown token → 404), Gone (used, expired or revoked → 410),
// Invalid (bad form input → the form again with the message, 422), others
// as their codes say.
type LinkService interface {
	Lookup(ctx context.Context, token string) (links.View, error)
	Act(ctx context.Context, token string, action links.Action) (links.Result, error)
}
