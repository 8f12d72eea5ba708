-- A history row's time is the service's clock when it has one: the store
-- sets licensedesk.now in each transaction it opens with a clock (tests
-- pinned to a day, LICENSEDESK_TEST_NOW), and decisions that read the
-- history by time (a contact "newly added" on the account page) agree with
-- the clock that makes them. Production sets nothing: now(), as before.
ALTER TABLE audit_log
    ALTER COLUMN at SET DEFAULT coalesce(nullif(current_setting('licensedesk.now', true), '')::timestamptz, now());

---- create above / drop below ----

ALTER TABLE audit_log ALTER COLUMN at SET DEFAULT now();
