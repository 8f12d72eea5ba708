-- Bank authentication (SCA) and expiring cards (issue 20, sections 2 and 3).

-- The sandbox's charges follow a PaymentIntent's life as Stripe's do: an
-- off-session charge the bank wants confirmed stays requires_payment_method
-- (decline authentication_required); confirmed on-session it becomes
-- requires_action until the cardholder answers the bank's challenge, then
-- succeeded (or requires_payment_method again); canceled when superseded.
ALTER TABLE sandbox_charges DROP CONSTRAINT IF EXISTS sandbox_charges_status_check;
ALTER TABLE sandbox_charges DROP CONSTRAINT IF EXISTS sandbox_charges_check;
ALTER TABLE sandbox_charges
    ADD CONSTRAINT sandbox_charges_status_check
        CHECK (status IN ('succeeded', 'requires_payment_method', 'requires_action', 'canceled')),
    ADD CONSTRAINT sandbox_charges_decline_check
        CHECK ((status <> 'succeeded' OR decline_code IS NULL) AND (status <> 'requires_payment_method' OR decline_code IS NOT NULL)),
    -- Where the bank's challenge page sends the cardholder back, and its
    -- form's own token (set while requires_action).
    ADD COLUMN return_url text,
    ADD COLUMN challenge_csrf text,
    ADD COLUMN updated_at timestamptz;

-- Expiring cards: the daily run reads the default cards whose expiry falls
-- in a window of days, through this index, so its cost grows with the
-- cards expiring, not with the book. A card is good to the end of its
-- expiry month; this is the month's first day.
CREATE INDEX payment_methods_expiry ON payment_methods (make_date(exp_year, exp_month, 1), license_id) WHERE is_default;
-- ...and the annual licences billed in the coming week, for the reminder
-- before the first charge after a card expired (monthly ones are found
-- from the cards that expired last month).
CREATE INDEX licenses_due_annual ON licenses (next_billing_date, id)
    WHERE deployment = 'cloud' AND status <> 'cancelled' AND billing_cycle = 'annual';

-- One row per reminder ever due (card, stage): the daily run inserts the
-- reminders that came due (a repeated run inserts nothing), then mails the
-- ones not yet mailed and stamps them: an outbox, so a run that dies
-- between the two mails them next time, and the mails' own keys stop a
-- second copy. stage: '30d', '7d', or 'due:<billing date>' (a charge due
-- after the card expired).
CREATE TABLE card_expiry_reminders (
    payment_method_id bigint NOT NULL REFERENCES payment_methods (id),
    stage             text NOT NULL CHECK (stage IN ('30d', '7d') OR stage ~ '^due:[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    license_id        bigint NOT NULL REFERENCES licenses (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    mailed_at         timestamptz,
    -- Why nothing was mailed: the card was replaced, or the licence
    -- cancelled, before the mail went out.
    skipped           text,
    PRIMARY KEY (payment_method_id, stage)
);
CREATE INDEX card_expiry_reminders_pending ON card_expiry_reminders (created_at, payment_method_id) WHERE mailed_at IS NULL;

---- create above / drop below ----

DROP TABLE card_expiry_reminders;
DROP INDEX licenses_due_annual;
DROP INDEX payment_methods_expiry;
ALTER TABLE sandbox_charges DROP CONSTRAINT sandbox_charges_decline_check, DROP CONSTRAINT sandbox_charges_status_check,
    DROP COLUMN return_url, DROP COLUMN challenge_csrf, DROP COLUMN updated_at;
ALTER TABLE sandbox_charges
    ADD CONSTRAINT sandbox_charges_status_check CHECK (status IN ('succeeded', 'requires_payment_method')),
    ADD CONSTRAINT sandbox_charges_check CHECK ((status = 'succeeded') = (decline_code IS NULL));
