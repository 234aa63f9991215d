-- Service roles, one per service (applied by sql/migrate.sh on every run;
-- idempotent). Each can write only its own schema: sql/grants.sql.
--
-- They are created LOGIN NOINHERIT with no password: authentication is the
-- deployment's choice, made once, outside migrations, e.g.
--   ALTER ROLE svc_secrets PASSWORD '...';          -- with scram-sha-256 in pg_hba.conf
-- or client certificates / peer authentication in pg_hba.conf. Roles belong
-- to the whole cluster, so the role running migrations needs CREATEROLE the
-- first time (a superuser in development).

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['svc_secrets', 'svc_identity', 'svc_install'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN NOINHERIT', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                -- Created meanwhile by a migration of another database of
                -- the cluster (the advisory lock is per database).
                NULL;
            END;
        END IF;
    END LOOP;
END;
$$;
