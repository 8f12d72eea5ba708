-- What customers pay and see (issue 20): structured billing addresses
-- with a tax ID, who added the card, invoices' taxes and the address they
-- were made out to, and the renewal reminders of annual licences.

-- The billing address gets fields (name, lines, city, postcode, region,
-- ISO 3166 country) and an optional tax ID. A free-text address from
-- before is kept whole, one line per line of its text, with no country:
-- nothing is lost, and the account page asks a site admin to complete it.
CREATE TABLE billing_addresses (
    license_id bigint PRIMARY KEY REFERENCES licenses (id),
    name       text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    lines      text[] NOT NULL DEFAULT '{}' CHECK (cardinality(lines) <= 50),
    city       text NOT NULL DEFAULT '' CHECK (length(city) <= 100),
    postcode   text NOT NULL DEFAULT '' CHECK (length(postcode) <= 20),
    region     text NOT NULL DEFAULT '' CHECK (length(region) <= 100),
    country    text CHECK (country ~ '^[A-Z]{2}$'),
    tax_id     text NOT NULL DEFAULT '' CHECK (length(tax_id) <= 40),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- A tax ID's shape depends on the country.
    CHECK (tax_id = '' OR country IS NOT NULL)
);
INSERT INTO billing_addresses (license_id, lines)
SELECT id, string_to_array(billing_address, E'\n')
FROM licenses WHERE billing_address <> '';
ALTER TABLE licenses DROP COLUMN billing_address;

-- Who saved the card (an account's email) and through what (link,
-- account); NULL for cards saved before it was recorded, which the
-- history fills in where it can.
ALTER TABLE payment_methods ADD COLUMN added_by text, ADD COLUMN added_via text CHECK (added_via IN ('link', 'account', 'api', 'system'));
UPDATE payment_methods p SET added_by = h.actor, added_via = h.actor_kind
FROM (SELECT DISTINCT ON (license_id, detail->>'card') license_id, detail->>'card' AS card, actor, actor_kind
      FROM audit_log WHERE action = 'card.update' AND actor_kind IN ('link', 'account')
      ORDER BY license_id, detail->>'card', id DESC) h
WHERE h.license_id = p.license_id AND h.card = p.brand || ' •••• ' || p.last4;

-- An invoice keeps its tax (a zero line when none is configured) and the
-- billing address it was made out to, as they were when it was made: a
-- later change of either never rewrites an invoice already issued.
-- amount_cents stays the total charged.
ALTER TABLE invoices
    ADD COLUMN tax_name text NOT NULL DEFAULT '',
    ADD COLUMN tax_rate_bp int NOT NULL DEFAULT 0 CHECK (tax_rate_bp BETWEEN 0 AND 10000),
    ADD COLUMN tax_cents bigint NOT NULL DEFAULT 0 CHECK (tax_cents >= 0),
    ADD COLUMN bill_to jsonb,
    ADD CONSTRAINT invoices_tax_within_amount CHECK (tax_cents < amount_cents);

-- Renewal reminders (SPEC §3's promise to the primary billing contact):
-- RenewalNotice before an annual licence renews. renewal_reminded_for
-- is the billing date a reminder went out for; a licence whose date moved
-- on (it was invoiced) is due again a year later. The partial index holds
-- only annual licences not yet reminded for their date, so the daily
-- pick reads the few renewing within 30 days, not the book.
ALTER TABLE licenses ADD COLUMN renewal_reminded_for date;
CREATE INDEX licenses_renewal_due ON licenses (next_billing_date, id)
    WHERE deployment = 'cloud' AND billing_cycle = 'annual' AND status <> 'cancelled'
      AND renewal_reminded_for IS DISTINCT FROM next_billing_date;

-- Mails to send, as an outbox the sweep empties (a reminder is marked and
-- queued in one statement; a crash between queueing and mailing leaves the
-- row for the next sweep, and mail keys make a second send harmless).
-- kind: renewal (an annual licence renews soon) or card_handover (a moved
-- licence is still paid by its former owner's card, 14 days on).
CREATE TABLE billing_reminders (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('renewal', 'card_handover')),
    license_id bigint NOT NULL REFERENCES licenses (id),
    -- What it is about, once per licence: renewal, the billing date it
    -- renews on; card_handover, the day of the move.
    about      date NOT NULL,
    send_on    date NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    UNIQUE (kind, license_id, about)
);
CREATE INDEX billing_reminders_pending ON billing_reminders (send_on, id) WHERE sent_at IS NULL;

---- create above / drop below ----

DROP TABLE billing_reminders;
DROP INDEX licenses_renewal_due;
ALTER TABLE licenses DROP COLUMN renewal_reminded_for;
ALTER TABLE invoices DROP CONSTRAINT invoices_tax_within_amount,
    DROP COLUMN bill_to, DROP COLUMN tax_cents, DROP COLUMN tax_rate_bp, DROP COLUMN tax_name;
ALTER TABLE payment_methods DROP COLUMN added_via, DROP COLUMN added_by;
ALTER TABLE licenses ADD COLUMN billing_address text NOT NULL DEFAULT '' CHECK (length(billing_address) <= 1000);
UPDATE licenses l SET billing_address = left(array_to_string(
    array_remove(ARRAY[b.name] || b.lines || ARRAY[btrim(b.postcode || ' ' || b.city), b.region, coalesce(b.country, ''), b.tax_id], ''), E'\n'), 1000)
FROM billing_addresses b WHERE b.license_id = l.id;
DROP TABLE billing_addresses;
