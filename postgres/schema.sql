-- The schema as the migrations in postgres/migrations leave it, for readers:
-- tables, indexes, views, functions and triggers, no data. Generated, do not
-- edit: change the schema with a new migration, then regenerate this file
-- with
--
--   go test ./postgres -run TestSchemaFile -update
--
-- (TestSchemaFile fails while it differs from what the migrations make).

CREATE FUNCTION public.assert_license_primaries(lic bigint) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['billing', 'technical'] LOOP
        IF NOT EXISTS (SELECT 1 FROM license_contacts
                       WHERE license_id = lic AND role = r AND is_primary) THEN
            RAISE EXCEPTION 'licence % must have a primary % contact', lic, r
                USING ERRCODE = 'check_violation', CONSTRAINT = 'primary_contact_required';
        END IF;
    END LOOP;
END $$;

CREATE FUNCTION public.queue_primary_checks() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
    IF TG_TABLE_NAME = 'licenses' THEN
        INSERT INTO primary_checks SELECT pg_current_xact_id(), id FROM new_rows ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO primary_checks
            SELECT DISTINCT pg_current_xact_id(), license_id FROM new_rows
            ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO primary_checks
            SELECT pg_current_xact_id(), license_id FROM old_rows
            UNION SELECT pg_current_xact_id(), license_id FROM new_rows
            ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO primary_checks
            SELECT DISTINCT pg_current_xact_id(), license_id FROM old_rows
            ON CONFLICT DO NOTHING;
    END IF;
    INSERT INTO primary_check_runs VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION public.record_webhook_events() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

CREATE FUNCTION public.refuse_primary_delete() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
    IF OLD.is_primary THEN
        RAISE EXCEPTION 'a primary contact cannot be removed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'primary_contact_not_removable';
    END IF;
    RETURN OLD;
END $$;

CREATE FUNCTION public.run_primary_checks() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
    bad  bigint;
    role text;
BEGIN
    DELETE FROM primary_check_runs WHERE tx = NEW.tx;
    SELECT q.license_id,
           CASE WHEN NOT EXISTS (SELECT 1 FROM license_contacts c
                                 WHERE c.license_id = q.license_id AND c.role = 'billing' AND c.is_primary)
                THEN 'billing' ELSE 'technical' END
      INTO bad, role
      FROM primary_checks q
     WHERE q.tx = NEW.tx
       AND EXISTS (SELECT 1 FROM licenses l WHERE l.id = q.license_id)
       AND (NOT EXISTS (SELECT 1 FROM license_contacts c
                        WHERE c.license_id = q.license_id AND c.role = 'billing' AND c.is_primary)
            OR NOT EXISTS (SELECT 1 FROM license_contacts c
                           WHERE c.license_id = q.license_id AND c.role = 'technical' AND c.is_primary))
     LIMIT 1;
    DELETE FROM primary_checks WHERE tx = NEW.tx;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'licence % must have a primary % contact', bad, role
            USING ERRCODE = 'check_violation', CONSTRAINT = 'primary_contact_required';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION public.webhook_event_type(action text, detail jsonb, status text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

CREATE FUNCTION public.webhook_invoice_view(num text) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'public', 'pg_temp'
    AS $$
    SELECT jsonb_build_object(
        'number', i.number, 'sen', l.sen, 'status', i.status,
        'amount_minor', i.amount_cents, 'currency', i.currency,
        'period_start', to_char(i.period_start, 'YYYY-MM-DD'),
        'period_end', to_char(i.period_end, 'YYYY-MM-DD'),
        'due_date', to_char(i.due_date, 'YYYY-MM-DD'),
        'paid_at', to_char(i.paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
    FROM invoices i JOIN licenses l ON l.id = i.license_id WHERE i.number = num $$;

CREATE FUNCTION public.webhook_license_view(lic bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'public', 'pg_temp'
    AS $$
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
                                  || CASE WHEN p.added_by IS NULL THEN '{}'::jsonb
                                          ELSE jsonb_build_object('added_by', p.added_by) END
                           FROM payment_methods p WHERE p.license_id = l.id AND p.is_default))
    FROM licenses l WHERE l.id = lic $$;

CREATE TABLE public.accounts (
    id bigint NOT NULL,
    email text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    display_name text DEFAULT ''::text NOT NULL,
    phone text DEFAULT ''::text NOT NULL,
    company text DEFAULT ''::text NOT NULL,
    address text DEFAULT ''::text NOT NULL,
    password_hash text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT accounts_address_check CHECK ((length(address) <= 1000)),
    CONSTRAINT accounts_check CHECK (((status <> 'active'::text) OR (password_hash IS NOT NULL))),
    CONSTRAINT accounts_company_check CHECK ((length(company) <= 200)),
    CONSTRAINT accounts_display_name_check CHECK ((length(display_name) <= 200)),
    CONSTRAINT accounts_email_check CHECK (((email = lower(btrim(email))) AND (email ~~ '_%@_%'::text) AND (length(email) <= 254))),
    CONSTRAINT accounts_phone_check CHECK ((length(phone) <= 50)),
    CONSTRAINT accounts_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'active'::text, 'disabled'::text])))
);

