-- History (SPEC §10): a licence's events newest first, a page at a time,
-- by id (ids grow with time), through this index whatever the size of the
-- log.
CREATE INDEX audit_log_license_id ON audit_log (license_id, id DESC);
DROP INDEX audit_log_license;

---- create above / drop below ----

CREATE INDEX audit_log_license ON audit_log (license_id, at);
DROP INDEX audit_log_license_id;
