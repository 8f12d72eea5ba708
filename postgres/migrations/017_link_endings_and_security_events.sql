-- Mails and pages a careful person trusts (issue 20 §4, review #13, #17,
-- #18).

-- Why a link was withdrawn, for its page (review #13): its operation was
-- done, declined, ran out of time or was cancelled by sales, its recipient
-- left the licence, or a newer link replaced it. NULL: withdrawn before
-- the reason was kept (the page then says what it can in general).
ALTER TABLE link_tokens ADD COLUMN revoked_reason text
    CHECK (revoked_reason IN ('done', 'declined', 'expired', 'cancelled', 'left', 'replaced', 'ended'));

-- What a security mail tells about the browser that did it (review #18):
-- a sign-in lock, a password change or reset. The browser's User-Agent and
-- its address stay here; the workflow that mails about it carries only the
-- row's id, so neither enters workflow history. Rows older than 30 days
-- are pruned with the other sign-in state.
CREATE TABLE security_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('signin_locked', 'password_changed', 'password_reset')),
    user_agent text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512),
    client_ip  text NOT NULL DEFAULT '' CHECK (length(client_ip) <= 100),
    attempts   integer NOT NULL DEFAULT 0,
    at         timestamptz NOT NULL
);
CREATE INDEX security_events_at ON security_events (at);
CREATE INDEX security_events_account ON security_events (account_id, kind, at);

---- create above / drop below ----

DROP TABLE security_events;
ALTER TABLE link_tokens DROP COLUMN revoked_reason;