ALTER TABLE public.accounts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.accounts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    at timestamp with time zone DEFAULT COALESCE((NULLIF(current_setting('licensedesk.now'::text, true), ''::text))::timestamp with time zone, now()) NOT NULL,
    actor_kind text NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    license_id bigint,
    account_id bigint,
    workflow_id text,
    detail jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT audit_log_actor_kind_check CHECK ((actor_kind = ANY (ARRAY['slack'::text, 'link'::text, 'account'::text, 'system'::text, 'api'::text])))
);

ALTER TABLE public.audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.auth_throttle (
    key text NOT NULL,
    failures integer NOT NULL,
    last_failure_at timestamp with time zone NOT NULL,
    locked_until timestamp with time zone,
    CONSTRAINT auth_throttle_failures_check CHECK ((failures >= 0)),
    CONSTRAINT auth_throttle_key_check CHECK ((length(key) <= 300))
);

CREATE TABLE public.billing_addresses (
    license_id bigint NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    lines text[] DEFAULT '{}'::text[] NOT NULL,
    city text DEFAULT ''::text NOT NULL,
    postcode text DEFAULT ''::text NOT NULL,
    region text DEFAULT ''::text NOT NULL,
    country text,
    tax_id text DEFAULT ''::text NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT billing_addresses_check CHECK (((tax_id = ''::text) OR (country IS NOT NULL))),
    CONSTRAINT billing_addresses_city_check CHECK ((length(city) <= 100)),
    CONSTRAINT billing_addresses_country_check CHECK ((country ~ '^[A-Z]{2}$'::text)),
    CONSTRAINT billing_addresses_lines_check CHECK ((cardinality(lines) <= 50)),
    CONSTRAINT billing_addresses_name_check CHECK ((length(name) <= 200)),
    CONSTRAINT billing_addresses_postcode_check CHECK ((length(postcode) <= 20)),
    CONSTRAINT billing_addresses_region_check CHECK ((length(region) <= 100)),
    CONSTRAINT billing_addresses_tax_id_check CHECK ((length(tax_id) <= 40))
);

CREATE TABLE public.billing_reminders (
    id bigint NOT NULL,
    kind text NOT NULL,
    license_id bigint NOT NULL,
    about date NOT NULL,
    send_on date NOT NULL,
    detail jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    CONSTRAINT billing_reminders_kind_check CHECK ((kind = ANY (ARRAY['renewal'::text, 'card_handover'::text])))
);

ALTER TABLE public.billing_reminders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.billing_reminders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.billing_run_exceptions (
    id bigint NOT NULL,
    run_id bigint NOT NULL,
    key text NOT NULL,
    kind text NOT NULL,
    sen text NOT NULL,
    invoice text NOT NULL,
    amount_cents bigint NOT NULL,
    currency text NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    next_retry date,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    reply_ts text,
    CONSTRAINT billing_run_exceptions_kind_check CHECK ((kind = ANY (ARRAY['hard_decline'::text, 'suspended'::text, 'large_failure'::text])))
);

ALTER TABLE public.billing_run_exceptions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.billing_run_exceptions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.billing_run_invoices (
    invoice_id bigint NOT NULL,
    run_id bigint NOT NULL,
    state text DEFAULT 'charging'::text NOT NULL,
    reactivated boolean DEFAULT false NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT billing_run_invoices_state_check CHECK ((state = ANY (ARRAY['charging'::text, 'paid'::text, 'declined_soft'::text, 'declined_hard'::text, 'suspended'::text])))
);

CREATE TABLE public.billing_runs (
    id bigint NOT NULL,
    workflow_key text NOT NULL,
    channel text DEFAULT ''::text NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    charging_done boolean DEFAULT false NOT NULL,
    slack_ts text,
    version bigint DEFAULT 1 NOT NULL,
    flushed_version bigint DEFAULT 0 NOT NULL
);

