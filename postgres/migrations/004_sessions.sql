-- Customer sign-in (issue 5): server-side sessions and failed-attempt
-- throttling. Password-reset links are link_tokens with purpose
-- 'password_reset' (001), so they need no table of their own.

-- One row per signed-in browser. The cookie holds 32 random bytes; only
-- their SHA-256 is stored, so a copy of this table signs nobody in.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    account_id   bigint NOT NULL REFERENCES accounts (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,   -- absolute limit, whatever the activity
    revoked_at   timestamptz,            -- signed out, or password changed/reset
    user_agent   text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512),
    -- A one-time message for the next page ("Your changes are saved."),
    -- so a form can redirect after POST without losing what it has to say.
    notice       jsonb,
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_account ON sessions (account_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed sign-in attempts per key ("email:<address>", "addr:<ip>"...). A
-- key with enough recent failures is locked until locked_until; the lock
-- grows with further failures up to a cap and never becomes permanent. The
-- rules live in the accounts package; this is only their state.
CREATE TABLE auth_throttle (
    key             text PRIMARY KEY CHECK (length(key) <= 300),
    failures        int NOT NULL CHECK (failures >= 0),
    last_failure_at timestamptz NOT NULL,
    locked_until    timestamptz
);

-- Reset links are revoked and counted per account.
CREATE INDEX link_tokens_password_reset ON link_tokens (account_id, created_at) WHERE purpose = 'password_reset';

---- create above / drop below ----

DROP INDEX link_tokens_password_reset;
DROP TABLE auth_throttle, sessions;
