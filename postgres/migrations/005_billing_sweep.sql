-- Billing by sweep (issue 11): one sweep every few minutes invoices the
-- licences whose billing date has come, instead of one sleeping workflow
-- per licence. Its cost grows with what is due, not with the book.

-- The sweep reads the due licences in date order through this index; only
-- billable licences are in it.
CREATE INDEX licenses_due ON licenses (next_billing_date, id)
    WHERE deployment = 'cloud' AND status <> 'cancelled';

-- An invoice's collection is started exactly once by whoever created the
-- invoice, through this outbox column: the sweep starts collections for
-- invoices without one and then stamps them, so a crash between the two
-- starts it again (the workflow ID makes that harmless) and never loses one.
ALTER TABLE invoices ADD COLUMN collection_started_at timestamptz;
UPDATE invoices SET collection_started_at = created_at;
CREATE INDEX invoices_collection_pending ON invoices (id) WHERE collection_started_at IS NULL;

---- create above / drop below ----

DROP INDEX invoices_collection_pending;
ALTER TABLE invoices DROP COLUMN collection_started_at;
DROP INDEX licenses_due;