ALTER TABLE public.billing_runs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.billing_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.card_expiry_reminders (
    payment_method_id bigint NOT NULL,
    stage text NOT NULL,
    license_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    mailed_at timestamp with time zone,
    skipped text,
    CONSTRAINT card_expiry_reminders_stage_check CHECK (((stage = ANY (ARRAY['30d'::text, '7d'::text])) OR (stage ~ '^due:[0-9]{4}-[0-9]{2}-[0-9]{2}$'::text)))
);

CREATE TABLE public.charge_attempts (
    id bigint NOT NULL,
    invoice_id bigint NOT NULL,
    attempt integer NOT NULL,
    idempotency_key text NOT NULL,
    payment_method text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    provider_ref text,
    decline_code text,
    error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    CONSTRAINT charge_attempts_attempt_check CHECK ((attempt >= 1)),
    CONSTRAINT charge_attempts_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'succeeded'::text, 'failed'::text])))
);

ALTER TABLE public.charge_attempts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.charge_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.dev_slack_messages (
    id bigint NOT NULL,
    channel text NOT NULL,
    ts text NOT NULL,
    thread_ts text,
    text text DEFAULT ''::text NOT NULL,
    blocks jsonb DEFAULT '[]'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone
);

ALTER TABLE public.dev_slack_messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.dev_slack_messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.dev_slack_views (
    id bigint NOT NULL,
    view_id text NOT NULL,
    kind text NOT NULL,
    user_id text DEFAULT ''::text NOT NULL,
    view jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    CONSTRAINT dev_slack_views_kind_check CHECK ((kind = ANY (ARRAY['modal'::text, 'home'::text])))
);

ALTER TABLE public.dev_slack_views ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.dev_slack_views_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.invoices (
    id bigint NOT NULL,
    license_id bigint NOT NULL,
    number text NOT NULL,
    period_start date NOT NULL,
    period_end date NOT NULL,
    due_date date NOT NULL,
    amount_cents bigint NOT NULL,
    currency text NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    paid_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    collection_started_at timestamp with time zone,
    tax_name text DEFAULT ''::text NOT NULL,
    tax_rate_bp integer DEFAULT 0 NOT NULL,
    tax_cents bigint DEFAULT 0 NOT NULL,
    bill_to jsonb,
    CONSTRAINT invoices_amount_cents_check CHECK ((amount_cents > 0)),
    CONSTRAINT invoices_check CHECK ((period_end > period_start)),
    CONSTRAINT invoices_check1 CHECK (((status = 'paid'::text) = (paid_at IS NOT NULL))),
    CONSTRAINT invoices_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT invoices_status_check CHECK ((status = ANY (ARRAY['open'::text, 'paid'::text, 'void'::text]))),
    CONSTRAINT invoices_tax_cents_check CHECK ((tax_cents >= 0)),
    CONSTRAINT invoices_tax_rate_bp_check CHECK (((tax_rate_bp >= 0) AND (tax_rate_bp <= 10000))),
    CONSTRAINT invoices_tax_within_amount CHECK ((tax_cents < amount_cents))
);

ALTER TABLE public.invoices ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.invoices_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.license_contacts (
    license_id bigint NOT NULL,
    account_id bigint NOT NULL,
    role text NOT NULL,
    is_primary boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT license_contacts_role_check CHECK ((role = ANY (ARRAY['billing'::text, 'technical'::text])))
);

CREATE TABLE public.licenses (
    id bigint NOT NULL,
    sen text NOT NULL,
    product text NOT NULL,
    deployment text NOT NULL,
    billing_cycle text,
    status text DEFAULT 'active'::text NOT NULL,
    site text DEFAULT ''::text NOT NULL,
    price_cents bigint DEFAULT 0 NOT NULL,
    currency text DEFAULT 'USD'::text NOT NULL,
    next_billing_date date,
    payment_customer text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    past_due_since date,
    renewal_reminded_for date,
    CONSTRAINT licenses_billing_cycle_check CHECK ((billing_cycle = ANY (ARRAY['monthly'::text, 'annual'::text]))),
    CONSTRAINT licenses_check CHECK (((deployment = 'cloud'::text) = (billing_cycle IS NOT NULL))),
    CONSTRAINT licenses_check1 CHECK (((deployment = 'cloud'::text) = (next_billing_date IS NOT NULL))),
    CONSTRAINT licenses_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT licenses_deployment_check CHECK ((deployment = ANY (ARRAY['server'::text, 'cloud'::text]))),
    CONSTRAINT licenses_price_cents_check CHECK ((price_cents >= 0)),
    CONSTRAINT licenses_product_check CHECK ((product <> ''::text)),
    CONSTRAINT licenses_sen_check CHECK ((sen ~ '^SEN-L?[0-9]{5,12}$'::text)),
    CONSTRAINT licenses_status_check CHECK ((status = ANY (ARRAY['active'::text, 'past_due'::text, 'suspended'::text, 'cancelled'::text])))
);

