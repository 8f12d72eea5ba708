-- licensedesk schema. Domain invariants live here as constraints so that no
-- code path (or hand-written SQL at 3 a.m.) can break them.

CREATE TABLE accounts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The login. Stored normalised; the unique index on lower() makes the
    -- case-insensitive rule hold even for rows written outside the app.
    email        text NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '_%@_%' AND length(email) <= 254),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'disabled')),
    display_name text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
    phone        text NOT NULL DEFAULT '' CHECK (length(phone) <= 50),
    company      text NOT NULL DEFAULT '' CHECK (length(company) <= 200),
    address      text NOT NULL DEFAULT '' CHECK (length(address) <= 1000),
    password_hash text,          -- argon2id PHC string; NULL until the person sets one
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'active' OR password_hash IS NOT NULL)
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));

CREATE TABLE licenses (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sen               text NOT NULL UNIQUE CHECK (sen ~ '^SEN-L?[0-9]{5,12}$'),
    product           text NOT NULL CHECK (product <> ''),
    deployment        text NOT NULL CHECK (deployment IN ('server', 'cloud')),
    billing_cycle     text CHECK (billing_cycle IN ('monthly', 'annual')),
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'past_due', 'suspended', 'cancelled')),
    site              text NOT NULL DEFAULT '',
    price_cents       bigint NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
    currency          text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    next_billing_date date,
    -- The provider's customer id (Stripe cus_..., or the sandbox's).
    payment_customer  text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    -- Only cloud licences are billed in cycles.
    CHECK ((deployment = 'cloud') = (billing_cycle IS NOT NULL)),
    CHECK ((deployment = 'cloud') = (next_billing_date IS NOT NULL))
);

CREATE TABLE license_contacts (
    license_id bigint NOT NULL REFERENCES licenses (id),
    account_id bigint NOT NULL REFERENCES accounts (id),
    role       text NOT NULL CHECK (role IN ('billing', 'technical')),
    is_primary boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (license_id, account_id, role),
    -- At most one primary per (licence, role). Deferred, so a promotion may
    -- set the new primary before or after demoting the old one.
    CONSTRAINT one_primary_per_role EXCLUDE USING btree (license_id WITH =, role WITH =)
        WHERE (is_primary) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX license_contacts_account ON license_contacts (account_id);

-- At least one primary per (licence, role), checked at commit.
CREATE FUNCTION assert_license_primaries(lic bigint) RETURNS void LANGUAGE plpgsql AS $$
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

CREATE FUNCTION check_contact_primaries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM assert_license_primaries(OLD.license_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM assert_license_primaries(NEW.license_id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION check_new_license_primaries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM assert_license_primaries(NEW.id);
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER primary_contact_required
    AFTER INSERT OR UPDATE OR DELETE ON license_contacts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_contact_primaries();
CREATE CONSTRAINT TRIGGER license_has_primaries
    AFTER INSERT ON licenses
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_new_license_primaries();

-- A primary contact is never deleted: someone else becomes primary first,
-- which demotes this row, and only then can it go.
CREATE FUNCTION refuse_primary_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.is_primary THEN
        RAISE EXCEPTION 'a primary contact cannot be removed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'primary_contact_not_removable';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER primary_contact_not_removable
    BEFORE DELETE ON license_contacts FOR EACH ROW EXECUTE FUNCTION refuse_primary_delete();

CREATE TABLE site_admins (
    license_id bigint NOT NULL REFERENCES licenses (id),
    account_id bigint NOT NULL REFERENCES accounts (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (license_id, account_id)
);

-- Our reference to a card the provider holds; never a card number.
CREATE TABLE payment_methods (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    license_id   bigint NOT NULL REFERENCES licenses (id),
    provider_ref text NOT NULL,              -- pm_...
    brand        text NOT NULL,
    last4        text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
    exp_month    int  NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year     int  NOT NULL CHECK (exp_year BETWEEN 2000 AND 2200),
    is_default   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (license_id, provider_ref)
);
CREATE UNIQUE INDEX payment_methods_one_default ON payment_methods (license_id) WHERE is_default;

CREATE TABLE invoices (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    license_id   bigint NOT NULL REFERENCES licenses (id),
    number       text NOT NULL UNIQUE,             -- e.g. SEN-1000001-2026-11
    period_start date NOT NULL,
    period_end   date NOT NULL CHECK (period_end > period_start),
    due_date     date NOT NULL,
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'void')),
    paid_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (license_id, period_start),
    CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);

CREATE TABLE charge_attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id      bigint NOT NULL REFERENCES invoices (id),
    attempt         int NOT NULL CHECK (attempt >= 1),
    -- Built from business data (invoice number + attempt) and sent to the
    -- provider, so a retried activity can never charge twice.
    idempotency_key text NOT NULL UNIQUE,
    payment_method  text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_ref    text,                 -- pi_...
    decline_code    text,
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (invoice_id, attempt)
);
-- The database's own guarantee that an invoice is paid at most once.
CREATE UNIQUE INDEX charge_attempts_one_success ON charge_attempts (invoice_id) WHERE status = 'succeeded';

CREATE TABLE link_tokens (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,     -- HMAC-SHA256 of the token; the token itself is never stored
    purpose     text NOT NULL,
    account_id  bigint NOT NULL REFERENCES accounts (id),  -- the person it was sent to
    license_id  bigint REFERENCES licenses (id),
    workflow_id text,
    data        jsonb NOT NULL DEFAULT '{}',
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX link_tokens_account ON link_tokens (account_id, purpose);

CREATE TABLE sent_mail (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_key text NOT NULL UNIQUE,      -- idempotency: one mail per business event
    to_addr     text NOT NULL,
    subject     text NOT NULL,
    text_body   text NOT NULL,
    html_body   text NOT NULL DEFAULT '',
    links       jsonb NOT NULL DEFAULT '[]',
    sent_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_kind  text NOT NULL CHECK (actor_kind IN ('slack', 'link', 'account', 'system', 'api')),
    actor       text NOT NULL,            -- Slack user id, account email, workflow id...
    action      text NOT NULL,
    license_id  bigint REFERENCES licenses (id),
    account_id  bigint REFERENCES accounts (id),
    workflow_id text,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_license ON audit_log (license_id, at);

-- Dev mode's stand-in for Slack: messages and updates the bot would have
-- posted, shown at /dev/slack.
CREATE TABLE dev_slack_messages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel    text NOT NULL,
    ts         text NOT NULL UNIQUE,
    thread_ts  text,
    text       text NOT NULL DEFAULT '',
    blocks     jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz
);

---- create above / drop below ----

DROP TABLE dev_slack_messages, audit_log, sent_mail, link_tokens, charge_attempts, invoices,
    payment_methods, site_admins, license_contacts, licenses, accounts;
DROP FUNCTION check_contact_primaries(), check_new_license_primaries(), assert_license_primaries(bigint), refuse_primary_delete();
