-- Billing day at real volume (issue 18): pacing shared by every worker,
-- one Slack digest per billing run instead of a message per invoice, and a
-- payments sandbox that keeps Stripe's limits (rate, idempotency window).

-- Pacing (package pacing): one row per limited peer or method (the payment
-- provider, a Slack channel's chat.postMessage, chat.update, the SMTP
-- relay), holding the generic cell rate algorithm's theoretical arrival
-- time. Every worker reserves its calls here, so the limit is shared
-- whatever the number of workers. Unlogged: losing it in a crash only
-- forgets the last second's reservations.
CREATE UNLOGGED TABLE pace_slots (
    key text PRIMARY KEY,
    tat timestamptz NOT NULL
);

-- A billing run: one sweep (across its continue-as-new runs) that charged
-- the first attempts of the invoices it found due. Its digest is one Slack
-- message, updated in place while version > flushed_version.
CREATE TABLE billing_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_key    text NOT NULL UNIQUE,            -- the sweep's workflow ID and first run ID
    channel         text NOT NULL DEFAULT '',
    started_at      timestamptz NOT NULL DEFAULT now(),
    charging_done   boolean NOT NULL DEFAULT false,  -- every first attempt made
    slack_ts        text,                            -- the digest message, once posted
    version         bigint NOT NULL DEFAULT 1,       -- bumped by every change the digest shows
    flushed_version bigint NOT NULL DEFAULT 0        -- the version Slack shows
);
CREATE INDEX billing_runs_unflushed ON billing_runs (id) WHERE version > flushed_version;

-- Which run an invoice belongs to, and where its collection stands, as the
-- digest counts it. Claimed when the run opens (invoices with no attempt
-- yet); its first attempt is then the run's to make.
CREATE TABLE billing_run_invoices (
    invoice_id  bigint PRIMARY KEY REFERENCES invoices (id),
    run_id      bigint NOT NULL REFERENCES billing_runs (id),
    state       text NOT NULL DEFAULT 'charging'
                CHECK (state IN ('charging', 'paid', 'declined_soft', 'declined_hard', 'suspended')),
    reactivated boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_run_invoices_run ON billing_run_invoices (run_id, state);

-- What needs a person, posted in the digest's thread in batches.
CREATE TABLE billing_run_exceptions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       bigint NOT NULL REFERENCES billing_runs (id),
    key          text NOT NULL UNIQUE,               -- one line per business event
    kind         text NOT NULL CHECK (kind IN ('hard_decline', 'suspended', 'large_failure')),
    sen          text NOT NULL,
    invoice      text NOT NULL,
    amount_cents bigint NOT NULL,
    currency     text NOT NULL,
    reason       text NOT NULL DEFAULT '',
    next_retry   date,
    created_at   timestamptz NOT NULL DEFAULT now(),
    reply_ts     text                                -- the thread reply that carried it
);
CREATE INDEX billing_run_exceptions_unposted ON billing_run_exceptions (run_id, id) WHERE reply_ts IS NULL;

-- The sandbox forgets idempotency keys after a window, as Stripe does after
-- 24 hours: a key is remembered here with its first charge and when it was
-- used; a charge row no longer owns its key alone.
ALTER TABLE sandbox_charges DROP CONSTRAINT sandbox_charges_idempotency_key_key;
CREATE INDEX sandbox_charges_key ON sandbox_charges (idempotency_key);
CREATE INDEX sandbox_charges_customer ON sandbox_charges (customer_id, created_at);
CREATE TABLE sandbox_idempotency_keys (
    key       text PRIMARY KEY,
    charge_id text NOT NULL,
    used_at   timestamptz NOT NULL
);
INSERT INTO sandbox_idempotency_keys (key, charge_id, used_at)
SELECT idempotency_key, id, created_at FROM sandbox_charges;

-- The sandbox's own rate limiter (a token bucket shared by every process
-- that runs it, as Stripe's is per account).
CREATE UNLOGGED TABLE sandbox_rate (
    name   text PRIMARY KEY,
    tokens double precision NOT NULL,
    at     timestamptz NOT NULL
);

---- create above / drop below ----

DROP TABLE sandbox_rate, sandbox_idempotency_keys;
DROP INDEX sandbox_charges_customer, sandbox_charges_key;
ALTER TABLE sandbox_charges ADD CONSTRAINT sandbox_charges_idempotency_key_key UNIQUE (idempotency_key);
DROP TABLE billing_run_exceptions, billing_run_invoices, billing_runs, pace_slots;