ALTER TABLE public.licenses ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.licenses_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.link_tokens (
    id bigint NOT NULL,
    token_hash bytea NOT NULL,
    purpose text NOT NULL,
    account_id bigint NOT NULL,
    license_id bigint,
    workflow_id text,
    data jsonb DEFAULT '{}'::jsonb NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    spent_by text,
    spent_result jsonb,
    revoked_reason text,
    CONSTRAINT link_tokens_revoked_reason_check CHECK ((revoked_reason = ANY (ARRAY['done'::text, 'declined'::text, 'expired'::text, 'cancelled'::text, 'left'::text, 'replaced'::text, 'ended'::text]))),
    CONSTRAINT link_tokens_spent_by_check CHECK ((length(spent_by) <= 300))
);

ALTER TABLE public.link_tokens ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.link_tokens_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE UNLOGGED TABLE public.pace_slots (
    key text NOT NULL,
    tat timestamp with time zone NOT NULL
);

CREATE TABLE public.payment_methods (
    id bigint NOT NULL,
    license_id bigint NOT NULL,
    provider_ref text NOT NULL,
    brand text NOT NULL,
    last4 text NOT NULL,
    exp_month integer NOT NULL,
    exp_year integer NOT NULL,
    is_default boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    added_by text,
    added_via text,
    CONSTRAINT payment_methods_added_via_check CHECK ((added_via = ANY (ARRAY['link'::text, 'account'::text, 'api'::text, 'system'::text]))),
    CONSTRAINT payment_methods_exp_month_check CHECK (((exp_month >= 1) AND (exp_month <= 12))),
    CONSTRAINT payment_methods_exp_year_check CHECK (((exp_year >= 2000) AND (exp_year <= 2200))),
    CONSTRAINT payment_methods_last4_check CHECK ((last4 ~ '^[0-9]{4}$'::text))
);

ALTER TABLE public.payment_methods ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.payment_methods_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE UNLOGGED TABLE public.primary_check_runs (
    tx xid8 NOT NULL
);

CREATE UNLOGGED TABLE public.primary_checks (
    tx xid8 NOT NULL,
    license_id bigint NOT NULL
);

CREATE TABLE public.sandbox_charges (
    id text NOT NULL,
    idempotency_key text NOT NULL,
    customer_id text NOT NULL,
    payment_method text NOT NULL,
    amount_cents bigint NOT NULL,
    currency text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    status text NOT NULL,
    decline_code text,
    message text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    return_url text,
    challenge_csrf text,
    updated_at timestamp with time zone,
    CONSTRAINT sandbox_charges_amount_cents_check CHECK ((amount_cents > 0)),
    CONSTRAINT sandbox_charges_currency_check CHECK ((currency ~ '^[a-z]{3}$'::text)),
    CONSTRAINT sandbox_charges_decline_check CHECK ((((status <> 'succeeded'::text) OR (decline_code IS NULL)) AND ((status <> 'requires_payment_method'::text) OR (decline_code IS NOT NULL)))),
    CONSTRAINT sandbox_charges_status_check CHECK ((status = ANY (ARRAY['succeeded'::text, 'requires_payment_method'::text, 'requires_action'::text, 'canceled'::text])))
);

