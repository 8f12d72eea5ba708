-- Every function of this schema runs with search_path pinned to it (issue
-- 22). The trigger functions name their tables unqualified; pg_dump's
-- output empties search_path, so a data-only restore into a freshly
-- migrated database stopped at `relation "primary_checks" does not exist`.
-- Pinning is also the standard hardening: nothing earlier on a caller's
-- search_path (pg_temp comes last) can stand in for our tables. A function
-- added later gets the same line in its migration (a test checks).
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS sig
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema()
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f.sig, current_schema());
    END LOOP;
END $$;

---- create above / drop below ----

DO $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS sig
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema()
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER FUNCTION %s RESET search_path', f.sig);
    END LOOP;
END $$;
