package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"licensedesk/licensing"
	"licensedesk/webhooks"
)

// Outbound events (migration 009, docs/webhooks.md). Events and their
// deliveries are written by the audit_log trigger in each change's own
// transaction; this file manages endpoints and what the delivery workflow
// reads and records.

// endpointColumns are an endpoint with its backlog (an index-only count
// over webhook_deliveries_pending).
const endpointColumns = `e.id, e.url, e.description, e.events, e.enabled, e.disabled_reason, e.created_at,
	(SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND NOT d.delivered)`

func scanEndpoint(row pgx.Row) (webhooks.Endpoint, error) {
	var ep webhooks.Endpoint
	var events []string
	err := row.Scan(&ep.ID, &ep.URL, &ep.Description, &events, &ep.Enabled, &ep.DisabledReason, &ep.CreatedAt, &ep.Backlog)
	for _, e := range events {
		ep.Events = append(ep.Events, webhooks.EventType(e))
	}
	return ep, err
}

func notFoundEndpoint(id string) error {
	return licensing.Errorf(licensing.NotFound, "No webhook endpoint %s found.", id)
}

// CreateWebhookEndpoint stores an endpoint (already checked: webhooks.
// Policy.Check) with its signing key. It receives the events of changes
// committed from now on.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, id string, n webhooks.NewEndpoint, secret []byte) (webhooks.Endpoint, error) {
	events := make([]string, len(n.Events))
	for i, e := range n.Events {
		events[i] = string(e)
	}
	return scanEndpoint(db.pool.QueryRow(ctx, `
		WITH e AS (
			INSERT INTO webhook_endpoints (id, url, description, events, secret) VALUES ($1, $2, $3, $4, $5)
			RETURNING *)
		SELECT `+endpointColumns+` FROM e`, id, n.URL, n.Description, events, secret))
}

// WebhookEndpoint returns one endpoint, or NotFound.
func (db *DB) WebhookEndpoint(ctx context.Context, id string) (webhooks.Endpoint, error) {
	ep, err := scanEndpoint(db.pool.QueryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints e WHERE e.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return ep, notFoundEndpoint(id)
	}
	return ep, err
}

// WebhookEndpoints lists every endpoint, oldest first (a vendor has a
// handful).
func (db *DB) WebhookEndpoints(ctx context.Context) ([]webhooks.Endpoint, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints e ORDER BY e.created_at, e.id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhooks.Endpoint, error) { return scanEndpoint(r) })
}

// DeleteWebhookEndpoint deletes an endpoint and what it had not received.
// With a backlog it refuses unless dropBacklog, and says how many events
// would be dropped; it returns how many were.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, id string, dropBacklog bool) (int, error) {
	var backlog int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT id FROM webhook_endpoints WHERE id = $1 FOR UPDATE`, id).Scan(&id); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return notFoundEndpoint(id)
			}
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND NOT delivered`, id).Scan(&backlog); err != nil {
			return err
		}
		if backlog > 0 && !dropBacklog {
			return licensing.FieldErrorf(licensing.Invalid, "drop_backlog",
				"%s still has %d events to deliver; nothing was deleted. Delete with ?drop_backlog=true to drop them, or wait for the backlog to drain", id, backlog)
		}
		_, err := tx.Exec(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
		return err
	})
	return backlog, err
}

// RotateWebhookSecret makes key the endpoint's signing key; the one it
// replaces keeps signing beside it until until.
func (db *DB) RotateWebhookSecret(ctx context.Context, id string, key []byte, until time.Time) error {
	tag, err := db.pool.Exec(ctx, `
		UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = $3, secret = $2, updated_at = now()
		WHERE id = $1`, id, key, until)
	if err == nil && tag.RowsAffected() == 0 {
		return notFoundEndpoint(id)
	}
	return err
}