CREATE TABLE public.sandbox_customers (
    id text NOT NULL,
    sen text NOT NULL,
    email text DEFAULT ''::text NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    default_payment_method text,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.sandbox_idempotency_keys (
    key text NOT NULL,
    charge_id text NOT NULL,
    used_at timestamp with time zone NOT NULL
);

CREATE TABLE public.sandbox_payment_methods (
    id text NOT NULL,
    customer_id text NOT NULL,
    test_card text NOT NULL,
    brand text NOT NULL,
    last4 text NOT NULL,
    exp_month integer NOT NULL,
    exp_year integer NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sandbox_payment_methods_exp_month_check CHECK (((exp_month >= 1) AND (exp_month <= 12))),
    CONSTRAINT sandbox_payment_methods_exp_year_check CHECK (((exp_year >= 2000) AND (exp_year <= 2200))),
    CONSTRAINT sandbox_payment_methods_last4_check CHECK ((last4 ~ '^[0-9]{4}$'::text))
);

CREATE UNLOGGED TABLE public.sandbox_rate (
    name text NOT NULL,
    tokens double precision NOT NULL,
    at timestamp with time zone NOT NULL
);

CREATE TABLE public.sandbox_sessions (
    id text NOT NULL,
    customer_id text NOT NULL,
    sen text DEFAULT ''::text NOT NULL,
    reference text DEFAULT ''::text NOT NULL,
    success_url text NOT NULL,
    cancel_url text NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    csrf_token text NOT NULL,
    setup_intent text NOT NULL,
    payment_method text,
    idempotency_key text,
    event_id text,
    event_payload text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    completed_at timestamp with time zone,
    CONSTRAINT sandbox_sessions_check CHECK (((status = 'complete'::text) = (payment_method IS NOT NULL))),
    CONSTRAINT sandbox_sessions_check1 CHECK (((status = 'complete'::text) = ((event_id IS NOT NULL) AND (event_payload IS NOT NULL) AND (completed_at IS NOT NULL)))),
    CONSTRAINT sandbox_sessions_csrf_token_check CHECK ((length(csrf_token) >= 32)),
    CONSTRAINT sandbox_sessions_status_check CHECK ((status = ANY (ARRAY['open'::text, 'complete'::text, 'expired'::text])))
);

CREATE TABLE public.security_events (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    kind text NOT NULL,
    user_agent text DEFAULT ''::text NOT NULL,
    client_ip text DEFAULT ''::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    at timestamp with time zone NOT NULL,
    CONSTRAINT security_events_client_ip_check CHECK ((length(client_ip) <= 100)),
    CONSTRAINT security_events_kind_check CHECK ((kind = ANY (ARRAY['signin_locked'::text, 'password_changed'::text, 'password_reset'::text]))),
    CONSTRAINT security_events_user_agent_check CHECK ((length(user_agent) <= 512))
);

ALTER TABLE public.security_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.security_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.sent_mail (
    id bigint NOT NULL,
    message_key text NOT NULL,
    to_addr text NOT NULL,
    subject text NOT NULL,
    text_body text NOT NULL,
    html_body text DEFAULT ''::text NOT NULL,
    links jsonb DEFAULT '[]'::jsonb NOT NULL,
    sent_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.sent_mail ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.sent_mail_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.sessions (
    id_hash bytea NOT NULL,
    account_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    user_agent text DEFAULT ''::text NOT NULL,
    notice jsonb,
    CONSTRAINT sessions_check CHECK ((expires_at > created_at)),
    CONSTRAINT sessions_id_hash_check CHECK ((length(id_hash) = 32)),
    CONSTRAINT sessions_user_agent_check CHECK ((length(user_agent) <= 512))
);

CREATE TABLE public.site_admins (
    license_id bigint NOT NULL,
    account_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.webhook_attempts (
    id bigint NOT NULL,
    endpoint_id text NOT NULL,
    event_id bigint NOT NULL,
    attempt integer NOT NULL,
    at timestamp with time zone NOT NULL,
    status_code integer,
    latency_ms integer NOT NULL,
    error text DEFAULT ''::text NOT NULL,
    delivered boolean NOT NULL,
    CONSTRAINT webhook_attempts_attempt_check CHECK ((attempt >= 1)),
    CONSTRAINT webhook_attempts_error_check CHECK ((length(error) <= 500)),
    CONSTRAINT webhook_attempts_latency_ms_check CHECK ((latency_ms >= 0))
);

ALTER TABLE public.webhook_attempts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.webhook_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.webhook_deliveries (
    endpoint_id text NOT NULL,
    event_id bigint NOT NULL,
    license_id bigint NOT NULL,
    delivered boolean DEFAULT false NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone,
    first_failed_at timestamp with time zone,
    delivered_at timestamp with time zone
);

CREATE TABLE public.webhook_endpoints (
    id text NOT NULL,
    url text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    events text[] NOT NULL,
    secret bytea NOT NULL,
    previous_secret bytea,
    previous_secret_until timestamp with time zone,
    enabled boolean DEFAULT true NOT NULL,
    disabled_reason text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_endpoints_description_check CHECK ((length(description) <= 500)),
    CONSTRAINT webhook_endpoints_events_check CHECK ((cardinality(events) > 0)),
    CONSTRAINT webhook_endpoints_id_check CHECK ((id ~ '^ep_[a-z2-7]{16}$'::text)),
    CONSTRAINT webhook_endpoints_secret_check CHECK ((length(secret) >= 24)),
    CONSTRAINT webhook_endpoints_url_check CHECK (((length(url) >= 1) AND (length(url) <= 2048)))
);

CREATE TABLE public.webhook_events (
    id bigint NOT NULL,
    type text NOT NULL,
    license_id bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    payload jsonb NOT NULL
);

CREATE SEQUENCE public.webhook_events_recorded
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.auth_throttle
    ADD CONSTRAINT auth_throttle_pkey PRIMARY KEY (key);

ALTER TABLE ONLY public.billing_addresses
    ADD CONSTRAINT billing_addresses_pkey PRIMARY KEY (license_id);

ALTER TABLE ONLY public.billing_reminders
    ADD CONSTRAINT billing_reminders_kind_license_id_about_key UNIQUE (kind, license_id, about);

ALTER TABLE ONLY public.billing_reminders
    ADD CONSTRAINT billing_reminders_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.billing_run_exceptions
    ADD CONSTRAINT billing_run_exceptions_key_key UNIQUE (key);

ALTER TABLE ONLY public.billing_run_exceptions
    ADD CONSTRAINT billing_run_exceptions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.billing_run_invoices
    ADD CONSTRAINT billing_run_invoices_pkey PRIMARY KEY (invoice_id);

ALTER TABLE ONLY public.billing_runs
    ADD CONSTRAINT billing_runs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.billing_runs
    ADD CONSTRAINT billing_runs_workflow_key_key UNIQUE (workflow_key);

ALTER TABLE ONLY public.card_expiry_reminders
    ADD CONSTRAINT card_expiry_reminders_pkey PRIMARY KEY (payment_method_id, stage);

ALTER TABLE ONLY public.charge_attempts
    ADD CONSTRAINT charge_attempts_idempotency_key_key UNIQUE (idempotency_key);

ALTER TABLE ONLY public.charge_attempts
    ADD CONSTRAINT charge_attempts_invoice_id_attempt_key UNIQUE (invoice_id, attempt);

ALTER TABLE ONLY public.charge_attempts
    ADD CONSTRAINT charge_attempts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.dev_slack_messages
    ADD CONSTRAINT dev_slack_messages_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.dev_slack_messages
    ADD CONSTRAINT dev_slack_messages_ts_key UNIQUE (ts);

ALTER TABLE ONLY public.dev_slack_views
    ADD CONSTRAINT dev_slack_views_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.dev_slack_views
    ADD CONSTRAINT dev_slack_views_view_id_key UNIQUE (view_id);

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_license_id_period_start_key UNIQUE (license_id, period_start);

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_number_key UNIQUE (number);

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.license_contacts
    ADD CONSTRAINT license_contacts_pkey PRIMARY KEY (license_id, account_id, role);

ALTER TABLE ONLY public.licenses
    ADD CONSTRAINT licenses_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.licenses
    ADD CONSTRAINT licenses_sen_key UNIQUE (sen);

ALTER TABLE ONLY public.link_tokens
    ADD CONSTRAINT link_tokens_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.link_tokens
    ADD CONSTRAINT link_tokens_token_hash_key UNIQUE (token_hash);

ALTER TABLE ONLY public.license_contacts
    ADD CONSTRAINT one_primary_per_role EXCLUDE USING btree (license_id WITH =, role WITH =) WHERE (is_primary) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY public.pace_slots
    ADD CONSTRAINT pace_slots_pkey PRIMARY KEY (key);

ALTER TABLE ONLY public.payment_methods
    ADD CONSTRAINT payment_methods_license_id_provider_ref_key UNIQUE (license_id, provider_ref);

ALTER TABLE ONLY public.payment_methods
    ADD CONSTRAINT payment_methods_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.primary_check_runs
    ADD CONSTRAINT primary_check_runs_pkey PRIMARY KEY (tx);

ALTER TABLE ONLY public.primary_checks
    ADD CONSTRAINT primary_checks_pkey PRIMARY KEY (tx, license_id);

ALTER TABLE ONLY public.sandbox_charges
    ADD CONSTRAINT sandbox_charges_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.sandbox_customers
    ADD CONSTRAINT sandbox_customers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.sandbox_customers
    ADD CONSTRAINT sandbox_customers_sen_key UNIQUE (sen);

ALTER TABLE ONLY public.sandbox_idempotency_keys
    ADD CONSTRAINT sandbox_idempotency_keys_pkey PRIMARY KEY (key);

ALTER TABLE ONLY public.sandbox_payment_methods
    ADD CONSTRAINT sandbox_payment_methods_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.sandbox_rate
    ADD CONSTRAINT sandbox_rate_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.sandbox_sessions
    ADD CONSTRAINT sandbox_sessions_event_id_key UNIQUE (event_id);

ALTER TABLE ONLY public.sandbox_sessions
    ADD CONSTRAINT sandbox_sessions_idempotency_key_key UNIQUE (idempotency_key);

ALTER TABLE ONLY public.sandbox_sessions
    ADD CONSTRAINT sandbox_sessions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.security_events
    ADD CONSTRAINT security_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.sent_mail
    ADD CONSTRAINT sent_mail_message_key_key UNIQUE (message_key);

ALTER TABLE ONLY public.sent_mail
    ADD CONSTRAINT sent_mail_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id_hash);

ALTER TABLE ONLY public.site_admins
    ADD CONSTRAINT site_admins_pkey PRIMARY KEY (license_id, account_id);

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT webhook_attempts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (endpoint_id, event_id);

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.webhook_events
    ADD CONSTRAINT webhook_events_pkey PRIMARY KEY (id);

CREATE INDEX accounts_domain ON public.accounts USING btree (split_part(email, '@'::text, 2));

CREATE UNIQUE INDEX accounts_email_key ON public.accounts USING btree (lower(email));

CREATE INDEX audit_log_license_id ON public.audit_log USING btree (license_id, id DESC);

CREATE INDEX billing_reminders_pending ON public.billing_reminders USING btree (send_on, id) WHERE (sent_at IS NULL);

CREATE INDEX billing_run_exceptions_unposted ON public.billing_run_exceptions USING btree (run_id, id) WHERE (reply_ts IS NULL);

CREATE INDEX billing_run_invoices_run ON public.billing_run_invoices USING btree (run_id, state);

CREATE INDEX billing_runs_unflushed ON public.billing_runs USING btree (id) WHERE (version > flushed_version);

CREATE INDEX card_expiry_reminders_pending ON public.card_expiry_reminders USING btree (created_at, payment_method_id) WHERE (mailed_at IS NULL);

CREATE UNIQUE INDEX charge_attempts_one_success ON public.charge_attempts USING btree (invoice_id) WHERE (status = 'succeeded'::text);

CREATE UNIQUE INDEX dev_slack_views_home ON public.dev_slack_views USING btree (user_id) WHERE (kind = 'home'::text);

CREATE INDEX invoices_collection_pending ON public.invoices USING btree (id) WHERE (collection_started_at IS NULL);

CREATE INDEX invoices_open ON public.invoices USING btree (due_date) WHERE (status = 'open'::text);

CREATE INDEX license_contacts_account ON public.license_contacts USING btree (account_id);

CREATE INDEX licenses_due ON public.licenses USING btree (next_billing_date, id) WHERE ((deployment = 'cloud'::text) AND (status <> 'cancelled'::text));

CREATE INDEX licenses_due_annual ON public.licenses USING btree (next_billing_date, id) WHERE ((deployment = 'cloud'::text) AND (status <> 'cancelled'::text) AND (billing_cycle = 'annual'::text));

CREATE INDEX licenses_renewal_due ON public.licenses USING btree (next_billing_date, id) WHERE ((deployment = 'cloud'::text) AND (billing_cycle = 'annual'::text) AND (status <> 'cancelled'::text) AND (renewal_reminded_for IS DISTINCT FROM next_billing_date));

CREATE INDEX licenses_site ON public.licenses USING btree (site, sen) WHERE (site <> ''::text);

CREATE INDEX licenses_unpaid ON public.licenses USING btree (status) WHERE (status = ANY (ARRAY['past_due'::text, 'suspended'::text]));

CREATE INDEX link_tokens_account ON public.link_tokens USING btree (account_id, purpose);

CREATE INDEX link_tokens_live ON public.link_tokens USING btree (workflow_id) WHERE ((used_at IS NULL) AND (revoked_at IS NULL));

CREATE INDEX link_tokens_open ON public.link_tokens USING btree (license_id) WHERE ((used_at IS NULL) AND (revoked_at IS NULL));

CREATE INDEX link_tokens_password_reset ON public.link_tokens USING btree (account_id, created_at) WHERE (purpose = 'password_reset'::text);

CREATE INDEX payment_methods_expiry ON public.payment_methods USING btree (make_date(exp_year, exp_month, 1), license_id) WHERE is_default;

CREATE UNIQUE INDEX payment_methods_one_default ON public.payment_methods USING btree (license_id) WHERE is_default;

CREATE INDEX sandbox_charges_customer ON public.sandbox_charges USING btree (customer_id, created_at);

CREATE INDEX sandbox_charges_key ON public.sandbox_charges USING btree (idempotency_key);

CREATE INDEX security_events_account ON public.security_events USING btree (account_id, kind, at);

CREATE INDEX security_events_at ON public.security_events USING btree (at);

CREATE INDEX sessions_account ON public.sessions USING btree (account_id) WHERE (revoked_at IS NULL);

CREATE INDEX sessions_expires ON public.sessions USING btree (expires_at);

CREATE INDEX site_admins_account ON public.site_admins USING btree (account_id, license_id);

CREATE INDEX webhook_attempts_endpoint ON public.webhook_attempts USING btree (endpoint_id, id DESC);

CREATE INDEX webhook_deliveries_pending ON public.webhook_deliveries USING btree (endpoint_id, event_id) WHERE (NOT delivered);

CREATE INDEX webhook_deliveries_pending_license ON public.webhook_deliveries USING btree (endpoint_id, license_id, event_id) WHERE (NOT delivered);

CREATE TRIGGER audit_log_webhook_events AFTER INSERT ON public.audit_log REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.record_webhook_events();

CREATE TRIGGER primary_contact_not_removable BEFORE DELETE ON public.license_contacts FOR EACH ROW EXECUTE FUNCTION public.refuse_primary_delete();

CREATE CONSTRAINT TRIGGER primary_contact_required AFTER INSERT ON public.primary_check_runs DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.run_primary_checks();

CREATE TRIGGER queue_primary_checks_delete AFTER DELETE ON public.license_contacts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.queue_primary_checks();

CREATE TRIGGER queue_primary_checks_insert AFTER INSERT ON public.license_contacts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.queue_primary_checks();

CREATE TRIGGER queue_primary_checks_new_license AFTER INSERT ON public.licenses REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.queue_primary_checks();

CREATE TRIGGER queue_primary_checks_update AFTER UPDATE ON public.license_contacts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.queue_primary_checks();

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_license_id_fkey FOREIGN KEY (license_id) REFERENCES public.licenses(id);

ALTER TABLE ONLY public.billing_addresses
    ADD CONSTRAINT billing_addresses_license_id_fkey FOREIGN KEY (license_id) REFERENCES public.licenses(id);

ALTER TABLE ONLY public.billing_reminders
    ADD CONSTRAINT billing_reminders_license_id_fkey FOREIGN KEY (license_id) REFERENCES public.licenses(id);

ALTER TABLE ONLY public.billing_run_exceptions
    ADD CONSTRAINT billing_run_exceptions_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.billing_runs(id);

ALTER TABLE ONLY public.billing_run_invoices
    ADD CONSTRAINT billing_run_invoices_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES public.invoices(id);

ALTER TABLE ONLY public.billing_run_invoices
    ADD CONSTRAINT billing_run_invoices_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.billing_runs(id);

ALTER TABLE ONLY public.card_expiry_reminders
    ADD CONSTRAINT card_expiry_reminders_license_id_fkey FOREIGN KEY (license_id) REFERENCES public.licenses(id);

ALTER TABLE ONLY public.card_expiry_reminders
    ADD CONSTRAINT card_expiry_reminders_payment_method_id_fkey FOREIGN KEY (payment_method_id) REFERENCES public.payment_methods(id);

ALTER TABLE ONLY public.charge_attempts
    ADD CONSTRAINT charge_attempts_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES public.invoices(id);

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_license_id_fkey FOREIGN KEY (license_id) REFERENCES public.licenses(id);

ALTER TABLE ONLY public.license_contacts
    ADD CONSTRAINT license_contacts_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);

ALTER TABLE ONLY public.license_contacts
    ADD CONSTRAINT license_contacts_license_id_fkey FOREIGN KEY (license_id) REFERENCES public.licenses(id);

ALTER TABLE ONLY public.link_tokens
    ADD CONSTRAINT link_tokens_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);

