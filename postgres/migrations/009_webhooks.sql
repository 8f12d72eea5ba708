-- Outbound events (issue 23, docs/webhooks.md): signed events to the
-- vendor's other systems, recorded in the transaction of each change.
--
-- The outbox is the history: every change already writes its audit_log row
-- in its own transaction (SPEC §10). A statement-level trigger on
-- audit_log turns the rows of the actions receivers care about into events
-- (webhook_events, the payload rendered from the state as the change left
-- it) and queues one delivery per subscribed endpoint (webhook_deliveries),
-- in that same transaction: an event exists exactly when its change
-- committed, whatever code path made it, and the bulk import pays one
-- set-based statement per batch. With no endpoint subscribed to a type,
-- nothing is written for it.

CREATE TABLE webhook_endpoints (
    id                     text PRIMARY KEY CHECK (id ~ '^ep_[a-z2-7]{16}$'),
    url                    text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description            text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    events                 text[] NOT NULL CHECK (cardinality(events) > 0),
    -- The signing key. It has to be read to sign, so it cannot be hashed;
    -- it is shown once (at creation and rotation) and never logged.
    secret                 bytea NOT NULL CHECK (length(secret) >= 24),
    -- The key a rotation replaced, still signing beside the new one until
    -- previous_secret_until (24 h).
    previous_secret        bytea,
    previous_secret_until  timestamptz,
    enabled                boolean NOT NULL DEFAULT true,
    disabled_reason        text NOT NULL DEFAULT '',
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- One row per event, keyed by the history record it renders (its id is
-- the event's: evt_<id>).
CREATE TABLE webhook_events (
    id          bigint PRIMARY KEY REFERENCES audit_log (id),
    type        text NOT NULL,
    license_id  bigint NOT NULL REFERENCES licenses (id),
    created_at  timestamptz NOT NULL,
    payload     jsonb NOT NULL
);

-- What each endpoint still has to receive, and what it has received.
-- next_attempt_at NULL: due at once.
CREATE TABLE webhook_deliveries (
    endpoint_id      text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         bigint NOT NULL REFERENCES webhook_events (id),
    license_id       bigint NOT NULL,
    delivered        boolean NOT NULL DEFAULT false,
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    first_failed_at  timestamptz,
    delivered_at     timestamptz,
    PRIMARY KEY (endpoint_id, event_id)
);
-- The delivery workflow reads an endpoint's backlog in event order, and
-- checks per licence that no earlier event of it waits (per-licence order).
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, event_id) WHERE NOT delivered;
CREATE INDEX webhook_deliveries_pending_license ON webhook_deliveries (endpoint_id, license_id, event_id) WHERE NOT delivered;

-- The delivery log: every attempt, newest first per endpoint.
CREATE TABLE webhook_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id  text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id     bigint NOT NULL REFERENCES webhook_events (id),
    attempt      int NOT NULL CHECK (attempt >= 1),
    at           timestamptz NOT NULL,
    status_code  int,
    latency_ms   int NOT NULL CHECK (latency_ms >= 0),
    error        text NOT NULL DEFAULT '' CHECK (length(error) <= 500),
    delivered    boolean NOT NULL
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id DESC);

-- Events recorded, for licensedesk_webhook_events_recorded_total: a
-- sequence, so counting costs no row lock shared by every change (a
-- transaction rolled back after recording still counts: rare).
CREATE SEQUENCE webhook_events_recorded;