// SetWebhookEndpointEnabled enables or disables an endpoint (reason says
// why it was disabled). A disabled endpoint keeps its backlog and goes on
// queueing events, so nothing is lost when it is enabled again.
func (db *DB) SetWebhookEndpointEnabled(ctx context.Context, id string, enabled bool, reason string) (webhooks.Endpoint, error) {
	if enabled {
		reason = ""
	}
	ep, err := scanEndpoint(db.pool.QueryRow(ctx, `
		WITH e AS (
			UPDATE webhook_endpoints SET enabled = $2, disabled_reason = $3, updated_at = now() WHERE id = $1 RETURNING *)
		SELECT `+endpointColumns+` FROM e`, id, enabled, reason))
	if errors.Is(err, pgx.ErrNoRows) {
		return ep, notFoundEndpoint(id)
	}
	if err == nil && enabled {
		// Failures before it was disabled do not count against the new
		// start: the 3-day clock begins again.
		_, err = db.pool.Exec(ctx, `UPDATE webhook_deliveries SET first_failed_at = NULL, next_attempt_at = NULL
			WHERE endpoint_id = $1 AND NOT delivered`, id)
	}
	return ep, err
}

// WebhookTarget is where and how to deliver to an endpoint.
type WebhookTarget struct {
	URL     string
	Enabled bool
	Secrets webhooks.Secrets
}

// WebhookTarget returns an endpoint's URL and keys; ok is false when it
// was deleted.
func (db *DB) WebhookTarget(ctx context.Context, id string) (t WebhookTarget, ok bool, err error) {
	var until *time.Time
	err = db.pool.QueryRow(ctx, `SELECT url, enabled, secret, previous_secret, previous_secret_until FROM webhook_endpoints WHERE id = $1`, id).
		Scan(&t.URL, &t.Enabled, &t.Secrets.Current, &t.Secrets.Previous, &until)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, false, nil
	}
	if until != nil {
		t.Secrets.PreviousUntil = *until
	}
	return t, err == nil, err
}

// PendingDelivery is an event waiting for an endpoint, with its body.
type PendingDelivery struct {
	EventID   int64
	LicenseID int64
	Attempts  int // made so far
	Body      []byte
}

// sqlDueDeliveries is a batch of an endpoint's backlog in event order:
// $1 endpoint, $2 now, $3 how many. An event whose licence has an earlier
// (or its own) delivery waiting for a retry is left out, so each licence's
// events arrive in order.
const sqlDueDeliveries = `
	SELECT d.event_id, d.license_id, d.attempts, v.payload::text
	FROM webhook_deliveries d JOIN webhook_events v ON v.id = d.event_id
	WHERE d.endpoint_id = $1 AND NOT d.delivered
	  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
	                  WHERE p.endpoint_id = d.endpoint_id AND p.license_id = d.license_id AND NOT p.delivered
	                    AND p.event_id <= d.event_id AND p.next_attempt_at > $2)
	ORDER BY d.event_id
	LIMIT $3`

// DueWebhookDeliveries returns up to limit deliveries due at now.
func (db *DB) DueWebhookDeliveries(ctx context.Context, endpointID string, now time.Time, limit int) ([]PendingDelivery, error) {
	rows, err := db.pool.Query(ctx, sqlDueDeliveries, endpointID, now, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PendingDelivery, error) {
		var p PendingDelivery
		var body string
		err := r.Scan(&p.EventID, &p.LicenseID, &p.Attempts, &body)
		p.Body = []byte(body)
		return p, err
	})
}

// DeliveryResult is how one delivery attempt went.
type DeliveryResult struct {
	EventID    int64
	Attempt    int // 1 for the first
	At         time.Time
	StatusCode int // 0: no answer
	Latency    time.Duration
	Error      string
	Delivered  bool
	NextAt     time.Time // when to try again, for a failure
}

