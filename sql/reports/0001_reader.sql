-- audit_reader: the role a BI tool's login is a member of, e.g.
--   CREATE ROLE metabase LOGIN PASSWORD '...' IN ROLE audit_reader;
-- It reads the reports schema and nothing else: views run with their
-- owner's rights, so it needs no grant on core. Each view's file grants
-- SELECT on it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'audit_reader') THEN
        BEGIN
            CREATE ROLE audit_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            -- Created meanwhile for another database of the cluster (the
            -- migration lock is per database).
            NULL;
        END;
    END IF;
END;
$$;
GRANT USAGE ON SCHEMA reports TO audit_reader;
