-- Who spent a link, and what it answered: the activity that spends a link
-- (its workflow run and activity ID) can lose its answer after the commit
-- (a worker killed, a timeout under load). Temporal then runs it again, and
-- that retry must get the first answer, not "this link was already used",
-- or the operation waits for a decision that can no longer arrive.
ALTER TABLE link_tokens ADD COLUMN spent_by text CHECK (length(spent_by) <= 300),
                        ADD COLUMN spent_result jsonb;

---- create above / drop below ----

ALTER TABLE link_tokens DROP COLUMN spent_result, DROP COLUMN spent_by;
