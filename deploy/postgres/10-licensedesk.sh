#!/bin/sh
# Runs once, when the postgres container initialises an empty data volume
# (mounted into /docker-entrypoint-initdb.d by deploy/compose.yaml).
# Creates the application's own login role and database; Temporal uses the
# superuser and creates its databases (temporal, temporal_visibility) itself.
set -eu

: "${LICENSEDESK_DB_PASSWORD:?LICENSEDESK_DB_PASSWORD is not set}"

# psql variables (:'pw') quote the password safely; the heredoc is quoted so
# the shell expands nothing in it.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-v pw="$LICENSEDESK_DB_PASSWORD" <<'SQL'
CREATE ROLE licensedesk LOGIN PASSWORD :'pw';
CREATE DATABASE licensedesk OWNER licensedesk;
SQL