// RecordWebhookAttempts records a batch's attempts in the delivery log
// and moves their deliveries on (delivered, or waiting for NextAt), in two
// statements whatever the batch's size. Attempts for an endpoint deleted
// meanwhile are dropped with it.
func (db *DB) RecordWebhookAttempts(ctx context.Context, endpointID string, results []DeliveryResult) error {
	if len(results) == 0 {
		return nil
	}
	n := len(results)
	var (
		ids       = make([]int64, n)
		attempts  = make([]int32, n)
		ats       = make([]time.Time, n)
		codes     = make([]*int32, n)
		latencies = make([]int32, n)
		errs      = make([]string, n)
		delivered = make([]bool, n)
		nexts     = make([]*time.Time, n)
	)
	for i, r := range results {
		ids[i], attempts[i], ats[i], latencies[i], delivered[i] = r.EventID, int32(r.Attempt), r.At, int32(r.Latency.Milliseconds()), r.Delivered
		errs[i] = truncate(r.Error, 500)
		if r.StatusCode != 0 {
			c := int32(r.StatusCode)
			codes[i] = &c
		}
		if !r.Delivered {
			nexts[i] = &results[i].NextAt
		}
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO webhook_attempts (endpoint_id, event_id, attempt, at, status_code, latency_ms, error, delivered)
			SELECT $1, r.* FROM unnest($2::bigint[], $3::int[], $4::timestamptz[], $5::int[], $6::int[], $7::text[], $8::bool[]) r
			WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = $1)`,
			endpointID, ids, attempts, ats, codes, latencies, errs, delivered); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			UPDATE webhook_deliveries d SET
				attempts = greatest(d.attempts, r.attempt),
				delivered = d.delivered OR r.ok,
				delivered_at = CASE WHEN r.ok THEN coalesce(d.delivered_at, r.at) ELSE d.delivered_at END,
				first_failed_at = CASE WHEN r.ok THEN NULL ELSE coalesce(d.first_failed_at, r.at) END,
				next_attempt_at = CASE WHEN r.ok THEN NULL ELSE r.next END
			FROM unnest($2::bigint[], $3::int[], $4::timestamptz[], $5::bool[], $6::timestamptz[]) AS r(event_id, attempt, at, ok, next)
			WHERE d.endpoint_id = $1 AND d.event_id = r.event_id`,
			endpointID, ids, attempts, ats, delivered, nexts)
		return err
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n-- // not in the middle of a character
	}
	return s[:n]
}

// WebhookBacklog is where an endpoint's backlog stands.
type WebhookBacklog struct {
	Pending       int
	NextDue       time.Time // the earliest retry scheduled; zero when none is
	OldestFailure time.Time // first failure of the delivery failing longest; zero when none is
}

// WebhookBacklog reads an endpoint's backlog.
func (db *DB) WebhookBacklog(ctx context.Context, endpointID string) (WebhookBacklog, error) {
	var b WebhookBacklog
	var next, oldest *time.Time
	err := db.pool.QueryRow(ctx, `
		SELECT count(*), min(next_attempt_at), min(first_failed_at)
		FROM webhook_deliveries WHERE endpoint_id = $1 AND NOT delivered`, endpointID).Scan(&b.Pending, &next, &oldest)
	if next != nil {
		b.NextDue = *next
	}
	if oldest != nil {
		b.OldestFailure = *oldest
	}
	return b, err
}

// WebhookAttempts returns a page of an endpoint's delivery log, newest
// first, before cursor ("" for the newest), and the next page's cursor.
func (db *DB) WebhookAttempts(ctx context.Context, endpointID, cursor string, limit int) ([]webhooks.Attempt, string, error) {
	before := int64(1<<63 - 1)
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, "", licensing.FieldErrorf(licensing.Invalid, "cursor", "%q is not a cursor of this list", cursor)
		}
		before = n
	}
	if _, err := db.WebhookEndpoint(ctx, endpointID); err != nil {
		return nil, "", err
	}
	rows, err := db.pool.Query(ctx, `
		SELECT a.id, a.event_id, v.type, a.attempt, a.at, a.status_code, a.latency_ms, a.error, a.delivered
		FROM webhook_attempts a JOIN webhook_events v ON v.id = a.event_id
		WHERE a.endpoint_id = $1 AND a.id < $2 ORDER BY a.id DESC LIMIT $3`, endpointID, before, limit+1)
	if err != nil {
		return nil, "", err
	}
	var ids []int64
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhooks.Attempt, error) {
		var (
			a        webhooks.Attempt
			id, evID int64
		)
		err := r.Scan(&id, &evID, &a.EventType, &a.Attempt, &a.At, &a.StatusCode, &a.LatencyMS, &a.Error, &a.Delivered)
		a.ID, a.EventID = webhooks.DeliveryID(id), webhooks.EventID(evID)
		ids = append(ids, id)
		return a, err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(ids[limit-1], 10)
	}
	return out, next, nil
}

