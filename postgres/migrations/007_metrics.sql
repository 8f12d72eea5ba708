-- What ops see (issue 14): the gauges read at every scrape stay cheap
-- whatever the size of the book, through partial indexes over the few
-- rows they count.
CREATE INDEX link_tokens_live ON link_tokens (workflow_id) WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invoices_open ON invoices (due_date) WHERE status = 'open';
CREATE INDEX licenses_unpaid ON licenses (status) WHERE status IN ('past_due', 'suspended');

---- create above / drop below ----

DROP INDEX licenses_unpaid;
DROP INDEX invoices_open;
DROP INDEX link_tokens_live;