ALTER TABLE ONLY public.link_tokens
    ADD CONSTRAINT link_tokens_license_id_fkey FOREIGN KEY (license_id) REFERENCES public.licenses(id);

ALTER TABLE ONLY public.payment_methods
    ADD CONSTRAINT payment_methods_license_id_fkey FOREIGN KEY (license_id) REFERENCES public.licenses(id);

ALTER TABLE ONLY public.security_events
    ADD CONSTRAINT security_events_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);

ALTER TABLE ONLY public.site_admins
    ADD CONSTRAINT site_admins_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.accounts(id);

ALTER TABLE ONLY public.site_admins
    ADD CONSTRAINT site_admins_license_id_fkey FOREIGN KEY (license_id) REFERENCES public.licenses(id);

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT webhook_attempts_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoints(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT webhook_attempts_event_id_fkey FOREIGN KEY (event_id) REFERENCES public.webhook_events(id);

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoints(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES public.webhook_events(id);

ALTER TABLE ONLY public.webhook_events
    ADD CONSTRAINT webhook_events_id_fkey FOREIGN KEY (id) REFERENCES public.audit_log(id);

ALTER TABLE ONLY public.webhook_events
    ADD CONSTRAINT webhook_events_license_id_fkey FOREIGN KEY (license_id) REFERENCES public.licenses(id);