// RetryWebhookDelivery queues the event of attempt deliveryID for the
// endpoint again, due at once, even if it was delivered (receivers
// deduplicate by event ID). It returns the event's ID.
func (db *DB) RetryWebhookDelivery(ctx context.Context, endpointID string, deliveryID int64) (string, error) {
	var eventID int64
	err := db.pool.QueryRow(ctx, `
		UPDATE webhook_deliveries d SET delivered = false, delivered_at = NULL, next_attempt_at = NULL, first_failed_at = NULL
		FROM webhook_attempts a
		WHERE a.id = $2 AND a.endpoint_id = $1 AND d.endpoint_id = a.endpoint_id AND d.event_id = a.event_id
		RETURNING d.event_id`, endpointID, deliveryID).Scan(&eventID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", licensing.Errorf(licensing.NotFound, "No delivery %s of %s found.", webhooks.DeliveryID(deliveryID), endpointID)
	}
	return webhooks.EventID(eventID), err
}

// WebhookGauges are the outbound events' state for metrics.
type WebhookGauges struct {
	Recorded int64              // events recorded, ever (a sequence)
	Backlog  map[string]int     // per endpoint: events waiting
	Age      map[string]float64 // per endpoint: seconds since the oldest waiting event was recorded
	Disabled int                // endpoints disabled
}

// ReadWebhookGauges reads them: per endpoint, its oldest waiting event
// through webhook_deliveries_pending, so a scrape costs little whatever the
// backlog.
func (db *DB) ReadWebhookGauges(ctx context.Context) (WebhookGauges, error) {
	g := WebhookGauges{Backlog: map[string]int{}, Age: map[string]float64{}}
	if err := db.pool.QueryRow(ctx, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END, (SELECT count(*) FROM webhook_endpoints WHERE NOT enabled)
		FROM webhook_events_recorded`).Scan(&g.Recorded, &g.Disabled); err != nil {
		return g, err
	}
	rows, err := db.pool.Query(ctx, `
		SELECT e.id,
		       (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND NOT d.delivered),
		       coalesce(extract(epoch FROM now() - (SELECT v.created_at FROM webhook_deliveries d JOIN webhook_events v ON v.id = d.event_id
		                 WHERE d.endpoint_id = e.id AND NOT d.delivered ORDER BY d.event_id LIMIT 1)), 0)::float8
		FROM webhook_endpoints e`)
	if err != nil {
		return g, err
	}
	var (
		id  string
		n   int
		age float64
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &n, &age}, func() error {
		g.Backlog[id], g.Age[id] = n, age
		return nil
	})
	return g, err
}

// ListenWebhookEvents calls nudge with the ID of each enabled endpoint
// that has new events, as their transactions commit (the trigger's
// NOTIFY), until ctx ends; it reconnects after a lost connection (telling
// lost why). It holds one connection of the pool.
func (db *DB) ListenWebhookEvents(ctx context.Context, nudge func(endpointID string), lost func(error)) error {
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, nudge)
		if ctx.Err() != nil {
			return nil
		}
		lost(err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	return nil
}

func (db *DB) listenOnce(ctx context.Context, nudge func(string)) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN webhook_events`); err != nil {
		return err
	}
	defer func() {
		// Back in the pool, the connection must not keep listening.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `UNLISTEN webhook_events`)
	}()
	// Whatever was recorded before we listened: nudge every enabled
	// endpoint once.
	rows, err := conn.Query(ctx, `SELECT id FROM webhook_endpoints WHERE enabled`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, id := range ids {
		nudge(id)
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		nudge(n.Payload)
	}
}