-- The event type of a history action, or NULL when receivers are not told
-- of it (requests, resent links, account changes, billing addresses). A
-- licence update that changed its status is named after the new status.
-- The same list as webhooks.EventTypes (a test keeps them equal).
CREATE FUNCTION webhook_event_type(action text, detail jsonb, status text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE action
        WHEN 'license.create' THEN 'license.created'
        WHEN 'license.update' THEN
            CASE WHEN NOT (detail ? 'status' OR coalesce(detail->'changed', '[]') ? 'status') THEN 'license.updated'
                 WHEN status = 'cancelled' THEN 'license.cancelled'
                 WHEN status = 'suspended' THEN 'license.suspended'
                 WHEN status = 'active' THEN 'license.reactivated'
                 ELSE 'license.updated' END
        WHEN 'license.past_due' THEN 'license.updated'
        WHEN 'license.suspended' THEN 'license.suspended'
        WHEN 'license.reactivated' THEN 'license.reactivated'
        WHEN 'license.move' THEN 'license.moved'
        WHEN 'contact.add' THEN 'contact.added'
        WHEN 'contact.remove' THEN 'contact.removed'
        WHEN 'contact.promote' THEN 'contact.promoted'
        WHEN 'site_admin.add' THEN 'site_admin.added'
        WHEN 'site_admin.remove' THEN 'site_admin.removed'
        WHEN 'card.update' THEN 'payment_method.updated'
        WHEN 'invoice.create' THEN 'invoice.created'
        WHEN 'invoice.paid' THEN 'invoice.paid'
        WHEN 'charge.failed' THEN 'invoice.payment_failed'
        WHEN 'invoice.payment_action_required' THEN 'invoice.payment_action_required'
    END $$;

-- A licence as GET /api/v1/licenses/{sen} shows it (SPEC §5), as it is now
-- in the calling transaction (postgres.licenseColumns, the same order).
CREATE FUNCTION webhook_license_view(lic bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'sen', l.sen, 'product', l.product, 'deployment', l.deployment,
        'billing_cycle', l.billing_cycle, 'status', l.status,
        'next_billing_date', to_char(l.next_billing_date, 'YYYY-MM-DD'),
        'site', nullif(l.site, ''),
        'site_admins', coalesce((SELECT jsonb_agg(a.email ORDER BY a.email)
                                 FROM site_admins s JOIN accounts a ON a.id = s.account_id
                                 WHERE s.license_id = l.id), '[]'),
        'contacts', coalesce((SELECT jsonb_agg(jsonb_build_object('email', a.email, 'role', c.role,
                                      'primary', c.is_primary, 'account_status', a.status)
                                      ORDER BY c.role, c.is_primary DESC, a.email)
                              FROM license_contacts c JOIN accounts a ON a.id = c.account_id
                              WHERE c.license_id = l.id), '[]'),
        'payment_method', (SELECT jsonb_build_object('brand', p.brand, 'last4', p.last4,
                                                     'exp_month', p.exp_month, 'exp_year', p.exp_year)
                           FROM payment_methods p WHERE p.license_id = l.id AND p.is_default))
    FROM licenses l WHERE l.id = lic $$;

-- An invoice as invoice events show it (docs/webhooks.md).
CREATE FUNCTION webhook_invoice_view(num text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'number', i.number, 'sen', l.sen, 'status', i.status,
        'amount_minor', i.amount_cents, 'currency', i.currency,
        'period_start', to_char(i.period_start, 'YYYY-MM-DD'),
        'period_end', to_char(i.period_end, 'YYYY-MM-DD'),
        'due_date', to_char(i.due_date, 'YYYY-MM-DD'),
        'paid_at', to_char(i.paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
    FROM invoices i JOIN licenses l ON l.id = i.license_id WHERE i.number = num $$;

CREATE FUNCTION record_webhook_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    notify text[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints) THEN
        RETURN NULL;
    END IF;
    WITH typed AS (
        SELECT n.id, n.at, n.actor_kind, n.actor, n.detail, n.license_id,
               webhook_event_type(n.action, n.detail, l.status) AS type
        FROM new_rows n JOIN licenses l ON l.id = n.license_id
    ), wanted AS (
        SELECT t.* FROM typed t
        WHERE t.type IS NOT NULL AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE t.type = ANY (e.events))
    ), events AS (
        INSERT INTO webhook_events (id, type, license_id, created_at, payload)
        SELECT w.id, w.type, w.license_id, w.at, jsonb_build_object(
                   'id', 'evt_' || w.id,
                   'type', w.type,
                   'created_at', to_char(w.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                   'data', CASE WHEN w.type LIKE 'invoice.%' THEN webhook_invoice_view(w.detail->>'number')
                                ELSE webhook_license_view(w.license_id) END,
                   'actor', jsonb_build_object('via', w.actor_kind, 'id', w.actor)
                            || CASE WHEN w.actor_kind IN ('link', 'account') THEN jsonb_build_object('email', w.actor)
                                    ELSE '{}' END,
                   'change', w.detail - 'run' - 'link_id' - 'import_line')
        FROM wanted w
        ORDER BY w.id
        RETURNING id, type, license_id, nextval('webhook_events_recorded')
    ), queued AS (
        INSERT INTO webhook_deliveries (endpoint_id, event_id, license_id)
        SELECT e.id, v.id, v.license_id FROM events v JOIN webhook_endpoints e ON v.type = ANY (e.events)
        RETURNING endpoint_id
    )
    SELECT array_agg(DISTINCT q.endpoint_id) INTO notify
    FROM queued q JOIN webhook_endpoints e ON e.id = q.endpoint_id AND e.enabled;
    -- Delivered at commit (and only then): wakes the endpoints' delivery
    -- workflows at once instead of at their next poll.
    PERFORM pg_notify('webhook_events', e) FROM unnest(notify) e;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_log_webhook_events AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_webhook_events();

---- create above / drop below ----

DROP TRIGGER audit_log_webhook_events ON audit_log;
DROP FUNCTION record_webhook_events(), webhook_invoice_view(text), webhook_license_view(bigint), webhook_event_type(text, jsonb, text);
DROP SEQUENCE webhook_events_recorded;
DROP TABLE webhook_attempts, webhook_deliveries, webhook_events, webhook_endpoints;
