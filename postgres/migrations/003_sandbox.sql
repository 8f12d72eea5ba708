-- The payments sandbox (SPEC §7): the stand-in for Stripe when no
-- STRIPE_SECRET_KEY is set, with its state here. It plays an outside
-- provider, so nothing refers to the licensing tables, and customer ids are
-- not foreign keys: the demo data names customers (cus_demo_...) that the
-- sandbox never created, and charges them with Stripe's magic test payment
-- method ids (pm_card_visa, ...) directly.

CREATE TABLE sandbox_customers (
    id                     text PRIMARY KEY,           -- cus_sb_...
    sen                    text NOT NULL UNIQUE,       -- one customer per licence
    email                  text NOT NULL DEFAULT '',
    name                   text NOT NULL DEFAULT '',
    default_payment_method text,
    created_at             timestamptz NOT NULL DEFAULT now()
);

-- Hosted card sessions (Stripe Checkout in setup mode).
CREATE TABLE sandbox_sessions (
    id              text PRIMARY KEY,                  -- cs_sb_...; also the capability to open the page
    customer_id     text NOT NULL,
    sen             text NOT NULL DEFAULT '',
    reference       text NOT NULL DEFAULT '',          -- echoed as client_reference_id
    success_url     text NOT NULL,
    cancel_url      text NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'complete', 'expired')),
    csrf_token      text NOT NULL CHECK (length(csrf_token) >= 32),
    setup_intent    text NOT NULL,
    payment_method  text,
    idempotency_key text UNIQUE,
    -- The checkout.session.completed event, kept byte for byte so a
    -- redelivery is the same event.
    event_id        text UNIQUE,
    event_payload   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    CHECK ((status = 'complete') = (payment_method IS NOT NULL)),
    CHECK ((status = 'complete') = (event_id IS NOT NULL AND event_payload IS NOT NULL AND completed_at IS NOT NULL))
);

CREATE TABLE sandbox_payment_methods (
    id          text PRIMARY KEY,                      -- pm_sb_...
    customer_id text NOT NULL,
    test_card   text NOT NULL,                         -- pm_card_visa, pm_card_chargeDeclined, ...
    brand       text NOT NULL,
    last4       text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
    exp_month   int  NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year    int  NOT NULL CHECK (exp_year BETWEEN 2000 AND 2200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per idempotency key: a repeated charge returns this row's result
-- and never charges again.
CREATE TABLE sandbox_charges (
    id              text PRIMARY KEY,                  -- pi_sb_...
    idempotency_key text NOT NULL UNIQUE,
    customer_id     text NOT NULL,
    payment_method  text NOT NULL,
    amount_cents    bigint NOT NULL CHECK (amount_cents > 0),
    currency        text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    description     text NOT NULL DEFAULT '',
    metadata        jsonb NOT NULL DEFAULT '{}',
    status          text NOT NULL CHECK (status IN ('succeeded', 'requires_payment_method')),
    decline_code    text,
    message         text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'succeeded') = (decline_code IS NULL))
);

---- create above / drop below ----

DROP TABLE sandbox_charges, sandbox_payment_methods, sandbox_sessions, sandbox_customers;
