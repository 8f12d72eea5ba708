-- Billing details a site admin can see and change (SPEC §2, Payment).
ALTER TABLE licenses
    ADD COLUMN billing_address text NOT NULL DEFAULT '' CHECK (length(billing_address) <= 1000),
    -- When the licence went past due; suspension follows 15 days after the due date.
    ADD COLUMN past_due_since date;

---- create above / drop below ----

ALTER TABLE licenses DROP COLUMN billing_address, DROP COLUMN past_due_since;
